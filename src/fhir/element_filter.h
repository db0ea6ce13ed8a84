// ElementFilter: which elements a reader of a document will look at, so that
// the parser can skip the rest without building it.
//
// A FHIRPath expression that only reads Bundle.entry.resource.code.coding
// needs a small fraction of a patient record; skipping the other elements
// unread saves most of the parse. A document parsed with a filter is
// "partial": objects that lost children are marked incomplete
// (Node::is_complete()) and keep their source JSON for output.
//
// Immutable after construction; thread-safe.
#ifndef REGENPATH_FHIR_ELEMENT_FILTER_H_
#define REGENPATH_FHIR_ELEMENT_FILTER_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace regenpath::fhir {

class ElementFilter {
 public:
  // `names` are element names as the model has them ("value" keeps every
  // value[x]) or JSON property names ("valueQuantity" keeps just that one).
  explicit ElementFilter(std::vector<std::string> names);

  // True iff a property with model element name `element_name` (empty when
  // the model does not know it) and JSON name `json_name` must be read.
  bool Keeps(std::string_view element_name, std::string_view json_name) const;

  // False only when Keeps(e, json_name) is false for every element name e
  // that is json_name or a prefix of it (a choice: "value" of
  // "valueQuantity"), or empty: true iff one of the names starts json_name.
  // (A cheap test before the model is asked which element json_name is.)
  bool MayKeep(std::string_view json_name) const;

  const std::vector<std::string>& names() const { return names_; }

 private:
  bool Contains(std::string_view name) const;

  std::vector<std::string> names_;  // sorted, unique
  std::array<bool, 256> first_bytes_{};  // the names' first bytes (all, for an empty name)
};

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_ELEMENT_FILTER_H_
