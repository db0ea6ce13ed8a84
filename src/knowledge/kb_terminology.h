// KbTerminology: memberOf() over the knowledge base's value sets.
//
// A value set is found by its id ("knee-osteoarthritis") or canonical URL.
// Codes match exactly, or by prefix where the value set says so (ICD-10-CM
// subcodes); names match as case-insensitive substrings of a Coding.display or
// CodeableConcept.text (how medications with product-level codes are found
// by ingredient). Immutable after loading; thread-safe.
#ifndef REGENPATH_KNOWLEDGE_KB_TERMINOLOGY_H_
#define REGENPATH_KNOWLEDGE_KB_TERMINOLOGY_H_

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fhirpath/terminology.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::knowledge {

class KbTerminology : public fhirpath::Terminology {
 public:
  void Add(const ValueSet& value_set);

  std::optional<bool> Contains(std::string_view url, std::string_view system, std::string_view code) const override;
  std::optional<bool> ContainsText(std::string_view url, std::string_view text) const override;

 private:
  struct Entry {
    std::set<std::pair<std::string, std::string>, std::less<>> codes;  // (system, code)
    std::set<std::string, std::less<>> any_system_codes;
    std::vector<std::pair<std::string, std::string>> prefixes;  // (system, prefix)
    std::vector<std::string> names;                              // lower case
  };
  const Entry* Find(std::string_view url) const;

  std::map<std::string, Entry, std::less<>> by_id_;
};

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_KB_TERMINOLOGY_H_
