// Every patient of the 13-patient Synthea Bulk Data export is screened
// exactly as `regenpath assess` (cli::RunAssess) assesses a file holding only
// that patient's resources: the screening line equals the projection of the
// assess command's JSON.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "cli/assess_command.h"
#include "screen/patient_line.h"
#include "screen/screener.h"
#include "tests/screen/test_support.h"

namespace regenpath::screen {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::BulkDir;
using testing::kNow;
using testing::Lines;
using testing::ReadFile;
using testing::TempDir;

Result<ScreenReport> RunScreen(const std::vector<std::string>& inputs, const std::string& output, size_t jobs,
                               uint32_t shard = 0, uint32_t shards = 1) {
  ScreenOptions options = testing::TestOptions(inputs, jobs, size_t{512} << 20, shard, shards);
  options.output_dir = output;
  return Screen(options);
}

// An active knee-osteoarthritis Condition of Patient/`patient`: `before`
// goes before its members, `after` after its subject (each beginning or
// ending with a comma as it needs).
std::string KneeCondition(const std::string& id, const std::string& patient, const std::string& before,
                          const std::string& after) {
  const std::string knee =
      R"("clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical",)"
      R"("code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"239873007",)"
      R"("display":"Osteoarthritis of knee"}]},"onsetDateTime":"2010-01-01")";
  return R"({"resourceType":"Condition","id":")" + id + R"(",)" + before + knee +
         R"(,"subject":{"reference":"Patient/)" + patient + R"("})" + after + "}";
}

// The screening line `regenpath assess` (cli::RunAssess, JSON, at kNow) gives
// of `file` for Patient/`patient_id`; fails with assess's stderr when it exits
// otherwise than 0.
Result<std::string> AssessedLine(const std::string& file, const std::string& patient_id,
                                 simdjson::dom::parser& parser) {
  cli::AssessOptions assess;
  assess.file = file;
  assess.now = kNow;
  assess.format = "json";
  std::ostringstream out, err;
  if (const int code = cli::RunAssess(assess, out, err); code != 0) {
    return Fail(InvalidInput(fmt::format("assess {} exited {}: {}", file, code, err.str())));
  }
  return ProjectAssessment("Patient/" + patient_id, out.str(), parser);
}

// The patient each line of the export belongs to, found independently of
// src/screen (subject / patient / Patient.id only: what this export uses).
std::map<std::string, std::string> PatientFilesOfExport(const std::string& directory) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(directory)) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".ndjson") && std::isupper(static_cast<unsigned char>(name[0]))) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> records;  // patient id -> NDJSON
  simdjson::dom::parser parser;
  for (const std::string& file : files) {
    for (const std::string& line : Lines(ReadFile(file))) {
      if (line.empty()) continue;
      simdjson::dom::element root = parser.parse(line);
      std::string_view type = root["resourceType"];
      std::string id;
      std::string_view text;
      if (type == "Patient") {
        id = std::string(std::string_view(root["id"]));
      } else if (root["subject"]["reference"].get_string().get(text) == simdjson::SUCCESS ||
                 root["patient"]["reference"].get_string().get(text) == simdjson::SUCCESS) {
        if (text.starts_with("Patient/")) id = std::string(text.substr(8));
      }
      if (!id.empty()) records[id] += line + "\n";
    }
  }
  return records;
}

