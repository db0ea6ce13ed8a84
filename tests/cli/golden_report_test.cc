// The text report of three realistic patients, compared with golden files
// (tests/report/golden/*.txt) that a clinician reviewed by reading: every
// criterion line shows its data and date, holds have dates from the planned
// procedure date, next steps are ordered and name their condition.
//
// To regenerate after an intended change: run the command printed on failure
// and review the diff before committing it.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

const std::string kSource = REGENPATH_SOURCE_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, read);
  pclose(pipe);
  return output;
}

struct Golden {
  const char* record;  // under tests/scenarios
  const char* golden;  // under tests/report/golden
};

class GoldenReportTest : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenReportTest, TextReportMatchesTheReviewedGoldenFile) {
  const Golden& golden = GetParam();
  const std::string command = std::string(REGENPATH_BINARY) +
                              " assess --format text --now 2026-06-01 --procedure-date 2026-07-01 " + kSource +
                              "/tests/scenarios/" + golden.record;
  const std::string expected = ReadFile(kSource + "/tests/report/golden/" + golden.golden);
  ASSERT_FALSE(expected.empty()) << golden.golden << " is missing";
  EXPECT_EQ(RunCommand(command + " 2>&1"), expected)
      << "the text report changed; regenerate with\n  " << command << " > tests/report/golden/" << golden.golden
      << "\nand review the difference";
}

INSTANTIATE_TEST_SUITE_P(
    ThreePatients, GoldenReportTest,
    ::testing::Values(Golden{"knee-oa-and-disc-candidate-aspirin.json", "knee-oa-and-disc-candidate-aspirin.txt"},
                      Golden{"disc-candidate-aspirin-clopidogrel-stent.json", "disc-candidate-aspirin-clopidogrel-stent.txt"},
                      Golden{"acute-lbp-naproxen-2023.json", "acute-lbp-naproxen-2023.txt"}),
    [](const ::testing::TestParamInfo<Golden>& info) { return std::to_string(info.index); });

}  // namespace

namespace {

TEST(ProcedureDateOption, ABadDateIsAUsageErrorNamingTheOption) {
  const std::string command = std::string(REGENPATH_BINARY) + " assess --format json --now 2026-06-01 " +
                              "--procedure-date 2026-7-1 " + kSource +
                              "/tests/scenarios/acute-lbp-naproxen-2023.json 2>&1; echo \"exit $?\"";
  const std::string output = RunCommand(command);
  EXPECT_NE(output.find("--procedure-date must be a date YYYY-MM-DD"), std::string::npos) << output;
  EXPECT_NE(output.find("exit 2"), std::string::npos) << output;
}

TEST(ProcedureDateOption, HoldAndFollowUpDatesAreInTheJson) {
  const std::string command = std::string(REGENPATH_BINARY) + " assess --format json --now 2026-06-01 " +
                              "--procedure-date 2026-07-01 " + kSource +
                              "/tests/scenarios/disc-candidate-aspirin-clopidogrel-stent.json";
  const std::string output = RunCommand(command);
  EXPECT_NE(output.find("\"procedure_date\": \"2026-07-01\""), std::string::npos) << output.substr(0, 400);
  EXPECT_NE(output.find("\"stop_on\": \"2026-06-24\""), std::string::npos);     // clopidogrel, 7 days
  EXPECT_NE(output.find("\"restart_on\": \"2026-07-02\""), std::string::npos);  // 24 h
  EXPECT_NE(output.find("\"2026-07-08\""), std::string::npos);                   // follow-up week 1
}

}  // namespace

