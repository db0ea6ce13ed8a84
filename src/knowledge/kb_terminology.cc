#include "knowledge/kb_terminology.h"

#include <algorithm>

namespace regenpath::knowledge {

namespace {
constexpr std::string_view kValueSetBase = "http://regenpath.org/fhir/ValueSet/";
}  // namespace

void KbTerminology::Add(const ValueSet& value_set) {
  Entry& entry = by_id_[value_set.id];
  for (const Concept& concept_entry : value_set.concepts) {
    if (concept_entry.prefix) {
      entry.prefixes.emplace_back(concept_entry.system, concept_entry.code);
    } else {
      entry.codes.emplace(concept_entry.system, concept_entry.code);
      entry.any_system_codes.insert(concept_entry.code);
    }
  }
  entry.names = value_set.text;
}

const KbTerminology::Entry* KbTerminology::Find(std::string_view url) const {
  if (url.starts_with(kValueSetBase)) url.remove_prefix(kValueSetBase.size());
  auto found = by_id_.find(url);
  return found == by_id_.end() ? nullptr : &found->second;
}

std::optional<bool> KbTerminology::Contains(std::string_view url, std::string_view system,
                                            std::string_view code) const {
  const Entry* entry = Find(url);
  if (entry == nullptr) return std::nullopt;
  if (system.empty()) {
    if (entry->any_system_codes.count(code) > 0) return true;
  } else if (entry->codes.count(std::make_pair(std::string(system), std::string(code))) > 0) {
    return true;
  }
  for (const auto& [prefix_system, prefix] : entry->prefixes) {
    if ((system.empty() || system == prefix_system) && code.starts_with(prefix)) return true;
  }
  return false;
}

std::optional<bool> KbTerminology::ContainsText(std::string_view url, std::string_view text) const {
  const Entry* entry = Find(url);
  if (entry == nullptr || entry->names.empty()) return std::nullopt;
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const std::string& name : entry->names) {
    if (lower.find(name) != std::string::npos) return true;
  }
  return false;
}

}  // namespace regenpath::knowledge
