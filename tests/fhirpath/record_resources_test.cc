// Bundle.entry.resource.ofType(T) on a document's root Bundle is evaluated
// from fhir::Document::entry_resources() (Expr::of_record_resources). It
// must give exactly what the same path gives step by step, which
// `Bundle.entry.select(resource).ofType(T)` (not marked) computes: the same
// nodes in the same order, on every shape of record, or the same failure.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "fhir/parser.h"
#include "fhir/resource_filter.h"
#include "fhirpath/compiled_expression.h"
#include "tests/fhirpath/test_support.h"

namespace regenpath::fhirpath {
namespace {

Result<std::vector<const void*>> Nodes(std::string_view expression, const fhir::Document& document,
                                       size_t max_items = 5'000'000) {
  RP_ASSIGN_OR_RETURN(CompiledExpression compiled, CompiledExpression::Compile(expression));
  EvaluationContext context = testing::DocumentContext(document);
  context.max_items = max_items;
  Workspace workspace;
  RP_ASSIGN_OR_RETURN(Collection found, compiled.Evaluate(context, workspace));
  std::vector<const void*> nodes;
  for (const Value& item : found) nodes.push_back(item.is_node() ? static_cast<const void*>(item.node()) : nullptr);
  return nodes;
}

// Each `Bundle.entry.resource.ofType(T)` in `shapes` against its step-by-step
// twin, on `document`.
void ExpectTheStepsAnswers(const fhir::Document& document, size_t max_items = 5'000'000) {
  const std::vector<std::string> types = {"Observation", "Condition", "Patient", "Bundle",
                                          "DomainResource", "Resource", "Basic"};
  for (const std::string& type : types) {
    const std::vector<std::pair<std::string, std::string>> shapes = {
        {"Bundle.entry.resource.ofType(" + type + ")", "Bundle.entry.select(resource).ofType(" + type + ")"},
        {"Bundle.entry.resource.ofType(" + type + ").count()",
         "Bundle.entry.select(resource).ofType(" + type + ").count()"},
        // Inside select(), the focus is each entry's nested Bundle, not the root.
        {"Bundle.entry.resource.ofType(Bundle).select(Bundle.entry.resource.ofType(" + type + "))",
         "Bundle.entry.resource.ofType(Bundle).select(Bundle.entry.select(resource).ofType(" + type + "))"},
    };
    for (const auto& [marked, stepwise] : shapes) {
      SCOPED_TRACE(marked);
      Result<std::vector<const void*>> fast = Nodes(marked, document, max_items);
      Result<std::vector<const void*>> slow = Nodes(stepwise, document, max_items);
      ASSERT_EQ(fast.has_value(), slow.has_value()) << (fast.has_value() ? slow.error() : fast.error()).message();
      if (fast.has_value()) EXPECT_EQ(*fast, *slow);
    }
  }
}

TEST(RecordResourcesTest, OfTypeOnTheRootBundleGivesWhatTheStepsGive) {
  fhir::Parser parser;
  // Entries without a resource, a resource without a resourceType, an entry
  // with `resource` twice, a nested Bundle (whose resources are not the
  // record's), a contained resource, an unknown resource type.
  Result<fhir::Document> bundle = parser.ParseResource(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"}}},
    {"fullUrl":"urn:uuid:1"},
    {"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p"}}},
    {"resource":{"id":"no-type"}},
    {"resource":{"resourceType":"Observation","id":"o2"},"resource":{"resourceType":"Condition","id":"c2"}},
    {"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","id":"inner"}}]}},
    {"resource":{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Observation","id":"in-p"}]}},
    {"resource":{"resourceType":"Nonsense","id":"n"}},
    {"resource":{"resourceType":"Basic","id":"b","code":{"text":"b"}}}]})",
                                                       "bundle.json");
  ASSERT_TRUE(bundle.has_value()) << bundle.error().message();
  ASSERT_EQ(bundle->entry_resources().size(), 8u);  // (a key given twice is one member)
  ExpectTheStepsAnswers(*bundle);
  // Past the item limit on the `entry` step, or none allowed: both fail
  // (the marked call leaves its shortcut to the steps).
  ExpectTheStepsAnswers(*bundle, 3);
  ExpectTheStepsAnswers(*bundle, 0);
  // Past it on the `resource` step only: an entry with two resources.
  Result<fhir::Document> two = parser.ParseResource(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":[{"resourceType":"Observation","id":"o1"},{"resourceType":"Observation","id":"o2"}]},
    {"resource":{"resourceType":"Condition","id":"c1"}}]})",
                                                    "two.json");
  ASSERT_TRUE(two.has_value()) << two.error().message();
  ASSERT_EQ(two->entry_count(), 2u);
  ASSERT_EQ(two->entry_resources().size(), 3u);  // (the array is reported, and built)
  ExpectTheStepsAnswers(*two, 2);
  ExpectTheStepsAnswers(*two);
  // A root that is not a Bundle.
  Result<fhir::Document> patient = parser.ParseResource(R"({"resourceType":"Patient","id":"p"})", "p.json");
  ASSERT_TRUE(patient.has_value());
  EXPECT_TRUE(patient->entry_resources().empty());
  ExpectTheStepsAnswers(*patient);
}

