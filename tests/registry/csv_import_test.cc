// The registry CSV (docs/registry.md, "CSV import") on fixture files: rows
// become the same records as FHIR input, every bad row is named by line and
// column, a re-import creates nothing new.
#include "registry/csv_import.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "test_support.h"

namespace regenpath::registry {
namespace {

using testing::Catalog;
using testing::DataPath;
using testing::ReadFile;
using testing::TempDir;
using testing::TestContext;
using testing::TestPseudonymizer;

// "line:column: message" of every issue, conversion and import, by line.
std::map<int, std::string> IssuesByLine(const CsvConversion& conversion, const ImportResult* result) {
  std::map<int, std::string> out;
  for (const CsvIssue& issue : conversion.issues) {
    out[issue.line] = fmt::format("{}:{}: {}", issue.line, issue.column, issue.message);
  }
  if (result != nullptr) {
    for (const ImportIssue& issue : result->issues) {
      std::string location = CsvLocation(conversion, issue);
      out[std::stoi(location)] = location + ": " + issue.message;
    }
  }
  return out;
}

TEST(CsvImportTest, GoodFileBecomesTheSameRecordsAsFhir) {
  auto conversion = ConvertCsv(ReadFile(DataPath("csv/good.csv")));
  ASSERT_TRUE(conversion.has_value()) << conversion.error().ToString();
  EXPECT_EQ(conversion->rows, 7);
  EXPECT_TRUE(conversion->issues.empty());
  TempDir dir;
  auto store = testing::MigratedSqlite(dir);
  FhirImporter importer(*store, Catalog(), TestPseudonymizer(), "2026-12-05");
  auto result = importer.Import(conversion->ndjson, InputFormat::kNdjson, "good.csv", TestContext());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_TRUE(result->issues.empty()) << (result->issues.empty() ? "" : result->issues[0].location + " " + result->issues[0].message);
  EXPECT_EQ(result->accepted(), 7);
  Cohort cohort = store->LoadCohort("prp-knee").value();
  ASSERT_EQ(cohort.episodes.size(), 2u);
  ASSERT_EQ(cohort.procedures.size(), 2u);
  EXPECT_EQ(cohort.outcomes.size(), 4u);
  ASSERT_EQ(cohort.adverse_events.size(), 1u);
  const Episode& first = cohort.episodes[0].side == "left" ? cohort.episodes[0] : cohort.episodes[1];
  EXPECT_EQ(first.condition, "knee-osteoarthritis");
  EXPECT_EQ(first.feedback, "accepted");
  EXPECT_EQ(first.start_date, "2026-01-10");
  const AdverseEventRecord& event = cohort.adverse_events[0];
  EXPECT_EQ(event.category, AdverseEventCategory::kPostInjectionFlare);
  EXPECT_FALSE(event.serious);
  EXPECT_EQ(event.relatedness, "related");
  EXPECT_EQ(event.episode_key, first.key);
  for (const ProcedureRecord& procedure : cohort.procedures) {
    EXPECT_EQ(procedure.image_guidance, "ultrasound");
    EXPECT_TRUE(procedure.key.starts_with("Procedure|urn:regenpath:csv|P-10")) << procedure.key;
    if (procedure.prp_leukocytes == "rich") {
      EXPECT_EQ(procedure.volume_ml, 3.5);
    }
  }
  // Patients are pseudonyms: no MRN is stored.
  for (const Episode& episode : cohort.episodes) EXPECT_EQ(episode.patient.find("MRN"), std::string::npos);
  // Importing the file again creates nothing.
  auto again = importer.Import(conversion->ndjson, InputFormat::kNdjson, "good.csv", TestContext());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->summary.created, 0);
  EXPECT_EQ(again->summary.updated, 9);  // 7 rows and the 2 episodes of the procedures
}

TEST(CsvImportTest, EveryBadRowIsNamedByLineAndColumnAndNothingOfItIsStored) {
  auto conversion = ConvertCsv(ReadFile(DataPath("csv/bad.csv")));
  ASSERT_TRUE(conversion.has_value()) << conversion.error().ToString();
  EXPECT_EQ(conversion->rows, 12);
  TempDir dir;
  auto store = testing::MigratedSqlite(dir);
  FhirImporter importer(*store, Catalog(), TestPseudonymizer(), "2026-12-05");
  auto result = importer.Import(conversion->ndjson, InputFormat::kNdjson, "bad.csv", TestContext());
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->accepted(), 1);  // line 2 only
  std::map<int, std::string> issues = IssuesByLine(*conversion, &*result);
  std::string all;
  for (const auto& [line, text] : issues) all += text + "\n";
  const std::map<int, std::string> expected = {
      {3, "3:7: 'seven' is not a number"},
      {4, "4:7: score 12 is out of range for nrs"},
      {5, "5:6: unknown instrument"},
      {6, "6:5: 'no-such-option' is not an option of the knowledge base"},
      {7, "7:4: "},
      {8, "8:2: 'patient' is required"},
      {9, "9:9: 'maybe': serious is yes or no"},
      {10, "10:6: 'instrument' does not apply to a procedure row"},
      {11, "11:1: 'visit': record is procedure, score or adverse-event"},
      {12, "12:7: malformed quoting"},
      {13, "13:8: 7 fields, the header has 9"},
  };
  EXPECT_EQ(issues.size(), expected.size()) << all;
  for (const auto& [line, start] : expected) {
    ASSERT_TRUE(issues.count(line)) << "line " << line << "\n" << all;
    EXPECT_TRUE(issues[line].starts_with(start)) << issues[line];
  }
  EXPECT_NE(issues[7].find("future"), std::string::npos) << issues[7];
  Cohort cohort = store->LoadCohort("").value();
  EXPECT_EQ(cohort.procedures.size(), 1u);
  EXPECT_TRUE(cohort.outcomes.empty());
  EXPECT_TRUE(cohort.adverse_events.empty());
}

TEST(CsvImportTest, BadHeaderNamesLineOneAndTheColumn) {
  auto unknown = ConvertCsv(ReadFile(DataPath("csv/bad-header.csv")));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kInvalidInput);
  EXPECT_TRUE(unknown.error().message().starts_with("1:5: unknown column 'score'")) << unknown.error().message();
  auto missing = ConvertCsv("record,patient,date\nscore,MRN-1,2026-01-01\n");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("needs the column 'id'"), std::string::npos) << missing.error().message();
  auto empty = ConvertCsv("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_TRUE(empty.error().message().starts_with("1:1: empty file"));
}

}  // namespace
}  // namespace regenpath::registry