TEST(ScreenTest, EveryPatientAsAssessWouldAssessTheirOwnFile) {
  TempDir dir;
  Result<ScreenReport> report = RunScreen({BulkDir()}, dir / "out", 2);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  std::map<std::string, std::string> records = PatientFilesOfExport(BulkDir());
  ASSERT_EQ(records.size(), 13u);
  EXPECT_EQ(report->patients, 13u);
  std::vector<std::string> lines = Lines(ReadFile(dir / "out/patients.ndjson"));
  ASSERT_EQ(lines.size(), records.size());
  simdjson::dom::parser parser;
  size_t index = 0;
  for (const auto& [id, record] : records) {
    const std::string file = dir / ("patient-" + std::to_string(index) + ".ndjson");
    std::ofstream(file, std::ios::binary) << record;
    Result<std::string> expected = AssessedLine(file, id, parser);
    ASSERT_TRUE(expected.has_value()) << expected.error().message();
    EXPECT_EQ(lines[index], *expected) << "patient #" << index;
    ++index;
  }
  // The export's other lines: counted, not lost.
  std::string run = ReadFile(dir / "out/run.json");
  EXPECT_THAT(run, HasSubstr("\"Organization\":43"));
  EXPECT_THAT(run, HasSubstr("\"malformed_lines\": 0"));
  EXPECT_THAT(run, HasSubstr("log.ndjson"));  // skipped, and said so
  EXPECT_FALSE(fs::exists(dir / "out/.partial"));
}

// A file may begin with a UTF-8 byte-order mark, which `assess` allows: its
// first line is read, not reported as malformed (the export with a mark on
// every file screens as the export without).
TEST(ScreenTest, AFileBeginningWithAByteOrderMarkIsReadAsAssessReadsIt) {
  TempDir dir;
  fs::create_directories(dir / "marked");
  for (const auto& entry : fs::directory_iterator(BulkDir())) {
    const std::string name = entry.path().filename().string();
    std::ofstream(dir / ("marked/" + name), std::ios::binary)
        << "\xEF\xBB\xBF" << ReadFile(entry.path().string());
  }
  Result<ScreenReport> plain = RunScreen({BulkDir()}, dir / "plain", 1);
  ASSERT_TRUE(plain.has_value()) << plain.error().message();
  for (size_t jobs : {1, 2}) {
    const std::string out = dir / ("out-" + std::to_string(jobs));
    Result<ScreenReport> marked = RunScreen({dir / "marked"}, out, jobs);
    ASSERT_TRUE(marked.has_value()) << marked.error().message();
    EXPECT_EQ(marked->malformed_lines, 0u);
    EXPECT_EQ(marked->patients, plain->patients);
    EXPECT_EQ(ReadFile(out + "/patients.ndjson"), ReadFile(dir / "plain/patients.ndjson"));
    EXPECT_EQ(ReadFile(out + "/summary.json"), ReadFile(dir / "plain/summary.json"));
  }
}

