#include "fhir/json_equal.h"

#include <gtest/gtest.h>

namespace regenpath::fhir {
namespace {

// Two copies of a resource are the same when they hold the same JSON value:
// member order, escapes and whitespace aside; array order, values and
// number kinds count.
TEST(JsonEqualTest, CopiesAreTheSameWhenTheyHoldTheSameValue) {
  const char* patient =
      R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["A","B"]}],"deceasedBoolean":false})";
  EXPECT_TRUE(SameJsonValue(patient, patient));
  EXPECT_TRUE(SameJsonValue(patient, R"({ "id" : "p1", "deceasedBoolean":false,
      "name":[{"given":["A","B"],"family":"M\u00fcller"}], "resourceType":"Patient" })"));
  EXPECT_FALSE(SameJsonValue(
      patient,
      R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["B","A"]}],"deceasedBoolean":false})"));
  EXPECT_FALSE(SameJsonValue(
      patient,
      R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["A","B"]}],"deceasedBoolean":true})"));
  EXPECT_FALSE(SameJsonValue(
      patient, R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["A","B"]}]})"));
  EXPECT_FALSE(SameJsonValue(
      patient,
      R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["A","B"]}],"deceasedBoolean":false,"gender":"male"})"));
  EXPECT_TRUE(SameJsonValue(R"({"n":1.50,"m":null})", R"({"m":null,"n":1.5})"));
  EXPECT_FALSE(SameJsonValue(R"({"n":1})", R"({"n":1.0})"));
  EXPECT_FALSE(SameJsonValue(R"({"n":"1"})", R"({"n":1})"));
  // Not JSON: the same only byte for byte.
  EXPECT_TRUE(SameJsonValue("{not json", "{not json"));
  EXPECT_FALSE(SameJsonValue("{not json", "{not  json"));
}

}  // namespace
}  // namespace regenpath::fhir
