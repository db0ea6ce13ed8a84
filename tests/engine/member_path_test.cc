// MemberPath reads what the FHIRPath evaluator would: for every alternative
// of the built-in datum views that is a member path, on every resource of
// the Synthea bundles and of the clinical scenarios, the nodes it selects
// give the same texts as evaluating the expression.
#include "engine/member_path.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/operations.h"
#include "knowledge/knowledge_base.h"
#include "tests/support/files_in.h"

namespace regenpath::engine {
namespace {

TEST(MemberPathTest, ParsesOnlyMemberNamesAndOfType) {
  for (const char* path : {"code", "code.coding.display", "onset.ofType(dateTime)", "effective.ofType(Period).start",
                           "medication.ofType(CodeableConcept).text", "_private.x1"}) {
    EXPECT_TRUE(MemberPath::Parse(path).has_value()) << path;
  }
  for (const char* other : {"", "Patient.name", "code.text.first()", "code | unit", "code .text", "code.", ".code",
                            "ofType(dateTime)", "onset.ofType(NoSuchType)", "onset.ofType(dateTime", "true",
                            "code.where(true)", "%condition", "`code`", "code[0]", "value.ofType(Quantity).select(value)",
                            "medication.ofType(Reference).resolve()", "'text'", "code.div"}) {
    EXPECT_FALSE(MemberPath::Parse(other).has_value()) << other;
  }
}

void CollectResources(const fhir::Node& node, std::vector<const fhir::Node*>& out) {
  if (node.is_resource()) out.push_back(&node);
  for (const fhir::Node& child : node.children()) {
    if (child.is_object()) CollectResources(child, out);
  }
}

std::vector<std::string> Texts(const std::vector<fhirpath::Value>& values) {
  std::vector<std::string> texts;
  for (const fhirpath::Value& value : values) texts.push_back(fhirpath::ToStringText(value).value_or("<none>"));
  return texts;
}

TEST(MemberPathTest, SelectsWhatTheEvaluatorSelectsOnEveryDatumView) {
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Embedded();
  ASSERT_TRUE(kb->usable());
  std::vector<std::string> files = test_support::FilesIn(
      std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset", ".json");
  for (const std::string& file :
       test_support::FilesIn(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios", ".json"))
    files.push_back(file);
  ASSERT_GT(files.size(), 50u);
  fhir::Parser parser;
  size_t compared = 0;
  size_t nonempty = 0;
  for (const std::string& file : files) {
    Result<fhir::Document> record = parser.ParseFile(file);
    if (!record.has_value()) continue;  // a scenario of unreadable input
    std::vector<const fhir::Node*> resources;
    CollectResources(record->root(), resources);
    for (const knowledge::DatumView& view : kb->datum_views()) {
      for (const knowledge::DatumField* field : {&view.display, &view.date, &view.value}) {
        for (size_t i = 0; i < field->expressions.size(); ++i) {
          std::optional<MemberPath> path = MemberPath::Parse(field->expressions[i]);
          if (!path) continue;
          for (const fhir::Node* resource : resources) {
            if (view.type != "Resource" && resource->type_name() != view.type) continue;
            fhirpath::EvaluationContext context;
            context.document = &*record;
            context.resource = resource;
            fhirpath::Workspace workspace;
            Result<fhirpath::Collection> expected = field->compiled[i].Evaluate(context, workspace);
            ASSERT_TRUE(expected.has_value()) << field->expressions[i];
            std::vector<const fhir::Node*> nodes;
            path->Select(*resource, nodes);
            std::vector<fhirpath::Value> selected;
            for (const fhir::Node* node : nodes) selected.push_back(fhirpath::Value::Node(node));
            ASSERT_EQ(Texts(selected), Texts(*expected)) << file << " " << resource->Path() << " "
                                                        << field->expressions[i];
            ++compared;
            if (!nodes.empty()) ++nonempty;
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 10000u);
  EXPECT_GT(nonempty, 1000u);
}

}  // namespace
}  // namespace regenpath::engine