// Numbers beyond 64-bit integers and doubles are valid JSON and may be FHIR
// decimals: the scan's DOM parse refuses them, so such a line is judged by
// the record parser instead, and screened as assess reads it; a number that
// is not one (`-`) is still a malformed line, with its file and line, and
// (naming its patient) goes to that patient's record too, which has the
// issue as assess on the patient's own file has.
TEST(ScreenTest, NumbersBeyondDoublesAreReadAsAssessReadsThem) {
  TempDir dir;
  auto condition = [&](const std::string& id, const std::string& patient, const std::string& number) {
    return KneeCondition(id, patient, "",
                         R"(,"extension":[{"url":"http://example.org/x","valueDecimal":)" + number + "}]");
  };
  const std::map<std::string, std::vector<std::string>> records = {
      {"p1",
       {R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-01-01"})",
        condition("c1", "p1", "18446744073709551616"), condition("bad", "p1", "-")}},
      {"p2",
       {R"({"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1955-03-04"})",
        condition("c2", "p2", "1e400"), condition("c3", "p2", "123456789012345678901234567890")}},
  };
  fs::create_directories(dir / "in");
  std::ofstream(dir / "in/Patient.000.ndjson") << records.at("p1")[0] << "\n" << records.at("p2")[0] << "\n";
  std::ofstream(dir / "in/Condition.000.ndjson") << records.at("p1")[1] << "\n"
                                                 << records.at("p1")[2] << "\n"
                                                 << records.at("p2")[1] << "\n"
                                                 << records.at("p2")[2] << "\n";
  Result<ScreenReport> report = RunScreen({dir / "in"}, dir / "out", 2);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->patients, 2u);
  EXPECT_EQ(report->malformed_lines, 1u);
  const std::vector<std::string> issues = Lines(ReadFile(dir / "out/issues.ndjson"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_THAT(issues[0], HasSubstr(R"("line":2)"));
  // The column within that line (not "1:<column>", line 1 of the line alone).
  EXPECT_THAT(issues[0], HasSubstr(R"("message":"column )"));
  EXPECT_THAT(issues[0], HasSubstr("Condition.000.ndjson"));
  const std::vector<std::string> lines = Lines(ReadFile(dir / "out/patients.ndjson"));
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  size_t index = 0;
  for (const auto& [id, record] : records) {
    const std::string file = dir / (id + ".ndjson");
    {
      std::ofstream out(file, std::ios::binary);
      for (const std::string& line : record) out << line << "\n";
    }
    Result<std::string> expected = AssessedLine(file, id, parser);
    ASSERT_TRUE(expected.has_value()) << expected.error().message();
    EXPECT_EQ(lines[index], *expected) << id;
    EXPECT_THAT(lines[index], HasSubstr("knee-osteoarthritis")) << id;
    ++index;
  }
}

// A line that names its patient but that the record parser refuses (a
// lone surrogate, a raw control character in a string, invalid UTF-8,
// nesting past the parser's depth, past simdjson's or only past the record
// parser's, each after or before the reference) is
// the run's issue with its file and line, and goes to that patient's record
// too: the record has the issue, as assess on the patient's own file (the
// line among the patient's others) has. With several jobs and shards alike.
TEST(ScreenTest, AMalformedLineNamingItsPatientIsAnIssueOfTheirRecord) {
  TempDir dir;
  auto condition = [&](const std::string& id, const std::string& before, const std::string& after) {
    return KneeCondition(id, "p1", before, after);
  };
  const std::string deep = std::string(1100, '[') + std::string(1100, ']');
  // Within simdjson's default limit (1024), past the record parser's (256).
  const std::string deeper_than_records = std::string(300, '[') + std::string(300, ']');
  const std::map<std::string, std::string> bad = {
      {"surrogate", condition("c2", "", R"(,"note":[{"text":"wrote \ud83d"}])")},
      {"tab", condition("c2", "", ",\"note\":[{\"text\":\"a\tb\"}]")},
      {"tab-before", condition("c2", "\"note\":[{\"text\":\"a\tb\"}],", "")},
      {"utf8", condition("c2", "", ",\"note\":[{\"text\":\"a\xFF b\"}]")},
      {"deep", condition("c2", "", R"(,"extension":[{"url":"http://x","extension":)" + deep + "}]")},
      {"deep-for-records",
       condition("c2", "", R"(,"extension":[{"url":"http://x","extension":)" + deeper_than_records + "}]")},
  };
  const std::string patient =
      R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-01-01"})";
  const std::string other =
      R"({"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1950-01-01"})";
  simdjson::dom::parser parser;
  for (const auto& [name, line] : bad) {
    const fs::path in = dir / name;
    fs::create_directories(in);
    std::ofstream(in / "Patient.000.ndjson", std::ios::binary) << patient << "\n" << other << "\n";
    std::ofstream(in / "Condition.000.ndjson", std::ios::binary) << condition("c1", "", "") << "\n"
                                                                 << line << "\n";
    const std::string own = dir / (name + "-own.ndjson");
    std::ofstream(own, std::ios::binary) << patient << "\n"
                                         << condition("c1", "", "") << "\n"
                                         << line << "\n";
    Result<std::string> expected = AssessedLine(own, "p1", parser);
    ASSERT_TRUE(expected.has_value()) << name << ": " << expected.error().message();
    // The bad line is an issue of the record (the rest of it as without it).
    const std::string clean = dir / (name + "-clean.ndjson");
    std::ofstream(clean, std::ios::binary) << patient << "\n" << condition("c1", "", "") << "\n";
    Result<std::string> without = AssessedLine(clean, "p1", parser);
    ASSERT_TRUE(without.has_value()) << name;
    ASSERT_THAT(*without, HasSubstr(R"("issues":0})")) << name;
    EXPECT_EQ(expected->substr(0, expected->rfind(R"("issues":)")),
              without->substr(0, without->rfind(R"("issues":)")))
        << name;
    EXPECT_THAT(*expected, Not(HasSubstr(R"("issues":0})"))) << name;
    for (const auto& [jobs, shards] : {std::pair<size_t, uint32_t>{1, 1}, {2, 1}, {1, 2}}) {
      const std::string out = dir / (name + "-out-" + std::to_string(jobs) + "-" + std::to_string(shards));
      std::string lines;
      uint64_t malformed = 0;
      for (uint32_t shard = 0; shard < shards; ++shard) {
        const std::string shard_out = out + "-" + std::to_string(shard);
        Result<ScreenReport> report = RunScreen({in}, shard_out, jobs, shard, shards);
        ASSERT_TRUE(report.has_value()) << name << ": " << report.error().message();
        lines += ReadFile(shard_out + "/patients.ndjson");
        malformed += report->malformed_lines;
        if (report->malformed_lines == 1) {
          EXPECT_THAT(ReadFile(shard_out + "/issues.ndjson"),
                      AllOf(HasSubstr("Condition.000.ndjson"), HasSubstr(R"("line":2)")))
              << name;
        }
      }
      EXPECT_EQ(malformed, 1u) << name;
      EXPECT_THAT(lines, HasSubstr(*expected + "\n")) << name << " jobs " << jobs << " shards " << shards;
    }
  }
}

// A line that begins with a byte-order mark in the middle of a file (files
// that each began with one, concatenated) is read past it, as assess reads
// it in the patient's own file: no resource is lost, a Patient's included
// (its patient still known to be alive), a shared Medication's too.
TEST(ScreenTest, AByteOrderMarkInTheMiddleOfAFileIsReadPast) {
  TempDir dir;
  const std::string mark = "\xEF\xBB\xBF";
  const std::string first =
      R"({"resourceType":"Patient","id":"p0","gender":"male","birthDate":"1950-01-01"})";
  const std::string patient =
      R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-01-01"})";
  const std::string condition =
      R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},)"
      R"("code":{"text":"knee pain"}})";
  const std::string marked = R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},)"
                             R"("code":{"text":"back pain"}})";
  fs::create_directories(dir / "in");
  std::ofstream(dir / "in/Patient.000.ndjson", std::ios::binary) << first << "\n" << mark << patient << "\n";
  std::ofstream(dir / "in/Condition.000.ndjson", std::ios::binary) << condition << "\n"
                                                                   << mark << marked << "\n";
  const std::string own = dir / "own.ndjson";
  std::ofstream(own, std::ios::binary) << condition << "\n"
                                       << mark << marked << "\n"
                                       << mark << patient << "\n";
  simdjson::dom::parser parser;
  Result<std::string> expected = AssessedLine(own, "p1", parser);
  ASSERT_TRUE(expected.has_value()) << expected.error().message();
  EXPECT_THAT(*expected, AllOf(HasSubstr(R"("deceased":false)"), HasSubstr(R"("issues":0})")));
  for (size_t jobs : {1, 2}) {
    const std::string out = dir / ("out-" + std::to_string(jobs));
    Result<ScreenReport> report = RunScreen({dir / "in"}, out, jobs);
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->malformed_lines, 0u);
    EXPECT_THAT(ReadFile(out + "/patients.ndjson"), HasSubstr(*expected + "\n"));
  }
}

// A patient named only by malformed lines: their record has no line that
// can be read (assess refuses such a file too); the screening line's error
// names the first by its export file, line and column, not by a line of a
// record that exists nowhere.
TEST(ScreenTest, ARecordOfMalformedLinesOnlyNamesTheFirstByItsExportLine) {
  TempDir dir;
  fs::create_directories(dir / "in");
  std::ofstream(dir / "in/Patient.000.ndjson") << R"({"resourceType":"Patient","id":"p1"})"
                                               << "\n";
  std::ofstream(dir / "in/Condition.000.ndjson")
      << R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}})"
      << "\n"
      << R"({"resourceType":"Condition","id":"c9","subject":{"reference":"Patient/ghost"},"code":{"text":"a"} x})"
      << "\n";
  ASSERT_TRUE(RunScreen({dir / "in"}, dir / "out", 1).has_value());
  EXPECT_THAT(ReadFile(dir / "out/patients.ndjson"),
              HasSubstr(R"({"patient":"Patient/ghost","error":"no line of the record could be read (see )"
                        R"(issues.ndjson); the first, )" +
                        (dir / "in/Condition.000.ndjson:2: column ")));
}

