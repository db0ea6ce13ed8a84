// `regenpath registry ...` end to end: the built binary on a temp database.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class RegistryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("regenpath-registry-cli-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "secret") << "a-site-secret-for-the-registry-cli-test\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun Registry(const std::vector<std::string>& args, const std::string& database = "registry.sqlite") {
    std::string command = Quote(REGENPATH_BINARY) + " registry --database " + Quote((dir_ / database).string()) +
                          " --site-secret-file " + Quote((dir_ / "secret").string()) + " --now 2026-12-05";
    for (const std::string& arg : args) command += " " + Quote(arg);
    command += " >" + Quote((dir_ / "out").string()) + " 2>" + Quote((dir_ / "err").string());
    int status = std::system(command.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = Slurp(dir_ / "out");
    run.err = Slurp(dir_ / "err");
    return run;
  }

  // `regenpath assess` with the registry (another subcommand, same temp dir).
  CliRun Assess(const std::vector<std::string>& args) {
    std::string command = Quote(REGENPATH_BINARY) + " assess";
    for (const std::string& arg : args) command += " " + Quote(arg);
    command += " >" + Quote((dir_ / "out").string()) + " 2>" + Quote((dir_ / "err").string());
    int status = std::system(command.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = Slurp(dir_ / "out");
    run.err = Slurp(dir_ / "err");
    return run;
  }

  static std::string Data(const std::string& name) {
    return std::string(REGENPATH_SOURCE_DIR) + "/tests/registry/data/" + name;
  }

  fs::path dir_;
};

