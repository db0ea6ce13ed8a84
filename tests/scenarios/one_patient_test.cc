// One patient per assessment, deceased patients, and the patient data behind
// every finding on real-shaped data (the Synthea sample bundles and Bulk Data
// export of ../shared/testdata/synthea/).
//
//  - a Bundle or NDJSON holding several patients is refused unless a patient
//    is picked; then no datum, reference or finding of the assessment comes
//    from another patient, and it equals the assessment of that patient's own
//    resources alone;
//  - a record without a Patient is assessed as the one patient its resources
//    name, and says so;
//  - a deceased patient gets no treatment stage, no option and no next step;
//  - every criterion of every Synthea assessment carries its data or what
//    was looked for (CheckEvidenceCoverage).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/engine.h"
#include "engine/patient_scope.h"
#include "fhir/parser.h"
#include "report/assessment_json.h"
#include "report/text_report.h"
#include "tests/scenarios/safety_invariants.h"
#include "tests/support/files_in.h"

namespace regenpath::engine {
namespace {

using test_support::FilesIn;

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kShared = REGENPATH_SHARED_DIR;
const std::string kScenarioDir = std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios";
const DateTime kNow = *DateTime::ParseDateTime("2026-06-01");

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The lumbar disc candidate's record with `member` (JSON text ending in a
// comma) put first in its Patient resource; "" when the scenario has no
// Patient written as this looks for it.
std::string LumbarCandidateWithPatientMember(const std::string& member) {
  std::string json = ReadFile(kScenarioDir + "/lumbar-disc-candidate.json");
  const std::string marker = R"("resourceType": "Patient",)";
  const size_t at = json.find(marker);
  if (at == std::string::npos) return "";
  return json.insert(at + marker.size(), " " + member);
}

// The references an assessment shows anywhere (criteria, conditions, red
// flags, contraindications, holds, pre-checks, done data).
std::set<std::string> ReferencesShown(const Assessment& assessment) {
  std::set<std::string> refs;
  auto add = [&](const Data& data) {
    for (const Datum& datum : data) refs.insert(datum.reference);
  };
  for (const AssessedCondition& condition : assessment.conditions) {
    add(condition.data);
    for (const Criterion& criterion : condition.criteria) add(criterion.data);
  }
  for (const AssessedRedFlag& flag : assessment.red_flags) add(flag.data);
  for (const Recommendation& item : assessment.recommendations) {
    add(item.done_data);
    for (const Criterion& criterion : item.rationale) add(criterion.data);
    for (const Criterion& criterion : item.pre_checks) add(criterion.data);
    for (const FoundContraindication& found : item.contraindications) add(found.data);
    if (item.procedure) {
      for (const MedicationHoldResult& hold : item.procedure->medication_holds) add(hold.data);
    }
  }
  return refs;
}

class OnePatientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<Engine> created = Engine::Create(knowledge::KnowledgeBase::Embedded());
    ASSERT_TRUE(created.has_value()) << created.error().message();
    engine_ = new Engine(std::move(*created));
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }

  static Result<fhir::Document> Parse(const std::string& text, const std::string& name) {
    fhir::Parser parser;
    return parser.ParseAuto(text, name);
  }

  // The entries of a scenario Bundle, as JSON texts of its resources.
  static std::vector<std::string> EntriesOf(const std::string& bundle_json) {
    Result<fhir::Document> document = Parse(bundle_json, "bundle");
    std::vector<std::string> entries;
    if (!document) return entries;
    for (const fhir::Node* resource : document->resources()) entries.emplace_back(resource->raw_json());
    return entries;
  }

  static std::string BundleOf(const std::vector<std::string>& resources) {
    std::string json = R"({"resourceType":"Bundle","type":"collection","entry":[)";
    for (size_t index = 0; index < resources.size(); ++index) {
      if (index > 0) json += ',';
      json += R"({"resource":)" + resources[index] + "}";
    }
    return json + "]}";
  }

  static Engine* engine_;
};

Engine* OnePatientTest::engine_ = nullptr;

