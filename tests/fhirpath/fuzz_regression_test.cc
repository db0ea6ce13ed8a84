// Regressions for what fuzzing found in the FHIRPath engine (fuzz/README.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "common/utf8.h"
#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/output.h"
#include "tests/fhirpath/test_support.h"

namespace regenpath::fhirpath {
namespace {

using ::testing::HasSubstr;

Result<Collection> Evaluate(std::string_view expression, const fhir::Document& document, Workspace& workspace,
                            size_t max_string_bytes = size_t{256} << 20) {
  RP_ASSIGN_OR_RETURN(CompiledExpression compiled, CompiledExpression::Compile(expression));
  EvaluationContext context = testing::DocumentContext(document);
  context.max_string_bytes = max_string_bytes;
  return compiled.Evaluate(context, workspace);
}

fhir::Document Patient(const std::string& json = R"({"resourceType":"Patient","id":"p"})") {
  fhir::Parser parser;
  return std::move(*parser.ParseResource(json, "t"));
}

TEST(FhirpathFuzzRegressionTest, OutputIsAlwaysValidUtf8) {
  fhir::Document document = Patient();
  Workspace workspace;
  Result<Collection> decoded = Evaluate("'/w=='.decode('base64')", document, workspace);  // the byte 0xFF
  ASSERT_TRUE(decoded.has_value());
  std::string json = CollectionToJson(*decoded);
  EXPECT_FALSE(FirstInvalidUtf8(json).has_value()) << json;
  EXPECT_THAT(json, HasSubstr("\xEF\xBF\xBD"));  // U+FFFD
  Result<CompiledExpression> invalid = CompiledExpression::Compile("'\xFF'");
  ASSERT_FALSE(invalid.has_value());
  EXPECT_THAT(invalid.error().message(), HasSubstr("not valid UTF-8"));
}

TEST(FhirpathFuzzRegressionTest, StringGrowthHitsTheBudgetNotTheMemory) {
  fhir::Document document = Patient();
  Workspace workspace;
  for (const char* expression :
       {"'ab'.repeat($this + $this)",
        "'aaaaaaaaaa'.select($this.replace('', $this)).select($this.replace('', $this))"
        ".select($this.replace('', $this)).select($this.replace('', $this))",
        "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'"
        ".select($this.replace('', $this)).select($this.replaceMatches('x*', $this))",
        "'ab'.select($this.replace('', $this)).select($this.replace('', $this))"
        ".select($this.replace('', $this)).select($this.replace('b', $this))"}) {
    SCOPED_TRACE(expression);
    Result<Collection> result = Evaluate(expression, document, workspace, size_t{4} << 20);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), StatusCode::kResourceExhausted);
    workspace.Reset();
  }
}

