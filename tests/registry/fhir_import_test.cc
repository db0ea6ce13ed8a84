#include "registry/fhir_import.h"

#include <gtest/gtest.h>

#include <map>

#include "registry/civil_day.h"
#include "test_support.h"

namespace regenpath::registry {
namespace {

using testing::Catalog;
using testing::DataPath;
using testing::ReadFile;
using testing::TempDir;
using testing::TestContext;
using testing::TestPseudonymizer;

class FhirImportTest : public ::testing::TestWithParam<testing::StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Migrate(TestContext()).has_value());
  }
  Result<ImportResult> Import(const std::string& text, InputFormat format = InputFormat::kJson) {
    FhirImporter importer(*store_, Catalog(), TestPseudonymizer(), "2026-12-05");
    return importer.Import(text, format, "input.json", TestContext());
  }
  TempDir dir_;
  std::unique_ptr<RegistryStore> store_;
};

std::string Issues(const ImportResult& result) {
  std::string out;
  for (const ImportIssue& issue : result.issues) out += issue.location + ": " + issue.message + "\n";
  return out;
}

const ImportIssue* IssueOf(const ImportResult& result, int entry) {
  for (const ImportIssue& issue : result.issues) {
    if (issue.entry == entry) return &issue;
  }
  return nullptr;
}

TEST_P(FhirImportTest, BatchKeepsTheGoodEntriesAndLocatesEachRejection) {
  auto result = Import(ReadFile(DataPath("batch.json")));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_TRUE(result->written);
  EXPECT_EQ(result->accepted(), 9);
  ASSERT_EQ(result->issues.size(), 5u) << Issues(*result);
  struct Expected {
    int entry;
    std::string code;
    std::string location;
    std::string message_part;
  };
  for (const Expected& expected : std::vector<Expected>{
           {9, "value", "Bundle.entry[9].resource.valueQuantity.value", "out of range for nrs (0–10)"},
           {10, "not-supported", "Bundle.entry[10].resource.code", "unknown instrument"},
           {11, "business-rule", "Bundle.entry[11].resource.effectiveDateTime", "in the future"},
           {12, "business-rule", "Bundle.entry[12].resource.partOf[0]", "another patient's"},
           {13, "not-supported", "Bundle.entry[13].resource.questionnaire", "does not score"},
       }) {
    const ImportIssue* issue = IssueOf(*result, expected.entry);
    ASSERT_NE(issue, nullptr) << expected.entry;
    EXPECT_EQ(issue->code, expected.code);
    EXPECT_EQ(issue->location, expected.location);
    EXPECT_NE(issue->message.find(expected.message_part), std::string::npos) << issue->message;
  }
  Cohort cohort = store_->LoadCohort("prp-knee").value();
  ASSERT_EQ(cohort.episodes.size(), 2u);
  ASSERT_EQ(cohort.procedures.size(), 3u);
  EXPECT_EQ(cohort.outcomes.size(), 3u);  // two NRS, one PEG
  ASSERT_EQ(cohort.adverse_events.size(), 1u);
  const Episode* left = nullptr;
  for (const Episode& episode : cohort.episodes) {
    if (episode.side == "left") left = &episode;
  }
  ASSERT_NE(left, nullptr);
  EXPECT_EQ(left->start_date, "2026-01-10");
  EXPECT_EQ(left->condition, "knee-osteoarthritis");
  EXPECT_EQ(left->feedback, "overridden");
  EXPECT_EQ(left->override_reason, "patient choice");
  EXPECT_EQ(left->kb_version, "0.1.0");
  EXPECT_EQ(left->therapy, "prp");
  EXPECT_EQ(left->target, "knee");
  int series_two = 0;
  for (const ProcedureRecord& procedure : cohort.procedures) {
    if (procedure.key == "Procedure|urn:clinic:proc|P-2") series_two = procedure.series_number;
  }
  EXPECT_EQ(series_two, 2);
  for (const OutcomeRecord& outcome : cohort.outcomes) {
    if (outcome.instrument == "peg") {
      EXPECT_DOUBLE_EQ(outcome.value, 6.0);
    }
  }
  EXPECT_EQ(cohort.adverse_events[0].episode_key, left->key);
  if (GetParam().name != "sqlite") return;
  // No identifier, no name anywhere in the stored rows.
  std::string database = ReadFile((dir_.path() / "registry.sqlite").string()) +
                         ReadFile((dir_.path() / "registry.sqlite-wal").string());
  EXPECT_EQ(database.find("MRN-0001"), std::string::npos);
  EXPECT_EQ(database.find("Doe"), std::string::npos);
}