TEST_F(OnePatientTest, TwoPatientsInOneBundleAreRefusedUnlessOneIsPicked) {
  // A patient with no pain condition, and another with a cauda equina red flag.
  std::vector<std::string> quiet = EntriesOf(ReadFile(kScenarioDir + "/no-pain-condition.json"));
  std::vector<std::string> urgent = EntriesOf(ReadFile(kScenarioDir + "/cauda-equina-radicular.json"));
  ASSERT_FALSE(quiet.empty());
  ASSERT_FALSE(urgent.empty());
  std::vector<std::string> both = quiet;
  both.insert(both.end(), urgent.begin(), urgent.end());
  Result<fhir::Document> mixed = Parse(BundleOf(both), "two-patients.json");
  ASSERT_TRUE(mixed.has_value());

  Result<Assessment> refused = engine_->Assess(*mixed, kNow);
  ASSERT_FALSE(refused.has_value()) << "two patients must not be assessed as one";
  EXPECT_THAT(refused.error().message(), HasSubstr("Patient/no-pain-condition"));
  EXPECT_THAT(refused.error().message(), HasSubstr("Patient/cauda-equina-radicular"));
  EXPECT_THAT(refused.error().message(), HasSubstr("--patient"));

  // Picked: each gets exactly what its own record gives, nothing of the other.
  for (const auto& [id, own] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"no-pain-condition", quiet}, {"cauda-equina-radicular", urgent}}) {
    SCOPED_TRACE(id);
    Result<Assessment> picked = engine_->Assess(*mixed, kNow, {id});
    ASSERT_TRUE(picked.has_value()) << picked.error().message();
    Result<fhir::Document> alone = Parse(BundleOf(own), id);
    ASSERT_TRUE(alone.has_value());
    Assessment expected = *engine_->Assess(*alone, kNow);
    EXPECT_EQ(picked->stage.id, expected.stage.id);
    EXPECT_EQ(picked->conditions.size(), expected.conditions.size());
    EXPECT_EQ(picked->red_flags.size(), expected.red_flags.size());
    EXPECT_EQ(ReferencesShown(*picked), ReferencesShown(expected));
    for (const std::string& reference : ReferencesShown(*picked)) {
      EXPECT_THAT(reference, HasSubstr(id)) << "a datum of another patient";
    }
    bool reported = std::any_of(picked->issues.begin(), picked->issues.end(), [](const AssessmentIssue& issue) {
      return issue.message.find("of another patient") != std::string::npos;
    });
    EXPECT_TRUE(reported) << "the excluded resources are named in the issues";
  }
  Result<Assessment> quiet_one = engine_->Assess(*mixed, kNow, {"no-pain-condition"});
  EXPECT_EQ(quiet_one->stage.id, "not-applicable") << "another patient's cauda equina must not reach this one";
  EXPECT_TRUE(quiet_one->red_flags.empty());

  Result<Assessment> unknown = engine_->Assess(*mixed, kNow, {"somebody-else"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message(), HasSubstr("no patient 'somebody-else'"));
}

