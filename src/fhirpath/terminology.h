// Terminology: what memberOf() asks of value sets.
//
// The engine never reads terminology on its own: the caller passes a
// Terminology in the EvaluationContext. InMemoryTerminology answers from
// ValueSet resources the caller loads (their expansion.contains, or
// compose.include concept lists and whole-system includes).
//
// Implementations must be safe to call from many threads at once.
#ifndef REGENPATH_FHIRPATH_TERMINOLOGY_H_
#define REGENPATH_FHIRPATH_TERMINOLOGY_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "fhir/node.h"

namespace regenpath::fhirpath {

class Terminology {
 public:
  virtual ~Terminology() = default;

  // True/false when the value set `url` is known and does / does not contain
  // (system, code); nullopt when the value set is unknown or cannot decide
  // (e.g. an intensional rule it cannot evaluate). An empty `system` matches
  // a code in any system of the value set.
  virtual std::optional<bool> Contains(std::string_view url, std::string_view system,
                                       std::string_view code) const = 0;

  // Whether the value set `url` recognizes a concept by its human-readable
  // name in `text` (a Coding.display or CodeableConcept.text): true/false, or
  // nullopt when the value set has no names to match. memberOf() asks this
  // only when no code decided. The default knows no names.
  virtual std::optional<bool> ContainsText(std::string_view url, std::string_view text) const {
    (void)url;
    (void)text;
    return std::nullopt;
  }
};

class InMemoryTerminology : public Terminology {
 public:
  // Adds a ValueSet resource (a parsed FHIR node). Uses expansion.contains
  // (nested contains too) when present, else compose.include: listed concepts
  // are members; an include of a whole system with no concepts and no filters
  // makes every code of that system a member; filters make the value set
  // undecidable (Contains returns nullopt) for that system. compose.exclude
  // concepts are removed. Fails if the resource is not a ValueSet or has no url.
  Status AddValueSet(const fhir::Node& value_set);

  // Adds a value set from plain data (used by the knowledge base).
  void AddConcepts(const std::string& url, const std::vector<std::pair<std::string, std::string>>& system_codes);

  std::optional<bool> Contains(std::string_view url, std::string_view system,
                               std::string_view code) const override;

  bool HasValueSet(std::string_view url) const;

 private:
  struct ValueSetData {
    std::set<std::pair<std::string, std::string>, std::less<>> concepts;  // (system, code)
    std::set<std::string, std::less<>> codes;                            // any system
    std::set<std::string, std::less<>> whole_systems;
    std::set<std::string, std::less<>> undecidable_systems;
    std::set<std::pair<std::string, std::string>, std::less<>> excluded;
  };
  std::map<std::string, ValueSetData, std::less<>> value_sets_;
};

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_TERMINOLOGY_H_
