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
