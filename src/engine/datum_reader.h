// DatumReader: shows record resources as data a clinician can check
// ({reference, display, date, value}), with the knowledge base's datum views
// (knowledge/datum-views.yaml).
//
// One DatumReader serves one assessment on one thread; it caches the datum
// of each resource it has read. Display only: nothing it reads changes a
// finding.
#ifndef REGENPATH_ENGINE_DATUM_READER_H_
#define REGENPATH_ENGINE_DATUM_READER_H_

#include <optional>
#include <unordered_map>
#include <vector>

#include "common/date_time.h"
#include "engine/assessment.h"
#include "engine/member_path.h"
#include "fhir/document.h"
#include "fhirpath/compiled_expression.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

using fhirpath::Collection;

// The datum views' alternatives that are member paths, read without the
// FHIRPath evaluator (the others are evaluated). Found once, by
// Engine::Create, for the knowledge base it is given.
class DatumPaths {
 public:
  DatumPaths() = default;
  explicit DatumPaths(const knowledge::KnowledgeBase& kb);

  // Per alternative of `field` (in order): its member path, or nullopt.
  // nullptr for a field of another knowledge base.
  const std::vector<std::optional<MemberPath>>* Of(const knowledge::DatumField& field) const;

 private:
  std::unordered_map<const knowledge::DatumField*, std::vector<std::optional<MemberPath>>> paths_;
};

class DatumReader {
 public:
  DatumReader(const knowledge::KnowledgeBase& kb, const DatumPaths& paths, const fhir::Document& record,
              const DateTime& now)
      : kb_(kb), paths_(paths), record_(record), now_(now) {}

  // The datum of a resource of the record.
  const Datum& Of(const fhir::Node& resource);

  // The resource's code as its datum view's `code` reads it ("system|code"),
  // or nullopt (no such field for its type, or nothing found).
  std::optional<std::string> CodeOf(const fhir::Node& resource);

  // The data of the distinct resources among `values` (their enclosing
  // resources for element values), in order; appended to `data` and their
  // references to `refs`, skipping those already there.
  void Append(const Collection& values, Refs& refs, Data& data);

 private:
  // The text of the first item of the first alternative that yields one.
  std::optional<std::string> First(const knowledge::DatumField& field, const fhir::Node& resource);

  const knowledge::KnowledgeBase& kb_;
  const DatumPaths& paths_;
  const fhir::Document& record_;
  DateTime now_;
  fhirpath::Workspace workspace_;
  std::unordered_map<const fhir::Node*, Datum> cache_;
  std::vector<const fhir::Node*> nodes_;  // scratch for member paths
};

// "Condition/abc" for a resource node.
std::string ReferenceOf(const fhir::Node& resource);

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_DATUM_READER_H_
