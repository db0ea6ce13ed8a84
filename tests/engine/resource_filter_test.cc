// The engine's resource filter (Engine::resource_filter) never changes an
// assessment: every scenario record and every Synthea bundle is assessed
// from a parse that builds the passed-over resources as skeletons and from
// a parse that builds every resource whole, and the two assessments, data
// issues included, must be byte-identical. The corpus must pass over
// resources for the comparison to mean anything: the test counts them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "fhir/parser.h"
#include "report/assessment_json.h"
#include "tests/support/files_in.h"

namespace regenpath::engine {
namespace {

TEST(EngineResourceFilterTest, TheShippedKnowledgeBaseGatesTheBulkOfARecord) {
  Result<Engine> engine = Engine::Create(knowledge::KnowledgeBase::Embedded());
  ASSERT_TRUE(engine.has_value()) << engine.error().message();
  const fhir::ResourceFilter* filter = engine->resource_filter();
  ASSERT_NE(filter, nullptr);
  for (const char* type : {"Observation", "Encounter", "DiagnosticReport", "ImagingStudy"}) {
    EXPECT_TRUE(filter->Filters(type)) << type;
  }
  // Read through paths that are not gates (procedure-history, the patient's
  // own record, active conditions and medications): never passed over.
  for (const char* type : {"Patient", "Condition", "Procedure", "MedicationRequest", "MedicationStatement"}) {
    EXPECT_FALSE(filter->Filters(type)) << type;
  }
}

TEST(EngineResourceFilterTest, SkeletonsNeverChangeAnAssessment) {
  Result<Engine> engine = Engine::Create(knowledge::KnowledgeBase::Embedded());
  ASSERT_TRUE(engine.has_value()) << engine.error().message();
  fhir::Parser filtered(engine->RecordParseOptions());
  fhir::ParseOptions whole_options = engine->RecordParseOptions();
  whole_options.resource_filter = nullptr;
  fhir::Parser whole(whole_options);
  std::vector<std::string> files =
      test_support::FilesIn(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios", ".json");
  std::vector<std::string> synthea = test_support::FilesIn(
      std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset", ".json");
  ASSERT_EQ(synthea.size(), 14u);
  files.insert(files.end(), synthea.begin(), synthea.end());
  ASSERT_GT(files.size(), 100u);
  size_t skeletons = 0, resources = 0;
  for (const std::string& now_text : {"2025-06-01", "2026-11-24"}) {
    const DateTime now = *DateTime::ParseDateTime(now_text);
    for (const std::string& file : files) {
      SCOPED_TRACE(file + " at " + now_text);
      Result<fhir::Document> with_skeletons = filtered.ParseFile(file);
      Result<fhir::Document> built_whole = whole.ParseFile(file);
      ASSERT_EQ(with_skeletons.has_value(), built_whole.has_value());
      if (!built_whole.has_value()) continue;
      for (const fhir::Node* resource : built_whole->resources()) {
        ++resources;
        if (engine->resource_filter()->Skips(resource->type_name(), resource->raw_json())) ++skeletons;
      }
      Result<Assessment> expected = engine->Assess(*built_whole, now);
      Result<Assessment> actual = engine->Assess(*with_skeletons, now);
      ASSERT_EQ(actual.has_value(), expected.has_value());
      if (!expected.has_value()) {
        EXPECT_EQ(actual.error().message(), expected.error().message());
        continue;
      }
      EXPECT_EQ(report::AssessmentToJson(*actual), report::AssessmentToJson(*expected));
    }
  }
  // Most of the Synthea records' resources are Observations and Encounters
  // no definition is about.
  EXPECT_GT(skeletons, resources / 3) << skeletons << " of " << resources;
}

}  // namespace
}  // namespace regenpath::engine
