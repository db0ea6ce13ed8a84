// KbTerminology: memberOf() over the knowledge base's value sets.
//
// A value set is found by its id ("knee-osteoarthritis") or canonical URL.
// Codes match exactly, or by prefix where the value set says so (ICD-10-CM
// subcodes); names match as case-insensitive (ASCII) substrings of a
// Coding.display or CodeableConcept.text (how medications with product-level
// codes are found by ingredient). Immutable after loading; thread-safe.
//
// memberOf() sits inside where() over every resource of a record, so a
// lookup allocates nothing: value sets and codes are hashed and looked up by
// string_view, and text is lower-cased into a stack buffer.
#ifndef REGENPATH_KNOWLEDGE_KB_TERMINOLOGY_H_
#define REGENPATH_KNOWLEDGE_KB_TERMINOLOGY_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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
  // Looks the value set up once for all the item's codes and names.
  std::optional<bool> MemberOf(std::string_view url, std::span<const CodingRef> codings,
                               std::span<const std::string_view> names) const override;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
  };
  template <typename T>
  using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

  struct Entry {
    StringMap<std::vector<std::string>> systems_by_code;         // exact codes
    std::vector<std::pair<std::string, std::string>> prefixes;  // (system, prefix)
    // Lower case, not empty, sorted by their first two bytes. A name of one
    // byte b is `single[b]`; the names of two bytes or more that start with
    // bytes b0 b1 are names[pair_start[k * 257 + b1], pair_start[k * 257 +
    // b1 + 1]) where k = first_slot[b0] (-1: none starts with b0). So a text
    // position is compared only with the names sharing its first two bytes.
    std::vector<std::string> names;
    std::array<bool, 256> single{};
    std::array<int16_t, 256> first_slot{};
    std::vector<uint32_t> pair_start;
    bool has_names = false;  // any name, of one byte or more
  };
  const Entry* Find(std::string_view url) const;
  static bool EntryContains(const Entry& entry, std::string_view system, std::string_view code);
  static bool EntryContainsText(const Entry& entry, std::string_view text);

  StringMap<Entry> by_id_;
};

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_KB_TERMINOLOGY_H_
