// DefinitionReads (engine/definition_reads.h): what a definition reads, for
// attaching data issues to criteria, computed once per definition and
// shared by every assessment.
#include "engine/definition_reads.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "knowledge/knowledge_base.h"

namespace regenpath::engine {
namespace {

// Every shipped definition: the cache gives what ReadsOf computes, the same
// object each time, from several threads at once.
TEST(DefinitionReadsTest, TheCacheGivesReadsOfOncePerDefinitionOnEveryThread) {
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Embedded();
  ASSERT_FALSE(kb->definitions().empty());
  DefinitionReadsCache cache;
  std::vector<std::vector<const DefinitionReads*>> seen(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      for (const knowledge::Definition& definition : kb->definitions())
        seen[t].push_back(&cache.Of(*kb, definition));
    });
  }
  for (std::thread& thread : threads) thread.join();
  bool some_type = false;
  for (size_t i = 0; i < kb->definitions().size(); ++i) {
    const knowledge::Definition& definition = kb->definitions()[i];
    for (size_t t = 1; t < seen.size(); ++t) EXPECT_EQ(seen[t][i], seen[0][i]) << definition.id;
    const DefinitionReads expected = ReadsOf(*kb, definition);
    EXPECT_EQ(seen[0][i]->types, expected.types) << definition.id;
    EXPECT_EQ(seen[0][i]->elements, expected.elements) << definition.id;
    some_type = some_type || !expected.types.empty();
  }
  EXPECT_TRUE(some_type);
}

// Types are the capitalized names after "ofType(" and " is "; elements the
// identifiers that start in lower case, not quoted ones.
TEST(DefinitionReadsTest, TypesAndElementsOfAnExpression) {
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Embedded();
  for (const knowledge::Definition& definition : kb->definitions()) {
    if (definition.expression.find("ofType(MedicationRequest)") == std::string::npos) continue;
    const DefinitionReads reads = ReadsOf(*kb, definition);
    EXPECT_EQ(reads.types.count("MedicationRequest"), 1u) << definition.id;
    EXPECT_EQ(reads.elements.count("ofType"), 1u) << definition.id;
    EXPECT_EQ(reads.elements.count("MedicationRequest"), 0u) << definition.id;
    return;
  }
  FAIL() << "no shipped definition reads MedicationRequest with ofType";
}

}  // namespace
}  // namespace regenpath::engine