// A shared Medication the record parser refuses (nested past its depth,
// within simdjson's or past it) is the run's issue with its file and line,
// and still goes whole to the records that reference it: each one's own
// file has it, and assess on that file has the issue.
TEST(ScreenTest, AMalformedSharedLineGoesToTheRecordsThatReferenceIt) {
  TempDir dir;
  simdjson::dom::parser parser;
  const std::string patient =
      R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1960-01-01"})";
  const std::string request =
      R"({"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",)"
      R"("subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/m1"}})";
  for (const size_t depth : {size_t{300}, size_t{1100}}) {
    SCOPED_TRACE(depth);
    const std::string medication = R"({"resourceType":"Medication","id":"m1","code":{"text":"x"},)"
                                   R"("extension":[{"url":"http://x","extension":)" +
                                   std::string(depth, '[') + std::string(depth, ']') + "}]}";
    const fs::path in = dir / ("in-" + std::to_string(depth));
    fs::create_directories(in);
    std::ofstream(in / "Patient.000.ndjson", std::ios::binary) << patient << "\n";
    std::ofstream(in / "MedicationRequest.000.ndjson", std::ios::binary) << request << "\n";
    std::ofstream(in / "Medication.000.ndjson", std::ios::binary) << medication << "\n";
    // The patient's own file, in input order (files in path order).
    const std::string own = dir / ("own-" + std::to_string(depth) + ".ndjson");
    std::ofstream(own, std::ios::binary) << medication << "\n" << request << "\n" << patient << "\n";
    Result<std::string> expected = AssessedLine(own, "p1", parser);
    ASSERT_TRUE(expected.has_value()) << expected.error().message();
    EXPECT_THAT(*expected, Not(HasSubstr(R"("issues":0})")));
    const std::string out = dir / ("out-" + std::to_string(depth));
    Result<ScreenReport> report = RunScreen({in}, out, 1);
    ASSERT_TRUE(report.has_value()) << report.error().message();
    EXPECT_EQ(report->malformed_lines, 1u);
    EXPECT_THAT(ReadFile(out + "/issues.ndjson"),
                AllOf(HasSubstr("Medication.000.ndjson"), HasSubstr(R"("line":1)")));
    EXPECT_EQ(ReadFile(out + "/patients.ndjson"), *expected + "\n");
  }
}

