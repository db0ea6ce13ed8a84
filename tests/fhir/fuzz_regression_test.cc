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
  Result<Document> document =
      parser.ParseResource(R"({"resourceType":"Patient","id":"a","active":true,"id":"b"})", "t");
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
  Result<Document> document =
      parser.ParseResource(R"({"resourceType":"Bundle","entry":[{"resource":{"id":"x"}}]})", "t");
  ASSERT_TRUE(document.has_value());
  EXPECT_TRUE(document->resources().empty());
}

TEST(FuzzRegressionTest, PrimitiveWrittenAsObjectKeepsItsSourceInAFilteredParse) {
  ElementFilter filter({"entry", "fullUrl"});
  ParseOptions options;
  options.filter_for_root = [&](std::string_view) { return &filter; };
  Parser parser(options);
  Result<Document> document =
      parser.ParseResource(R"({"resourceType":"Bundle","entry":[{"fullUrl":{"":""}}]})", "t");
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
  for (const char* text :
       {R"({"resourceType":"Patient","x":["":}]})", R"({"resourceType":"Patient","x":{"a":"1":"b"}}})",
        R"({"resourceType":"Patient","x":[1:2]})"}) {
    SCOPED_TRACE(text);
    Result<Document> document = parser.ParseResource(text, "t");
    ASSERT_FALSE(document.has_value());
    EXPECT_THAT(document.error().message(), HasSubstr("malformed JSON"));
  }
}

// Finding 13: values the parser passes over unread (the resourceType member
// after FindResourceType, a repeated key, a nested array, a non-object `_`
// part) are still checked, so malformed JSON there is refused, with where.
TEST(FuzzRegressionTest, MalformedJsonInValuesPassedOverIsRefused) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& bad : {
           Case{R"({"resourceType":"Observation":"2","x/1"}})", "1:30: malformed JSON"},
           Case{R"({"resourceType":"Patient","id":"a","id":tru})", "1:41: an unquoted word is not true"},
           Case{R"({"resourceType":"Patient","id":"a","id":"\q"})", "1:45: a string has an invalid escape"},
           Case{R"({"resourceType":"Patient","id":"a","id":-01})", "a number is malformed"},
           Case{R"({"resourceType":"Patient","name":[[1x]],"id":"a"})", "a number is malformed"},
           Case{R"({"resourceType":"Patient","_gender":tru})", "1:37: an unquoted word is not true"},
           Case{R"({"resourceType":"Patient","_gender":[nul]})",
                "an unquoted word is not true, false or null"},
       }) {
    SCOPED_TRACE(bad.text);
    Parser parser;
    Result<Document> document = parser.ParseResource(bad.text, "t");
    ASSERT_FALSE(document.has_value());
    EXPECT_THAT(document.error().message(), HasSubstr(bad.message));
  }
  // The same values, well-formed, are passed over with an issue.
  Parser parser;
  for (const char* good :
       {R"({"resourceType":"Patient","id":"a","id":true})",
        R"({"resourceType":"Patient","name":[[1e5, "\n", null, {"a": [false]}]],"id":"a"})",
        R"({"resourceType":"Patient","_gender":true})"}) {
    SCOPED_TRACE(good);
    Result<Document> document = parser.ParseResource(good, "t");
    ASSERT_TRUE(document.has_value()) << document.error().message();
    EXPECT_FALSE(document->issues().empty());
  }
}

// Finding 14: a filtered parse checks what it skips, so an input is accepted
// or refused whatever the filter reads of it; in NDJSON the same lines are
// kept. With check_skipped_json off (text already validated) it is skipped.
TEST(FuzzRegressionTest, FilteredParseRefusesWhatTheWholeParseRefuses) {
  ElementFilter filter({"id"});
  ParseOptions filtered_options;
  filtered_options.filter_for_root = [&](std::string_view) { return &filter; };
  for (const char* text : {R"({"resourceType":"Patient","foo":{"a":"1":2},"id":"x"})",
                           R"({"resourceType":"Patient","name":[{"given":[tru]}],"id":"x"})",
                           R"({"resourceType":"Patient","gender":"\x","id":"x"})",
                           R"({"resourceType":"Patient","it":{"ref\erence":"a"},"id":"x"})"}) {
    SCOPED_TRACE(text);
    Parser whole;
    Parser filtered(filtered_options);
    Result<Document> whole_document = whole.ParseResource(text, "t");
    Result<Document> filtered_document = filtered.ParseResource(text, "t");
    ASSERT_FALSE(whole_document.has_value());
    ASSERT_FALSE(filtered_document.has_value());
    EXPECT_EQ(whole_document.error().message(), filtered_document.error().message());
  }
  // Too deep inside a skipped element: refused like the whole parse does.
  std::string deep = R"({"resourceType":"Patient","extension":)" + std::string(300, '[') + "1" +
                     std::string(300, ']') + R"(,"id":"x"})";
  Parser filtered(filtered_options);
  EXPECT_FALSE(filtered.ParseResource(deep, "t").has_value());

  const std::string ndjson =
      "{\"resourceType\":\"Patient\",\"foo\":{\"a\":\"1\":2},\"id\":\"x\"}\n"
      "{\"resourceType\":\"Patient\",\"id\":\"y\"}\n";
  Result<Document> ndjson_document = filtered.ParseNdjson(ndjson, "t");
  ASSERT_TRUE(ndjson_document.has_value()) << ndjson_document.error().message();
  ASSERT_EQ(ndjson_document->resources().size(), 1u);
  EXPECT_EQ(ndjson_document->root().Child("entry")->Child("resource")->Child("id")->text(), "y");

  ParseOptions trusting = filtered_options;
  trusting.check_skipped_json = false;
  Parser trusting_parser(trusting);
  Result<Document> trusted = trusting_parser.ParseResource(deep, "t");
  ASSERT_TRUE(trusted.has_value()) << trusted.error().message();
  EXPECT_EQ(trusted->root().Child("id")->text(), "x");
}

// Found by the fuzzer once 14 was fixed: a `_given` item whose only member
// the filter skipped was kept (as incomplete) by the filtered parse, while
// the whole parse drops it as carrying nothing. Parts are now built whole.
TEST(FuzzRegressionTest, NamePartThatCarriesNothingIsDroppedWithOrWithoutAFilter) {
  const char* text =
      R"({"resourceType":"Patient","name":[{"given":["a",null],"_given":[{"id":"x"},{"_d":"x"}]}]})";
  ElementFilter filter({"name", "given"});
  ParseOptions options;
  options.filter_for_root = [&](std::string_view) { return &filter; };
  for (bool filtered : {false, true}) {
    SCOPED_TRACE(filtered);
    Parser parser(filtered ? options : ParseOptions());
    Result<Document> document = parser.ParseResource(text, "t");
    ASSERT_TRUE(document.has_value()) << document.error().message();
    std::span<const Node> given = document->root().Child("name")->Children("given");
    ASSERT_EQ(given.size(), 1u);
    EXPECT_EQ(given[0].text(), "a");
    ASSERT_NE(given[0].Child("id"), nullptr);
    EXPECT_EQ(given[0].Child("id")->text(), "x");
  }
}

TEST(FuzzRegressionTest, ByteOrderMarkIsAccepted) {
  Parser parser;
  Result<Document> document =
      parser.ParseAuto("\xEF\xBB\xBF{\"resourceType\":\"Patient\",\"id\":\"bom\"}", "t");
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
