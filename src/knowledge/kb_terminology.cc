#include "knowledge/kb_terminology.h"

#include <algorithm>

namespace regenpath::knowledge {

namespace {

constexpr std::string_view kValueSetBase = "http://regenpath.org/fhir/ValueSet/";

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

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
    entry.names.push_back(std::move(name));
  }
  std::stable_sort(entry.names.begin(), entry.names.end(), [](const std::string& a, const std::string& b) {
    return static_cast<unsigned char>(a.front()) < static_cast<unsigned char>(b.front());
  });
  entry.name_start.fill(0);
  for (const std::string& name : entry.names) ++entry.name_start[static_cast<unsigned char>(name.front()) + 1];
  for (size_t b = 1; b < entry.name_start.size(); ++b) entry.name_start[b] += entry.name_start[b - 1];
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

// One pass over `text`: where a character (lower-cased) may start a name,
// the names starting with it are compared there, case-insensitively.
bool KbTerminology::EntryContainsText(const Entry& entry, std::string_view text) {
  for (size_t at = 0; at < text.size(); ++at) {
    const auto first = static_cast<unsigned char>(AsciiLower(text[at]));
    const uint32_t begin = entry.name_start[first];
    const uint32_t end = entry.name_start[first + 1];
    const size_t left = text.size() - at;
    for (uint32_t n = begin; n < end; ++n) {
      const std::string& name = entry.names[n];
      if (name.size() > left) continue;
      size_t matched = 1;
      while (matched < name.size() && AsciiLower(text[at + matched]) == name[matched]) ++matched;
      if (matched == name.size()) return true;
    }
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
  if (entry == nullptr || entry->names.empty()) return std::nullopt;
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
        if (entry->names.empty()) return std::nullopt;
        return EntryContainsText(*entry, name);
      });
}

}  // namespace regenpath::knowledge
