#include "fhirpath/terminology.h"

#include <fmt/format.h>

namespace regenpath::fhirpath {

namespace {

std::string Text(const fhir::Node* node) {
  return node != nullptr && node->has_value() ? std::string(node->text()) : std::string();
}

// expansion.contains may nest.
void AddContains(const fhir::Node& holder, std::set<std::pair<std::string, std::string>, std::less<>>& concepts,
                 std::set<std::string, std::less<>>& codes) {
  for (const fhir::Node& contains : holder.Children("contains")) {
    std::string code = Text(contains.Child("code"));
    if (!code.empty()) {
      concepts.emplace(Text(contains.Child("system")), code);
      codes.insert(code);
    }
    AddContains(contains, concepts, codes);
  }
}

}  // namespace

Status InMemoryTerminology::AddValueSet(const fhir::Node& value_set) {
  if (value_set.type_name() != "ValueSet") {
    return InvalidArgument(fmt::format("expected a ValueSet, not {}", value_set.type_name()));
  }
  std::string url = Text(value_set.Child("url"));
  if (url.empty()) return InvalidArgument("the ValueSet has no url");
  ValueSetData data;
  if (const fhir::Node* expansion = value_set.Child("expansion"); expansion != nullptr) {
    AddContains(*expansion, data.concepts, data.codes);
  } else if (const fhir::Node* compose = value_set.Child("compose"); compose != nullptr) {
    for (const fhir::Node& include : compose->Children("include")) {
      std::string system = Text(include.Child("system"));
      std::span<const fhir::Node> concepts = include.Children("concept");
      if (!include.Children("filter").empty() || !include.Children("valueSet").empty()) {
        // Rules this class cannot evaluate: undecidable for that system.
        data.undecidable_systems.insert(system);
        continue;
      }
      if (concepts.empty()) {
        if (!system.empty()) data.whole_systems.insert(system);
        continue;
      }
      for (const fhir::Node& concept_node : concepts) {
        std::string code = Text(concept_node.Child("code"));
        if (code.empty()) continue;
        data.concepts.emplace(system, code);
        data.codes.insert(code);
      }
    }
    for (const fhir::Node& exclude : compose->Children("exclude")) {
      std::string system = Text(exclude.Child("system"));
      for (const fhir::Node& concept_node : exclude.Children("concept")) {
        data.excluded.emplace(system, Text(concept_node.Child("code")));
      }
    }
  }
  value_sets_[url] = std::move(data);
  return Status();
}

void InMemoryTerminology::AddConcepts(const std::string& url,
                                      const std::vector<std::pair<std::string, std::string>>& system_codes) {
  ValueSetData& data = value_sets_[url];
  for (const auto& [system, code] : system_codes) {
    data.concepts.emplace(system, code);
    data.codes.insert(code);
  }
}

bool InMemoryTerminology::HasValueSet(std::string_view url) const { return value_sets_.count(url) > 0; }

std::optional<bool> InMemoryTerminology::Contains(std::string_view url, std::string_view system,
                                                  std::string_view code) const {
  auto found = value_sets_.find(url);
  if (found == value_sets_.end()) return std::nullopt;
  const ValueSetData& data = found->second;
  std::pair<std::string, std::string> key(system, code);
  if (data.excluded.count(key) > 0) return false;
  if (system.empty()) {
    if (data.codes.count(code) > 0) return true;
    if (!data.whole_systems.empty() || !data.undecidable_systems.empty()) return std::nullopt;
    return false;
  }
  if (data.concepts.count(key) > 0) return true;
  if (data.whole_systems.count(system) > 0) return true;
  if (data.undecidable_systems.count(system) > 0) return std::nullopt;
  return false;
}

}  // namespace regenpath::fhirpath