// Skeletons (resources the filter passes over) are left out by both.
TEST(RecordResourcesTest, SkeletonsAreLeftOutAlike) {
  fhir::ResourceFilter filter(std::map<std::string, std::vector<std::string>>{{"Observation", {"718-7"}}});
  fhir::ParseOptions options;
  options.resource_filter = &filter;
  fhir::Parser parser(options);
  Result<fhir::Document> record = parser.ParseNdjson(
      R"({"resourceType":"Observation","id":"kept","code":{"coding":[{"code":"718-7"}]},"subject":{"reference":"Patient/p"}})"
      "\n"
      R"({"resourceType":"Observation","id":"skeleton","code":{"text":"heart rate"},"subject":{"reference":"Patient/p"}})"
      "\n"
      R"({"resourceType":"Patient","id":"p"})"
      "\n",
      "p.ndjson");
  ASSERT_TRUE(record.has_value()) << record.error().message();
  size_t skeletons = 0;
  for (const fhir::Node* resource : record->entry_resources()) skeletons += resource->is_skeleton() ? 1 : 0;
  ASSERT_EQ(skeletons, 1u);
  ExpectTheStepsAnswers(*record);
  Result<std::vector<const void*>> observations = Nodes("Bundle.entry.resource.ofType(Observation)", *record);
  ASSERT_TRUE(observations.has_value());
  EXPECT_EQ(observations->size(), 1u);
}

}  // namespace
}  // namespace regenpath::fhirpath

namespace regenpath::fhirpath {
namespace {

// Unions and distinct() over a record's resources keep one of each set of
// resources equal in every element (a copy of a resource in two entries),
// and all that differ in any (the same id with another status included),
// in document order: the hash that spreads resources by id must never
// separate two equal ones.
TEST(RecordResourcesTest, UnionsKeepOneOfEachEqualResource) {
  fhir::Parser parser;
  Result<fhir::Document> bundle = parser.ParseResource(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Observation","id":"o1","status":"final"}},
    {"resource":{"resourceType":"Observation","id":"o2","status":"final"}},
    {"resource":{"resourceType":"Observation","id":"o1","status":"final"}},
    {"resource":{"resourceType":"Observation","id":"o1","status":"amended"}},
    {"resource":{"resourceType":"Observation","status":"final"}},
    {"resource":{"resourceType":"Observation","status":"final"}},
    {"resource":{"resourceType":"Observation","id":"o3","_id":{"extension":[{"url":"x","valueString":"y"}]},"status":"final"}},
    {"resource":{"resourceType":"Observation","_id":{"extension":[{"url":"x","valueString":"y"}]},"status":"final"}},
    {"resource":{"resourceType":"Observation","_id":{"extension":[{"url":"x","valueString":"y"}]},"status":"final"}}]})",
                                                       "bundle.json");
  ASSERT_TRUE(bundle.has_value()) << bundle.error().message();
  const std::vector<const fhir::Node*>& all = {bundle->entry_resources().begin(), bundle->entry_resources().end()};
  // Entries 0, 1, 3, 4, 6 and 7 are distinct; 2 equals 0, 5 equals 4, 8 equals 7.
  const std::vector<const void*> expected = {all[0], all[1], all[3], all[4], all[6], all[7]};
  for (const char* expression :
       {"Bundle.entry.resource.ofType(Observation) | Bundle.entry.resource.ofType(Observation)",
        "Bundle.entry.resource.ofType(Observation).distinct()",
        "Bundle.entry.resource.ofType(Observation).union(Bundle.entry.resource.ofType(Observation))"}) {
    SCOPED_TRACE(expression);
    Result<std::vector<const void*>> found = Nodes(expression, *bundle);
    ASSERT_TRUE(found.has_value()) << found.error().message();
    EXPECT_EQ(*found, expected);
  }
}

}  // namespace
}  // namespace regenpath::fhirpath