// A resource of a patient-compartment type that names no patient (a
// Condition whose subject is a Group, or that has none) cannot be told to be
// one patient's in a record of several: it informs none of them (as
// `regenpath screen` leaves it out of every record), and the issues say so.
// In a one-patient record it stays.
TEST_F(OnePatientTest, AResourceNamingNoPatientInARecordOfSeveralInformsNone) {
  std::vector<std::string> quiet = EntriesOf(ReadFile(kScenarioDir + "/no-pain-condition.json"));
  std::vector<std::string> urgent = EntriesOf(ReadFile(kScenarioDir + "/cauda-equina-radicular.json"));
  const std::string knee =
      R"("resourceType":"Condition","clinicalStatus":{"coding":[{"system":)"
      R"("http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{)"
      R"("system":"http://snomed.info/sct","code":"239873007","display":"Osteoarthritis of knee"}]},)"
      R"("onsetDateTime":"2020-01-01")";
  const std::vector<std::string> orphans = {
      "{" + knee + R"(,"id":"orphan-group","subject":{"reference":"Group/1"}})",
      "{" + knee + R"(,"id":"orphan-none"})"};
  std::vector<std::string> all = quiet;
  all.insert(all.end(), urgent.begin(), urgent.end());
  all.insert(all.end(), orphans.begin(), orphans.end());
  Result<fhir::Document> mixed = Parse(BundleOf(all), "two-patients-and-orphans.json");
  ASSERT_TRUE(mixed.has_value());
  Result<Assessment> picked = engine_->Assess(*mixed, kNow, {"no-pain-condition"});
  ASSERT_TRUE(picked.has_value()) << picked.error().message();
  EXPECT_EQ(picked->stage.id, "not-applicable")
      << "a knee condition of nobody in particular reached this patient";
  EXPECT_TRUE(picked->conditions.empty());
  const auto said =
      std::find_if(picked->issues.begin(), picked->issues.end(), [](const AssessmentIssue& issue) {
        return issue.message.find("2 resource(s) that name no patient were excluded") != std::string::npos;
      });
  ASSERT_NE(said, picked->issues.end());
  EXPECT_THAT(said->location, HasSubstr("Condition/orphan-group"));

  // One patient's record: the resource without a patient is that patient's.
  std::vector<std::string> one = quiet;
  one.insert(one.end(), orphans.begin(), orphans.end());
  Result<fhir::Document> single = Parse(BundleOf(one), "one-patient.json");
  ASSERT_TRUE(single.has_value());
  Result<Assessment> alone = engine_->Assess(*single, kNow);
  ASSERT_TRUE(alone.has_value()) << alone.error().message();
  EXPECT_FALSE(alone->conditions.empty()) << "a one-patient record keeps its resources that name no patient";
}

TEST_F(OnePatientTest, ARecordWithoutPatientIsAssessedAsThePatientItsResourcesName) {
  std::vector<std::string> entries = EntriesOf(ReadFile(kScenarioDir + "/knee-oa-candidate.json"));
  std::vector<std::string> without;
  for (const std::string& entry : entries) {
    if (entry.find(R"("resourceType": "Patient")") == std::string::npos &&
        entry.find(R"("resourceType":"Patient")") == std::string::npos) {
      without.push_back(entry);
    }
  }
  ASSERT_LT(without.size(), entries.size());
  Result<fhir::Document> record = Parse(BundleOf(without), "no-patient.json");
  ASSERT_TRUE(record.has_value());
  Result<Assessment> assessment = engine_->Assess(*record, kNow);
  ASSERT_TRUE(assessment.has_value()) << assessment.error().message();
  EXPECT_EQ(assessment->patient_reference, "Patient/knee-oa-candidate");
  EXPECT_THAT(assessment->patient_note, HasSubstr("no Patient resource"));
  EXPECT_FALSE(assessment->age.has_value());
  std::string text = report::AssessmentToText(*assessment);
  EXPECT_THAT(text.substr(0, text.find("STAGE")), HasSubstr("NOTE: The record has no Patient resource"))
      << "the report says so at the top";

  // Without a Patient, resources naming two patients are refused.
  std::vector<std::string> other = EntriesOf(ReadFile(kScenarioDir + "/lumbar-disc-candidate.json"));
  for (const std::string& entry : other) {
    if (entry.find("Patient\"") == std::string::npos || entry.find("\"subject\"") != std::string::npos) {
      if (entry.find(R"("resourceType": "Patient")") == std::string::npos) without.push_back(entry);
    }
  }
  Result<fhir::Document> two = Parse(BundleOf(without), "no-patient-two.json");
  ASSERT_TRUE(two.has_value());
  Result<Assessment> refused = engine_->Assess(*two, kNow);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message(), HasSubstr("no Patient resource and its resources name 2 patients"));
}