// A Bulk Data export keeps Medication resources in a file of their own,
// belonging to no patient; a MedicationRequest names its drug through
// medicationReference. The knowledge base resolves such references
// (Engine::shared_resource_types), so each patient's record gets the
// Medication lines its own lines reference: a letrozole prescription known
// only through its Medication still routes the patient's joint pain to
// integrative oncology, exactly as assess does on the patient's own file
// (their resources and that Medication), whatever the jobs, the memory, the
// shards or the shuffle.
TEST(ScreenTest, MedicationsAPatientsRecordReferencesJoinTheirRecord) {
  TempDir dir;
  simdjson::dom::parser parser;
  std::map<std::string, std::string> by_type;  // resourceType -> NDJSON
  std::string own_record;                      // the patient's own file, in input order below
  const std::string scenario =
      std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/ai-arthralgia-letrozole-no-cancer-code.json";
  simdjson::dom::element bundle = parser.load(scenario);
  std::string medication_code;
  for (simdjson::dom::element entry : bundle["entry"].get_array()) {
    std::string line = simdjson::minify(entry["resource"]);
    std::string_view type = entry["resource"]["resourceType"];
    if (type == "MedicationRequest") {
      // Its drug, moved into a Medication of the export's own.
      medication_code = simdjson::minify(entry["resource"]["medicationCodeableConcept"]);
      const size_t at = line.find(R"("medicationCodeableConcept":)");
      ASSERT_NE(at, std::string::npos);
      line.replace(at, std::string(R"("medicationCodeableConcept":)").size() + medication_code.size(),
                   R"("medicationReference":{"reference":"Medication/letrozole-1"})");
    }
    by_type[std::string(type)] += line + "\n";
  }
  ASSERT_FALSE(medication_code.empty());
  // Two Medications: the one referenced, and another nobody's record names.
  by_type["Medication"] = R"({"resourceType":"Medication","id":"letrozole-1","code":)" + medication_code +
                          "}\n" + R"({"resourceType":"Medication","id":"unused","code":{"text":"aspirin"}})" +
                          "\n";
  fs::create_directories(dir / "export");
  for (const auto& [type, text] : by_type) {
    std::ofstream(dir / ("export/" + type + ".000.ndjson"), std::ios::binary) << text;
    // (Files in path order, lines in file order: the unused Medication is not referenced.)
    for (const std::string& line : Lines(text)) {
      if (line.find(R"("id":"unused")") == std::string::npos) own_record += line + "\n";
    }
  }
  Result<ScreenReport> report = RunScreen({dir / "export"}, dir / "one", 1);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  const std::vector<std::string> lines = Lines(ReadFile(dir / "one/patients.ndjson"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr(R"("stage":"oncology-integrative")"));
  std::ofstream(dir / "own.ndjson", std::ios::binary) << own_record;
  Result<std::string> expected =
      AssessedLine(dir / "own.ndjson", "ai-arthralgia-letrozole-no-cancer-code", parser);
  ASSERT_TRUE(expected.has_value()) << expected.error().message();
  EXPECT_EQ(lines[0], *expected);
  // Without the Medication file the letrozole is unknown, and the stage another.
  fs::create_directories(dir / "without");
  for (const auto& [type, text] : by_type) {
    if (type != "Medication")
      std::ofstream(dir / ("without/" + type + ".000.ndjson"), std::ios::binary) << text;
  }
  ASSERT_TRUE(RunScreen({dir / "without"}, dir / "without-out", 1).has_value());
  EXPECT_THAT(ReadFile(dir / "without-out/patients.ndjson"),
              Not(HasSubstr(R"("stage":"oncology-integrative")")));

  // The same output whatever the jobs and memory (spilled), shards or shuffle.
  const std::string one = ReadFile(dir / "one/patients.ndjson");
  {
    ScreenOptions options = testing::TestOptions({dir / "export"}, 3, size_t{1} << 20);
    options.output_dir = dir / "spilled";
    ASSERT_TRUE(Screen(options).has_value());
    EXPECT_EQ(ReadFile(dir / "spilled/patients.ndjson"), one);
  }
  std::vector<std::string> shard_dirs;
  for (uint32_t shard = 0; shard < 2; ++shard) {
    ScreenOptions options = testing::TestOptions({dir / "export"}, 1, size_t{512} << 20, shard, 2);
    options.output_dir = dir / ("shard-" + std::to_string(shard));
    ASSERT_TRUE(Screen(options).has_value());
    shard_dirs.push_back(options.output_dir);
  }
  ASSERT_TRUE(MergeShards(shard_dirs, dir / "sharded").has_value());
  EXPECT_EQ(ReadFile(dir / "sharded/patients.ndjson"), one);
  // Shuffled: two map tasks (the Medication file read by one of them), two reduces.
  ScreenOptions options = testing::TestOptions({dir / "export"}, 1, size_t{512} << 20, 0, 2);
  const std::string shuffle = dir / "shuffle";
  for (uint32_t map = 0; map < 2; ++map)
    ASSERT_TRUE(ScreenMap(options, ShuffleTask{shuffle, map, 2}).has_value());
  std::vector<std::string> reduced;
  for (uint32_t shard = 0; shard < 2; ++shard) {
    options.shard = shard;
    options.output_dir = dir / ("reduce-" + std::to_string(shard));
    Result<ScreenReport> reduce = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
    ASSERT_TRUE(reduce.has_value()) << reduce.error().message();
    reduced.push_back(options.output_dir);
  }
  ASSERT_TRUE(MergeShards(reduced, dir / "shuffled").has_value());
  EXPECT_EQ(ReadFile(dir / "shuffled/patients.ndjson"), one);
  EXPECT_EQ(ReadFile(dir / "shuffled/run.json"), ReadFile(dir / "one/run.json"));
}

}  // namespace
}  // namespace regenpath::screen

