#include "knowledge/knowledge_base.h"

#include <algorithm>
#include <cstring>

namespace regenpath::knowledge {

namespace {

template <typename T, typename Key>
const T* FindById(const std::vector<T>& items, std::string_view id, Key key) {
  auto found = std::find_if(items.begin(), items.end(), [&](const T& item) { return key(item) == id; });
  return found == items.end() ? nullptr : &*found;
}

template <typename T, typename Index, typename Key>
const T* FindIndexed(const std::vector<T>& items, const Index& index, std::string_view id, Key key) {
  if (index.empty()) return FindById(items, id, key);
  auto found = index.find(id);
  return found == index.end() ? nullptr : &items[found->second];
}

template <typename T, typename Index, typename Key>
void BuildIndex(const std::vector<T>& items, Index& index, Key key) {
  index.clear();
  for (size_t position = 0; position < items.size(); ++position) index.emplace(key(items[position]), position);
}

}  // namespace

const Citation* KnowledgeBase::FindCitation(std::string_view id) const {
  return FindIndexed(citations_, citation_index_, id, [](const Citation& item) -> const std::string& { return item.id; });
}
const Parameter* KnowledgeBase::FindParameter(std::string_view id) const {
  return FindIndexed(parameters_, parameter_index_, id,
                     [](const Parameter& item) -> const std::string& { return item.id; });
}
const ValueSet* KnowledgeBase::FindValueSet(std::string_view id) const {
  return FindIndexed(valuesets_, valueset_index_, id, [](const ValueSet& item) -> const std::string& { return item.id; });
}
const Definition* KnowledgeBase::FindDefinition(std::string_view id) const {
  return FindIndexed(definitions_, definition_index_, id,
                     [](const Definition& item) -> const std::string& { return item.id; });
}
const Option* KnowledgeBase::FindOption(std::string_view id) const {
  return FindIndexed(options_, option_index_, id, [](const Option& item) -> const std::string& { return item.id; });
}

size_t KnowledgeBase::IdHash::operator()(std::string_view id) const {
  const size_t size = id.size();
  if (size < 8) {
    uint64_t word = 0;
    std::memcpy(&word, id.data(), size);
    return static_cast<size_t>((word ^ size) * 0x9E3779B97F4A7C15ULL);
  }
  uint64_t first = 0;
  uint64_t middle = 0;
  uint64_t last = 0;
  std::memcpy(&first, id.data(), 8);
  std::memcpy(&middle, id.data() + (size - 8) / 2, 8);
  std::memcpy(&last, id.data() + size - 8, 8);
  uint64_t hash = (first ^ size) * 0x9E3779B97F4A7C15ULL;
  hash = (hash ^ (hash >> 29) ^ middle) * 0xBF58476D1CE4E5B9ULL;
  hash = (hash ^ (hash >> 31) ^ last) * 0x94D049BB133111EBULL;
  return static_cast<size_t>(hash ^ (hash >> 32));
}

std::vector<const Definition*> KnowledgeBase::WithDependencies(const Definition& definition) const {
  std::vector<const Definition*> visited;
  std::vector<bool> seen(definitions_.size(), false);
  std::vector<const Definition*> pending{&definition};
  while (!pending.empty()) {
    const Definition* current = pending.back();
    pending.pop_back();
    const size_t index = IndexOf(*current);
    if (index >= seen.size() || seen[index]) continue;
    seen[index] = true;
    visited.push_back(current);
    for (size_t used : current->used_definitions) pending.push_back(&definitions_[used]);
  }
  return visited;
}

const fhirpath::Collection* KnowledgeBase::ParameterVariable(std::string_view id) const {
  const Parameter* parameter = FindParameter(id);
  if (parameter == nullptr || parameter_variables_.empty()) return nullptr;
  return &parameter_variables_[static_cast<size_t>(parameter - parameters_.data())];
}

void KnowledgeBase::IndexIds() {
  // emplace keeps the first of a repeated id, as the scan does.
  BuildIndex(definitions_, definition_index_, [](const Definition& item) -> const std::string& { return item.id; });
  BuildIndex(options_, option_index_, [](const Option& item) -> const std::string& { return item.id; });
  BuildIndex(citations_, citation_index_, [](const Citation& item) -> const std::string& { return item.id; });
  BuildIndex(parameters_, parameter_index_, [](const Parameter& item) -> const std::string& { return item.id; });
  BuildIndex(valuesets_, valueset_index_, [](const ValueSet& item) -> const std::string& { return item.id; });
  for (Definition& definition : definitions_) {
    definition.used_definitions.clear();
    for (const std::string& used : definition.uses) {
      if (const Definition* dependency = FindDefinition(used)) definition.used_definitions.push_back(IndexOf(*dependency));
    }
  }
  // Units live in the parameters, which stay where they are from here on.
  parameter_variables_.clear();
  for (const Parameter& parameter : parameters_) {
    parameter_variables_.push_back({parameter.unit.empty() ? fhirpath::Value::MakeDecimal(parameter.value)
                                                           : fhirpath::Value::Quantity(parameter.value, parameter.unit)});
  }
}
const Condition* KnowledgeBase::FindCondition(std::string_view id) const {
  return FindById(conditions_, id, [](const Condition& item) -> const std::string& { return item.id; });
}
const Instrument* KnowledgeBase::FindInstrument(std::string_view id) const {
  return FindById(instruments_, id, [](const Instrument& item) -> const std::string& { return item.id; });
}
const Stage* KnowledgeBase::FindStage(std::string_view id) const {
  return FindById(stages_, id, [](const Stage& item) -> const std::string& { return item.id; });
}
const CriterionRole* KnowledgeBase::FindCriterionRole(std::string_view id) const {
  return FindById(criterion_roles_, id, [](const CriterionRole& item) -> const std::string& { return item.id; });
}
const DatumView* KnowledgeBase::FindDatumView(std::string_view type) const {
  const DatumView* fallback = nullptr;
  for (const DatumView& view : datum_views_) {
    if (view.type == type) return &view;
    if (view.type == "Resource") fallback = &view;
  }
  return fallback;
}

}  // namespace regenpath::knowledge

#include "knowledge/embedded_files.h"
#include "knowledge/yaml_tree.h"

namespace regenpath::knowledge {

std::shared_ptr<const KnowledgeBase> KnowledgeBase::Embedded() {
  // Loaded once, on first use; immutable afterwards.
  static const std::shared_ptr<const KnowledgeBase> embedded = [] {
    std::vector<std::pair<std::string, YamlTree>> trees;
    std::vector<SourceFile> raw;
    for (const EmbeddedTree& file : EmbeddedKnowledgeTrees()) {
      if (file.encoded.starts_with("!raw")) {
        // Not YAML, or not UTF-8, at build time: read it again so the
        // problem is reported.
        raw.push_back(SourceFile{std::string(file.name), std::string(file.encoded.substr(4))});
        continue;
      }
      Result<YamlTree> tree = DecodeYamlTree(file.encoded);
      if (tree.has_value()) {
        trees.emplace_back(std::string(file.name), std::move(*tree));
      } else {
        raw.push_back(SourceFile{std::string(file.name), ""});
      }
    }
    return LoadTrees(trees, raw);
  }();
  return embedded;
}

}  // namespace regenpath::knowledge