// The clinic's own result next to the published evidence: `assess
// --registry` fills it after the engine ran, from at least
// registry-min-episodes (20) real episodes, never from a demo cohort.
TEST_F(RegistryCliTest, AssessShowsTheClinicsOwnResultFromTheRegistry) {
  ASSERT_EQ(Registry({"migrate"}).exit_code, 0);
  // 24 knees: baseline NRS 7, at 26 weeks 2 (responder) for the first 12, 6 for the others.
  std::ofstream csv(dir_ / "clinic.csv");
  csv << "record,patient,id,date,option,side,instrument,value\n";
  for (int index = 0; index < 24; ++index) {
    std::string patient = "MRN-" + std::to_string(1000 + index);
    csv << "procedure," << patient << ",P" << index << ",2026-01-10,prp-knee,left,,\n";
    csv << "score," << patient << ",B" << index << ",2026-01-05,,,nrs,7\n";
    csv << "score," << patient << ",F" << index << ",2026-07-11,,,nrs," << (index < 12 ? 2 : 6) << "\n";
  }
  csv.close();
  CliRun imported = Registry({"import", (dir_ / "clinic.csv").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const std::string record = std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/knee-oa-candidate.json";
  const std::string database = (dir_ / "registry.sqlite").string();
  CliRun json = Assess({"--now", "2026-12-05", "--format", "json", "--registry", database, record});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json.out).get(root), simdjson::SUCCESS);
  int with_evidence = 0;
  for (simdjson::dom::element item : root["recommendations"].get_array()) {
    simdjson::dom::element evidence;
    if (item["clinic_evidence"].get(evidence) != simdjson::SUCCESS) continue;
    ++with_evidence;
    EXPECT_EQ(std::string_view(item["id"].get_string().value()), "prp-knee");
    EXPECT_TRUE(evidence["observational"].get_bool().value());
    EXPECT_EQ(evidence["episodes"].get_int64().value(), 24);
    EXPECT_EQ(evidence["responders"].get_int64().value(), 12);
    EXPECT_EQ(evidence["assessed"].get_int64().value(), 24);
    EXPECT_DOUBLE_EQ(evidence["rate"].get_double().value(), 0.5);
    std::string_view summary = evidence["summary"].get_string().value();
    EXPECT_NE(summary.find("this clinic: 24 episodes"), std::string_view::npos) << summary;
    EXPECT_NE(summary.find("observational"), std::string_view::npos) << summary;
  }
  EXPECT_EQ(with_evidence, 1) << json.out.substr(0, 300);
  CliRun text = Assess({"--now", "2026-12-05", "--format", "text", "--registry", database, record});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("this clinic: 24 episodes"), std::string::npos) << text.out;
  // Without --registry, or with a demo (synthetic) registry: nothing of the kind.
  CliRun plain = Assess({"--now", "2026-12-05", "--format", "json", record});
  EXPECT_EQ(plain.out.find("clinic_evidence"), std::string::npos);
  ASSERT_EQ(Registry({"demo", "--episodes", "400"}, "demo.sqlite").exit_code, 0);
  CliRun demo = Assess({"--now", "2026-12-05", "--format", "json", "--registry", (dir_ / "demo.sqlite").string(), record});
  EXPECT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_EQ(demo.out.find("clinic_evidence"), std::string::npos);
  // A registry that is not there: a warning, the assessment all the same.
  CliRun missing = Assess({"--now", "2026-12-05", "--format", "json", "--registry", (dir_ / "none.sqlite").string(), record});
  EXPECT_EQ(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("warning: the clinic's evidence is not shown"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.sqlite"));
}

TEST_F(RegistryCliTest, CsvImportNamesFileLineAndColumnOfEveryBadRow) {
  ASSERT_EQ(Registry({"migrate"}).exit_code, 0);
  CliRun good = Registry({"import", Data("csv/good.csv")});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("good.csv: 7 rows: 7 accepted (9 created, 0 updated), 0 rejected"), std::string::npos)
      << good.out;
  CliRun bad = Registry({"import", Data("csv/bad.csv")});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  const std::string file = Data("csv/bad.csv");
  for (const std::string& expected :
       {file + ":3:7: 'seven' is not a number", file + ":4:7: score 12 is out of range for nrs",
        file + ":6:5: 'no-such-option' is not an option of the knowledge base",
        file + ":10:6: 'instrument' does not apply to a procedure row", file + ":13:8: 7 fields, the header has 9"}) {
    EXPECT_NE(bad.err.find(expected), std::string::npos) << expected << "\n" << bad.err;
  }
  EXPECT_NE(bad.out.find("12 rows: 1 accepted"), std::string::npos) << bad.out;
  CliRun header = Registry({"import", Data("csv/bad-header.csv")});
  EXPECT_EQ(header.exit_code, 3);
  EXPECT_NE(header.err.find(Data("csv/bad-header.csv") + ":1:5: unknown column 'score'"), std::string::npos) << header.err;
  // The CSV's scores are in the report.
  CliRun report = Registry({"report", "--option", "prp-knee", "--format", "json"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("\"episodes\":3"), std::string::npos) << report.out.substr(0, 400);
}

TEST_F(RegistryCliTest, ImportReportsEachRejectionWithFileAndLocationAndExits3) {
  ASSERT_EQ(Registry({"migrate"}).exit_code, 0);
  CliRun first = Registry({"import", Data("batch.json")});
  EXPECT_EQ(first.exit_code, 3) << first.err;
  EXPECT_NE(first.err.find("batch.json: Bundle.entry[9].resource.valueQuantity.value: score 12 is out of range"),
            std::string::npos)
      << first.err;
  EXPECT_NE(first.out.find("9 accepted (9 created, 0 updated), 5 rejected"), std::string::npos) << first.out;
  CliRun again = Registry({"import", Data("batch.json")});
  EXPECT_NE(again.out.find("(0 created, 9 updated)"), std::string::npos) << again.out;
  CliRun good = Registry({"import", Data("transaction-good.json")});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  CliRun unreadable = Registry({"import", Data("no-such-file.json")});
  EXPECT_EQ(unreadable.exit_code, 3);
  EXPECT_NE(unreadable.err.find("no-such-file.json: cannot read"), std::string::npos);
}

TEST_F(RegistryCliTest, ImportWithoutSiteSecretIsAUsageError) {
  fs::remove(dir_ / "secret");
  ASSERT_EQ(Registry({"migrate"}).exit_code, 0);
  CliRun run = Registry({"import", Data("batch.json")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("site secret"), std::string::npos) << run.err;
}

TEST_F(RegistryCliTest, ReportsDueAndExportOnTheDemoCohort) {
  CliRun demo = Registry({"demo", "--episodes", "120"}, "demo.sqlite");
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_NE(demo.out.find("SYNTHETIC"), std::string::npos);
  CliRun json = Registry({"report", "--format", "json"}, "demo.sqlite");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json.out).get(root), simdjson::SUCCESS) << json.out.substr(0, 500);
  EXPECT_TRUE(root["observational"].get_bool().value());
  simdjson::dom::array options;
  ASSERT_EQ(root["options"].get(options), simdjson::SUCCESS);
  EXPECT_GT(options.size(), 1u);
  EXPECT_TRUE(options.at(0)["synthetic"].get_bool().value());
  CliRun text = Registry({"report", "--option", "prp-knee", "--group-by", "prp-leukocytes"}, "demo.sqlite");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("prp-leukocytes = poor"), std::string::npos) << text.out.substr(0, 400);
  EXPECT_NE(text.err.find("SYNTHETIC"), std::string::npos);
  CliRun csv = Registry({"report", "--format", "csv"}, "demo.sqlite");
  EXPECT_EQ(csv.out.rfind("option,group,synthetic,section", 0), 0u);
  CliRun due = Registry({"due", "--format", "csv"}, "demo.sqlite");
  EXPECT_EQ(due.exit_code, 0);
  EXPECT_EQ(due.out.rfind("status,option,instrument", 0), 0u);
  // Paged: the first two pages of 5 are the first ten items of the whole list.
  CliRun whole = Registry({"due", "--format", "json"}, "demo.sqlite");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  CliRun first = Registry({"due", "--format", "json", "--page-size", "5"}, "demo.sqlite");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  simdjson::dom::parser page_parser;
  simdjson::dom::element first_page;
  ASSERT_EQ(page_parser.parse(first.out).get(first_page), simdjson::SUCCESS) << first.out.substr(0, 300);
  EXPECT_EQ(first_page["items"].get_array().value().size(), 5u);
  std::string next(first_page["next"].get_string().value());
  CliRun second = Registry({"due", "--format", "csv", "--page-size", "5", "--cursor", next}, "demo.sqlite");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("next page: --cursor "), std::string::npos) << second.err;
  CliRun whole_csv = Registry({"due", "--format", "csv"}, "demo.sqlite");
  size_t header_end = whole_csv.out.find('\n') + 1;
  size_t after_five = header_end;
  for (int line = 0; line < 5; ++line) after_five = whole_csv.out.find('\n', after_five) + 1;
  size_t after_ten = after_five;
  for (int line = 0; line < 5; ++line) after_ten = whole_csv.out.find('\n', after_ten) + 1;
  EXPECT_EQ(second.out.substr(second.out.find('\n') + 1), whole_csv.out.substr(after_five, after_ten - after_five));
  CliRun bad_cursor = Registry({"due", "--page-size", "5", "--cursor", "not-a-cursor"}, "demo.sqlite");
  EXPECT_EQ(bad_cursor.exit_code, 2);
  EXPECT_NE(bad_cursor.err.find("not a worklist cursor"), std::string::npos) << bad_cursor.err;
  CliRun bad_size = Registry({"due", "--page-size", "0"}, "demo.sqlite");
  EXPECT_EQ(bad_size.exit_code, 2);
  CliRun ndjson = Registry({"export"}, "demo.sqlite");
  EXPECT_EQ(ndjson.exit_code, 0);
  EXPECT_NE(ndjson.out.find("\"code\":\"synthetic\""), std::string::npos);
  CliRun bad_format = Registry({"report", "--format", "xml"}, "demo.sqlite");
  EXPECT_EQ(bad_format.exit_code, 2);
  CliRun bad_group = Registry({"report", "--group-by", "colour"}, "demo.sqlite");
  EXPECT_EQ(bad_group.exit_code, 2);
}

TEST_F(RegistryCliTest, DemoIsNeverMixedWithRealData) {
  ASSERT_EQ(Registry({"migrate"}).exit_code, 0);
  ASSERT_EQ(Registry({"import", Data("transaction-good.json")}).exit_code, 0);
  CliRun demo = Registry({"demo", "--episodes", "10"});
  EXPECT_EQ(demo.exit_code, 4) << demo.err;
  EXPECT_NE(demo.err.find("never mixed"), std::string::npos) << demo.err;
  CliRun demo_db = Registry({"demo", "--episodes", "10"}, "demo.sqlite");
  ASSERT_EQ(demo_db.exit_code, 0);
  CliRun real_into_demo = Registry({"import", Data("transaction-good.json")}, "demo.sqlite");
  EXPECT_NE(real_into_demo.exit_code, 0);
  EXPECT_NE(real_into_demo.err.find("never mixed"), std::string::npos) << real_into_demo.err;
}

TEST_F(RegistryCliTest, UnmigratedDatabaseSaysToMigrate) {
  CliRun run = Registry({"import", Data("transaction-good.json")});
  EXPECT_EQ(run.exit_code, 4);
  EXPECT_NE(run.err.find("registry migrate"), std::string::npos) << run.err;
}

}  // namespace
