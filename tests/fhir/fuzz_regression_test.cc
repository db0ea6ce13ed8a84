// Regressions for what fuzzing found in the JSON layer (fuzz/README.md):
// each input here once crashed, misread or was accepted wrongly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "fhir/element_filter.h"
#include "fhir/parser.h"

namespace regenpath::fhir {
namespace {

using ::testing::HasSubstr;

std::string IssueText(const Document& document) {
  std::string text;
  for (const Issue& issue : document.issues()) text += issue.location + ": " + issue.message + "\n";
  return text;
}

TEST(FuzzRegressionTest, RepeatedKeyKeepsTheFirstValueAndSaysSo) {
  Parser parser;
  Result<Document> document = parser.ParseResource(R"({"resourceType":"Patient","id":"a","active":true,"id":"b"})", "t");
  ASSERT_TRUE(document.has_value());
  EXPECT_EQ(document->root().Children("id").size(), 1u);
  EXPECT_EQ(document->root().Child("id")->text(), "a");
  EXPECT_THAT(IssueText(*document), HasSubstr("'id' is given twice"));
}

TEST(FuzzRegressionTest, TwoVariantsOfAChoiceKeepTheFirst) {
  Parser parser;
  Result<Document> document = parser.ParseResource(
      R"({"resourceType":"Observation","valueString":"a","status":"final","valueBoolean":true})", "t");
  ASSERT_TRUE(document.has_value());
  EXPECT_EQ(document->root().Children("value").size(), 1u);
  EXPECT_THAT(IssueText(*document), HasSubstr("a second value for value[x] ('valueBoolean')"));
}

TEST(FuzzRegressionTest, AnEntryWithoutResourceTypeIsNotAResource) {
  Parser parser;
  Result<Document> document = parser.ParseResource(R"({"resourceType":"Bundle","entry":[{"resource":{"id":"x"}}]})", "t");
  ASSERT_TRUE(document.has_value());
  EXPECT_TRUE(document->resources().empty());
}

TEST(FuzzRegressionTest, PrimitiveWrittenAsObjectKeepsItsSourceInAFilteredParse) {
  ElementFilter filter({"entry", "fullUrl"});
  ParseOptions options;
  options.filter_for_root = [&](std::string_view) { return &filter; };
  Parser parser(options);
  Result<Document> document = parser.ParseResource(R"({"resourceType":"Bundle","entry":[{"fullUrl":{"":""}}]})", "t");
  ASSERT_TRUE(document.has_value());
  const Node* full_url = document->root().Child("entry")->Child("fullUrl");
  ASSERT_NE(full_url, nullptr);
  EXPECT_EQ(full_url->raw_json(), R"({"":""})");
}

TEST(FuzzRegressionTest, NamePartBesideAnObjectIsDroppedWithAnIssue) {
  Parser parser;
  Result<Document> document = parser.ParseResource(
      R"({"resourceType":"Patient","_maritalStatus":{"id":"x"},"maritalStatus":{"text":"a"}})", "t");
  ASSERT_TRUE(document.has_value());
  EXPECT_EQ(document->root().Children("maritalStatus").size(), 1u);
  EXPECT_THAT(IssueText(*document), HasSubstr("'_maritalStatus' belongs beside a primitive"));
}

TEST(FuzzRegressionTest, MalformedJsonAfterAStringIsRejected) {
  Parser parser;
  for (const char* text : {R"({"resourceType":"Patient","x":["":}]})", R"({"resourceType":"Patient","x":{"a":"1":"b"}}})",
                           R"({"resourceType":"Patient","x":[1:2]})"}) {
    SCOPED_TRACE(text);
    Result<Document> document = parser.ParseResource(text, "t");
    ASSERT_FALSE(document.has_value());
    EXPECT_THAT(document.error().message(), HasSubstr("malformed JSON"));
  }
}

TEST(FuzzRegressionTest, ByteOrderMarkIsAccepted) {
  Parser parser;
  Result<Document> document = parser.ParseAuto("\xEF\xBB\xBF{\"resourceType\":\"Patient\",\"id\":\"bom\"}", "t");
  ASSERT_TRUE(document.has_value()) << document.error().message();
  EXPECT_EQ(document->root().Child("id")->text(), "bom");
}

TEST(FuzzRegressionTest, ManyNamePartsMergeInOrder) {
  // Once quadratic: 40,000 `_given` parts took seconds.
  const int count = 40'000;
  std::string values = "[";
  std::string parts = "[";
  for (int i = 0; i < count; ++i) {
    if (i > 0) {
      values += ",";
      parts += ",";
    }
    values += i % 2 == 0 ? "\"g" + std::to_string(i) + "\"" : "null";  // odd ones have only extensions
    parts += R"({"id":"p)" + std::to_string(i) + "\"}";
  }
  values += "]";
  parts += "]";
  Parser parser;
  Result<Document> document = parser.ParseResource(
      R"({"resourceType":"Patient","name":[{"given":)" + values + R"(,"_given":)" + parts + "}]}", "t");
  ASSERT_TRUE(document.has_value()) << document.error().message();
  std::span<const Node> given = document->root().Child("name")->Children("given");
  ASSERT_EQ(given.size(), static_cast<size_t>(count));
  for (int i = 0; i < count; i += 997) {
    EXPECT_EQ(given[i].array_index(), i);
    EXPECT_EQ(given[i].has_value(), i % 2 == 0);
    EXPECT_EQ(given[i].Child("id")->text(), "p" + std::to_string(i));
  }
}

}  // namespace
}  // namespace regenpath::fhir
