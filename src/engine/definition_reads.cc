#include "engine/definition_reads.h"

#include <cctype>
#include <string_view>
#include <vector>

namespace regenpath::engine {

namespace {

// The resource types `expression` names (DefinitionReads::types).
std::vector<std::string> TypesNamed(const std::string& expression) {
  std::vector<std::string> types;
  for (const char* marker : {"ofType(", " is "}) {
    const size_t length = std::string_view(marker).size();
    for (size_t at = expression.find(marker); at != std::string::npos;
         at = expression.find(marker, at + length)) {
      size_t start = at + length;
      size_t end = start;
      while (end < expression.size() && std::isalnum(static_cast<unsigned char>(expression[end]))) ++end;
      if (end > start && std::isupper(static_cast<unsigned char>(expression[start]))) {
        types.push_back(expression.substr(start, end - start));
      }
    }
  }
  return types;
}

// The element names `expression` may read (DefinitionReads::elements).
std::vector<std::string> NamesIn(const std::string& expression) {
  std::vector<std::string> names;
  size_t at = 0;
  while (at < expression.size()) {
    if (!std::isalpha(static_cast<unsigned char>(expression[at]))) {
      ++at;
      continue;
    }
    size_t end = at;
    while (end < expression.size() && std::isalnum(static_cast<unsigned char>(expression[end]))) ++end;
    if (std::islower(static_cast<unsigned char>(expression[at])) && (at == 0 || expression[at - 1] != '\'')) {
      names.push_back(expression.substr(at, end - at));
    }
    at = end;
  }
  return names;
}

}  // namespace

DefinitionReads ReadsOf(const knowledge::KnowledgeBase& kb, const knowledge::Definition& definition) {
  DefinitionReads reads;
  for (const knowledge::Definition* current : kb.WithDependencies(definition)) {
    for (std::string& type : TypesNamed(current->expression)) reads.types.insert(std::move(type));
    for (std::string& name : NamesIn(current->expression)) reads.elements.insert(std::move(name));
  }
  return reads;
}

const DefinitionReads& DefinitionReadsCache::Of(const knowledge::KnowledgeBase& kb,
                                                const knowledge::Definition& definition) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_definition_.find(&definition);
  if (found == by_definition_.end())
    found = by_definition_.emplace(&definition, ReadsOf(kb, definition)).first;
  return found->second;
}

}  // namespace regenpath::engine
