// The assessment engine on the minimal test knowledge base
// (tests/knowledge/data/minimal): stages, statuses, contraindications,
// holds, missing data and the JSON contract.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "report/assessment_json.h"
#include "engine/engine.h"
#include "report/text_report.h"
#include "fhir/parser.h"

namespace regenpath::engine {
namespace {

using ::testing::HasSubstr;

const std::string kMinimal = std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/minimal";

// Resources of a test record, by name; the bundle holds the ones included.
std::map<std::string, std::string> Parts() {
  return {
      {"patient", R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-05-20"})"},
      {"knee-oa", R"({"resourceType":"Condition","id":"c1",
        "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
        "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M17.11"}]},
        "onsetDateTime":"2020-01-15"})"},
      {"knee-oa-no-onset", R"({"resourceType":"Condition","id":"c1",
        "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M17.11"}]}})"},
      {"physical-therapy", R"({"resourceType":"Procedure","id":"pr1","status":"completed",
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"91251008"}]},
        "performedPeriod":{"start":"2021-02-01","end":"2021-05-01"}})"},
      {"imaging", R"({"resourceType":"ImagingStudy","id":"i1","status":"available"})"},
      {"apixaban", R"({"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",
        "medicationCodeableConcept":{"text":"Apixaban 5 MG Oral Tablet"}})"},
      {"platelets", R"({"resourceType":"Observation","id":"o1","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"777-3"}]},"effectiveDateTime":"2024-05-01",
        "valueQuantity":{"value":250,"unit":"10*3/uL","system":"http://unitsofmeasure.org","code":"10*3/uL"}})"},
      {"clopidogrel", R"({"resourceType":"MedicationRequest","id":"m2","status":"active","intent":"order",
        "medicationCodeableConcept":{"text":"clopidogrel 75 MG Oral Tablet"}})"},
      {"cauda-equina", R"({"resourceType":"Condition","id":"ce1",
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"192970008"}]}})"},
      {"septicemia", R"({"resourceType":"Condition","id":"s1",
        "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"A41.9"}]}})"},
  };
}

std::string Bundle(const std::vector<std::string>& names) {
  std::map<std::string, std::string> parts = Parts();
  std::string text = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ",";
    text += R"({"resource":)" + parts.at(names[i]) + "}";
  }
  return text + "]}";
}

const std::vector<std::string> kCandidate = {"patient", "knee-oa", "physical-therapy", "imaging", "apixaban",
                                              "platelets"};

std::vector<std::string> Without(std::vector<std::string> names, const std::string& name) {
  names.erase(std::remove(names.begin(), names.end(), name), names.end());
  return names;
}
std::vector<std::string> With(std::vector<std::string> names, const std::string& name) {
  names.push_back(name);
  return names;
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb = knowledge::KnowledgeBase::LoadDirectory(kMinimal);
    ASSERT_TRUE(kb.has_value());
    Result<Engine> engine = Engine::Create(*kb);
    ASSERT_TRUE(engine.has_value()) << engine.error().message();
    engine_ = new Engine(std::move(*engine));
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }

  Assessment Assess(const std::vector<std::string>& names) {
    fhir::Parser parser;
    Result<fhir::Document> document = parser.ParseResource(Bundle(names), "test");
    EXPECT_TRUE(document.has_value()) << document.error().message();
    documents_.push_back(std::make_unique<fhir::Document>(std::move(*document)));
    return *engine_->Assess(*documents_.back(), *DateTime::ParseDateTime("2024-06-01T09:00:00Z"));
  }

  static const Recommendation& Find(const Assessment& assessment, const std::string& id) {
    for (const Recommendation& item : assessment.recommendations) {
      if (item.id == id) return item;
    }
    static Recommendation none;
    ADD_FAILURE() << "no recommendation " << id;
    return none;
  }

  static std::vector<std::string> MissingIds(const Assessment& assessment) {
    std::vector<std::string> ids;
    for (const MissingDataItem& item : assessment.missing_data) ids.push_back(item.id);
    return ids;
  }

  static Engine* engine_;
  std::vector<std::unique_ptr<fhir::Document>> documents_;
};

Engine* EngineTest::engine_ = nullptr;