// The report a clinician acts on (issue 9): follow-up baselines judged by the
// engine, the INR a warfarin hold asks for, the card-sized "why" sentence and
// data issues next to the criterion they concern.
namespace {

std::string Assess(const std::string& arguments) {
  return RunCommand(std::string(REGENPATH_BINARY) + " assess " + arguments + " 2>&1");
}

TEST(FollowUpBaseline, TheLatestScoreIsOutdatedMoreThanTheWindowBeforeTheProcedure) {
  // Latest NRS 7 on 2026-05-04; procedure 2026-07-01: more than 30 days before it.
  const std::string text = Assess("--format text --now 2026-06-01 --procedure-date 2026-07-01 " + kSource +
                                  "/tests/scenarios/knee-oa-and-disc-candidate-aspirin.json");
  EXPECT_NE(text.find("nrs (MCID ≥ 2 points or ≥ 30% (Farrar 2001, H); IMMPACT: ≥ 30% moderate, ≥ 50% substantial "
                      "(M)): baseline Pain severity 0-10: 7 {score}, 2026-05-04"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("BASELINE OUTDATED: last Numeric rating scale of pain, 0–10 7 {score} on 2026-05-04 is more "
                      "than 30 days (window U) before 2026-07-01"),
            std::string::npos);
  // No ODI in the record.
  EXPECT_NE(text.find("BASELINE MISSING: no Oswestry Disability Index in the record"), std::string::npos);
  // PGIC has no code in the knowledge base.
  EXPECT_NE(text.find("no baseline looked for: the knowledge base has no code for Patient Global Impression"),
            std::string::npos);
}

TEST(FollowUpBaseline, AScoreWithinTheWindowIsTheRecordedBaseline) {
  const std::string json = Assess("--format json --now 2026-05-10 --procedure-date 2026-05-20 " + kSource +
                                  "/tests/scenarios/knee-oa-and-disc-candidate-aspirin.json");
  EXPECT_NE(json.find("\"status\": \"recorded\""), std::string::npos) << json.substr(0, 400);
  EXPECT_NE(json.find("\"reference\": \"Observation/knee-oa-and-disc-candidate-aspirin-nrs-8\""), std::string::npos);
  EXPECT_EQ(json.find("BASELINE OUTDATED: last Numeric rating scale"), std::string::npos);
  EXPECT_NE(json.find("\"status\": \"missing\""), std::string::npos);  // ODI
}

TEST(HoldCheck, AWarfarinHoldShowsTheLatestInrWithItsDate) {
  const std::string text = Assess("--format text --now 2026-06-01 --procedure-date 2026-07-01 " + kSource +
                                  "/tests/scenarios/sacroiliac-and-radicular-candidate-warfarin.json");
  EXPECT_NE(text.find("check INR before the procedure (warfarin: a normal INR where it is held, ASRA 2018; the fact "
                      "sheet gives no range): "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(": 2.4"), std::string::npos);
  EXPECT_NE(text.find("2026-05-11 [Observation/sacroiliac-and-radicular-candidate-warfarin-lab-1]"), std::string::npos);
}

TEST(WhySentence, TheConditionsWhyNamesTheDecidingDataWithDates) {
  const std::string text = Assess("--format text --now 2026-06-01 " + kSource +
                                  "/tests/scenarios/knee-oa-and-disc-candidate-aspirin.json");
  EXPECT_NE(text.find("why: Candidate for a regenerative option: Primary osteoarthritis of right knee since "
                      "2024-09-16 (Condition), chronic (> 3 months); conventional care tried since the pain began: "
                      "Acetaminophen 325 MG Oral Tablet 2024-09-16"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("source localized and injectable; no red flags"), std::string::npos);
  EXPECT_EQ(text.find("its criteria are met"), std::string::npos);
}

TEST(CriterionIssues, ADataIssueIsShownNextToTheCriterionItConcerns) {
  // The knee condition with an element FHIR does not define: the parser's
  // warning is about the resource behind the chronic criterion.
  std::string record = ReadFile(kSource + "/tests/scenarios/knee-oa-and-disc-candidate-aspirin.json");
  const std::string anchor = "\"id\": \"knee-oa-and-disc-candidate-aspirin-cond-1\"";
  const size_t at = record.find(anchor);
  ASSERT_NE(at, std::string::npos);
  record.insert(at + anchor.size(), ", \"severityNote\": \"made up\"");
  const std::string path = ::testing::TempDir() + "/criterion-issue.json";
  std::ofstream(path, std::ios::binary) << record;
  const std::string text = Assess("--format text --now 2026-06-01 " + path);
  const size_t criterion = text.find("   + Chronic: coded as chronic");
  ASSERT_NE(criterion, std::string::npos) << text;
  const size_t issue = text.find("! data issue: warning: unknown element 'severityNote'", criterion);
  ASSERT_NE(issue, std::string::npos) << text;
  // Under that criterion, before the next one.
  EXPECT_LT(issue, text.find("   + First-line conventional care", criterion));
  std::remove(path.c_str());
}

}  // namespace