namespace regenpath::screen {
namespace {

// A line the scan would pass on as a skeleton (a heart rate: no definition
// reads it) may still reference a Medication (`focus`): it goes on whole,
// so that the record gets that Medication as the patient's own file has it
// (whose unknown element is one of the record's issues, in screen as in
// assess). (A line naming it through an escape, \u004dedication, is never
// passed over: a backslash is one of the resource filter's needles.)
TEST(ScreenTest, AMedicationReferencedFromALineNoDefinitionReadsJoinsTheRecord) {
  const std::string reference = "Medication/m9";
  TempDir dir;
  simdjson::dom::parser parser;
  fs::create_directories(dir / "export");
  const std::string patient =
      R"({"resourceType":"Patient","id":"pa","gender":"female","birthDate":"1970-01-01"})";
  const std::string observation =
      R"({"resourceType":"Observation","id":"hr1","status":"final","code":{"coding":[{"system":"http://loinc.org",)"
      R"("code":"8867-4"}]},"subject":{"reference":"Patient/pa"},"focus":[{"reference":")" +
      reference + R"("}],"valueQuantity":{"value":72,"unit":"/min"}})";
  const std::string medication =
      R"({"resourceType":"Medication","id":"m9","code":{"text":"aspirin"},"bogusElement":true})";
  std::ofstream(dir / "export/Medication.ndjson") << medication << "\n";
  std::ofstream(dir / "export/Observation.ndjson") << observation << "\n";
  std::ofstream(dir / "export/Patient.ndjson") << patient << "\n";
  std::ofstream(dir / "own.ndjson") << medication << "\n" << observation << "\n" << patient << "\n";
  Result<ScreenReport> report = RunScreen({dir / "export"}, dir / "out", 1);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  const std::vector<std::string> lines = Lines(ReadFile(dir / "out/patients.ndjson"));
  ASSERT_EQ(lines.size(), 1u);
  Result<std::string> expected = AssessedLine(dir / "own.ndjson", "pa", parser);
  ASSERT_TRUE(expected.has_value()) << expected.error().message();
  EXPECT_THAT(*expected, HasSubstr(R"("issues":1)")) << "the Medication's unknown element";
  EXPECT_EQ(lines[0], *expected) << reference;
}

}  // namespace
}  // namespace regenpath::screen