TEST_F(EngineTest, RegenerativeCandidateWithHoldsByBleedingRisk) {
  Assessment assessment = Assess(kCandidate);
  EXPECT_EQ(assessment.stage.id, "regenerative-candidate");
  EXPECT_EQ(assessment.patient_reference, "Patient/p1");
  EXPECT_EQ(assessment.age, 64);
  ASSERT_EQ(assessment.conditions.size(), 1u);
  EXPECT_EQ(assessment.conditions[0].stage.id, "regenerative-candidate");
  EXPECT_EQ(assessment.conditions[0].chronic, true);
  EXPECT_EQ(assessment.conditions[0].evidence, (Refs{"Condition/c1"}));

  const Recommendation& prp = Find(assessment, "prp-knee");
  EXPECT_EQ(prp.status, RecommendationStatus::kConsider);
  ASSERT_TRUE(prp.procedure.has_value());
  EXPECT_EQ(prp.procedure->image_guidance, (std::vector<std::string>{"ultrasound", "landmark"}));
  ASSERT_EQ(prp.procedure->medication_holds.size(), 1u);
  const MedicationHoldResult& low = prp.procedure->medication_holds[0];
  EXPECT_EQ(low.medication, "apixaban");
  EXPECT_EQ(low.hold_days_before, std::nullopt);  // low risk: shared decision
  EXPECT_EQ(low.restart_hours_after, 24);
  EXPECT_EQ(low.evidence, (Refs{"MedicationRequest/m1"}));  // found by name in text

  const Recommendation& prolotherapy = Find(assessment, "prolotherapy-knee");
  EXPECT_EQ(prolotherapy.status, RecommendationStatus::kNotRecommended);  // its base status
  ASSERT_EQ(prolotherapy.procedure->medication_holds.size(), 1u);
  EXPECT_EQ(prolotherapy.procedure->medication_holds[0].hold_days_before, 3);  // intermediate risk
  EXPECT_TRUE(assessment.missing_data.empty());
  EXPECT_THAT(assessment.unverified_facts, ::testing::Contains(HasSubstr("adequate-trial")));
}

TEST_F(EngineTest, SeveralAntithromboticsMoveTheProcedureUpOneCategory) {
  Assessment assessment = Assess(With(kCandidate, "clopidogrel"));
  const Recommendation& prp = Find(assessment, "prp-knee");
  ASSERT_TRUE(prp.procedure.has_value());
  EXPECT_EQ(prp.procedure->bleeding_risk, BleedingRisk::kIntermediate);  // low, moved up
  EXPECT_THAT(prp.procedure->bleeding_risk_note, HasSubstr("moved up from low"));
  ASSERT_FALSE(prp.procedure->medication_holds.empty());
  EXPECT_EQ(prp.procedure->medication_holds[0].hold_days_before, 3);  // apixaban at intermediate risk
  EXPECT_EQ(Find(assessment, "prolotherapy-knee").procedure->bleeding_risk, BleedingRisk::kHigh);
}

TEST_F(EngineTest, RedFlagWinsOverEverything) {
  Assessment assessment = Assess(With(kCandidate, "cauda-equina"));
  EXPECT_EQ(assessment.stage.id, "urgent-referral");
  ASSERT_EQ(assessment.red_flags.size(), 1u);
  EXPECT_EQ(assessment.red_flags[0].id, "cauda-equina");
  EXPECT_EQ(assessment.red_flags[0].evidence, (Refs{"Condition/ce1"}));
  for (const Recommendation& item : assessment.recommendations) {
    if (item.category == OptionCategory::kRegenerative) {
      EXPECT_EQ(item.status, RecommendationStatus::kNotRecommended) << item.id;
    }
  }
  ASSERT_FALSE(assessment.next_steps.empty());
  EXPECT_EQ(assessment.next_steps.front().kind, "referral");
}

TEST_F(EngineTest, AbsoluteContraindicationAppliesToItsTherapiesOnly) {
  Assessment assessment = Assess(With(kCandidate, "septicemia"));
  const Recommendation& prp = Find(assessment, "prp-knee");
  EXPECT_EQ(prp.status, RecommendationStatus::kContraindicated);
  ASSERT_EQ(prp.contraindications.size(), 1u);
  EXPECT_EQ(prp.contraindications[0].kind, ContraindicationKind::kAbsolute);
  EXPECT_EQ(prp.contraindications[0].evidence, (Refs{"Condition/s1"}));
  EXPECT_TRUE(prp.procedure->medication_holds.empty());
  const Recommendation& prolotherapy = Find(assessment, "prolotherapy-knee");
  EXPECT_TRUE(prolotherapy.contraindications.empty());
  EXPECT_NE(prolotherapy.status, RecommendationStatus::kContraindicated);
}

TEST_F(EngineTest, UnknownOnsetKeepsConventionalCareAndAsksForData) {
  std::vector<std::string> names = Without(kCandidate, "knee-oa");
  names.push_back("knee-oa-no-onset");
  Assessment assessment = Assess(names);
  EXPECT_EQ(assessment.stage.id, "conventional-care");
  EXPECT_EQ(assessment.conditions[0].chronic, std::nullopt);
  EXPECT_THAT(MissingIds(assessment), ::testing::Contains("pain-duration"));
  EXPECT_EQ(Find(assessment, "prp-knee").status, RecommendationStatus::kNotRecommended);
}

