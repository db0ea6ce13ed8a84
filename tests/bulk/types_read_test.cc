// The _type of a Bulk Data export for screening: the resource types the
// built-in knowledge base reads.
#include <gtest/gtest.h>

#include <algorithm>

#include "bulk/types_read.h"

namespace regenpath::bulk {
namespace {

TEST(TypesReadTest, BuiltInKnowledgeBase) {
  std::vector<std::string> types = ResourceTypesRead(*knowledge::KnowledgeBase::Embedded());
  auto has = [&](const std::string& type) { return std::binary_search(types.begin(), types.end(), type); };
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  for (const char* type : {"Patient", "Condition", "Observation", "MedicationRequest", "Procedure"}) {
    EXPECT_TRUE(has(type)) << type;
  }
  // Data types given to ofType() are not resource types.
  EXPECT_FALSE(has("CodeableConcept"));
  EXPECT_FALSE(has("Quantity"));
  EXPECT_FALSE(has("Organization"));
}

}  // namespace
}  // namespace regenpath::bulk