TEST_F(OnePatientTest, TheJoinedBulkExportIsAssessedOnePatientAtATime) {
  const std::string directory = kShared + "/testdata/synthea/bulk-ndjson-10-patients";
  std::string joined;
  for (const std::string& file : FilesIn(directory, ".ndjson")) {
    if (file.ends_with("/log.ndjson")) continue;
    joined += ReadFile(file);
    if (!joined.empty() && joined.back() != '\n') joined += '\n';
  }
  Result<fhir::Document> record = Parse(joined, "bulk.ndjson");
  ASSERT_TRUE(record.has_value()) << record.error().message();
  Result<Assessment> refused = engine_->Assess(*record, kNow);
  ASSERT_FALSE(refused.has_value()) << "13 patients must not be assessed as one";
  EXPECT_THAT(refused.error().message(), HasSubstr("Patient resources"));

  std::vector<std::string> patients;
  for (const fhir::Node* resource : record->resources()) {
    if (resource->type_name() == "Patient") patients.emplace_back(resource->Child("id")->text());
  }
  ASSERT_GE(patients.size(), 10u);
  for (const std::string& id : patients) {
    SCOPED_TRACE(id);
    Result<Assessment> assessment = engine_->Assess(*record, kNow, {id});
    ASSERT_TRUE(assessment.has_value()) << assessment.error().message();
    EXPECT_EQ(assessment->patient_reference, "Patient/" + id);
    // Every resource shown belongs to this patient (or names no patient).
    for (const std::string& reference : ReferencesShown(*assessment)) {
      const fhir::Node* resource = nullptr;
      for (const fhir::Node* candidate : record->resources()) {
        if (std::string(candidate->type_name()) + "/" + std::string(candidate->Child("id")->text()) == reference) {
          resource = candidate;
          break;
        }
      }
      ASSERT_NE(resource, nullptr) << reference;
      const std::string owner(PatientOf(*resource, *record));
      EXPECT_TRUE(owner.empty() || owner == id) << reference << " belongs to Patient/" << owner;
    }
    for (const std::string& gap : CheckEvidenceCoverage(*assessment)) ADD_FAILURE() << gap;
  }
}

TEST_F(OnePatientTest, ADeceasedPatientGetsNoTreatmentStage) {
  std::string json = LumbarCandidateWithPatientMember(R"("deceasedDateTime": "2026-03-02",)");
  ASSERT_FALSE(json.empty());
  Result<fhir::Document> record = Parse(json, "deceased.json");
  ASSERT_TRUE(record.has_value());
  Result<Assessment> assessment = engine_->Assess(*record, kNow);
  ASSERT_TRUE(assessment.has_value());
  EXPECT_EQ(assessment->deceased, std::optional<bool>(true));
  EXPECT_EQ(assessment->stage.id, "not-applicable");
  EXPECT_THAT(assessment->stage_reason, HasSubstr("has died on 2026-03-02"));
  ASSERT_FALSE(assessment->conditions.empty()) << "the record's conditions are still listed";
  for (const AssessedCondition& condition : assessment->conditions) {
    EXPECT_EQ(condition.stage.id, "not-applicable") << condition.id;
    EXPECT_THAT(condition.stage_reason, HasSubstr("has died"));
  }
  EXPECT_TRUE(assessment->recommendations.empty());
  EXPECT_TRUE(assessment->next_steps.empty());
  std::string text = report::AssessmentToText(*assessment);
  EXPECT_THAT(text.substr(0, text.find('\n', text.find('\n') + 1)), HasSubstr("DECEASED")) << "the report leads with it";
  EXPECT_THAT(report::AssessmentToJson(*assessment), HasSubstr(R"("deceased": true)"));
  // A death before the assessment instant is not said to come after it.
  for (const AssessmentIssue& issue : assessment->issues) {
    EXPECT_THAT(issue.message, ::testing::Not(HasSubstr("date of death"))) << issue.message;
  }

  // deceasedBoolean true, too.
  json = LumbarCandidateWithPatientMember(R"("deceasedBoolean": true,)");
  record = Parse(json, "deceased-boolean.json");
  ASSERT_TRUE(record.has_value());
  assessment = engine_->Assess(*record, kNow);
  EXPECT_EQ(assessment->stage.id, "not-applicable");
  EXPECT_TRUE(assessment->recommendations.empty());
}

