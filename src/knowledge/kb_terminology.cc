#include "knowledge/kb_terminology.h"

#include <algorithm>
#include <array>

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
    if (!name.empty()) entry.names.push_back(std::move(name));
  }
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
  if (auto found = entry->systems_by_code.find(code); found != entry->systems_by_code.end()) {
    if (system.empty()) return true;
    for (const std::string& listed : found->second) {
      if (listed == system) return true;
    }
  }
  for (const auto& [prefix_system, prefix] : entry->prefixes) {
    if ((system.empty() || system == prefix_system) && code.starts_with(prefix)) return true;
  }
  return false;
}

std::optional<bool> KbTerminology::ContainsText(std::string_view url, std::string_view text) const {
  const Entry* entry = Find(url);
  if (entry == nullptr || entry->names.empty()) return std::nullopt;
  std::array<char, 512> buffer;
  std::string heap;
  char* lower = buffer.data();
  if (text.size() > buffer.size()) {
    heap.resize(text.size());
    lower = heap.data();
  }
  std::transform(text.begin(), text.end(), lower, AsciiLower);
  std::string_view haystack(lower, text.size());
  for (const std::string& name : entry->names) {
    if (haystack.find(name) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace regenpath::knowledge
