// The screen writes each patient's line from the engine's Assessment
// (ScreeningLine); the line is defined on the assessment's JSON form
// (ProjectAssessment of what `assess --format json` prints). The two must
// be byte-identical: on every clinical scenario and Synthea bundle at two
// dates, and on an assessment built to hold what those may not (a record
// that does not say whether the patient died, a merged record whose link
// text needs escaping, a record not in active use).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "fhir/parser.h"
#include "report/assessment_json.h"
#include "screen/patient_line.h"
#include "tests/support/files_in.h"

namespace regenpath::screen {
namespace {

std::string FromJson(std::string_view reference, const engine::Assessment& assessment) {
  simdjson::dom::parser parser;
  Result<std::string> line =
      ProjectAssessment(reference, report::AssessmentToJson(assessment, false), parser);
  EXPECT_TRUE(line.has_value()) << line.error().message();
  return line.has_value() ? *line : std::string();
}

TEST(ScreeningLineTest, EqualsTheProjectionOfTheAssessmentJsonOnEveryScenario) {
  Result<engine::Engine> engine = engine::Engine::Create(knowledge::KnowledgeBase::Embedded());
  ASSERT_TRUE(engine.has_value()) << engine.error().message();
  fhir::Parser parser(engine->RecordParseOptions());
  std::vector<std::string> files =
      test_support::FilesIn(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios", ".json");
  ASSERT_GT(files.size(), 100u);
  std::vector<std::string> synthea = test_support::FilesIn(
      std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset", ".json");
  ASSERT_EQ(synthea.size(), 14u);
  files.insert(files.end(), synthea.begin(), synthea.end());
  // What the corpus exercises, so that the comparison means something.
  std::set<std::string> seen;
  size_t compared = 0;
  for (const char* now_text : {"2025-06-01", "2026-11-24"}) {
    const DateTime now = *DateTime::ParseDateTime(now_text);
    for (const std::string& file : files) {
      SCOPED_TRACE(file + " at " + now_text);
      Result<fhir::Document> record = parser.ParseFile(file);
      if (!record.has_value()) continue;  // a scenario of unreadable input
      Result<engine::Assessment> assessment = engine->Assess(*record, now);
      if (!assessment.has_value()) continue;  // (a record of several patients, say)
      const std::string reference =
          assessment->patient_reference.empty() ? "Patient/unknown" : assessment->patient_reference;
      EXPECT_EQ(ScreeningLine(reference, *assessment), FromJson(reference, *assessment));
      ++compared;
      if (assessment->deceased.value_or(false)) seen.insert("deceased");
      if (assessment->regenerative_option_open) seen.insert("option open");
      if (!assessment->red_flags.empty()) seen.insert("red flag");
      if (!assessment->missing_data.empty()) seen.insert("missing data");
      if (!assessment->issues.empty()) seen.insert("issues");
      for (const engine::Recommendation& item : assessment->recommendations) {
        seen.insert(item.category == engine::OptionCategory::kRegenerative ? "regenerative option"
                                                                           : "other option");
      }
      for (const engine::NextStep& step : assessment->next_steps) {
        seen.insert(step.condition.empty() ? "step of no condition" : "step of a condition");
      }
    }
  }
  EXPECT_GT(compared, 200u);
  EXPECT_EQ(seen, (std::set<std::string>{"deceased", "option open", "red flag", "missing data", "issues",
                                         "regenerative option", "other option", "step of no condition",
                                         "step of a condition"}));
}

TEST(ScreeningLineTest, EqualsTheProjectionForWhatScenariosMayNotHold) {
  engine::Assessment assessment;
  assessment.patient_reference = "Patient/p1";
  assessment.deceased = std::nullopt;
  assessment.replaced_by =
      "Patient/\"p2\" \\ é\x01";  // a link's text: quotes, a backslash, non-ASCII, a control
  assessment.inactive = true;
  assessment.stage.id = "conservative";
  assessment.stage.offers_regenerative = true;
  assessment.regenerative_option_open = false;
  engine::Recommendation regenerative;
  regenerative.id = "prp-knee";
  regenerative.condition = "knee-osteoarthritis";
  regenerative.category = engine::OptionCategory::kRegenerative;
  regenerative.therapy = "prp";
  regenerative.status = engine::RecommendationStatus::kContraindicated;
  engine::Recommendation conventional = regenerative;
  conventional.id = "exercise";
  conventional.category = engine::OptionCategory::kConventional;
  assessment.recommendations = {conventional, regenerative};
  assessment.issues.push_back({"warning", "w", ""});
  const std::string line = ScreeningLine("Patient/p1", assessment);
  EXPECT_EQ(line, FromJson("Patient/p1", assessment));
  // An empty link text is still a merged record; U+2028 passes as it is.
  assessment.replaced_by = "";
  assessment.stage.id = "a\u2028b";
  EXPECT_EQ(ScreeningLine("Patient/p1", assessment), FromJson("Patient/p1", assessment));
  EXPECT_NE(ScreeningLine("Patient/p1", assessment).find(R"("replaced_by":"")"), std::string::npos);
  EXPECT_NE(line.find(R"("deceased":null)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("active":false)"), std::string::npos) << line;
  EXPECT_EQ(line.find("exercise"), std::string::npos) << "only regenerative options are listed: " << line;
}

}  // namespace
}  // namespace regenpath::screen