// KOOS JR QuestionnaireResponses are scored from the raw-to-interval table of
// knowledge/registry/instrument-scoring.yaml (Lyman 2016 / HSS; U). The
// expected scores are the table's printed values for raw sums 14, 0, 28, 7.
TEST_P(FhirImportTest, ScoresKoosJrQuestionnaireResponsesFromItsTable) {
  auto result = Import(ReadFile(DataPath("koos-jr.json")));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_TRUE(result->written);
  ASSERT_EQ(result->issues.size(), 3u) << Issues(*result);
  struct Expected {
    int entry;
    std::string code;
    std::string location;
    std::string message_part;
  };
  for (const Expected& expected : std::vector<Expected>{
           {6, "value", "Bundle.entry[6].resource.item[0].answer[0]", "answer 5 to 'stiffness' is out of range (0–4)"},
           {7, "required", "Bundle.entry[7].resource.item", "item 'bending-to-floor' needs a numeric answer"},
           {8, "value", "Bundle.entry[8].resource.item", "raw sum 6.5 has no score in the table"},
       }) {
    const ImportIssue* issue = IssueOf(*result, expected.entry);
    ASSERT_NE(issue, nullptr) << expected.entry;
    EXPECT_EQ(issue->code, expected.code);
    EXPECT_EQ(issue->location, expected.location);
    EXPECT_NE(issue->message.find(expected.message_part), std::string::npos) << issue->message;
  }
  Cohort cohort = store_->LoadCohort("prp-knee").value();
  std::map<std::string, double> by_day;
  for (const OutcomeRecord& outcome : cohort.outcomes) {
    EXPECT_EQ(outcome.instrument, "koos-jr");
    by_day[outcome.date] = outcome.value;
  }
  EXPECT_EQ(by_day, (std::map<std::string, double>{
                        {"2026-01-08", 52.465}, {"2026-02-07", 100.0}, {"2026-03-07", 0.0}, {"2026-04-07", 68.284}}));
}

TEST_P(FhirImportTest, ImportingTwiceCreatesNoDuplicates) {
  auto first = Import(ReadFile(DataPath("batch.json")));
  ASSERT_TRUE(first.has_value());
  auto second = Import(ReadFile(DataPath("batch.json")));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->summary.created, 0);
  EXPECT_EQ(second->summary.updated, first->summary.created);
  Cohort cohort = store_->LoadCohort("").value();
  EXPECT_EQ(cohort.outcomes.size(), 3u);
  EXPECT_EQ(cohort.procedures.size(), 3u);
}

TEST_P(FhirImportTest, TransactionIsAllOrNothing) {
  std::string text = ReadFile(DataPath("batch.json"));
  text.replace(text.find("\"batch\""), 7, "\"transaction\"");
  auto result = Import(text);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->written);
  EXPECT_EQ(result->accepted(), 0);
  EXPECT_EQ(result->issues.size(), 5u);
  EXPECT_TRUE(store_->LoadCohort("").value().episodes.empty());
  std::string outcome = OperationOutcomeJson(*result);
  EXPECT_NE(outcome.find("nothing was stored"), std::string::npos);
  std::string bundle = ResponseBundleJson(*result);
  EXPECT_NE(bundle.find("transaction-response"), std::string::npos);
  EXPECT_NE(bundle.find("409 Conflict"), std::string::npos);
  // The good part alone goes through as a transaction.
  std::string good = ReadFile(DataPath("transaction-good.json"));
  auto committed = Import(good);
  ASSERT_TRUE(committed.has_value()) << committed.error().ToString();
  EXPECT_TRUE(committed->issues.empty()) << committed->issues[0].message;
  EXPECT_TRUE(committed->written);
}

TEST_P(FhirImportTest, NdjsonLinesAreLocatedByLineAndLinkToStoredProcedures) {
  ASSERT_TRUE(Import(ReadFile(DataPath("batch.json"))).has_value());
  auto result = Import(ReadFile(DataPath("follow-up.ndjson")), InputFormat::kNdjson);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  ASSERT_EQ(result->issues.size(), 2u) << Issues(*result);
  EXPECT_EQ(result->issues[0].location, "line 3: Observation.subject.reference");
  EXPECT_EQ(result->issues[1].location, "line 4: AdverseEvent.suspectEntity[0].instance");
  EXPECT_EQ(result->accepted(), 2);
  EXPECT_EQ(store_->LoadCohort("prp-knee").value().outcomes.size(), 4u);  // 3 + O-10
}

TEST_P(FhirImportTest, UnreadableInputFailsNamingTheSource) {
  auto result = Import("{\"resourceType\": \"Bundle\", \"type\": \"batch\", ");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidInput);
  EXPECT_NE(result.error().message().find("input.json"), std::string::npos);
  auto line = Import("{\"resourceType\":\"Patient\"}\n[1]\n", InputFormat::kNdjson);
  ASSERT_FALSE(line.has_value());
  EXPECT_NE(line.error().message().find("input.json:2"), std::string::npos);
  auto searchset = Import("{\"resourceType\": \"Bundle\", \"type\": \"searchset\"}");
  ASSERT_FALSE(searchset.has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, FhirImportTest, ::testing::ValuesIn(testing::StoreFactories()), testing::FactoryName);

TEST(CivilDayTest, ParsesFullDatesOnly) {
  EXPECT_EQ(ParseCivilDay("1970-01-01"), 0);
  EXPECT_EQ(ParseCivilDay("2024-02-29T10:00:00Z").value(), ParseCivilDay("2024-03-01").value() - 1);
  EXPECT_FALSE(ParseCivilDay("2023-02-29").has_value());
  EXPECT_FALSE(ParseCivilDay("2023-02").has_value());
  EXPECT_FALSE(ParseCivilDay("2023-02-01x").has_value());
  EXPECT_EQ(FormatCivilDay(*ParseCivilDay("2026-12-31")), "2026-12-31");
}

}  // namespace
}  // namespace regenpath::registry
