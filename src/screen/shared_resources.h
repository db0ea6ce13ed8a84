// SharedResources: the resources outside the patient compartment that the
// knowledge base reaches through a patient's references
// (engine::Engine::shared_resource_types: a Medication, named by a
// MedicationRequest's medicationReference). A Bulk Data export keeps them in
// files of their own, belonging to no patient; the scan keeps their lines,
// and each patient's record gets those its own lines reference, so that it is
// what the patient's own file (their resources and the shared ones they
// reference) gives `regenpath assess`.
//
// A line references a shared resource of type T and id X when one of its
// string values (decoded: "Medication\/m1" is "Medication/m1") is the
// relative reference "T/X" or "T/X/_history/V": what fhir::Document::Resolve
// finds in an NDJSON record (it finds absolute and urn:uuid references only
// by an entry's fullUrl, which NDJSON has not). A string that is such a
// reference without being one (a note reading "Medication/m1") adds a
// resource nothing in the record reaches, which changes no assessment.
//
// Add is thread-safe; the rest is for after Finish, and read-only.
#ifndef REGENPATH_SCREEN_SHARED_RESOURCES_H_
#define REGENPATH_SCREEN_SHARED_RESOURCES_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace regenpath::screen {

// One shared resource's line, where the input holds it.
struct SharedLine {
  uint32_t file = 0;  // index of the input file
  uint64_t line = 0;  // its line number there (as PatientLine numbers lines: orders them in the file)
  std::string type, id, text;
};

class SharedResources {
 public:
  void Add(SharedLine line);
  // Puts the lines in input order (file, then line) and indexes them.
  void Finish();

  bool empty() const { return lines_.empty(); }
  // In input order.
  const std::vector<SharedLine>& lines() const { return lines_; }
  // Their text's bytes.
  uint64_t bytes() const { return bytes_; }

  // Appends to `out` the indexes (into lines()) of the lines `text`
  // references (see the file comment); unsorted, possibly repeated.
  void ReferencedBy(std::string_view text, std::vector<uint32_t>& out) const;

 private:
  std::mutex mutex_;
  std::vector<SharedLine> lines_;
  uint64_t bytes_ = 0;
  std::vector<std::string> types_;                                       // the types held
  std::unordered_map<std::string, std::vector<uint32_t>> by_reference_;  // "T/id"
};

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_SHARED_RESOURCES_H_
