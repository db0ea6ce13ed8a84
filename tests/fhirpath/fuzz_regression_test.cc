// Regressions for what fuzzing found in the FHIRPath engine (fuzz/README.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/utf8.h"
#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/output.h"

namespace regenpath::fhirpath {
namespace {

using ::testing::HasSubstr;

Result<Collection> Evaluate(std::string_view expression, const fhir::Document& document, Workspace& workspace,
                       size_t max_string_bytes = size_t{256} << 20) {
  RP_ASSIGN_OR_RETURN(CompiledExpression compiled, CompiledExpression::Compile(expression));
  EvaluationContext context;
  context.document = &document;
  context.resource = &document.root();
  context.now = *DateTime::ParseDateTime("2024-01-01T00:00:00Z");
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
  for (const char* expression : {"'ab'.repeat($this + $this)",
                                 "'aaaaaaaaaa'.select($this.replace('', $this)).select($this.replace('', $this))"
                                 ".select($this.replace('', $this)).select($this.replace('', $this))"}) {
    SCOPED_TRACE(expression);
    Result<Collection> result = Evaluate(expression, document, workspace, size_t{4} << 20);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), StatusCode::kResourceExhausted);
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
  for (int i = 0; i < 20'000; ++i) names += (i > 0 ? "," : "") + std::string("\"n") + std::to_string(i % 5'000) + "\"";
  fhir::Document document = Patient(R"({"resourceType":"Patient","name":[{"given":[)" + names + "]}]}");
  Workspace workspace;
  Result<Collection> result = Evaluate("name.given.distinct().count() = 5000 and name.given.isDistinct().not() and "
                                  "(1 | 1.0 | 2).count() = 2 and name.given.intersect(name.given).count() = 5000 and "
                                  "name.given.exclude(name.given.take(10)).count() = 19960",
                                  document, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), "[true]");
}

}  // namespace
}  // namespace regenpath::fhirpath
