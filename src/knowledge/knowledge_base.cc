#include "knowledge/knowledge_base.h"

#include <algorithm>

namespace regenpath::knowledge {

namespace {

template <typename T, typename Key>
const T* FindById(const std::vector<T>& items, std::string_view id, Key key) {
  auto found = std::find_if(items.begin(), items.end(), [&](const T& item) { return key(item) == id; });
  return found == items.end() ? nullptr : &*found;
}

}  // namespace

const Citation* KnowledgeBase::FindCitation(std::string_view id) const {
  return FindById(citations_, id, [](const Citation& item) -> const std::string& { return item.id; });
}
const Parameter* KnowledgeBase::FindParameter(std::string_view id) const {
  return FindById(parameters_, id, [](const Parameter& item) -> const std::string& { return item.id; });
}
const ValueSet* KnowledgeBase::FindValueSet(std::string_view id) const {
  return FindById(valuesets_, id, [](const ValueSet& item) -> const std::string& { return item.id; });
}
const Definition* KnowledgeBase::FindDefinition(std::string_view id) const {
  return FindById(definitions_, id, [](const Definition& item) -> const std::string& { return item.id; });
}
const Option* KnowledgeBase::FindOption(std::string_view id) const {
  return FindById(options_, id, [](const Option& item) -> const std::string& { return item.id; });
}
const Condition* KnowledgeBase::FindCondition(std::string_view id) const {
  return FindById(conditions_, id, [](const Condition& item) -> const std::string& { return item.id; });
}
const Instrument* KnowledgeBase::FindInstrument(std::string_view id) const {
  return FindById(instruments_, id, [](const Instrument& item) -> const std::string& { return item.id; });
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
