#include "knowledge/knowledge_base.h"

#include <algorithm>

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

void KnowledgeBase::IndexIds() {
  // emplace keeps the first of a repeated id, as the scan does.
  BuildIndex(definitions_, definition_index_, [](const Definition& item) -> const std::string& { return item.id; });
  BuildIndex(options_, option_index_, [](const Option& item) -> const std::string& { return item.id; });
  BuildIndex(citations_, citation_index_, [](const Citation& item) -> const std::string& { return item.id; });
  BuildIndex(parameters_, parameter_index_, [](const Parameter& item) -> const std::string& { return item.id; });
  BuildIndex(valuesets_, valueset_index_, [](const ValueSet& item) -> const std::string& { return item.id; });
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
        // Not YAML at build time: parse it again so the problem is reported.
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
