// What a definition of the knowledge base reads, as far as attaching a
// record's data issues to criteria needs it (criterion_issues.cc): the
// resource types its expression names and the element names it may read,
// its dependencies' included.
//
// Computed from the knowledge base alone, once per definition, and shared by
// every assessment of an Engine (DefinitionReadsCache is thread-safe): no
// patient's data goes into it.
#ifndef REGENPATH_ENGINE_DEFINITION_READS_H_
#define REGENPATH_ENGINE_DEFINITION_READS_H_

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

struct DefinitionReads {
  // X of "ofType(X" and "is X" with X capitalized (data types such as
  // Quantity are named too; they never match a resource's type).
  std::set<std::string, std::less<>> types;
  // Identifiers that start in lower case ("authoredOn", "effective";
  // function names are among them and never match an element an issue is
  // on), from the expression's text: unlike fhirpath's ElementsRead, the
  // names after a variable are included (authoredOn of
  // %`medication-history`.authoredOn).
  std::set<std::string, std::less<>> elements;
};

// What `definition` and the definitions it uses read, computed now.
DefinitionReads ReadsOf(const knowledge::KnowledgeBase& kb, const knowledge::Definition& definition);

// ReadsOf, computed on first use for each definition and kept; thread-safe.
// The definitions must belong to the knowledge base given, which must
// outlive the cache.
class DefinitionReadsCache {
 public:
  // ReadsOf(kb, definition); the reference is valid while the cache lives.
  // The first call for a definition computes it under the lock.
  const DefinitionReads& Of(const knowledge::KnowledgeBase& kb, const knowledge::Definition& definition);

 private:
  std::mutex mutex_;
  // Guarded by mutex_. (An unordered_map's elements stay where they are
  // when it grows: references to them remain valid.)
  std::unordered_map<const knowledge::Definition*, DefinitionReads> by_definition_;
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_DEFINITION_READS_H_
