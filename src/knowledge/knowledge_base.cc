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

namespace regenpath::knowledge {

std::shared_ptr<const KnowledgeBase> KnowledgeBase::Embedded() {
  // Loaded once, on first use; immutable afterwards.
  static const std::shared_ptr<const KnowledgeBase> embedded = Load(EmbeddedKnowledgeFiles());
  return embedded;
}

}  // namespace regenpath::knowledge
