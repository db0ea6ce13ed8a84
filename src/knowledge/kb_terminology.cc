#include "knowledge/kb_terminology.h"

#include <algorithm>

namespace regenpath::knowledge {

namespace {

constexpr std::string_view kValueSetBase = "http://regenpath.org/fhir/ValueSet/";

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// AsciiLower of every byte, for the scan in EntryContainsText.
constexpr std::array<unsigned char, 256> kLower = [] {
  std::array<unsigned char, 256> lower{};
  for (int b = 0; b < 256; ++b) {
    lower[b] = static_cast<unsigned char>(AsciiLower(static_cast<char>(static_cast<unsigned char>(b))));
  }
  return lower;
}();

}  // namespace

void KbTerminology::Add(const ValueSet& value_set) {
  Entry& entry = by_id_[value_set.id];
  for (const Concept& concept_entry : value_set.concepts) {
    if (concept_entry.prefix) {
      entry.prefixes.emplace_back(concept_entry.system, concept_entry.code);
      continue;
    }
    std::vector<std::string>& systems = entry.systems_by_code[concept_entry.code];
    if (std::find(systems.begin(), systems.end(), concept_entry.system) == systems.end()) {
      systems.push_back(concept_entry.system);
    }
  }
  for (std::string name : value_set.text) {
    std::transform(name.begin(), name.end(), name.begin(), AsciiLower);
    if (name.empty()) continue;
    entry.has_names = true;
    if (name.size() == 1) {
      entry.single[static_cast<unsigned char>(name.front())] = true;
      continue;
    }
    entry.names.push_back(std::move(name));
  }
  const auto byte = [](const std::string& name, size_t i) { return static_cast<unsigned char>(name[i]); };
  std::stable_sort(entry.names.begin(), entry.names.end(), [&](const std::string& a, const std::string& b) {
    return std::pair(byte(a, 0), byte(a, 1)) < std::pair(byte(b, 0), byte(b, 1));
  });
  entry.first_slot.fill(-1);
  entry.pair_start.clear();
  for (size_t n = 0; n < entry.names.size(); ++n) {
    const unsigned char b0 = byte(entry.names[n], 0);
    if (entry.first_slot[b0] < 0) {
      entry.first_slot[b0] = static_cast<int16_t>(entry.pair_start.size() / 257);
      entry.pair_start.resize(entry.pair_start.size() + 257, 0);
    }
    // Counts first; prefix sums below.
    ++entry.pair_start[static_cast<size_t>(entry.first_slot[b0]) * 257 + byte(entry.names[n], 1) + 1];
  }
  // Each slot's table holds absolute offsets into `names`: its counts summed,
  // starting where the names with that first byte start.
  uint32_t offset = 0;
  for (size_t slot = 0; slot * 257 < entry.pair_start.size(); ++slot) {
    uint32_t* table = &entry.pair_start[slot * 257];
    table[0] = offset;
    for (size_t b = 1; b < 257; ++b) table[b] += table[b - 1];
    offset = table[256];
  }
}

const KbTerminology::Entry* KbTerminology::Find(std::string_view url) const {
  if (url.starts_with(kValueSetBase)) url.remove_prefix(kValueSetBase.size());
  auto found = by_id_.find(url);
  return found == by_id_.end() ? nullptr : &found->second;
}

bool KbTerminology::EntryContains(const Entry& entry, std::string_view system, std::string_view code) {
  if (auto found = entry.systems_by_code.find(code); found != entry.systems_by_code.end()) {
    if (system.empty()) return true;
    for (const std::string& listed : found->second) {
      if (listed == system) return true;
    }
  }
  for (const auto& [prefix_system, prefix] : entry.prefixes) {
    if ((system.empty() || system == prefix_system) && code.starts_with(prefix)) return true;
  }
  return false;
}

// One pass over `text`: at each position, only the names sharing its first
// two (lower-cased) bytes are compared, case-insensitively. Each byte is
// lower-cased once, through kLower.
bool KbTerminology::EntryContainsText(const Entry& entry, std::string_view text) {
  const size_t size = text.size();
  if (size == 0) return false;
  unsigned char first = kLower[static_cast<unsigned char>(text[0])];
  for (size_t at = 0; at < size; ++at) {
    const unsigned char second = at + 1 < size ? kLower[static_cast<unsigned char>(text[at + 1])] : 0;
    if (entry.single[first]) return true;
    const int16_t slot = entry.first_slot[first];
    if (slot >= 0 && at + 1 < size) {
      const uint32_t* table = &entry.pair_start[static_cast<size_t>(slot) * 257];
      const size_t left = size - at;
      for (uint32_t n = table[second]; n < table[second + 1]; ++n) {
        const std::string& name = entry.names[n];
        if (name.size() > left) continue;
        size_t matched = 2;
        while (matched < name.size() && kLower[static_cast<unsigned char>(text[at + matched])] ==
                                            static_cast<unsigned char>(name[matched])) {
          ++matched;
        }
        if (matched == name.size()) return true;
      }
    }
    first = second;
  }
  return false;
}

std::optional<bool> KbTerminology::Contains(std::string_view url, std::string_view system,
                                            std::string_view code) const {
  const Entry* entry = Find(url);
  if (entry == nullptr) return std::nullopt;
  return EntryContains(*entry, system, code);
}

std::optional<bool> KbTerminology::ContainsText(std::string_view url, std::string_view text) const {
  const Entry* entry = Find(url);
  if (entry == nullptr || !entry->has_names) return std::nullopt;
  return EntryContainsText(*entry, text);
}

std::optional<bool> KbTerminology::MemberOf(std::string_view url, std::span<const CodingRef> codings,
                                            std::span<const std::string_view> names) const {
  const Entry* entry = Find(url);
  if (entry == nullptr) {
    // Unknown value set: no code decides; no names to match.
    return std::nullopt;
  }
  return Decide(
      codings, names, [&](const CodingRef& coding) -> std::optional<bool> {
        return EntryContains(*entry, coding.system, coding.code);
      },
      [&](std::string_view name) -> std::optional<bool> {
        if (!entry->has_names) return std::nullopt;
        return EntryContainsText(*entry, name);
      });
}

}  // namespace regenpath::knowledge
