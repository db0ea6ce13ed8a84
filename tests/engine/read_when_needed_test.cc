// The engine reads a patient's contraindications, held medications and
// bleeding-risk escalation only where an option is weighed
// (Assessor::PatientContraindications, CurrentMedications,
// EscalatesBleedingRisk): a record with no option to weigh reports no failure
// of those checks and no unverified fact they would have used; one with
// options still does. The built-in knowledge base on the scenario whose
// hemoglobin has an unreadable unit; the minimal test knowledge base with its
// escalation marked unverified.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "fhir/parser.h"

namespace regenpath::engine {
namespace {

using ::testing::HasSubstr;

const std::string kScenario =
    std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/disc-candidate-hemoglobin-unreadable-unit.json";

// The messages of `assessment`'s issues that name `definition` as failed.
std::vector<std::string> FailuresOf(const Assessment& assessment, const std::string& definition) {
  std::vector<std::string> found;
  for (const AssessmentIssue& issue : assessment.issues) {
    if (issue.message.find("definition '" + definition + "' could not be evaluated") != std::string::npos) {
      found.push_back(issue.message);
    }
  }
  return found;
}

class ReadWhenNeededTest : public ::testing::Test {
 protected:
  Assessment Assess(const std::string& json) {
    Result<Engine> engine = Engine::Create(knowledge::KnowledgeBase::Embedded());
    EXPECT_TRUE(engine.has_value()) << engine.error().message();
    fhir::Parser parser;
    Result<fhir::Document> record = parser.ParseResource(json, "test");
    EXPECT_TRUE(record.has_value()) << record.error().message();
    return *engine->Assess(*record, *DateTime::ParseDateTime("2026-06-01"));
  }
};

TEST_F(ReadWhenNeededTest, AnOptionWeighedReportsTheContraindicationCheckThatFailed) {
  std::ifstream in(kScenario);
  std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(json.empty()) << kScenario;
  Assessment assessment = Assess(json);
  ASSERT_EQ(assessment.stage.id, "regenerative-candidate");
  // 13.1 "mmol" cannot be compared with 10 g/dL: the low-hemoglobin
  // contraindication is unknown, and said so.
  EXPECT_THAT(FailuresOf(assessment, "low-hemoglobin"),
              ::testing::ElementsAre(HasSubstr("'mmol' and 'g/dL'")));
}

TEST_F(ReadWhenNeededTest, NoOptionToWeighReportsNoContraindicationCheck) {
  // The same hemoglobin, with no condition in scope.
  const std::string json = R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1954-10-30"}},
    {"resource":{"resourceType":"Observation","id":"hb","status":"final",
      "code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},"subject":{"reference":"Patient/p1"},
      "effectiveDateTime":"2026-05-04","valueQuantity":{"value":13.1,"unit":"mmol"}}}]})";
  Assessment assessment = Assess(json);
  EXPECT_EQ(assessment.stage.id, "not-applicable");
  EXPECT_TRUE(assessment.recommendations.empty());
  EXPECT_THAT(FailuresOf(assessment, "low-hemoglobin"), ::testing::IsEmpty());
}

// The minimal knowledge base (tests/knowledge/data/minimal), its
// bleeding-risk escalation (several antithrombotics) marked U.
class UnverifiedEscalationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    namespace fs = std::filesystem;
    // One directory per process: ctest runs each test as its own process, in parallel.
    dir_ = fs::path(::testing::TempDir()) / ("read-when-needed-kb-" + std::to_string(::getpid()));
    const fs::path& dir = dir_;
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ifstream in(std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/minimal/kb.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string verified = "display: several antithrombotics\n  sources: [src-a]\n  confidence: M";
    const size_t at = yaml.find(verified);
    ASSERT_NE(at, std::string::npos) << "the minimal knowledge base's escalation changed";
    yaml.replace(at, verified.size(),
                 "display: several antithrombotics\n  sources: [src-a]\n  confidence: U");
    std::ofstream(dir / "kb.yaml") << yaml;
    Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb =
        knowledge::KnowledgeBase::LoadDirectory(dir.string());
    ASSERT_TRUE(kb.has_value()) << kb.error().message();
    Result<Engine> engine = Engine::Create(*kb);
    ASSERT_TRUE(engine.has_value()) << engine.error().message();
    engine_ = new Engine(std::move(*engine));
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
    std::filesystem::remove_all(dir_);
  }

  // A record of the Patient, apixaban and clopidogrel (several
  // antithrombotics), and `more` resources.
  Assessment Assess(const std::string& more) {
    const std::string json = R"({"resourceType":"Bundle","type":"collection","entry":[
      {"resource":{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-05-20"}},
      {"resource":{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",
        "medicationCodeableConcept":{"text":"Apixaban 5 MG Oral Tablet"}}},
      {"resource":{"resourceType":"MedicationRequest","id":"m2","status":"active","intent":"order",
        "medicationCodeableConcept":{"text":"clopidogrel 75 MG Oral Tablet"}}})" +
                             more + "]}";
    fhir::Parser parser;
    Result<fhir::Document> record = parser.ParseResource(json, "test");
    EXPECT_TRUE(record.has_value()) << record.error().message();
    document_ = std::make_unique<fhir::Document>(std::move(*record));
    return *engine_->Assess(*document_, *DateTime::ParseDateTime("2024-06-01T09:00:00Z"));
  }

  static Engine* engine_;
  static std::filesystem::path dir_;
  std::unique_ptr<fhir::Document> document_;
};

Engine* UnverifiedEscalationTest::engine_ = nullptr;
std::filesystem::path UnverifiedEscalationTest::dir_;

TEST_F(UnverifiedEscalationTest, AProcedurePlannedUsesTheEscalationAndNamesItUnverified) {
  // A knee osteoarthritis candidate: physical therapy tried, imaging done.
  Assessment assessment = Assess(R"(,
    {"resource":{"resourceType":"Condition","id":"c1",
      "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
      "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M17.11"}]},"onsetDateTime":"2020-01-15"}},
    {"resource":{"resourceType":"Procedure","id":"pr1","status":"completed",
      "code":{"coding":[{"system":"http://snomed.info/sct","code":"91251008"}]},
      "performedPeriod":{"start":"2021-02-01","end":"2021-05-01"}}},
    {"resource":{"resourceType":"ImagingStudy","id":"i1","status":"available"}})");
  ASSERT_EQ(assessment.stage.id, "regenerative-candidate");
  EXPECT_THAT(assessment.unverified_facts, ::testing::Contains(HasSubstr("bleeding-risk escalation")));
}

TEST_F(UnverifiedEscalationTest, NoConditionInScopeLeavesTheEscalationUnreadAndUnlisted) {
  Assessment assessment = Assess("");
  ASSERT_EQ(assessment.stage.id, "not-applicable");
  EXPECT_THAT(assessment.unverified_facts,
              ::testing::Not(::testing::Contains(HasSubstr("bleeding-risk escalation"))));
}

}  // namespace
}  // namespace regenpath::engine