// A date of death after the assessment instant (a wrong date, or an
// assessment as of an earlier day): still deceased, as the record says, and
// said; the age is the age at the assessment instant.
TEST_F(OnePatientTest, ADeathAfterTheAssessmentDateIsSaid) {
  std::string json = ReadFile(kScenarioDir + "/lumbar-disc-candidate.json");
  Result<fhir::Document> alive_record = Parse(json, "alive.json");
  ASSERT_TRUE(alive_record.has_value());
  Result<Assessment> alive = engine_->Assess(*alive_record, kNow);
  ASSERT_TRUE(alive.has_value());
  json = LumbarCandidateWithPatientMember(R"("deceasedDateTime": "2036-09-01",)");
  ASSERT_FALSE(json.empty());
  Result<fhir::Document> record = Parse(json, "deceased-later.json");
  ASSERT_TRUE(record.has_value());
  Result<Assessment> assessment = engine_->Assess(*record, kNow);
  ASSERT_TRUE(assessment.has_value());
  EXPECT_EQ(assessment->deceased, std::optional<bool>(true));
  EXPECT_EQ(assessment->stage.id, "not-applicable");
  EXPECT_TRUE(assessment->recommendations.empty());
  ASSERT_TRUE(alive->age.has_value());
  EXPECT_EQ(assessment->age, alive->age) << "the age at the assessment instant, not ten years on";
  std::vector<std::string> messages;
  for (const AssessmentIssue& issue : assessment->issues) messages.push_back(issue.message);
  EXPECT_THAT(messages,
              ::testing::Contains(
                  "the recorded date of death (2036-09-01) is after the assessment instant (2026-06-01): "
                  "assessed as deceased, as the record says; check the date"));
}

// The text report is safe on a terminal: control characters a record's
// text carries (JSON escapes can) are written as U+FFFD, never sent on.
TEST_F(OnePatientTest, TheTextReportSendsNoControlCharacterToATerminal) {
  const std::string json = LumbarCandidateWithPatientMember(
      R"("link": [{"type": "replaced-by", "other": {"display": "P\u001b[31m2\u0007\u009b\u007f\tx"}}],)");
  ASSERT_FALSE(json.empty());
  Result<fhir::Document> record = Parse(json, "controls.json");
  ASSERT_TRUE(record.has_value());
  Result<Assessment> assessment = engine_->Assess(*record, kNow);
  ASSERT_TRUE(assessment.has_value());
  ASSERT_EQ(assessment->replaced_by, std::optional<std::string>("P\x1b[31m2\x07\xc2\x9b\x7f\tx"));
  const std::string text = report::AssessmentToText(*assessment);
  EXPECT_THAT(text, HasSubstr("P\xEF\xBF\xBD[31m2\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\tx"));
  for (const char control : {'\x1b', '\x07', '\x7f'}) EXPECT_EQ(text.find(control), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(text.find('\n'), std::string::npos) << "newlines are kept";
}

TEST_F(OnePatientTest, EverySyntheaCriterionCarriesItsDataOrWhatWasLookedFor) {
  const std::vector<std::string> files = FilesIn(kShared + "/testdata/synthea/r4-bundles-pain-subset", ".json");
  ASSERT_EQ(files.size(), 14u);
  size_t counts[2] = {0, 0};
  int deceased = 0;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    Result<fhir::Document> record = Parse(ReadFile(file), file);
    ASSERT_TRUE(record.has_value());
    Result<Assessment> assessment = engine_->Assess(*record, kNow);
    ASSERT_TRUE(assessment.has_value()) << assessment.error().message();
    for (const std::string& gap : CheckEvidenceCoverage(*assessment, counts)) ADD_FAILURE() << gap;
    if (assessment->deceased == true) {
      ++deceased;
      EXPECT_EQ(assessment->stage.id, "not-applicable");
      EXPECT_THAT(report::AssessmentToText(*assessment), StartsWith("regenpath assessment of"));
    }
  }
  std::cout << files.size() << " Synthea bundles: " << counts[0] << " criteria with data or what was looked for, "
            << counts[1] << " met with their resources; " << deceased << " deceased\n";
  EXPECT_GT(counts[1], 0u);
}

}  // namespace
}  // namespace regenpath::engine
