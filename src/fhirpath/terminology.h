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
#include <span>
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

  struct CodingRef {
    std::string_view system;  // may be empty
    std::string_view code;
  };

  // memberOf() for one item: its codes (a code, a Coding, or the codings of
  // a CodeableConcept) and its names (displays, then the concept's text).
  // True if any code is in the value set; else, if no code decided (none
  // given, or one undecidable), true when a name is recognized; false when
  // every code says no (or, with no codes, the names say no); nullopt when
  // nothing decides. The default asks Contains and ContainsText; an
  // implementation may override it to look the value set up only once.
  virtual std::optional<bool> MemberOf(std::string_view url, std::span<const CodingRef> codings,
                                       std::span<const std::string_view> names) const {
    return Decide(
        codings, names, [&](const CodingRef& coding) { return Contains(url, coding.system, coding.code); },
        [&](std::string_view name) { return ContainsText(url, name); });
  }

 protected:
  // The decision MemberOf describes, over the answers of `contains(coding)`
  // and `contains_text(name)`.
  template <typename ContainsFn, typename ContainsTextFn>
  static std::optional<bool> Decide(std::span<const CodingRef> codings, std::span<const std::string_view> names,
                                    ContainsFn contains, ContainsTextFn contains_text) {
    std::optional<bool> member = codings.empty() ? std::optional<bool>() : std::optional<bool>(false);
    for (const CodingRef& coding : codings) {
      std::optional<bool> answer = contains(coding);
      if (answer == true) return true;
      if (!answer) member = std::nullopt;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      // A concept's text often repeats its coding's display.
      bool repeated = false;
      for (size_t j = 0; j < i && !repeated; ++j) repeated = names[j] == names[i];
      if (repeated) continue;
      std::optional<bool> answer = contains_text(names[i]);
      if (answer == true) return true;
      if (answer == false && codings.empty()) member = false;
    }
    return member;
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