// Found by the fuzzer (round 4): replace() built its result before the
// budget was checked, so a 600-character string replaced twice asked for a
// 2.4 GB string (here: 130 GB, which the old code tried to allocate). Sizes
// are now checked before (replace) or while (replaceMatches) the result is
// built.
TEST(FhirpathFuzzRegressionTest, ReplaceChecksTheBudgetBeforeBuilding) {
  fhir::Document document = Patient();
  Workspace workspace;
  const std::string text(600, 'a');
  const std::string expression =
      "'" + text + "'.select($this.replace('', $this)).select($this.replace('', $this))";
  Result<Collection> result = Evaluate(expression, document, workspace);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(result.error().message(), HasSubstr("bytes of strings"));
  workspace.Reset();
  // Within the budget, the results are those of the plain algorithms.
  for (const auto& [expression, expected] : std::vector<std::pair<std::string, std::string>>{
           {"'abc'.replace('', '-')", R"(["-a-b-c-"])"},
           {"'abcabc'.replace('bc', 'X')", R"(["aXaX"])"},
           {"'abc'.replace('z', 'X')", R"(["abc"])"},
           {R"('2024-01-05'.replaceMatches('(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1'))", R"(["05/01/2024"])"}}) {
    SCOPED_TRACE(expression);
    Result<Collection> value = Evaluate(expression, document, workspace);
    ASSERT_TRUE(value.has_value()) << value.error().message();
    EXPECT_EQ(CollectionToJson(*value), expected);
    workspace.Reset();
  }
  // replaceMatches() gives what RE2::GlobalReplace gives (it used to call
  // it), empty matches and multi-byte characters included.
  struct Case {
    std::string text, pattern, rewrite;  // rewrite in RE2's syntax (\1)
  };
  for (const Case& item : std::vector<Case>{{"abc", "x*", "-"},
                                            {"aaa", "a*", "-"},
                                            {"h\u00e9llo w\u00f6rld", "l*", "."},
                                            {"h\u00e9llo", "(l+)|(\u00e9)", "[\\1\\2]"},
                                            {"", "x*", "-"},
                                            {"abc", "$", "!"},
                                            {"abc", "^", "!"},
                                            {"a,b,,c", ",*", ";"}}) {
    SCOPED_TRACE(item.text + " / " + item.pattern);
    std::string expected = item.text;
    RE2::GlobalReplace(&expected, RE2(item.pattern), item.rewrite);
    std::string substitution = item.rewrite;
    for (size_t at = substitution.find("\\"); at != std::string::npos; at = substitution.find("\\", at + 1)) {
      substitution[at] = '$';  // FHIRPath writes group references as $1
    }
    const auto literal = [](const std::string& text) {
      std::string out = "'";
      for (char c : text) out += c == '\\' ? std::string("\\\\") : std::string(1, c);
      return out + "'";
    };
    Result<Collection> value = Evaluate(
        literal(item.text) + ".replaceMatches(" + literal(item.pattern) + ", " + literal(substitution) + ")",
        document, workspace);
    ASSERT_TRUE(value.has_value()) << value.error().message();
    ASSERT_EQ(value->size(), 1u);
    EXPECT_EQ((*value)[0].string(), expected);
    workspace.Reset();
  }
}

// Every function that makes a string longer than its input checks the
// budget before it builds it (here with a 4 KiB budget).
TEST(FhirpathFuzzRegressionTest, GrowingStringFunctionsCheckTheBudgetFirst) {
  fhir::Document document = Patient();
  Workspace workspace;
  const std::string quotes(3000, '"');
  const std::string a(3000, 'a');
  const std::string b(3000, 'b');
  for (const std::string& expression :
       std::vector<std::string>{"'" + std::string(1000, '&') + "'.escape('html')",
                                "'" + quotes + "'.escape('json')", "'" + a + "'.encode('hex')",
                                "'" + a + a + "'.encode('base64')", "('" + a + "' | '" + b + "').join(',')",
                                "'" + a + "' + '" + b + "'", "'" + a + "' & '" + b + "'"}) {
    SCOPED_TRACE(expression.substr(0, 40));
    Result<Collection> result = Evaluate(expression, document, workspace, 4096);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), StatusCode::kResourceExhausted);
    workspace.Reset();
    // With room, they work.
    Result<Collection> roomy = Evaluate(expression, document, workspace, 1 << 20);
    ASSERT_TRUE(roomy.has_value()) << roomy.error().message();
    ASSERT_EQ(roomy->size(), 1u);
    EXPECT_GT((*roomy)[0].string().size(), 4096u);
    workspace.Reset();
  }
}

TEST(FhirpathFuzzRegressionTest, PrimitiveWrittenAsObjectPrintsTyped) {
  fhir::Document document = Patient(R"({"resourceType":"Patient","gender":{"a":1}})");
  Workspace workspace;
  Result<Collection> result = Evaluate("gender", document, workspace);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(CollectionToTypedJson(*result), R"([{"type":"code","value":"{\"a\":1}"}])");
}

TEST(FhirpathFuzzRegressionTest, DistinctOnManyItemsKeepsFirstOccurrences) {
  // Once quadratic: 20,000 names took seconds. 1 and 1.0 are equal.
  std::string names;
  for (int i = 0; i < 20'000; ++i)
    names += (i > 0 ? "," : "") + std::string("\"n") + std::to_string(i % 5'000) + "\"";
  fhir::Document document = Patient(R"({"resourceType":"Patient","name":[{"given":[)" + names + "]}]}");
  Workspace workspace;
  Result<Collection> result = Evaluate(
      "name.given.distinct().count() = 5000 and name.given.isDistinct().not() and "
      "(1 | 1.0 | 2).count() = 2 and name.given.intersect(name.given).count() = 5000 and "
      "name.given.exclude(name.given.take(10)).count() = 19960",
      document, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), "[true]");
}

}  // namespace
}  // namespace regenpath::fhirpath