TEST_F(EngineTest, ConventionalCareNotTriedGivesItAsNextStep) {
  Assessment assessment = Assess(Without(kCandidate, "physical-therapy"));
  EXPECT_EQ(assessment.stage.id, "conventional-care");
  bool exercise = std::any_of(assessment.next_steps.begin(), assessment.next_steps.end(), [](const NextStep& step) {
    return step.kind == "conventional" && step.display == "Exercise therapy";
  });
  EXPECT_TRUE(exercise);
}

TEST_F(EngineTest, MissingImagingGivesDiagnosticEvaluation) {
  Assessment assessment = Assess(Without(kCandidate, "imaging"));
  EXPECT_EQ(assessment.stage.id, "diagnostic-evaluation");
  bool imaging = std::any_of(assessment.next_steps.begin(), assessment.next_steps.end(),
                             [](const NextStep& step) { return step.kind == "diagnostic"; });
  EXPECT_TRUE(imaging);
}

TEST_F(EngineTest, MissingPlateletCountIsListedForACandidate) {
  Assessment assessment = Assess(Without(kCandidate, "platelets"));
  EXPECT_EQ(assessment.stage.id, "regenerative-candidate");
  EXPECT_THAT(MissingIds(assessment), ::testing::Contains("platelet-count"));
}

TEST_F(EngineTest, NoPainConditionIsNotApplicable) {
  Assessment assessment = Assess({"patient", "apixaban"});
  EXPECT_EQ(assessment.stage.id, "not-applicable");
  EXPECT_TRUE(assessment.conditions.empty());
  EXPECT_TRUE(assessment.recommendations.empty());
}

TEST_F(EngineTest, JsonValidatesAgainstTheAssessmentSchema) {
  for (const std::vector<std::string>& names :
       {kCandidate, With(kCandidate, "cauda-equina"), With(kCandidate, "septicemia"), Without(kCandidate, "imaging"),
        std::vector<std::string>{"patient"}}) {
    Assessment assessment = Assess(names);
    std::string path = ::testing::TempDir() + "/assessment.json";
    std::ofstream(path) << report::AssessmentToJson(assessment);
    std::string command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR + "/tools/validate_json_schema.py " +
                          REGENPATH_SHARED_DIR + "/spec/assessment.schema.json " + path;
    EXPECT_EQ(std::system(command.c_str()), 0) << ::testing::PrintToString(names);
  }
}

TEST_F(EngineTest, TextReportNamesStageHoldsAndSources) {
  Assessment assessment = Assess(kCandidate);
  std::string text = report::AssessmentToText(assessment);
  EXPECT_THAT(text, HasSubstr("STAGE: REGENERATIVE CANDIDATE"));
  EXPECT_THAT(text, HasSubstr("holds (procedure date not given"));
  EXPECT_THAT(text, HasSubstr("apixaban     stop: shared decision"));
  EXPECT_THAT(text, HasSubstr("[src-a] Source A"));
  EXPECT_THAT(text, HasSubstr("UNVERIFIED FACTS USED"));
}

TEST_F(EngineTest, ElementFilterGivesTheSameAssessment) {
  ASSERT_NE(engine_->element_filter(), nullptr);
  fhir::ParseOptions options;
  const fhir::ElementFilter* filter = engine_->element_filter();
  options.filter_for_root = [filter](std::string_view) { return filter; };
  fhir::Parser filtered(options);
  for (const std::vector<std::string>& names :
       {kCandidate, With(kCandidate, "cauda-equina"), With(kCandidate, "septicemia")}) {
    Result<fhir::Document> partial = filtered.ParseResource(Bundle(names), "test");
    ASSERT_TRUE(partial.has_value());
    const DateTime now = *DateTime::ParseDateTime("2024-06-01T09:00:00Z");
    EXPECT_EQ(report::AssessmentToJson(*engine_->Assess(*partial, now)), report::AssessmentToJson(Assess(names)));
  }
}

TEST(EngineCreateTest, RefusesAKnowledgeBaseWithProblems) {
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Load({{"kb.yaml", "citations: 3"}});
  Result<Engine> engine = Engine::Create(kb);
  ASSERT_FALSE(engine.has_value());
  EXPECT_THAT(engine.error().message(), HasSubstr("kb check"));
}

}  // namespace
}  // namespace regenpath::engine
