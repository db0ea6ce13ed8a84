// Tests of population screening (src/screen): routing by patient, reading
// plain and gzip NDJSON, spilling, and the run as a whole against the
// 13-patient Synthea Bulk Data export in shared/testdata and the clinical
// scenarios: the output is byte-identical whatever --jobs, --memory or
// sharding. (The equality with `regenpath assess` is in
// assess_equality_test.cc, which needs the CLI library; this file does not,
// so that sanitizer builds can check src/screen alone: screen_core_test.)
#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/engine.h"
#include "knowledge/fhir_export.h"
#include "knowledge/knowledge_base.h"
#include "screen/compartment.h"
#include "screen/grouper.h"
#include "screen/input_files.h"
#include "screen/input_pieces.h"
#include "screen/line_reader.h"
#include "screen/patient_line.h"
#include "screen/screener.h"
#include "screen/shared_resources.h"
#include "screen/shuffle_manifest.h"
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
using testing::TestOptions;

Result<ScreenReport> RunScreen(const std::vector<std::string>& inputs, const std::string& output, size_t jobs,
                               size_t memory = size_t{512} << 20, uint32_t shard = 0, uint32_t shards = 1) {
  ScreenOptions options = TestOptions(inputs, jobs, memory, shard, shards);
  options.output_dir = output;
  return Screen(options);
}

ScreenOptions ShuffleOptions(const std::vector<std::string>& inputs, uint32_t shards, size_t memory, size_t jobs) {
  return TestOptions(inputs, jobs, memory, 0, shards);
}

// A shuffled run: `maps` map tasks, then a reduce task per shard, then the
// merge into `output`. Fails with the first task's failure.
Status RunShuffled(const std::vector<std::string>& inputs, const std::string& work, const std::string& output,
                   uint32_t maps, uint32_t shards, size_t memory = size_t{512} << 20, size_t jobs = 1) {
  ScreenOptions options = ShuffleOptions(inputs, shards, memory, jobs);
  const std::string shuffle_dir = work + "/shuffle";
  for (uint32_t map = 0; map < maps; ++map) {
    Result<ScreenReport> report = ScreenMap(options, ShuffleTask{shuffle_dir, map, maps});
    if (!report.has_value()) return report.error();
  }
  std::vector<std::string> shard_dirs;
  for (uint32_t shard = 0; shard < shards; ++shard) {
    options.shard = shard;
    options.output_dir = work + "/reduce-" + std::to_string(shard);
    Result<ScreenReport> report = ScreenReduce(options, ShuffleTask{shuffle_dir, 0, maps});
    if (!report.has_value()) return report.error();
    shard_dirs.push_back(options.output_dir);
  }
  Result<ScreenReport> merged = MergeShards(shard_dirs, output);
  return merged.has_value() ? Status() : merged.error();
}

const std::vector<std::string> kOutputFiles = {"patients.ndjson",    "patients.csv", "summary.json", "summary.txt",
                                               "MeasureReport.json", "Group.json",   "run.json",     "issues.ndjson"};

void ExpectSameOutput(const std::string& a, const std::string& b) {
  for (const std::string& name : kOutputFiles) {
    ASSERT_TRUE(fs::exists(a + "/" + name)) << a << "/" << name;
    ASSERT_TRUE(fs::exists(b + "/" + name)) << b << "/" << name;
    EXPECT_EQ(ReadFile(a + "/" + name), ReadFile(b + "/" + name)) << name << " differs between " << a << " and " << b;
  }
}

// ---------------------------------------------------------------------------
// Compartment

TEST(CompartmentTest, ReferencesThatNameAPatient) {
  EXPECT_EQ(PatientIdOfReference("Patient/123"), "123");
  EXPECT_EQ(PatientIdOfReference("http://ehr.example/fhir/Patient/abc"), "abc");
  EXPECT_EQ(PatientIdOfReference("Patient/abc/_history/2"), "abc");
  EXPECT_EQ(PatientIdOfReference("urn:uuid:5f0c1e2a"), "5f0c1e2a");
  EXPECT_EQ(PatientIdOfReference("Group/1"), std::nullopt);
  EXPECT_EQ(PatientIdOfReference("RelatedPatient/1"), std::nullopt);
  EXPECT_EQ(PatientIdOfReference("#p1"), std::nullopt);
  EXPECT_EQ(PatientIdOfReference("Patient/"), std::nullopt);
  EXPECT_EQ(PatientIdOfReference(""), std::nullopt);
  // Read as the engine and CDS Hooks read them (fhir::PatientIdInReference):
  // up to "/_history/", the reference ends with "Patient" and the id; an id
  // may end with "Patient", or be it.
  EXPECT_EQ(PatientIdOfReference("https://ehr/fhir/Patient/abc/_history/2"), "abc");
  EXPECT_EQ(PatientIdOfReference("Patient/discPatient/_history/1"), "discPatient");
  EXPECT_EQ(PatientIdOfReference("Patient/Patient/_history/1"), "Patient");
  EXPECT_EQ(PatientIdOfReference("Patient/Patient"), "Patient");
  EXPECT_EQ(PatientIdOfReference("https://ehr/Patient/fhir/Patient/abc"), "abc");
  EXPECT_EQ(PatientIdOfReference("Patient/a/b"), std::nullopt);  // no FHIR reference: nobody's
  EXPECT_EQ(PatientIdOfReference("Patient/xPatient/y"), std::nullopt);
  EXPECT_EQ(PatientIdOfReference("Other/Patient/z"), "z");
  EXPECT_EQ(PatientIdOfReference("MyPatient/z"), std::nullopt);
  // An '_' before the history's is no history; one with no '/' after it neither.
  EXPECT_EQ(PatientIdOfReference("https://ehr_1/fhir_r4/Patient/abc/_history/2"), "abc");
  EXPECT_EQ(PatientIdOfReference("Patient/abc/_history"), std::nullopt);
  EXPECT_EQ(PatientIdOfReference("_history/Patient/abc"), "abc");
  for (std::string_view reference :
       {"Patient/123", "http://ehr.example/fhir/Patient/abc", "Patient/abc/_history/2", "Group/1",
        "RelatedPatient/1", "#p1", "Patient/", "", "Patient/a/b", "Patient/xPatient/y",
        "https://ehr/Patient/q/_history/1", "Patient/discPatient/_history/1", "Patient/Patient/_history/1",
        "https://ehr_1/fhir_r4/Patient/abc/_history/2", "Patient/abc/_history", "_history/Patient/abc", "/",
        "Patient/abc/_history/_history/1"}) {
    EXPECT_EQ(PatientIdOfReference(reference).value_or(""), fhir::PatientIdInReference(reference))
        << reference;
  }
}

TEST(CompartmentTest, ElementPerType) {
  EXPECT_EQ(PatientElement("Patient"), "id");
  EXPECT_EQ(PatientElement("Condition"), "subject");
  EXPECT_EQ(PatientElement("AllergyIntolerance"), "patient");
  EXPECT_EQ(PatientElement("Coverage"), "beneficiary");
  EXPECT_EQ(PatientElement("Account"), "subject");
  EXPECT_EQ(PatientElement("SupplyDelivery"), "patient");
  EXPECT_EQ(PatientElement("Organization"), std::nullopt);
  EXPECT_EQ(PatientElement("Practitioner"), std::nullopt);
  // The first and last of the types that share a first letter, and names
  // that are not types.
  EXPECT_EQ(PatientElement("CarePlan"), "subject");
  EXPECT_EQ(PatientElement("CoverageEligibilityRequest"), "patient");
  EXPECT_EQ(PatientElement("AuditEvent"), "patient");
  EXPECT_EQ(PatientElement("ServiceRequest"), "subject");
  EXPECT_EQ(PatientElement("Procedure"), "subject");
  for (std::string_view other : {"", "patient", "Patien", "PatientX", "C", "Z", "\xff", "Condition "}) {
    EXPECT_EQ(PatientElement(other), std::nullopt) << other;
  }
}

TEST(CompartmentTest, RouteLine) {
  LineRouter router;
  auto route = [&](std::string text) {
    text.reserve(text.size() + 64);
    std::string padded = text + std::string(64, ' ');
    return router.Route(std::string_view(padded.data(), text.size()), padded.size());
  };
  LineRouting patient = route(R"({"resourceType":"Patient","id":"p1"})");
  EXPECT_EQ(patient.kind, LineKind::kPatientResource);
  EXPECT_EQ(patient.patient_id, "p1");
  LineRouting condition = route(R"({"resourceType":"Condition","subject":{"reference":"Patient/p2"}})");
  EXPECT_EQ(condition.kind, LineKind::kPatientResource);
  EXPECT_EQ(condition.patient_id, "p2");
  LineRouting appointment = route(
      R"({"resourceType":"Appointment","participant":[{"actor":{"reference":"Practitioner/d"}},{"actor":{"reference":"Patient/p3"}}]})");
  EXPECT_EQ(appointment.patient_id, "p3");
  EXPECT_EQ(route(R"({"resourceType":"Organization","id":"o"})").kind, LineKind::kOutsideCompartment);
  LineRouting orphan = route(R"({"resourceType":"Observation","subject":{"reference":"Group/g"}})");
  EXPECT_EQ(orphan.kind, LineKind::kNoPatient);
  EXPECT_EQ(orphan.resource_type, "Observation");
  EXPECT_EQ(route(R"({"resourceType":"Observation"})").kind, LineKind::kNoPatient);
  EXPECT_EQ(route(R"({"resourceType":"Patient","id":)").kind, LineKind::kMalformed);
  // Malformed after the elements routing reads: still found.
  EXPECT_EQ(route(R"({"resourceType":"Patient","id":"p1","name":[})").kind, LineKind::kMalformed);
  EXPECT_EQ(route(R"([1,2])").kind, LineKind::kMalformed);
  EXPECT_EQ(route(R"({"id":"x"})").kind, LineKind::kMalformed);
}

TEST(CompartmentTest, QuickPatientAgreesWithRoute) {
  LineRouter router;
  auto quick = [&](std::string text) {
    std::string padded = text + std::string(64, ' ');
    return router.QuickPatient(std::string_view(padded.data(), text.size()), padded.size());
  };
  auto route = [&](std::string text) {
    std::string padded = text + std::string(64, ' ');
    return router.Route(std::string_view(padded.data(), text.size()), padded.size());
  };
  for (const std::string line :
       {R"({"resourceType":"Patient","id":"p1"})", R"({"id":"p1","resourceType":"Patient"})",
        R"({"subject":{"display":"x","reference":"Patient/p2"},"resourceType":"Condition"})",
        R"({"resourceType":"Condition","code":{"text":"a"},"subject":{"reference":"https://x/fhir/Patient/p2/_history/3"}})",
        R"({"resourceType":"Appointment","participant":[{"actor":{"reference":"Practitioner/d"}},{"actor":{"reference":"Patient/p3"}}]})",
        R"({"resourceType":"AllergyIntolerance","patient":{"reference":"urn:uuid:p4"}})",
        R"({"resourceType":"Coverage","beneficiary":{"actor":{"reference":"Patient/x"},"reference":"Patient/p5"}})"}) {
    std::optional<std::string> id = quick(line);
    ASSERT_TRUE(id.has_value()) << line;
    EXPECT_EQ(*id, route(line).patient_id) << line;
  }
  // Lines it cannot route: Route decides (in every shard).
  for (const std::string line : {R"({"resourceType":"Organization","id":"o"})",
                                 R"({"resourceType":"Observation","subject":{"reference":"Group/g"}})",
                                 R"({"resourceType":"Observation"})", R"({"resourceType":"Patient","id":)", R"([1,2])",
                                 R"({"id":"x"})", "not json"}) {
    EXPECT_FALSE(quick(line).has_value()) << line;
  }
  // It does not check the rest of the line: Route does, in the shard of that patient.
  const std::string broken = R"({"resourceType":"Condition","subject":{"reference":"Patient/p2"},"code":[})";
  EXPECT_EQ(quick(broken), std::optional<std::string>("p2"));
  EXPECT_EQ(route(broken).kind, LineKind::kMalformed);
}

// The raw look agrees with Route wherever it decides: on every line of the
// shared bulk export (Synthea's field order), and on shapes written to
// trip it (escapes, order, duplicates, nesting, strings holding braces).
TEST(CompartmentTest, FastPatientAgreesWithRouteWhereItDecides) {
  LineRouter router;
  auto route = [&](const std::string& text) {
    std::string padded = text + std::string(64, ' ');
    return router.Route(std::string_view(padded.data(), text.size()), padded.size());
  };
  auto agrees = [&](const std::string& line) {
    const FastPatient fast = FastPatientOf(line);
    const LineRouting routing = route(line);
    switch (fast.look) {
      case FastLook::kPatient:
        EXPECT_EQ(routing.kind, LineKind::kPatientResource) << line;
        EXPECT_EQ(fast.patient_id, routing.patient_id) << line;
        break;
      case FastLook::kNoPatient:
        EXPECT_NE(routing.kind, LineKind::kPatientResource) << line;
        break;
      case FastLook::kUnknown:
        break;
    }
    return fast.look;
  };
  size_t decided = 0, lines = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::BulkDir())) {
    if (entry.path().extension() != ".ndjson") continue;
    for (const std::string& line : testing::Lines(testing::ReadFile(entry.path()))) {
      ++lines;
      if (agrees(line) != FastLook::kUnknown) ++decided;
    }
  }
  EXPECT_GT(lines, 1000u);
  EXPECT_EQ(decided, lines) << "Synthea's lines should all be read without simdjson";

  struct Case {
    std::string line;
    FastLook look;
    std::string id;
  };
  const std::vector<Case> cases = {
      {R"({"resourceType":"Patient","id":"p1"})", FastLook::kPatient, "p1"},
      {R"(  { "id" : "p1" , "resourceType" : "Patient" } )", FastLook::kPatient, "p1"},
      {R"({"id":"p1","id":"p9","resourceType":"Patient"})", FastLook::kPatient, "p1"},
      {R"({"resourceType":"Patient","id":""})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Patient","id":"p\u0031"})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Patient","name":[{"given":["}{]["]}],"id":"p2"})", FastLook::kPatient, "p2"},
      {R"({"resourceType":"Condition","code":{"text":"a \"}\" b"},"subject":{"reference":"Patient/p3"}})",
       FastLook::kPatient, "p3"},
      {R"({"resourceType":"Condition","subject":{"display":"x","reference":"urn:uuid:p4"}})", FastLook::kPatient,
       "p4"},
      {R"({"resourceType":"Condition","subject":{"reference":"Patient\/p5"}})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Condition","subject":{"reference":"Group/g"}})", FastLook::kNoPatient, ""},
      {R"({"resourceType":"Condition","subject":{}})", FastLook::kNoPatient, ""},
      {R"({"resourceType":"Condition","subject":{"display":"x"}})", FastLook::kNoPatient, ""},
      {R"({"resourceType":"Condition","subject":{"reference":7}})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Condition","subject":{"actor":{"reference":"Patient/p6"}}})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Condition","subject":"Patient/p7"})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Condition"})", FastLook::kNoPatient, ""},
      {R"({"resourceType":"Condition","resourceType":"Patient","id":"x","subject":{"reference":"Patient/p8"}})",
       FastLook::kPatient, "p8"},
      {R"({"resourceType":"Condition","subject":{"reference":"Patient/p9"},"subject":{"reference":"Patient/q"}})",
       FastLook::kPatient, "p9"},
      {R"({"subject":{"reference":"Patient/p2"},"resourceType":"Condition"})", FastLook::kUnknown, ""},
      {R"({"resourceTyp\u0065":"Condition","subject":{"reference":"Patient/p2"}})", FastLook::kUnknown, ""},
      {R"({"resourceType":"Organization","id":"o"})", FastLook::kNoPatient, ""},
      {R"({"resourceType":"Appointment","participant":[{"actor":{"reference":"Patient/p3"}}]})", FastLook::kUnknown,
       ""},
      {R"({"resourceType":"Observation","valueQuantity":{"value":-1.5e3},"subject":{"reference":"Patient/pa"}})",
       FastLook::kPatient, "pa"},
      {R"({"resourceType":"Observation","flag":true,"n":null,"subject":{"reference":"Patient/pb"}})",
       FastLook::kPatient, "pb"},
      {R"([1,2])", FastLook::kUnknown, ""},
      {"not json", FastLook::kUnknown, ""},
      {R"({"resourceType":"Patient","id":)", FastLook::kUnknown, ""},
      {R"({"resourceType":"Condition","code":{"text":"unclosed)", FastLook::kUnknown, ""},
  };
  for (const Case& c : cases) {
    const FastLook look = agrees(c.line);
    EXPECT_EQ(look, c.look) << c.line;
    if (c.look == FastLook::kPatient) {
      EXPECT_EQ(FastPatientOf(c.line).patient_id, c.id) << c.line;
    }
  }
  // Like QuickPatient, it stops at the patient: the rest of the line is
  // Route's to check, in that patient's shard.
  const std::string broken = R"({"resourceType":"Condition","subject":{"reference":"Patient/p2"},"code":[})";
  EXPECT_EQ(FastPatientOf(broken).look, FastLook::kPatient);
  EXPECT_EQ(route(broken).kind, LineKind::kMalformed);
}

// ---------------------------------------------------------------------------
// Line reader

void WriteGzip(const std::string& path, const std::string& content) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())), static_cast<int>(content.size()));
  gzclose(file);
}

// ReadWholeText: plain or gzip, told by the content; at most max_bytes of
// text held (a gzip file that would uncompress to more fails); a directory
// and a truncated gzip file named.
TEST(LineReaderTest, ReadWholeTextReadsPlainOrGzipUpToItsLimit) {
  TempDir dir;
  const std::string text = "{\"a\":1}\n\n  {\"b\":2}\n";
  std::ofstream(dir / "plain.ndjson", std::ios::binary) << text;
  WriteGzip(dir / "packed.ndjson", text);  // named plain, gzip within
  for (const std::string name : {"plain.ndjson", "packed.ndjson"}) {
    Result<std::string> read = ReadWholeText(dir / name, 1000);
    ASSERT_TRUE(read.has_value()) << read.error().message();
    EXPECT_EQ(*read, text) << name;
    Result<std::string> limited = ReadWholeText(dir / name, text.size() - 1);
    ASSERT_FALSE(limited.has_value()) << name;
    EXPECT_EQ(limited.error().code(), StatusCode::kResourceExhausted);
    EXPECT_THAT(limited.error().message(), HasSubstr(name + ": the text is larger than"));
    EXPECT_TRUE(ReadWholeText(dir / name, text.size()).has_value()) << name;
  }
  WriteGzip(dir / "big.ndjson.gz", std::string(size_t{3} << 20, 'a'));
  Result<std::string> big = ReadWholeText(dir / "big.ndjson.gz", size_t{1} << 20);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), StatusCode::kResourceExhausted);
  Result<std::string> directory = ReadWholeText(dir.path(), 1000);
  ASSERT_FALSE(directory.has_value());
  EXPECT_THAT(directory.error().message(), HasSubstr("is a directory"));
  const std::string packed = ReadFile(dir / "packed.ndjson");
  std::ofstream(dir / "cut.ndjson.gz", std::ios::binary) << packed.substr(0, packed.size() - 4);
  Result<std::string> cut = ReadWholeText(dir / "cut.ndjson.gz", 1000);
  ASSERT_FALSE(cut.has_value());
  EXPECT_THAT(cut.error().message(), HasSubstr("cut.ndjson.gz"));
}

TEST(LineReaderTest, PlainAndGzipGiveTheSameLines) {
  TempDir dir;
  const std::string text = "{\"a\":1}\r\n\n   \n{\"b\":2}\n{\"c\":3}";  // CRLF, blank lines, no final newline
  std::ofstream(dir / "x.ndjson", std::ios::binary) << text;
  WriteGzip(dir / "x.ndjson.gz", text);
  for (const std::string name : {"x.ndjson", "x.ndjson.gz"}) {
    std::vector<std::pair<uint64_t, std::string>> lines;
    Status status = ForEachLine(dir / name, [&](uint64_t number, std::string_view line, size_t capacity) {
      EXPECT_GE(capacity, line.size() + 64);
      lines.emplace_back(number, std::string(line));
    });
    ASSERT_TRUE(status.ok()) << status.message();
    ASSERT_EQ(lines.size(), 3u) << name;
    EXPECT_EQ(lines[0], (std::pair<uint64_t, std::string>{1, "{\"a\":1}"}));
    EXPECT_EQ(lines[1], (std::pair<uint64_t, std::string>{4, "{\"b\":2}"}));
    EXPECT_EQ(lines[2], (std::pair<uint64_t, std::string>{5, "{\"c\":3}"}));
  }
}

// A byte-order mark is left out of every line, the file's first and any
// other (files that each began with one, concatenated), as the parser
// leaves it out (fhir::NdjsonLineContent); a line of marks alone is blank.
TEST(LineReaderTest, AByteOrderMarkIsLeftOutOfEveryLine) {
  TempDir dir;
  const std::string mark = "\xEF\xBB\xBF";
  const std::string text =
      mark + "{\"a\":1}\n" + mark + "{\"b\":2}\n" + mark + "\n " + mark + " " + mark + "{\"c\":3}\n";
  std::ofstream(dir / "x.ndjson", std::ios::binary) << text;
  WriteGzip(dir / "x.ndjson.gz", text);
  auto lines_of = [](const std::function<Status(const LineVisitor&)>& read) {
    std::vector<std::string> lines;
    Status status = read([&](uint64_t, std::string_view line, size_t) { lines.emplace_back(line); });
    EXPECT_TRUE(status.ok()) << status.message();
    return lines;
  };
  const std::vector<std::string> expected{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"};
  for (const std::string name : {"x.ndjson", "x.ndjson.gz"}) {
    EXPECT_EQ(lines_of([&](const LineVisitor& visit) { return ForEachLine(dir / name, visit); }), expected)
        << name;
  }
  EXPECT_EQ(lines_of([&](const LineVisitor& visit) {
              return ForEachLineInRange(dir / "x.ndjson", 0, text.size(), visit);
            }),
            expected);
  // A range that starts after the file's start: its first line is not the file's.
  EXPECT_EQ(lines_of([&](const LineVisitor& visit) {
              return ForEachLineInRange(dir / "x.ndjson", 11, text.size(), visit);
            }),
            (std::vector<std::string>{"{\"b\":2}", "{\"c\":3}"}));
}

TEST(LineReaderTest, LinesLongerThanTheBufferAndTruncatedGzip) {
  TempDir dir;
  const std::string long_line = "{\"x\":\"" + std::string(9 << 20, 'a') + "\"}";
  std::ofstream(dir / "long.ndjson", std::ios::binary) << "{}\n" << long_line << "\n{}\n";
  std::vector<size_t> sizes;
  ASSERT_TRUE(ForEachLine(dir / "long.ndjson", [&](uint64_t, std::string_view line, size_t) {
                sizes.push_back(line.size());
              }).ok());
  EXPECT_EQ(sizes, (std::vector<size_t>{2, long_line.size(), 2}));

  std::string many;
  for (int i = 0; i < 20000; ++i) many += "{\"resourceType\":\"Patient\",\"id\":\"p" + std::to_string(i) + "\"}\n";
  WriteGzip(dir / "cut.ndjson.gz", many);
  std::string compressed = ReadFile(dir / "cut.ndjson.gz");
  std::ofstream(dir / "cut.ndjson.gz", std::ios::binary | std::ios::trunc) << compressed.substr(0, compressed.size() / 2);
  Status status = ForEachLine(dir / "cut.ndjson.gz", [](uint64_t, std::string_view, size_t) {});
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("cut.ndjson.gz"));
  EXPECT_FALSE(ForEachLine(dir / "absent.ndjson", [](uint64_t, std::string_view, size_t) {}).ok());
}

// Bytes after a gzip member that do not begin another (text appended, a
// damaged member) fail the read, naming the file; members one after
// another are read whole.
TEST(LineReaderTest, DataAfterTheGzipDataFailsTheRead) {
  TempDir dir;
  WriteGzip(dir / "one.gz", "{\"a\":1}\n");
  WriteGzip(dir / "two.gz", "{\"b\":2}\n");
  const std::string one = ReadFile(dir / "one.gz");
  const std::string two = ReadFile(dir / "two.gz");
  auto read = [&](const std::string& name, const std::string& content, size_t* count) {
    std::ofstream(dir / name, std::ios::binary) << content;
    *count = 0;
    return ForEachLine(dir / name, [&](uint64_t, std::string_view, size_t) { ++*count; });
  };
  size_t count = 0;
  Status status = read("members.ndjson.gz", one + two, &count);
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(count, 2u);
  std::string damaged = two;
  damaged[0] = 'x';  // the second member's magic
  for (const std::string& tail : {std::string("{\"c\":3}\n"), damaged}) {
    status = read("tail.ndjson.gz", one + tail, &count);
    EXPECT_FALSE(status.ok());
    EXPECT_THAT(status.message(), HasSubstr("tail.ndjson.gz"));
    EXPECT_THAT(status.message(), HasSubstr("are not gzip"));
  }
  // Zero bytes after the last member are padding (gzip takes them so);
  // anything after them is not.
  status = read("padded.ndjson.gz", one + two + std::string(1000, '\0'), &count);
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(count, 2u);
  EXPECT_FALSE(read("padded-tail.ndjson.gz", one + std::string(10, '\0') + "x", &count).ok());
  // A plain file and an empty one are read as they are.
  EXPECT_TRUE(read("plain.ndjson", "{\"a\":1}\n", &count).ok());
  EXPECT_EQ(count, 1u);
  EXPECT_TRUE(read("empty.ndjson.gz", "", &count).ok());
  EXPECT_EQ(count, 0u);
}

// ---------------------------------------------------------------------------
// Shared resources

// The built-in knowledge base resolves MedicationRequest.medicationReference
// (and the like) to Medications: the one type outside the patient
// compartment a record must bring along.
TEST(SharedResourcesTest, TheKnowledgeBaseSharesTheMedicationsItResolves) {
  Result<engine::Engine> engine = engine::Engine::Create(knowledge::KnowledgeBase::Embedded());
  ASSERT_TRUE(engine.has_value());
  EXPECT_EQ(engine->shared_resource_types(), (std::set<std::string, std::less<>>{"Medication"}));
}

// A line references a shared resource by a string value that is the
// relative reference "T/id" (or "T/id/_history/v"), decoded, as
// fhir::Document::Resolve finds it in an NDJSON record; absolute and
// urn:uuid references it finds only by fullUrl, which NDJSON has not.
TEST(SharedResourcesTest, RelativeReferencesFindTheirLinesInInputOrder) {
  SharedResources shared;
  shared.Add({1, 7, "Medication", "m2", "{m2 second}"});
  shared.Add({0, 3, "Medication", "m1", "{m1}"});
  shared.Add({1, 2, "Medication", "m2", "{m2 first}"});
  shared.Add({1, 9, "Medication", "letrozole_1", "{underscore}"});
  shared.Finish();
  ASSERT_EQ(shared.lines().size(), 4u);
  EXPECT_EQ(shared.lines()[0].text, "{m1}");  // input order: (file, line)
  EXPECT_EQ(shared.lines()[1].text, "{m2 first}");
  auto found = [&](std::string_view text) {
    std::vector<uint32_t> out;
    shared.ReferencedBy(text, out);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  EXPECT_EQ(found(R"({"medicationReference":{"reference":"Medication/m1"}})"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(found(R"({"reference":"Medication/m2/_history/3"})"),
            (std::vector<uint32_t>{1, 2}));  // both lines of m2
  EXPECT_EQ(found(R"({"reference":"Medication/letrozole_1"})"),
            (std::vector<uint32_t>{3}));  // any id the parser takes
  EXPECT_EQ(found(R"({"a":{"reference":"Medication/m1"},"b":[{"reference":"Medication/m2"}]})"),
            (std::vector<uint32_t>{0, 1, 2}));
  // Escaped, the same references (JSON may write "\/" and "\u004d").
  EXPECT_EQ(found(R"({"reference":"Medication\/m1"})"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(found(R"({"reference":"\u004dedication/letrozole_1","note":"\"quoted\""})"),
            (std::vector<uint32_t>{3}));
  // Not references to them.
  EXPECT_TRUE(found(R"({"reference":"MedicationRequest/m1"})").empty());
  EXPECT_TRUE(found(R"({"reference":"Medication/m12"})").empty());
  EXPECT_TRUE(found(R"({"text":"see Medication/m1"})").empty());
  EXPECT_TRUE(found(R"({"reference":"Medication/"})").empty());
  EXPECT_TRUE(found(R"({"reference":"https://ehr.example/fhir/Medication/m1"})").empty());
  EXPECT_TRUE(found(R"({"reference":"urn:uuid:m1"})").empty());
  SharedResources none;
  none.Finish();
  std::vector<uint32_t> out;
  none.ReferencedBy(R"({"reference":"Medication/m1"})", out);
  EXPECT_TRUE(out.empty());
}

// A map task's shared resources travel in its manifest; a reduce whose
// knowledge base shares other types refuses the map task's lines.
TEST(SharedResourcesTest, AMapManifestCarriesTheSharedLines) {
  MapManifest manifest;
  manifest.spill_bytes = {0};
  manifest.facts.inputs = {{"/x/Medication.ndjson", 100}};
  manifest.shared_types = {"Medication"};
  manifest.shared = {
      {0, 1, "Medication", "m1", R"({"resourceType":"Medication","id":"m1","code":{"text":"a \"b\""}})"}};
  Result<MapManifest> read = MapManifest::FromJson(manifest.ToJson());
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_EQ(read->shared_types, manifest.shared_types);
  ASSERT_EQ(read->shared.size(), 1u);
  EXPECT_EQ(read->shared[0].text, manifest.shared[0].text);
  EXPECT_EQ(read->shared[0].id, "m1");
  MapManifest bad = manifest;
  bad.shared[0].type = "Organization";  // not among its shared types
  EXPECT_FALSE(MapManifest::FromJson(bad.ToJson()).has_value());
  bad = manifest;
  bad.shared[0].file = 1;  // no such input
  EXPECT_FALSE(MapManifest::FromJson(bad.ToJson()).has_value());

  TempDir dir;
  ScreenOptions options = ShuffleOptions({BulkDir()}, 1, size_t{512} << 20, 1);
  const std::string shuffle = dir / "shuffle";
  ASSERT_TRUE(ScreenMap(options, ShuffleTask{shuffle, 0, 1}).has_value());
  const std::string path = shuffle + "/map-0000/map.json";
  Result<MapManifest> written = MapManifest::FromJson(ReadFile(path));
  ASSERT_TRUE(written.has_value());
  EXPECT_EQ(written->shared_types, (std::vector<std::string>{"Medication"}));
  written->shared_types.clear();  // as a map task of a knowledge base sharing nothing
  std::ofstream(path, std::ios::binary | std::ios::trunc) << written->ToJson();
  options.output_dir = dir / "reduce";
  Result<ScreenReport> refused = ScreenReduce(options, ShuffleTask{shuffle, 0, 1});
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message(), HasSubstr("map task 0 kept the shared resources of []"));
}

// ---------------------------------------------------------------------------
// CSV

// A row holds the patient line's fields, candidate included; a list's items
// come back by splitting at each unescaped ';' (wording may hold a ';'); a
// next step is condition:kind:display (no condition: empty).
TEST(PatientCsvTest, ARowHoldsTheLinesFieldsAndItsListsSplitBack) {
  EXPECT_EQ(CsvHeader(),
            "patient,deceased,replaced_by,active,stage,candidate,option_open,conditions,regenerative_options,"
            "next_steps,"
            "missing_data,"
            "red_flags,issues,error\r\n");
  PatientSummary patient;
  patient.patient = "Patient/p1";
  patient.deceased = "false";
  patient.stage = "regenerative-candidate";
  patient.candidate = true;
  patient.option_open = true;
  patient.next_steps = {
      {"knee-osteoarthritis", "record", "Platelet count (pre-procedure check; < 100 x 10^9/L holds)"},
      {"", "order", "a back\\slash"}};
  patient.missing_data = {"weight", "pain; function"};
  patient.issues = 2;
  const std::string row = CsvRow(patient);
  EXPECT_EQ(row,
            "Patient/p1,false,,,regenerative-candidate,true,true,,,"
            "knee-osteoarthritis:record:Platelet count (pre-procedure check\\; < 100 x 10^9/L holds);"
            ":order:a back\\\\slash,"
            "weight;pain\\; function,,2,\r\n");
  // Splitting a field back at unescaped ';'.
  auto split = [](std::string_view field) {
    std::vector<std::string> items(1);
    for (size_t i = 0; i < field.size(); ++i) {
      if (field[i] == '\\' && i + 1 < field.size()) {
        items.back() += field[++i];
      } else if (field[i] == ';') {
        items.emplace_back();
      } else {
        items.back() += field[i];
      }
    }
    return items;
  };
  EXPECT_EQ(split("weight;pain\\; function"), (std::vector<std::string>{"weight", "pain; function"}));
  PatientSummary failed;
  failed.patient = "Patient/p2";
  failed.error = "unreadable";
  EXPECT_EQ(CsvRow(failed), "Patient/p2,,,,,,,,,,,,,unreadable\r\n");
  PatientSummary merged = patient;
  merged.replaced_by = "Patient/p9";
  EXPECT_THAT(CsvRow(merged), ::testing::StartsWith("Patient/p1,false,Patient/p9,,regenerative-candidate,"));
  PatientSummary inactive = patient;
  inactive.inactive = true;
  EXPECT_THAT(CsvRow(inactive), ::testing::StartsWith("Patient/p1,false,,false,regenerative-candidate,"));
  // A record's words a spreadsheet would run as a formula are shown as text.
  PatientSummary formula = patient;
  formula.replaced_by = "=HYPERLINK(\"http://x\",\"y\")";  // (common/csv_field.h's test has every case)
  EXPECT_THAT(CsvRow(formula),
              ::testing::StartsWith("Patient/p1,false,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",,"
                                    "regenerative-candidate,"));
}

// ---------------------------------------------------------------------------
// Input listing

// In a directory, an entry named as resource NDJSON must be a readable file:
// one that is not (a link to nothing, a directory, a pipe) stops the run,
// named, instead of leaving its resources out unsaid; other entries are
// listed as skipped. One file under two names is read once.
TEST(InputFilesTest, EntriesNamedAsNdjsonMustBeFilesAndEachFileIsReadOnce) {
  TempDir dir;
  fs::create_directories(dir / "in/notes");
  std::ofstream(dir / "in/Patient.000.ndjson") << "{\"resourceType\":\"Patient\",\"id\":\"p\"}\n";
  std::ofstream(dir / "in/log.ndjson") << "{}\n";
  fs::create_symlink(dir / "in/Patient.000.ndjson", dir / "in/Patient.001.ndjson");
  Result<InputListing> listing = ListInputs({dir / "in", dir / "in/.", dir / "in/Patient.000.ndjson"});
  ASSERT_TRUE(listing.has_value()) << listing.error().message();
  ASSERT_EQ(listing->files.size(), 1u);
  EXPECT_EQ(listing->files[0].path, dir / "in/./Patient.000.ndjson");  // the first of its names in path order
  EXPECT_EQ(listing->skipped.size(), 2 * 2u);  // log.ndjson and notes/, under both names of the directory

  auto refused = [&](const std::string& name) {
    Result<InputListing> bad = ListInputs({dir / "in"});
    EXPECT_FALSE(bad.has_value()) << name;
    if (!bad.has_value()) {
      EXPECT_THAT(bad.error().message(), HasSubstr(name));
    }
    fs::remove_all(dir / ("in/" + name));
  };
  fs::create_symlink(dir / "absent.ndjson", dir / "in/Condition.000.ndjson");
  refused("Condition.000.ndjson");
  fs::create_directories(dir / "in/Observation.000.ndjson");
  refused("Observation.000.ndjson");
  ASSERT_EQ(::mkfifo((dir / "in/Procedure.000.ndjson").c_str(), 0600), 0);
  refused("Procedure.000.ndjson");
  EXPECT_TRUE(ListInputs({dir / "in"}).has_value());
}

// Named as the SMART Bulk Data client names its downloads ("1.Patient.ndjson"),
// files are read; a directory whose NDJSON files are none named as an
// export's is refused, naming one (a run that read nothing would say it
// succeeded); one without any NDJSON file but a client's log.ndjson (an
// empty export) is not.
TEST(InputFilesTest, NumberedExportFilesAreReadAndADirectoryOfOtherNdjsonIsRefused) {
  TempDir dir;
  fs::create_directories(dir / "smart");
  std::ofstream(dir / "smart/1.Patient.ndjson") << "{}\n";
  std::ofstream(dir / "smart/12.Condition.ndjson.gz") << "";
  std::ofstream(dir / "smart/2.patients.ndjson") << "{}\n";
  std::ofstream(dir / "smart/1.ndjson") << "{}\n";
  Result<InputListing> smart = ListInputs({dir / "smart"});
  ASSERT_TRUE(smart.has_value()) << smart.error().message();
  ASSERT_EQ(smart->files.size(), 2u);
  EXPECT_EQ(smart->files[0].path, dir / "smart/1.Patient.ndjson");
  EXPECT_EQ(smart->files[1].path, dir / "smart/12.Condition.ndjson.gz");
  EXPECT_EQ(smart->skipped.size(), 2u);

  // As Azure Health Data Services' $export names its files: the type, then
  // numbers each after a hyphen; a hyphen with no number, or other words, is
  // not an export's name.
  fs::create_directories(dir / "azure");
  for (const char* name :
       {"Patient-1-1.ndjson", "Condition-1-2.ndjson", "Observation-12.ndjson.gz", "Patient-.ndjson",
        "Patient-1-.ndjson", "Patient-backup.ndjson", "Patient-1-1x.ndjson"})
    std::ofstream(dir / ("azure/" + std::string(name))) << "{}\n";
  Result<InputListing> azure = ListInputs({dir / "azure"});
  ASSERT_TRUE(azure.has_value()) << azure.error().message();
  std::vector<std::string> read;
  for (const InputFile& file : azure->files) read.push_back(fs::path(file.path).filename().string());
  EXPECT_EQ(read, (std::vector<std::string>{"Condition-1-2.ndjson", "Observation-12.ndjson.gz",
                                            "Patient-1-1.ndjson"}));
  EXPECT_EQ(azure->ndjson_skipped.size(), 4u);
  // (A client's log.ndjson is no export file left unread.)
  EXPECT_TRUE(smart->ndjson_skipped.size() == 2u && smart->ndjson_skipped[0] == dir / "smart/1.ndjson");

  fs::create_directories(dir / "output");
  std::ofstream(dir / "output/patients.ndjson") << "{}\n";
  std::ofstream(dir / "output/issues.ndjson") << "{}\n";
  std::ofstream(dir / "output/summary.json") << "{}\n";
  Result<InputListing> output = ListInputs({dir / "output"});
  ASSERT_FALSE(output.has_value());
  EXPECT_THAT(output.error().message(), AllOf(HasSubstr(dir / "output"), HasSubstr("issues.ndjson")));

  fs::create_directories(dir / "empty");
  std::ofstream(dir / "empty/manifest.json") << "{}\n";
  std::ofstream(dir / "empty/log.ndjson") << "{}\n";  // a Bulk Data client's log, in an export of nothing
  Result<InputListing> empty = ListInputs({dir / "empty"});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->files.empty());
  EXPECT_TRUE(empty->ndjson_skipped.empty());
}

// ---------------------------------------------------------------------------
// Grouper

// Add takes a batch's lines and leaves it empty: without memory while the
// grouper holds lines, with its memory (reused by the next lines) once it
// spills; the lines of a reused batch all come back, each once.
TEST(GrouperTest, ABatchSpilledIsEmptiedAndFilledAgain) {
  TempDir dir;
  Grouper grouper(/*budget_bytes=*/8 << 20, /*expected_bytes=*/16 << 20, dir.path());
  LineBatch batch;
  std::set<std::pair<std::string, uint64_t>> expected;  // (patient, line): each line is one
  size_t line = 0;
  auto fill = [&] {
    while (batch.Fits(1000)) {
      const std::string id = "p" + std::to_string(line % 101);
      batch.Add(id, 0, ++line, std::string(1000 - id.size(), 'y'));
      expected.emplace(id, line);
    }
  };
  fill();
  ASSERT_TRUE(grouper.Add(batch).ok());
  EXPECT_FALSE(grouper.spilled());
  EXPECT_TRUE(batch.empty());
  EXPECT_FALSE(batch.Fits(1));  // held: its memory went with its lines
  // Past half the budget, the grouper spills, and hands the memory back.
  for (int round = 0; round < 4 && !grouper.spilled(); ++round) {
    batch = LineBatch();
    fill();
    ASSERT_TRUE(grouper.Add(batch).ok());
  }
  ASSERT_TRUE(grouper.spilled());
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(batch.empty());
    ASSERT_TRUE(batch.Fits(1000)) << "round " << round;
    fill();
    ASSERT_TRUE(grouper.Add(batch).ok());
  }
  std::set<std::pair<std::string, uint64_t>> seen;
  size_t count = 0;
  ASSERT_TRUE(grouper
                  .ForEachPartition([&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>&) -> Status {
                                      for (const PatientLine& each : lines) {
                                        seen.emplace(std::string(each.patient_id), each.line);
                                        ++count;
                                      }
                                      return Status();
                                    })
                  .ok());
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(count, expected.size());
}

// Each batch held is a mapping of its own: past max_held_batches the grouper
// spills, however far the lines are from half the budget, and every line
// still comes back once.
TEST(GrouperTest, SpillsPastTheMostBatchesItMayHold) {
  EXPECT_GE(MaxHeldBatches(), 64u);
  TempDir dir;
  Grouper grouper(/*budget_bytes=*/size_t{1} << 30, /*expected_bytes=*/1 << 20, dir.path(),
                  /*max_held_batches=*/3);
  std::multiset<std::pair<std::string, uint64_t>> expected, seen;
  for (uint64_t round = 0; round < 4; ++round) {
    EXPECT_FALSE(grouper.spilled()) << "round " << round;
    LineBatch batch;
    const std::string id = "p" + std::to_string(round % 2);
    batch.Add(id, 0, round + 1, "{}");
    expected.emplace(id, round + 1);
    ASSERT_TRUE(grouper.Add(batch).ok());
  }
  EXPECT_TRUE(grouper.spilled());
  ASSERT_TRUE(
      grouper
          .ForEachPartition([&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>&) -> Status {
            for (const PatientLine& line : lines) seen.emplace(std::string(line.patient_id), line.line);
            return Status();
          })
          .ok());
  EXPECT_EQ(seen, expected);
}

// Told with each batch how much input was scanned to make it, a Grouper
// spills as soon as the lines it holds, scaled to the whole input, need
// more than twice what it may hold (half its budget), once an eighth of the
// input is scanned or a quarter of its budget if that is less; not before,
// nor when it is not told; every line comes back. What the run holds
// elsewhere counts against the half.
TEST(GrouperTest, SpillsEarlyWhenTheLinesHeldScaledToTheInputWillNotFit) {
  constexpr size_t kBudget = size_t{256} << 20;  // holds up to 128 MiB
  constexpr size_t kMaxBatches = 1000;
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  // Batches of one line: each is a 2 MiB mapping (a little over 2 MiB held).
  // The first of `count` batches says `scanned` bytes were scanned, the
  // others nothing.
  auto add = [](Grouper& grouper, int count, uint64_t scanned, std::multiset<uint64_t>& added) {
    for (int i = 0; i < count; ++i) {
      LineBatch batch;
      const uint64_t line = added.size() + 1;
      batch.Add("p" + std::to_string(line % 7), 0, line, "{}");
      added.insert(line);
      ASSERT_TRUE(grouper.Add(batch, i == 0 ? scanned : 0).ok());
    }
  };
  auto lines_back = [](Grouper& grouper) {
    std::multiset<uint64_t> seen;
    EXPECT_TRUE(grouper
                    .ForEachPartition([&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>&) {
                      for (const PatientLine& line : lines) seen.insert(line.line);
                      return Status();
                    })
                    .ok());
    return seen;
  };
  // 400 MiB expected: judged from an eighth (50 MiB) on, scaled × 8. 14
  // batches (28 MiB; 224 MiB scaled) are held; by 17 (34 MiB; 272 MiB
  // scaled, over twice what it may hold) it has spilled, far short of its
  // 128 MiB. 8 GiB expected: judged from a quarter of the budget (64 MiB)
  // on, not from the eighth (1 GiB); with 96 MiB scanned, scaled × 85: one
  // batch (171 MiB scaled) is held, two (341 MiB) are not.
  struct Case {
    uint64_t expected, scanned;
    int held, spilled_by;
  };
  for (const Case& c : {Case{400 * kMiB, 50 * kMiB, 14, 17}, Case{8192 * kMiB, 96 * kMiB, 1, 2}}) {
    TempDir dir;
    Grouper grouper(kBudget, c.expected, dir.path(), kMaxBatches);
    std::multiset<uint64_t> added;
    add(grouper, c.held, c.scanned, added);
    EXPECT_FALSE(grouper.spilled()) << c.expected;
    add(grouper, c.spilled_by - c.held, 0, added);
    EXPECT_TRUE(grouper.spilled()) << c.expected;
    add(grouper, 3, 0, added);
    EXPECT_EQ(lines_back(grouper), added);
  }
  // Scanned just short of what is judged on (an eighth of 400 MiB; a
  // quarter of the budget for 8 GiB), or not told: 20 batches (40 MiB; 320
  // MiB and more scaled) are held; and still once all of the input is
  // scanned (40 MiB, scaled × 1, fits).
  struct Held {
    uint64_t expected, scanned;
  };
  for (const Held& c :
       {Held{400 * kMiB, 50 * kMiB - 1}, Held{8192 * kMiB, 64 * kMiB - 1}, Held{400 * kMiB, 0}}) {
    TempDir dir;
    Grouper grouper(kBudget, c.expected, dir.path(), kMaxBatches);
    std::multiset<uint64_t> added;
    add(grouper, 20, c.scanned, added);
    EXPECT_FALSE(grouper.spilled()) << c.expected << " " << c.scanned;
    add(grouper, 1, c.scanned == 0 ? 0 : c.expected - c.scanned, added);
    EXPECT_FALSE(grouper.spilled()) << c.expected << " " << c.scanned;
    EXPECT_EQ(lines_back(grouper), added);
  }
  // What the run holds elsewhere (HoldElsewhere: the shared resources'
  // lines) comes off what the lines may hold: with 100 MiB elsewhere, 28
  // MiB. Not told what was scanned: 13 batches (26 MiB) are held, the 14th
  // spills. With 50 MiB of 400 scanned (scaled × 8): 3 batches (48 MiB
  // scaled) are held, the 4th (64 MiB scaled, over twice the 28) spills.
  for (const Case& c : {Case{400 * kMiB, 0, 13, 14}, Case{400 * kMiB, 50 * kMiB, 3, 4}}) {
    TempDir dir;
    Grouper grouper(kBudget, c.expected, dir.path(), kMaxBatches);
    grouper.HoldElsewhere(60 * kMiB);
    grouper.HoldElsewhere(40 * kMiB);
    std::multiset<uint64_t> added;
    add(grouper, c.held, c.scanned, added);
    EXPECT_FALSE(grouper.spilled()) << c.scanned;
    add(grouper, c.spilled_by - c.held, 0, added);
    EXPECT_TRUE(grouper.spilled()) << c.scanned;
    EXPECT_EQ(lines_back(grouper), added);
  }
}

// A spill that cannot start (one partition file cannot be created: its
// name is taken by a directory) fails with that file's name, and leaves
// nothing half set up: the next Add fails the same way instead of writing
// through partitions that were never opened, and the files made before
// the failure are removed.
TEST(GrouperTest, ASpillThatCannotStartFailsAgainCleanly) {
  TempDir dir;
  Grouper grouper(/*budget_bytes=*/64 << 10, /*expected_bytes=*/1 << 20, dir.path());
  ASSERT_GT(Grouper::PartitionsFor(1 << 20, 64 << 10), 3u);
  std::filesystem::create_directory(dir / "partition-0002.bin");
  for (int round = 0; round < 3; ++round) {
    LineBatch batch;
    while (batch.Fits(1000)) batch.Add("p1", 0, 1, std::string(990, 'z'));
    Status status = grouper.Add(batch);  // 2 MB held: past half the budget at once
    ASSERT_FALSE(status.ok()) << "round " << round;
    EXPECT_THAT(status.message(), HasSubstr("partition-0002.bin"));
    EXPECT_FALSE(grouper.spilled());
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "partition-0000.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir / "partition-0001.bin"));
}

// Four threads add batches at once (the spill then runs side by side, the
// lines held before it included); every line comes back once, each patient
// in one partition, grouped by patient before `visit` sees it.
// A text of its own for each file:line, of a size that varies with it, so
// that a line read back with another line's text (or length) shows.
std::string TextOfLine(uint32_t file, uint64_t line) {
  return fmt::format("{}:{}:", file, line) + std::string(100 + (file * 7 + line * 13) % 300, 'x');
}

TEST(GrouperTest, SpillsPartitionsThatKeepEachPatientWhole) {
  TempDir dir;
  Grouper grouper(/*budget_bytes=*/64 << 10, /*expected_bytes=*/1 << 20, dir.path());
  std::map<std::string, int> expected;
  for (int batch_number = 0; batch_number < 40; ++batch_number) {
    for (int i = 0; i < 100; ++i) ++expected["p" + std::to_string((batch_number * 100 + i) % 997)];
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int thread = 0; thread < 4; ++thread) {
    threads.emplace_back([&, thread] {
      for (int batch_number = thread; batch_number < 40; batch_number += 4) {
        LineBatch batch;
        for (int i = 0; i < 100; ++i) {
          std::string id = "p" + std::to_string((batch_number * 100 + i) % 997);
          batch.Add(id, static_cast<uint32_t>(batch_number), static_cast<uint64_t>(i + 1),
                    TextOfLine(static_cast<uint32_t>(batch_number), static_cast<uint64_t>(i + 1)));
        }
        if (!grouper.Add(batch).ok()) ++failures;
        // The lines are taken either way.
        if (!batch.empty()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  EXPECT_TRUE(grouper.spilled());
  EXPECT_GT(grouper.partition_count(), 1u);
  std::map<std::string, int> seen;
  std::set<std::string> in_earlier_partitions;
  size_t visited = 0;
  auto by_patient = [](const PatientLine& a, const PatientLine& b) { return a.patient_id < b.patient_id; };
  ASSERT_TRUE(grouper
                  .ForEachPartition(
                      [&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>& patients) -> Status {
                        ++visited;
                        EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end(), by_patient));
                        size_t covered = 0;
                        for (const PatientGroup& patient : patients) {
                          EXPECT_EQ(patient.begin, covered);
                          for (size_t i = patient.begin; i < patient.end; ++i) {
                            EXPECT_EQ(lines[i].patient_id, patient.patient_id);
                          }
                          covered = patient.end;
                        }
                        EXPECT_EQ(covered, lines.size());
                        std::set<std::string> here;
                        for (const PatientLine& line : lines) {
                          ++seen[std::string(line.patient_id)];
                          here.insert(std::string(line.patient_id));
                          EXPECT_EQ(line.text, TextOfLine(line.file, line.line));
                        }
                        for (const std::string& id : here) EXPECT_EQ(in_earlier_partitions.count(id), 0u) << id;
                        in_earlier_partitions.insert(here.begin(), here.end());
                        return Status();
                      })
                  .ok());
  EXPECT_EQ(visited, grouper.partition_count());
  EXPECT_EQ(seen, expected);
}

// A shuffle's spill file is read back block by block (one block per batch
// and partition written: the records, then the texts): every line with its
// own id, file:line and text. A file of another size than its writer wrote
// (cut short anywhere, between two blocks too) is refused with its name
// before anything is read; so is one of that size whose blocks do not add
// up (a record count too high or too low for its bytes, a text past the
// block's), or that is not a spill file.
TEST(GrouperTest, SpillFilesAreReadBackBlockByBlockAndCheckedWhole) {
  TempDir dir;
  Result<std::unique_ptr<Grouper>> map = Grouper::ForShuffle(1, 1, dir.path());
  ASSERT_TRUE(map.has_value()) << map.error().message();
  std::map<std::pair<uint32_t, uint64_t>, std::string> expected;  // file:line -> id
  for (uint32_t file = 0; file < 3; ++file) {
    LineBatch batch;
    for (uint64_t line = 1; line <= 40; ++line) {
      const std::string id = "patient-" + std::string(file + line % 5, 'q');
      batch.Add(id, file, line, TextOfLine(file, line));
      expected[{file, line}] = id;
    }
    ASSERT_TRUE((*map)->Add(batch).ok());
  }
  ASSERT_TRUE((*map)->Close().ok());
  const std::string path = dir / Grouper::ShuffleFileName(0, 0);
  const std::string bytes = ReadFile(path);
  EXPECT_EQ((*map)->partition_bytes(0), bytes.size());
  std::map<std::pair<uint32_t, uint64_t>, std::string> seen;
  // Writes `content` in place of the file and reads it back as a file of `size` bytes.
  auto read_back = [&](const std::string& content, uint64_t size) {
    seen.clear();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    Result<std::unique_ptr<Grouper>> reduce = Grouper::FromFiles({{path}}, {{size}});
    if (!reduce.has_value()) return reduce.error();
    return (*reduce)->ForEachPartition(
        [&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>&) {
          for (const PatientLine& line : lines) {
            EXPECT_EQ(line.text, TextOfLine(line.file, line.line));
            EXPECT_TRUE(seen.emplace(std::pair(line.file, line.line), std::string(line.patient_id)).second);
          }
          return Status();
        });
  };
  ASSERT_TRUE(read_back(bytes, bytes.size()).ok());
  EXPECT_EQ(seen, expected);
  // Cut anywhere, between blocks included: refused for its size.
  for (size_t size = 0; size < bytes.size(); size += 97) {
    Status cut = read_back(bytes.substr(0, size), bytes.size());
    EXPECT_THAT(cut.message(),
                HasSubstr(fmt::format("{}: a spill file of {} bytes, where its map task wrote {}: "
                                      "cut short",
                                      path, size, bytes.size())));
    EXPECT_TRUE(seen.empty());
  }
  // Cut, and taken for whole: refused wherever the cut is not between two
  // blocks (three blocks: one per batch), never read past its end.
  size_t cut_short = 0;
  for (size_t size = 1; size < bytes.size(); size += 97) {
    Status cut = read_back(bytes.substr(0, size), size);
    if (cut.ok()) continue;
    ++cut_short;
    EXPECT_THAT(cut.message(), HasSubstr(path + ": a spill file is cut short"));
  }
  EXPECT_GT(cut_short, bytes.size() / 97 - 3);
  // Not a spill file (or one of an older format): refused at its first byte.
  const std::string foreign = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n" + std::string(64, ' ');
  EXPECT_THAT(read_back(foreign, foreign.size()).message(),
              HasSubstr(path + ": a spill file is not one of this version, or is damaged, at byte 0"));
  // A record whose text runs past its block's texts.
  std::string damaged = bytes;
  const size_t text_size_at = (4 + 4 + 8 + 8) + (4 + 4 + 8);  // block head; id size, file, line
  const uint32_t huge = 1u << 30;
  std::memcpy(damaged.data() + text_size_at, &huge, sizeof(huge));
  EXPECT_THAT(read_back(damaged, damaged.size()).message(),
              HasSubstr(path + ": a spill file is not one of this version, or is damaged, at byte 0"));
  EXPECT_TRUE(seen.empty());
  // The first block's record count one more, or one less, than its records.
  for (int change : {+1, -1}) {
    damaged = bytes;
    uint32_t count = 0;
    std::memcpy(&count, damaged.data() + 4, sizeof(count));
    EXPECT_EQ(count, 40u);
    count = static_cast<uint32_t>(static_cast<int>(count) + change);
    std::memcpy(damaged.data() + 4, &count, sizeof(count));
    EXPECT_THAT(read_back(damaged, damaged.size()).message(),
                HasSubstr(path + ": a spill file is not one of this version, or is damaged, at byte 0"))
        << change;
  }
}

// Nothing spilled, the lines held are visited in `held_slices` slices (two
// threads adding at once): `visit` is called once per slice, even an empty
// one; each patient's lines all come in the slice LineBatch::SliceOf names,
// grouped by patient; every line comes back once.
TEST(GrouperTest, VisitsTheLinesHeldInSlicesThatKeepEachPatientWhole) {
  TempDir dir;
  constexpr size_t kSlices = 5;
  Grouper grouper(/*budget_bytes=*/size_t{1} << 30, /*expected_bytes=*/1 << 20, dir.path(), MaxHeldBatches(), kSlices);
  std::multiset<std::pair<std::string, uint64_t>> expected, seen;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::mutex expected_mutex;
  for (int thread = 0; thread < 2; ++thread) {
    threads.emplace_back([&, thread] {
      for (int batch_number = thread; batch_number < 6; batch_number += 2) {
        LineBatch batch;
        for (int i = 0; i < 50; ++i) {
          // Three patients only: some slices stay empty.
          const std::string id = "patient-" + std::to_string((batch_number + i) % 3);
          const uint64_t line = static_cast<uint64_t>(batch_number * 50 + i + 1);
          batch.Add(id, static_cast<uint32_t>(batch_number), line, "{}");
          std::lock_guard<std::mutex> lock(expected_mutex);
          expected.emplace(id, line);
        }
        if (!grouper.Add(batch).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_FALSE(grouper.spilled());
  EXPECT_EQ(grouper.visits(), kSlices);
  size_t visited = 0, empty = 0;
  ASSERT_TRUE(grouper
                  .ForEachPartition(
                      [&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>& patients) -> Status {
                        const size_t slice = visited++;
                        if (lines.empty()) ++empty;
                        size_t covered = 0;
                        for (const PatientGroup& patient : patients) {
                          EXPECT_EQ(patient.begin, covered);
                          EXPECT_EQ(LineBatch::SliceOf(PatientHash(patient.patient_id), kSlices), slice);
                          for (size_t i = patient.begin; i < patient.end; ++i) {
                            EXPECT_EQ(lines[i].patient_id, patient.patient_id);
                          }
                          covered = patient.end;
                        }
                        EXPECT_EQ(covered, lines.size());
                        for (const PatientLine& line : lines) seen.emplace(std::string(line.patient_id), line.line);
                        return Status();
                      })
                  .ok());
  EXPECT_EQ(visited, kSlices);
  EXPECT_GE(empty, 2u);  // 3 patients in 5 slices
  EXPECT_EQ(seen, expected);
}

// Lines held in slices, then a spill: the lines held before it are spilled
// too, and every line comes back once, each patient in one partition.
TEST(GrouperTest, LinesHeldInSlicesAreSpilledWhole) {
  TempDir dir;
  Grouper grouper(/*budget_bytes=*/size_t{6} << 20, /*expected_bytes=*/16 << 20, dir.path(), MaxHeldBatches(),
                  /*held_slices=*/4);
  std::multiset<std::pair<std::string, uint64_t>> expected, seen;
  uint64_t line = 0;
  for (int round = 0; round < 6; ++round) {
    LineBatch batch;
    while (batch.Fits(1000)) {
      const std::string id = "p" + std::to_string(line % 31);
      batch.Add(id, 0, ++line, std::string(1000 - id.size(), 'w'));
      expected.emplace(id, line);
    }
    ASSERT_TRUE(grouper.Add(batch).ok());
    if (round == 0) {
      ASSERT_FALSE(grouper.spilled());  // the first batch is held, in slices
    }
  }
  ASSERT_TRUE(grouper.spilled());
  EXPECT_EQ(grouper.visits(), grouper.partition_count());
  std::set<std::string> in_earlier_partitions;
  ASSERT_TRUE(grouper
                  .ForEachPartition([&](std::vector<PatientLine>& lines, const std::vector<PatientGroup>&) -> Status {
                    std::set<std::string> here;
                    for (const PatientLine& each : lines) {
                      seen.emplace(std::string(each.patient_id), each.line);
                      here.insert(std::string(each.patient_id));
                    }
                    for (const std::string& id : here) EXPECT_EQ(in_earlier_partitions.count(id), 0u) << id;
                    in_earlier_partitions.insert(here.begin(), here.end());
                    return Status();
                  })
                  .ok());
  EXPECT_EQ(seen, expected);
}

// An exception from `visit` (here while the read-ahead thread is at work on
// the next slice, or on the next partition) leaves ForEachPartition after
// the thread is joined: it reaches the caller instead of ending the process.
TEST(GrouperTest, AnExceptionFromVisitReachesTheCaller) {
  for (size_t budget : {size_t{1} << 30, size_t{64} << 10}) {
    TempDir dir;
    Grouper grouper(budget, /*expected_bytes=*/1 << 20, dir.path(), MaxHeldBatches(), /*held_slices=*/4);
    for (int round = 0; round < 4; ++round) {
      LineBatch batch;
      for (int i = 0; i < 200; ++i) {
        batch.Add("p" + std::to_string(i), 0, static_cast<uint64_t>(round * 200 + i + 1), std::string(300, 'v'));
      }
      ASSERT_TRUE(grouper.Add(batch).ok());
    }
    ASSERT_EQ(grouper.spilled(), budget < (size_t{1} << 20));
    ASSERT_GT(grouper.visits(), 1u);
    EXPECT_THROW(
        (void)grouper.ForEachPartition([](std::vector<PatientLine>&, const std::vector<PatientGroup>&) -> Status {
          throw std::runtime_error("visit failed");
        }),
        std::runtime_error)
        << budget;
  }
}

// ---------------------------------------------------------------------------
// Whole runs on the Synthea Bulk Data export

TEST(ScreenTest, OutputIsTheSameWhateverJobsMemoryOrShards) {
  TempDir dir;
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "one", 1).has_value());
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "two", 2).has_value());
  Result<ScreenReport> spilled = RunScreen({BulkDir()}, dir / "spilled", 3, size_t{1} << 20);
  ASSERT_TRUE(spilled.has_value()) << spilled.error().message();
  EXPECT_GT(spilled->partitions, 1u);
  ExpectSameOutput(dir / "one", dir / "two");
  ExpectSameOutput(dir / "one", dir / "spilled");

  std::vector<std::string> shard_dirs;
  for (uint32_t shard = 0; shard < 3; ++shard) {
    shard_dirs.push_back(dir / ("shard-" + std::to_string(shard)));
    ASSERT_TRUE(RunScreen({BulkDir()}, shard_dirs.back(), 1, size_t{512} << 20, shard, 3).has_value());
  }
  std::reverse(shard_dirs.begin(), shard_dirs.end());  // order of the arguments does not matter
  Result<ScreenReport> merged = MergeShards(shard_dirs, dir / "merged");
  ASSERT_TRUE(merged.has_value()) << merged.error().message();
  ExpectSameOutput(dir / "one", dir / "merged");
  // A missing or repeated shard is refused.
  EXPECT_FALSE(MergeShards({shard_dirs[0], shard_dirs[1]}, dir / "bad").has_value());
  EXPECT_FALSE(MergeShards({shard_dirs[0], shard_dirs[0], shard_dirs[1]}, dir / "bad").has_value());
  // A shard assessed as of another time (shards run without --now) is
  // refused, saying so.
  ScreenOptions later = TestOptions({BulkDir()}, 1, size_t{512} << 20, 0, 3);
  later.now = *DateTime::ParseDateTime("2025-06-02");
  later.now_text = "2025-06-02";
  later.output_dir = dir / "shard-0-later";
  ASSERT_TRUE(Screen(later).has_value());
  Result<ScreenReport> mixed = MergeShards({shard_dirs[0], shard_dirs[1], later.output_dir}, dir / "bad");
  ASSERT_FALSE(mixed.has_value());
  EXPECT_THAT(mixed.error().message(), HasSubstr("give every shard the same --now"));
  EXPECT_THAT(mixed.error().message(), HasSubstr("2025-06-02"));

  // A shard's worklist and report say they are one shard's: a conditional
  // update by the worklist's identifier cannot replace the whole list with
  // a shard's (the merge's are the whole run's, as ExpectSameOutput checked).
  const std::string shard_group = ReadFile(dir / "shard-1/Group.json");
  EXPECT_THAT(shard_group, HasSubstr(R"("value": "regenpath-pain-kb/regenerative-candidates/shard-1-of-3")"));
  EXPECT_THAT(shard_group, HasSubstr("shard 1/3 only: `regenpath screen merge` gives the whole list"));
  EXPECT_THAT(ReadFile(dir / "shard-1/MeasureReport.json"), HasSubstr(R"("status": "pending")"));
  EXPECT_THAT(
      ReadFile(dir / "merged/Group.json"),
      AllOf(HasSubstr(R"("value": "regenpath-pain-kb/regenerative-candidates")"), Not(HasSubstr("shard"))));
  EXPECT_THAT(ReadFile(dir / "merged/MeasureReport.json"), HasSubstr(R"("status": "complete")"));
  const std::string validate = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR +
                               "/tools/validate_json_schema.py " + REGENPATH_SHARED_DIR +
                               "/testdata/fhir-json-schema/fhir.schema.json " +
                               (dir / "shard-1/MeasureReport.json") + " " + (dir / "shard-1/Group.json");
  EXPECT_EQ(std::system(validate.c_str()), 0) << validate;

  // An output directory reused: a shard's shard.json does not outlive it
  // (it would make the whole run's output pass for a shard), whether a whole
  // run or a merge into one of its own inputs takes the directory.
  const fs::path reused = dir / "reused";
  fs::copy(dir / "shard-0", reused);
  ASSERT_TRUE(fs::exists(reused / "shard.json"));
  ASSERT_TRUE(RunScreen({BulkDir()}, reused, 1).has_value());
  EXPECT_FALSE(fs::exists(reused / "shard.json"));
  ExpectSameOutput(dir / "one", reused);
  const fs::path merged_into = dir / "shard-2-copy";
  fs::copy(dir / "shard-2", merged_into);
  Result<ScreenReport> into_input = MergeShards({merged_into, dir / "shard-0", dir / "shard-1"}, merged_into);
  ASSERT_TRUE(into_input.has_value()) << into_input.error().message();
  EXPECT_FALSE(fs::exists(merged_into / "shard.json"));
  ExpectSameOutput(dir / "one", merged_into);
}

// The system starts no thread beyond the caller's (for the scan, the
// assessment and the read-ahead of slices or partitions, which is then done
// inline; in memory and spilled): the run still screens everyone, with the
// same output, and reports the most threads a phase went without.
TEST(ScreenTest, ThreadsThatCannotStartAreReportedAndTheOutputIsTheSame) {
  TempDir dir;
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "one", 1).has_value());
  for (size_t memory : {size_t{512} << 20, size_t{1} << 20}) {
    ScreenOptions options = TestOptions({BulkDir()}, 3, memory, 0, 1);
    options.output_dir = dir / ("short-" + std::to_string(memory));
    options.start_thread = [](std::function<void()>) -> std::thread {
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    };
    Result<ScreenReport> report = Screen(options);
    ASSERT_TRUE(report.has_value()) << report.error().message();
    EXPECT_EQ(report->partitions > 1, memory < (size_t{512} << 20)) << memory;
    // Two threads short in the scan (12 files), the most of any phase.
    EXPECT_EQ(report->threads_not_started, 2u) << memory;
    ExpectSameOutput(dir / "one", options.output_dir);
  }
  Result<ScreenReport> full = RunScreen({BulkDir()}, dir / "three", 3);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->threads_not_started, 0u);
}

// The scan's early spill, through Screen (Grouper::Add's scanned_bytes,
// handed in by each scanning thread): 12 MB of lines every one of which is
// kept, with a budget of 6 MB, spill at the first batch handed in (the
// first 2 MB, a quarter of the budget scanned, scaled to the whole input,
// will not fit in it) instead of the second, when half the budget is
// passed. With a budget they fit in, every line is held and nothing
// spilled. The output is the same.
TEST(ScreenTest, ARunWhoseLinesWillNotFitSpillsAtItsFirstBatch) {
  TempDir dir;
  fs::create_directories(dir / "in");
  {
    std::ofstream patients(dir / "in/Patient.ndjson");
    std::ofstream communications(dir / "in/Communication.ndjson");
    const std::string text(2000, 'x');
    for (int patient = 0; patient < 10; ++patient) {
      patients << fmt::format(R"({{"resourceType":"Patient","id":"p{}","birthDate":"1960-01-01"}})", patient)
               << "\n";
    }
    for (int i = 0; i < 6000; ++i) {
      communications
          << fmt::format(R"({{"resourceType":"Communication","id":"c{}","status":"completed",)"
                         R"("subject":{{"reference":"Patient/p{}"}},"payload":[{{"contentString":"{}"}}]}})",
                         i, i % 10, text)
          << "\n";
    }
  }
  const uint64_t input =
      fs::file_size(dir / "in/Communication.ndjson") + fs::file_size(dir / "in/Patient.ndjson");
  ASSERT_GT(input, uint64_t{12} << 20);

  const size_t budget = size_t{6} << 20;
  Result<ScreenReport> spilled = RunScreen({dir / "in"}, dir / "spilled", 1, budget);
  ASSERT_TRUE(spilled.has_value()) << spilled.error().message();
  EXPECT_GT(spilled->partitions, 1u);
  EXPECT_EQ(spilled->patients, 10u);
  // One batch (its buffer and entries: a little over its capacity),
  // where two (over half the budget) are held without the early spill.
  EXPECT_GT(spilled->held_bytes_peak, LineBatch::kDefaultCapacity / 2);
  EXPECT_LT(spilled->held_bytes_peak, budget / 2);

  Result<ScreenReport> held = RunScreen({dir / "in"}, dir / "held", 1, size_t{512} << 20);
  ASSERT_TRUE(held.has_value()) << held.error().message();
  EXPECT_EQ(held->partitions, 1u);
  EXPECT_GT(held->held_bytes_peak, input);  // every line, in batches
  ExpectSameOutput(dir / "held", dir / "spilled");
}

// A patient written twice in an export (Patient.000 and Patient.001): as
// `assess` on the patient's own file, identical copies are one patient;
// copies that differ (the second says the patient died) make the record
// unreadable, named in the patient's line, and the patient is no candidate
// in the Group, whichever copy comes first.
TEST(ScreenTest, APatientWrittenTwiceIsReadOnlyWhenTheCopiesAgree) {
  TempDir dir;
  const std::string patient =
      R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-01")";
  auto write = [&](const std::string& name, const std::string& first, const std::string& second) {
    fs::create_directories(dir / name);
    std::ofstream(dir / (name + "/Patient.000.ndjson")) << first << "\n";
    std::ofstream(dir / (name + "/Patient.001.ndjson")) << second << "\n";
    std::ofstream(dir / (name + "/Condition.000.ndjson"))
        << R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"knee pain"}})"
        << "\n";
  };
  const std::string dead = patient + R"(,"deceasedBoolean":true})";
  write("same", patient + "}", patient + "}");
  write("differ", patient + "}", dead);
  write("swapped", dead, patient + "}");
  ASSERT_TRUE(RunScreen({dir / "same"}, dir / "same-out", 1).has_value());
  std::vector<std::string> same = Lines(ReadFile(dir / "same-out/patients.ndjson"));
  ASSERT_EQ(same.size(), 1u);
  EXPECT_THAT(same[0], AllOf(HasSubstr(R"("patient":"Patient/p1")"), Not(HasSubstr(R"("error")"))));
  for (const std::string name : {"differ", "swapped"}) {
    ASSERT_TRUE(RunScreen({dir / name}, dir / (name + "-out"), 1).has_value());
    std::vector<std::string> lines = Lines(ReadFile(dir / (name + "-out/patients.ndjson")));
    ASSERT_EQ(lines.size(), 1u) << name;
    EXPECT_THAT(lines[0], AllOf(HasSubstr(R"("error":)"), HasSubstr("2 different copies of Patient/p1")))
        << name;
    EXPECT_THAT(ReadFile(dir / (name + "-out/Group.json")), Not(HasSubstr("Patient/p1"))) << name;
  }
}

// The shared resources' lines are held until the run ends, so they count
// against the budget: with 7 MB of Medications and a budget of 16 MiB (the
// lines held may take 8), the patients' lines (one batch of 2 MiB) are
// spilled; without them, or with a budget they fit in, held. The output is
// the same either way.
TEST(ScreenTest, SharedLinesCountAgainstTheBudget) {
  TempDir dir;
  fs::create_directories(dir / "in");
  {
    std::ofstream patients(dir / "in/Patient.ndjson");
    std::ofstream requests(dir / "in/MedicationRequest.ndjson");
    std::ofstream medications(dir / "in/Medication.ndjson");
    for (int patient = 0; patient < 10; ++patient) {
      patients << fmt::format(R"({{"resourceType":"Patient","id":"p{}","birthDate":"1960-01-01"}})", patient)
               << "\n";
      requests << fmt::format(R"({{"resourceType":"MedicationRequest","id":"r{0}","status":"active",)"
                              R"("intent":"order","subject":{{"reference":"Patient/p{0}"}},)"
                              R"("medicationReference":{{"reference":"Medication/m{0}"}}}})",
                              patient)
               << "\n";
    }
    const std::string text(2000, 'x');
    for (int i = 0; i < 3600; ++i) {
      medications << fmt::format(R"({{"resourceType":"Medication","id":"m{}","code":{{"text":"{}"}}}})", i,
                                 text)
                  << "\n";
    }
  }
  ASSERT_GT(fs::file_size(dir / "in/Medication.ndjson"), uint64_t{7} << 20);

  const size_t budget = size_t{16} << 20;
  Result<ScreenReport> spilled = RunScreen({dir / "in"}, dir / "spilled", 1, budget);
  ASSERT_TRUE(spilled.has_value()) << spilled.error().message();
  EXPECT_GT(spilled->partitions, 1u);
  EXPECT_EQ(spilled->patients, 10u);
  Result<ScreenReport> held = RunScreen({dir / "in"}, dir / "held", 1, size_t{512} << 20);
  ASSERT_TRUE(held.has_value()) << held.error().message();
  EXPECT_EQ(held->partitions, 1u);
  ExpectSameOutput(dir / "held", dir / "spilled");

  fs::rename(dir / "in/Medication.ndjson", dir / "Medication.ndjson");
  Result<ScreenReport> without = RunScreen({dir / "in"}, dir / "without", 1, budget);
  ASSERT_TRUE(without.has_value()) << without.error().message();
  EXPECT_EQ(without->partitions, 1u);
}

// Screens the directory `input` at 2 jobs into `output`, running `change`
// once as the scan starts its first thread: after the listing, before any
// line is read.
Result<ScreenReport> ScreenChangingAtScanStart(const std::string& input, const std::string& output,
                                               const std::function<void()>& change) {
  ScreenOptions options = TestOptions({input}, 2);
  options.output_dir = output;
  bool done = false;
  options.start_thread = [&](std::function<void()> work) {
    if (!done) {
      done = true;
      change();
    }
    return std::thread(std::move(work));
  };
  return Screen(options);
}

// A plain file that changes between the listing and its reading (a
// download still being written) fails the run, naming it, rather than give
// lines that are not the listed file's: cut short, or grown.
TEST(ScreenTest, AFileChangedSinceItWasListedFailsTheRun) {
  for (const bool cut : {true, false}) {
    SCOPED_TRACE(cut);
    TempDir dir;
    fs::create_directories(dir / "in");
    for (const std::string name : {"Patient.000.ndjson", "Condition.000.ndjson"}) {
      fs::copy_file(BulkDir() + "/" + name, dir / ("in/" + name));
    }
    const std::string changed = dir / "in/Condition.000.ndjson";
    fs::permissions(changed, fs::perms::owner_write, fs::perm_options::add);  // (copied read-only)
    const uint64_t size = fs::file_size(changed);
    Result<ScreenReport> report = ScreenChangingAtScanStart(dir / "in", dir / "out", [&] {
      if (cut) {
        fs::resize_file(changed, size / 2);
      } else {
        std::ofstream(changed, std::ios::binary | std::ios::app) << R"({"resourceType":"Condition"})"
                                                                 << "\n";
      }
    });
    // (A change that failed inside start_thread would pass for a thread
    // that could not start.)
    ASSERT_EQ(fs::file_size(changed), cut ? size / 2 : size + 29);
    ASSERT_FALSE(report.has_value());
    EXPECT_THAT(report.error().message(),
                HasSubstr("Condition.000.ndjson: " + std::to_string(cut ? size / 2 : size + 29) +
                          " bytes read where it had " + std::to_string(size) + " when listed"));
  }
}

// An output name taken by a directory fails the run before any file is
// moved: the earlier run's files stay as they were, none of this run's
// lies beside them (whichever name is in the way, first or last moved).
TEST(ScreenTest, AnOutputNameTakenByADirectoryMovesNothing) {
  for (const std::string in_the_way : {"patients.ndjson", "run.json", "issues.ndjson"}) {
    SCOPED_TRACE(in_the_way);
    TempDir dir;
    const std::string out = dir / "out";
    fs::create_directories(out + "/" + in_the_way + "/x");
    for (const std::string earlier : {"patients.ndjson", "summary.txt"}) {
      if (earlier != in_the_way) std::ofstream(out + "/" + earlier) << "earlier run\n";
    }
    Result<ScreenReport> report = RunScreen({BulkDir()}, out, 1);
    ASSERT_FALSE(report.has_value());
    EXPECT_THAT(report.error().message(),
                HasSubstr(in_the_way + ": a directory is in the way; no output was moved"));
    for (const std::string earlier : {"patients.ndjson", "summary.txt"}) {
      if (earlier != in_the_way) {
        EXPECT_EQ(ReadFile(out + "/" + earlier), "earlier run\n") << earlier;
      }
    }
    for (const std::string name : {"Group.json", "MeasureReport.json", "summary.json", "patients.csv"}) {
      EXPECT_FALSE(fs::exists(out + "/" + name)) << name;
    }
  }
}

// A large file (read in pieces, each only as far as its listed size) that
// grows between the listing and the end of the scan fails the run too.
TEST(ScreenTest, ALargeFileGrownSinceItWasListedFailsTheRun) {
  TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy_file(BulkDir() + "/Patient.000.ndjson", dir / "in/Patient.000.ndjson");
  const std::string changed = dir / "in/Practitioner.000.ndjson";
  {
    std::ofstream out(changed, std::ios::binary);
    const std::string line = R"({"resourceType":"Practitioner","id":"p"})";
    for (size_t written = 0; written < (size_t{9} << 20); written += line.size() + 1) out << line << "\n";
  }
  const uint64_t size = fs::file_size(changed);
  Result<ScreenReport> report = ScreenChangingAtScanStart(dir / "in", dir / "out", [&] {
    std::ofstream(changed, std::ios::binary | std::ios::app) << R"({"resourceType":"Practitioner"})"
                                                             << "\n";
  });
  ASSERT_EQ(fs::file_size(changed), size + 32);
  ASSERT_FALSE(report.has_value());
  EXPECT_THAT(report.error().message(),
              HasSubstr("Practitioner.000.ndjson: " + std::to_string(size + 32) + " bytes where it had " +
                        std::to_string(size) + " when listed"));
}

TEST(ScreenTest, AGivenEngineIsUsedAndMustBeTheKnowledgeBases) {
  // One engine shared by runs on two threads at once (as the Python
  // module's cache shares it between Dask tasks): the output is the run's.
  TempDir dir;
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "own", 1).has_value());
  ScreenOptions options = TestOptions({BulkDir()}, 1, size_t{512} << 20, 0, 1);
  Result<engine::Engine> engine = engine::Engine::Create(options.kb);
  ASSERT_TRUE(engine.has_value());
  options.engine = std::make_shared<const engine::Engine>(std::move(*engine));
  std::vector<Result<ScreenReport>> reports(2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < reports.size(); ++i) {
    threads.emplace_back([&, i] {
      ScreenOptions mine = options;
      mine.output_dir = dir / ("shared-" + std::to_string(i));
      reports[i] = Screen(mine);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < reports.size(); ++i) {
    ASSERT_TRUE(reports[i].has_value()) << reports[i].error().message();
    ExpectSameOutput(dir / "own", dir / ("shared-" + std::to_string(i)));
  }
  // An engine compiled from another knowledge base than options.kb (whose
  // name and version the output states) is refused.
  std::shared_ptr<const knowledge::KnowledgeBase> other = knowledge::KnowledgeBase::Load({});
  ScreenOptions mismatched = options;
  mismatched.kb = other;
  mismatched.output_dir = dir / "mismatched";
  Result<ScreenReport> refused = Screen(mismatched);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message(), HasSubstr("not the knowledge base's"));
}

// ---------------------------------------------------------------------------
// Shuffled runs: map tasks, reduce tasks, merge

TEST(ShuffleTest, OutputIsTheSingleRunsWhateverMapsShardsOrMemory) {
  TempDir dir;
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "one", 2).has_value());
  struct Split {
    uint32_t maps, shards;
    size_t memory, jobs;
  };
  // 1 MiB: each shard's lines come back in several partitions.
  for (const Split& split : {Split{1, 1, size_t{512} << 20, 1}, Split{3, 2, size_t{512} << 20, 2},
                             Split{2, 5, size_t{1} << 20, 1}, Split{12, 3, size_t{1} << 20, 2}}) {
    const std::string name = fmt::format("m{}-s{}-{}", split.maps, split.shards, split.memory);
    Status status = RunShuffled({BulkDir()}, dir / name, dir / (name + "-merged"), split.maps, split.shards,
                                split.memory, split.jobs);
    ASSERT_TRUE(status.ok()) << name << ": " << status.message();
    ExpectSameOutput(dir / "one", dir / (name + "-merged"));
  }
  // The spill files are planned from the whole run: at 1 MiB, each of 2
  // shards' partitions holds about 128 KiB (an eighth of the budget).
  MapManifest manifest = *MapManifest::FromJson(ReadFile(dir / "m2-s5-1048576/shuffle/map-0000/map.json"));
  EXPECT_GT(manifest.partitions_per_shard, 1u);
  EXPECT_TRUE(fs::exists(dir / fmt::format("m2-s5-1048576/shuffle/map-0001/{}", Grouper::ShuffleFileName(4, 0))));
  // It gives the size of every spill file it wrote (empty ones too).
  ASSERT_EQ(manifest.spill_bytes.size(), 5 * manifest.partitions_per_shard);
  uint64_t spilled = 0;
  for (uint32_t shard = 0; shard < 5; ++shard) {
    for (size_t partition = 0; partition < manifest.partitions_per_shard; ++partition) {
      const fs::path file =
          fs::path(dir / "m2-s5-1048576/shuffle/map-0000") / Grouper::ShuffleFileName(shard, partition);
      EXPECT_EQ(fs::file_size(file), manifest.spill_bytes[shard * manifest.partitions_per_shard + partition])
          << file;
      spilled += fs::file_size(file);
    }
  }
  EXPECT_GT(spilled, 0u);
}

TEST(ShuffleTest, EveryPieceIsReadByOneMapTaskAndTheSharesAreBalanced) {
  // Pieces of several files, a split one's among them (InputPiece: file,
  // ordinal, of, begin, end).
  std::vector<InputPiece> pieces;
  uint32_t file = 0;
  for (uint64_t size : {900, 10, 500, 500, 400, 100, 100, 0, 300}) pieces.push_back({file++, 0, 1, 0, size});
  for (uint32_t k = 0; k < 4; ++k) pieces.push_back({file, k, 4, k * 800, k * 800 + (k == 3 ? 200 : 800)});
  std::vector<int> reader(pieces.size(), -1);
  std::vector<uint64_t> load(3, 0);
  for (uint32_t map = 0; map < 3; ++map) {
    std::vector<uint32_t> share = ShareOfPieces(pieces, map, 3);
    EXPECT_TRUE(std::is_sorted(share.begin(), share.end()));
    EXPECT_EQ(share, ShareOfPieces(pieces, map, 3));  // the same in every task
    for (uint32_t piece : share) {
      EXPECT_EQ(reader[piece], -1) << "piece " << piece << " read twice";
      reader[piece] = static_cast<int>(map);
      load[map] += pieces[piece].end - pieces[piece].begin;
    }
  }
  for (int map : reader) EXPECT_NE(map, -1);
  // 5,410 bytes in three shares: none more than the largest piece over a third.
  for (uint64_t bytes : load) EXPECT_LE(bytes, 5410 / 3 + 900);
  EXPECT_EQ(*std::max_element(load.begin(), load.end()), 1810u);
  // The split file's pieces go to different tasks.
  EXPECT_NE(reader[9], reader[10]);
  // More tasks than pieces: the extra tasks read nothing.
  EXPECT_TRUE(ShareOfPieces(pieces, 13, 14).empty());
}

// The scan reads a compressed file larger than a piece first, then every
// other piece at its place across its file, so that any prefix of the scan
// holds about the same share of every file.
TEST(InputPiecesTest, TheScanSpreadsEachFilesPiecesOverItsCourse) {
  const uint64_t piece = kPieceBytes;
  std::vector<InputPiece> pieces;
  for (uint32_t k = 0; k < 4; ++k)
    pieces.push_back({0, k, 4, k * piece, (k + 1) * piece});  // file 0: 4 pieces
  pieces.push_back({1, 0, 1, 0, 1000});                       // file 1: whole
  pieces.push_back({2, 0, 1, 0, 3 * piece, true});            // file 2: gzip
  for (uint32_t k = 0; k < 2; ++k)
    pieces.push_back({3, k, 2, k * piece, (k + 1) * piece});  // file 3: 2 pieces
  pieces.push_back({4, 0, 1, 0, piece / 2, true});  // file 4: gzip, 4 pieces' text in half a piece's bytes
  pieces.push_back({5, 0, 1, 0, piece / 2});        // file 5: whole, plain
  const std::vector<size_t> order = ScanOrder(pieces);
  ASSERT_EQ(order.size(), pieces.size());
  // The gzip files, the larger text first, then the places 1/8 (file 0's
  // piece 0), 1/4 (file 3's piece 0), 3/8 (0:1), 1/2 (files 1 and 5, whole),
  // 5/8 (0:2), 3/4 (3:1), 7/8 (0:3).
  const std::vector<size_t> expected = {5, 8, 0, 6, 1, 4, 9, 2, 7, 3};
  EXPECT_EQ(order, expected);
  // Every prefix holds about the same share of file 0 and file 3.
  size_t seen0 = 0, seen3 = 0;
  for (size_t i : order) {
    seen0 += pieces[i].file == 0;
    seen3 += pieces[i].file == 3;
    EXPECT_LE(std::abs(static_cast<double>(seen0) / 4 - static_cast<double>(seen3) / 2), 0.5);
  }
}

// Malformed lines of a split file, numbered in their pieces, are numbered in
// the file from every piece's line count; whole files' lines are left as they
// are; a piece missing or given twice is refused.
TEST(ShuffleTest, IssuesAreNumberedInTheirFilesFromEveryPiecesLines) {
  const uint64_t piece1 = uint64_t{1} << kPieceShift, piece2 = uint64_t{2} << kPieceShift;
  std::vector<LineIssue> issues = {{1, piece2 | 3, "c"}, {0, 7, "whole"}, {1, 2, "a"}, {1, piece1 | 1, "b"}};
  // (file, ordinal, of, begin, end, lines; the bytes do not matter here)
  const std::vector<PieceLines> pieces = {
      {1, 2, 3, 0, 0, 50}, {0, 0, 1, 0, 0, 9}, {1, 0, 3, 0, 0, 10}, {1, 1, 3, 0, 0, 20}};
  ASSERT_TRUE(NumberInFiles(issues, pieces).ok());
  ASSERT_EQ(issues.size(), 4u);
  EXPECT_EQ(issues[0].file, 0u);
  EXPECT_EQ(issues[0].line, 7u);
  EXPECT_EQ(issues[1].line, 2u);   // piece 0, line 2
  EXPECT_EQ(issues[2].line, 11u);  // piece 1 after 10 lines
  EXPECT_EQ(issues[3].line, 33u);  // piece 2 after 10 + 20
  EXPECT_EQ(issues[3].message, "c");
  std::vector<LineIssue> missing = {{1, piece2 | 3, "c"}};
  EXPECT_FALSE(NumberInFiles(missing, {{1, 0, 3, 0, 0, 10}, {1, 2, 3, 0, 0, 50}}).ok());
  std::vector<LineIssue> beyond = {{1, (uint64_t{3} << kPieceShift) | 1, "d"}};
  EXPECT_FALSE(NumberInFiles(beyond, pieces).ok());
  std::vector<LineIssue> twice = {{1, 2, "a"}};
  EXPECT_FALSE(NumberInFiles(twice, {{1, 0, 3, 0, 0, 10}, {1, 0, 3, 0, 0, 10}}).ok());
  EXPECT_FALSE(NumberInFiles(twice, {{1, 0, 3, 0, 0, 10}, {1, 1, 2, 0, 0, 10}}).ok());
}

// A line longer than two pieces (17 MB, outside the compartment) leaves the
// piece inside it empty: its map task reads nothing, the reduce accepts it,
// and a malformed line after it is numbered in the file as the single run
// numbers it.
TEST(ShuffleTest, ALineLongerThanTwoPiecesLeavesOneEmpty) {
  TempDir dir;
  fs::create_directories(dir / "in");
  for (const std::string name : {"Patient.000.ndjson", "Condition.000.ndjson"}) {
    fs::copy_file(BulkDir() + "/" + name, dir / ("in/" + name));
  }
  {
    std::ofstream out(dir / "in/Practitioner.000.ndjson", std::ios::binary);
    out << R"({"resourceType":"Practitioner","id":"short"})"
        << "\n";
    out << R"({"resourceType":"Practitioner","id":"long","name":[{"text":")"
        << std::string(size_t{17} << 20, 'y') << R"("}]})"
        << "\n";
    out << R"({"resourceType":"Practitioner",)"
        << "\n";  // line 3: malformed
    out << R"({"resourceType":"Practitioner","id":"after"})"
        << "\n";
  }
  ASSERT_EQ(PlanPieces(*ListInputs({dir / "in"})).size(), 2u + 3u);  // two small files, three pieces
  ASSERT_TRUE(RunScreen({dir / "in"}, dir / "single", 1).has_value());
  ASSERT_TRUE(RunShuffled({dir / "in"}, dir / "work", dir / "shuffled", 3, 2).ok());
  ExpectSameOutput(dir / "single", dir / "shuffled");
  EXPECT_THAT(ReadFile(dir / "shuffled/issues.ndjson"), HasSubstr("Practitioner.000.ndjson\",\"line\":3,"));
  bool empty_piece = false;
  for (uint32_t map = 0; map < 3; ++map) {
    Result<MapManifest> manifest = MapManifest::FromJson(
        ReadFile(MapDirectory(dir / "work/shuffle", map) + "/" + std::string(MapManifest::kFileName)));
    ASSERT_TRUE(manifest.has_value()) << manifest.error().message();
    for (const PieceLines& piece : manifest->pieces) {
      if (piece.of == 3 && piece.ordinal == 1) {
        EXPECT_EQ(piece.begin, piece.end);
        EXPECT_EQ(piece.lines, 0u);
        empty_piece = true;
      }
    }
  }
  EXPECT_TRUE(empty_piece);
}

// Map tasks with a knowledge base write skeleton lines for the resources its
// engine passes over, and say so with its filter's fingerprint; a reduce
// task with another knowledge base refuses them rather than assess them.
TEST(ShuffleTest, AReduceAssessesSkeletonLinesOnlyWithTheMapsFilter) {
  TempDir dir;
  ScreenOptions options = ShuffleOptions({BulkDir()}, 1, size_t{512} << 20, 1);
  const std::string shuffle = dir / "shuffle";
  ASSERT_TRUE(ScreenMap(options, ShuffleTask{shuffle, 0, 1}).has_value());
  Result<MapManifest> manifest = MapManifest::FromJson(ReadFile(shuffle + "/map-0000/map.json"));
  ASSERT_TRUE(manifest.has_value());
  Result<engine::Engine> built_in = engine::Engine::Create(options.kb);
  ASSERT_TRUE(built_in.has_value());
  EXPECT_EQ(manifest->skeletons, built_in->resource_filter()->fingerprint());
  EXPECT_EQ(manifest->skeletons.size(), 16u);

  ScreenOptions other = options;
  Result<std::shared_ptr<const knowledge::KnowledgeBase>> minimal =
      knowledge::KnowledgeBase::LoadDirectory(std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/minimal");
  ASSERT_TRUE(minimal.has_value()) << minimal.error().message();
  other.kb = *minimal;
  other.output_dir = dir / "foreign";
  Result<ScreenReport> foreign = ScreenReduce(other, ShuffleTask{shuffle, 0, 1});
  ASSERT_FALSE(foreign.has_value());
  EXPECT_THAT(foreign.error().message(), HasSubstr("map task 0 passed over resources with another knowledge base's filter"));
  EXPECT_FALSE(fs::exists(dir / "foreign/patients.ndjson"));

  options.output_dir = dir / "own";
  Result<ScreenReport> own = ScreenReduce(options, ShuffleTask{shuffle, 0, 1});
  ASSERT_TRUE(own.has_value()) << own.error().message();
  // "" means whole lines; a manifest without the field is refused.
  MapManifest whole = *manifest;
  whole.skeletons.clear();
  std::string json = whole.ToJson();
  Result<MapManifest> read = MapManifest::FromJson(json);
  ASSERT_TRUE(read.has_value()) << read.error().message();
  EXPECT_TRUE(read->skeletons.empty());
  const size_t at = json.find(",\n \"skeletons\": \"\"");
  ASSERT_NE(at, std::string::npos);
  json.erase(at, std::string(",\n \"skeletons\": \"\"").size());
  Result<MapManifest> without = MapManifest::FromJson(json);
  ASSERT_FALSE(without.has_value());
  EXPECT_THAT(without.error().message(), HasSubstr("a map manifest lacks skeletons"));
  // Absurd partition counts are refused before anything is sized by them.
  MapManifest absurd = *manifest;
  absurd.partitions_per_shard = uint64_t{1} << 62;
  Result<MapManifest> refused = MapManifest::FromJson(absurd.ToJson());
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message(), HasSubstr("more spill files than any map task writes"));
  absurd.partitions_per_shard = manifest->partitions_per_shard;
  absurd.spill_bytes.pop_back();
  refused = MapManifest::FromJson(absurd.ToJson());
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message(), HasSubstr("gives the sizes of"));
}

TEST(ShuffleTest, AReduceRefusesAnUnfinishedOrForeignShuffleAndATruncatedFile) {
  TempDir dir;
  ScreenOptions options = ShuffleOptions({BulkDir()}, 2, size_t{512} << 20, 1);
  const std::string shuffle = dir / "shuffle";
  ASSERT_TRUE(ScreenMap(options, ShuffleTask{shuffle, 0, 2}).has_value());
  options.output_dir = dir / "reduce";
  // Map task 1 of 2 has not run.
  Result<ScreenReport> early = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
  ASSERT_FALSE(early.has_value());
  EXPECT_THAT(early.error().message(), HasSubstr("map-0001/map.json: missing: map task 1 of 2 has not finished"));
  EXPECT_FALSE(fs::exists(dir / "reduce/patients.ndjson"));
  // Map task 1 written for another split (3 shards).
  ScreenOptions other = ShuffleOptions({BulkDir()}, 3, size_t{512} << 20, 1);
  ASSERT_TRUE(ScreenMap(other, ShuffleTask{shuffle, 1, 2}).has_value());
  Result<ScreenReport> foreign = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
  ASSERT_FALSE(foreign.has_value());
  EXPECT_THAT(foreign.error().message(), HasSubstr("into 3 shards, where this reduce expects map 1 of 2 into 2 shards"));
  // Run again, map task 1 replaces its earlier output; then the reduce works.
  ASSERT_TRUE(ScreenMap(options, ShuffleTask{shuffle, 1, 2}).has_value());
  EXPECT_FALSE(fs::exists(shuffle + "/map-0001/" + Grouper::ShuffleFileName(2, 0)));
  Result<ScreenReport> reduced = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
  ASSERT_TRUE(reduced.has_value()) << reduced.error().message();
  EXPECT_GT(reduced->patients, 0u);
  // A map task of an earlier version (another schema, and spill files in
  // its own format) is refused by name, not read.
  {
    const std::string manifest_path = shuffle + "/map-0001/map.json";
    const std::string json = ReadFile(manifest_path);
    std::string earlier = json;
    const size_t at = earlier.find(MapManifest::kSchema);
    ASSERT_NE(at, std::string::npos);
    earlier.replace(at, MapManifest::kSchema.size(), "regenpath.screen-map/3");
    std::ofstream(manifest_path, std::ios::binary | std::ios::trunc) << earlier;
    options.output_dir = dir / "reduce-earlier";
    Result<ScreenReport> refused = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
    ASSERT_FALSE(refused.has_value());
    EXPECT_THAT(
        refused.error().message(),
        HasSubstr("map-0001/map.json: a map manifest of another regenpath version (schema "
                  "regenpath.screen-map/3; this one reads regenpath.screen-map/4): run the map tasks again"));
    std::ofstream(manifest_path, std::ios::binary | std::ios::trunc) << json;
    options.output_dir = dir / "reduce";
  }
  // A spill file cut short is named (the second of the partition's files,
  // one per map task), not read past its end.
  const std::string spill = shuffle + "/map-0001/" + Grouper::ShuffleFileName(1, 0);
  const std::string text = ReadFile(spill);
  ASSERT_GT(text.size(), 100u);
  std::ofstream(spill, std::ios::binary | std::ios::trunc) << text.substr(0, text.size() - 7);
  options.shard = 1;
  options.output_dir = dir / "reduce-1";
  Result<ScreenReport> cut = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
  ASSERT_FALSE(cut.has_value());
  EXPECT_THAT(cut.error().message(),
              HasSubstr(fmt::format(
                  "map-0001/s0001-p0000.bin: a spill file of {} bytes, where its map task wrote {}: "
                  "cut short or changed since (run the map task again)",
                  text.size() - 7, text.size())));
  EXPECT_FALSE(fs::exists(dir / "reduce-1/patients.ndjson"));
  // Bad task numbers are refused.
  EXPECT_FALSE(ScreenMap(options, ShuffleTask{shuffle, 2, 2}).has_value());
  EXPECT_FALSE(ScreenReduce(options, ShuffleTask{shuffle, 0, 0}).has_value());
}

// An independent reckoning of `content`'s line starts (0, and after each
// newline but a last one): the first at or after a byte, or content.size().
std::function<uint64_t(uint64_t)> FirstLineStartAtOrAfter(const std::string& content) {
  std::vector<uint64_t> starts = {0};
  for (size_t i = 0; i + 1 < content.size(); ++i) {
    if (content[i] == '\n') starts.push_back(i + 1);
  }
  return [starts = std::move(starts), size = uint64_t{content.size()}](uint64_t at) {
    auto found = std::lower_bound(starts.begin(), starts.end(), at);
    return found == starts.end() ? size : *found;
  };
}

// A large plain file is scanned in pieces on several threads (and map
// tasks): the lines that start in each range of a fixed size, each range
// looked up on its own (LinesStartingIn), as an independent reckoning of the
// line starts says; the ranges that hold lines follow one another, and their
// lines, numbered within their piece, add up to the file's, blank lines, a
// line longer than several ranges (and than a read window) and a last line
// without a newline included; a range inside the long line comes out empty.
TEST(LineReaderTest, PiecesOfAFileGiveItsLinesWithTheirNumbers) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text += i % 7 == 3 ? "\n" : std::string(static_cast<size_t>(i % 37), 'x') + " line " + std::to_string(i) + "\n";
    if (i == 250) text += std::string(20000, 'y') + "\n";
  }
  text += "last line";
  // The file as it is, and ending with a newline.
  for (const bool trailing_newline : {false, true}) {
    SCOPED_TRACE(trailing_newline);
    const std::string content = text + (trailing_newline ? "\n" : "");
    const std::string path = dir / (trailing_newline ? "y.ndjson" : "x.ndjson");
    std::ofstream(path, std::ios::binary) << content;
    const auto first_start_at_or_after = FirstLineStartAtOrAfter(content);
    std::vector<std::pair<uint64_t, std::string>> whole;
    ASSERT_TRUE(ForEachLine(path, [&](uint64_t n, std::string_view line, size_t) {
                  whole.emplace_back(n, line);
                }).ok());
    for (uint64_t piece_bytes : {1, 10, 100, 1000, 5000, 100000}) {
      SCOPED_TRACE(piece_bytes);
      std::vector<std::pair<uint64_t, uint64_t>> pieces;
      size_t empty = 0;
      for (uint64_t nominal = 0; nominal < content.size(); nominal += piece_bytes) {
        Result<std::pair<uint64_t, uint64_t>> bytes =
            LinesStartingIn(path, content.size(), nominal, nominal + piece_bytes);
        ASSERT_TRUE(bytes.has_value());
        const uint64_t range_end = std::min<uint64_t>(nominal + piece_bytes, content.size());
        const uint64_t first = first_start_at_or_after(nominal);
        const std::pair<uint64_t, uint64_t> expected =
            first < range_end ? std::pair<uint64_t, uint64_t>(first, first_start_at_or_after(range_end))
                              : std::pair<uint64_t, uint64_t>(range_end, range_end);
        ASSERT_EQ(*bytes, expected) << "range at " << nominal;
        pieces.push_back(*bytes);
        if (bytes->first == bytes->second) ++empty;
      }
      if (piece_bytes <= 5000) {
        EXPECT_GT(empty, 0u);  // inside the long line
      }
      std::vector<std::pair<uint64_t, std::string>> joined;
      uint64_t before = 0, expected_begin = 0;
      for (const auto& [begin, end] : pieces) {
        uint64_t lines = 0;
        ASSERT_TRUE(
            ForEachLineInRange(
                path, begin, end,
                [&](uint64_t n, std::string_view line, size_t) { joined.emplace_back(before + n, line); },
                nullptr, &lines)
                .ok());
        if (begin == end) {
          EXPECT_EQ(lines, 0u);
          continue;
        }
        EXPECT_EQ(begin, expected_begin);
        expected_begin = end;
        before += lines;
      }
      EXPECT_EQ(expected_begin, content.size());
      EXPECT_EQ(joined, whole);
    }
  }
  const std::string path = dir / "x.ndjson";
  const auto first_start_at_or_after = FirstLineStartAtOrAfter(text);
  // A file shorter than the size given (cut since it was listed) is read as
  // far as it goes; one that cannot be opened is named.
  Result<std::pair<uint64_t, uint64_t>> cut = LinesStartingIn(path, text.size() + 100, 5, 10);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->first, first_start_at_or_after(5));
  EXPECT_EQ(cut->second, first_start_at_or_after(10));
  Result<std::pair<uint64_t, uint64_t>> tail =
      LinesStartingIn(path, text.size() + 100, text.size() - 3, text.size() + 50);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(tail->first, tail->second);
  // A range past the file's end (the file cut since) is refused, not read short.
  Status short_read =
      ForEachLineInRange(path, 0, text.size() + 10, [](uint64_t, std::string_view, size_t) {});
  ASSERT_FALSE(short_read.ok());
  EXPECT_THAT(short_read.message(), HasSubstr("x.ndjson: ends at byte " + std::to_string(text.size()) +
                                              ", before byte " + std::to_string(text.size() + 10)));
  Result<std::pair<uint64_t, uint64_t>> absent = LinesStartingIn(dir / "absent.ndjson", 100, 10, 20);
  ASSERT_FALSE(absent.has_value());
  EXPECT_THAT(absent.error().message(), HasSubstr("absent.ndjson: cannot open"));
}

// A plain file larger than a scan piece (8 MB) is read by several threads at
// once; the run must be the one that reads it whole (gzip: never split),
// malformed lines named by their line in the file.
TEST(ScreenTest, AFileScannedInPiecesGivesTheWholeFilesRun) {
  TempDir dir;
  fs::create_directories(dir / "plain");
  fs::create_directories(dir / "gzip");
  std::vector<std::string> encounters = Lines(ReadFile(BulkDir() + "/Encounter.000.ndjson"));
  std::string text;
  std::vector<uint64_t> bad_lines;
  uint64_t number = 0;
  while (text.size() < (size_t{9} << 20)) {
    for (size_t i = 0; i < encounters.size(); ++i) {
      if (i % 499 == 5) {
        text += "{\"resourceType\":\"Encounter\",\n";
        bad_lines.push_back(++number);
        text += "\n";
        ++number;
      }
      text += encounters[i] + "\n";
      ++number;
    }
  }
  std::ofstream(dir / "plain/Encounter.000.ndjson", std::ios::binary) << text;
  WriteGzip(dir / "gzip/Encounter.000.ndjson.gz", text);
  for (const std::string name : {"Patient.000.ndjson", "Condition.000.ndjson", "Procedure.000.ndjson"}) {
    fs::copy_file(BulkDir() + "/" + name, dir / ("plain/" + name));
    fs::copy_file(BulkDir() + "/" + name, dir / ("gzip/" + name));
  }
  ASSERT_TRUE(RunScreen({dir / "gzip"}, dir / "whole", 1).has_value());
  // Also shuffled: two map tasks, one of which reads the file's first piece
  // and the other its second (and the small files), numbering their
  // malformed lines in their pieces; the reduce tasks number them in the
  // file from both tasks' manifests.
  ASSERT_TRUE(RunShuffled({dir / "plain"}, dir / "shuffle-work", dir / "pieces-shuffled", 2, 2).ok());
  for (const std::string run : {"1", "2", "3", "shuffled"}) {
    const std::string out = dir / ("pieces-" + run);
    if (run != "shuffled") {
      Result<ScreenReport> report = RunScreen({dir / "plain"}, out, std::stoul(run));
      ASSERT_TRUE(report.has_value()) << report.error().message();
      EXPECT_EQ(report->malformed_lines, bad_lines.size());
    }
    // Byte-identical but for the input's name in run.json (the shuffled
    // run's run.json, of the same input, is the unshuffled one's).
    if (run == "shuffled") {
      EXPECT_EQ(ReadFile(out + "/run.json"), ReadFile(dir / "pieces-1/run.json"));
    }
    for (const std::string& name : kOutputFiles) {
      if (name == "run.json") continue;
      std::string whole = ReadFile(dir / ("whole/" + name));
      std::string pieces = ReadFile(out + "/" + name);
      for (size_t at; (at = whole.find("gzip/Encounter.000.ndjson.gz")) != std::string::npos;) {
        whole.replace(at, 28, "plain/Encounter.000.ndjson");
      }
      EXPECT_EQ(pieces, whole) << name;
    }
  }
  ASSERT_GT(bad_lines.size(), 10u);
  for (const std::string run : {"2", "shuffled"}) {
    std::vector<std::string> issues = Lines(ReadFile(dir / ("pieces-" + run + "/issues.ndjson")));
    ASSERT_EQ(issues.size(), bad_lines.size()) << run;
    for (size_t i = 0; i < issues.size(); ++i) {
      EXPECT_THAT(issues[i], HasSubstr("\"line\":" + std::to_string(bad_lines[i]) + ",")) << run;
    }
  }
  // The first piece's malformed lines and the second's were found by
  // different map tasks.
  std::set<uint32_t> tasks_with_issues;
  for (uint32_t map = 0; map < 2; ++map) {
    Result<MapManifest> manifest = MapManifest::FromJson(ReadFile(
        MapDirectory(dir / "shuffle-work/shuffle", map) + "/" + std::string(MapManifest::kFileName)));
    ASSERT_TRUE(manifest.has_value()) << manifest.error().message();
    if (!manifest->issues.empty()) tasks_with_issues.insert(map);
  }
  EXPECT_EQ(tasks_with_issues.size(), 2u);

  // A reduce refuses map tasks whose pieces do not cover each file once, end
  // to end: map task 1's manifest changed (map task 0 read the split file's
  // first piece, map task 1 its second).
  const std::string shuffle = dir / "shuffle-work/shuffle";
  const std::string manifest_path = MapDirectory(shuffle, 1) + "/" + std::string(MapManifest::kFileName);
  const std::string original = ReadFile(manifest_path);
  Result<MapManifest> map0 =
      MapManifest::FromJson(ReadFile(MapDirectory(shuffle, 0) + "/" + std::string(MapManifest::kFileName)));
  Result<MapManifest> map1 = MapManifest::FromJson(original);
  ASSERT_TRUE(map0.has_value() && map1.has_value());
  const auto split = [](MapManifest& manifest) -> PieceLines& {
    for (PieceLines& piece : manifest.pieces) {
      if (piece.of > 1) return piece;
    }
    throw std::logic_error("no split piece");
  };
  ASSERT_EQ(split(*map0).ordinal, 0u);
  ASSERT_EQ(split(*map1).ordinal, 1u);
  const auto reduce_with = [&](const std::function<void(MapManifest&)>& change) {
    MapManifest changed = *map1;
    change(changed);
    std::ofstream(manifest_path, std::ios::binary | std::ios::trunc) << changed.ToJson();
    ScreenOptions options = ShuffleOptions({dir / "plain"}, 2, size_t{512} << 20, 1);
    options.output_dir = dir / "refused";
    fs::remove_all(options.output_dir);
    Result<ScreenReport> reduced = ScreenReduce(options, ShuffleTask{shuffle, 0, 2});
    return reduced.has_value() ? std::string("accepted") : reduced.error().message();
  };
  const std::string encounters_path = dir / "plain/Encounter.000.ndjson";
  EXPECT_THAT(reduce_with([&](MapManifest& m) { std::erase_if(m.pieces, [](auto& p) { return p.of > 1; }); }),
              HasSubstr("input " + encounters_path + " (piece 1 of 2) was read by no map task"));
  EXPECT_THAT(reduce_with([&](MapManifest& m) { m.pieces.push_back(split(*map0)); }),
              HasSubstr("piece 0 of 2 of " + encounters_path + " is read twice or split otherwise"));
  EXPECT_THAT(reduce_with([&](MapManifest& m) {
                PieceLines& piece = split(m);
                piece.of = 1;
                piece.ordinal = 0;
              }),
              HasSubstr("is read twice or split otherwise"));
  EXPECT_THAT(
      reduce_with([&](MapManifest& m) { split(m).begin += 1; }),
      HasSubstr("the map tasks split input " + encounters_path + " otherwise (piece 1 of 2 begins at byte"));
  EXPECT_THAT(reduce_with([&](MapManifest& m) { split(m).end -= 1; }),
              HasSubstr("the map tasks' pieces of input " + encounters_path + " end at byte"));
  EXPECT_THAT(reduce_with([&](MapManifest& m) { split(m).of = 1000; }),
              HasSubstr("a map manifest splits " + encounters_path));
  EXPECT_THAT(
      reduce_with([&](MapManifest& m) { split(m).file = static_cast<uint32_t>(m.facts.inputs.size()); }),
      HasSubstr("a map manifest's piece names no input"));
  EXPECT_EQ(reduce_with([](MapManifest&) {}), "accepted");  // as written, it is read
  std::ofstream(manifest_path, std::ios::binary | std::ios::trunc) << original;
}

// A patient's lines are assessed in input order (file, then line), as
// `assess` reads a patient's own file, whatever order the scan met them in:
// the scan takes the largest file first, so here it meets the second file's
// Patient (updated in 2025, deceased) before the first file's (2024,
// alive); the record, refused for its two different copies, names them in
// input order.
TEST(ScreenTest, APatientsLinesAreAssessedInInputOrder) {
  TempDir dir;
  fs::create_directories(dir / "in");
  std::ofstream(dir / "in/Patient.000.ndjson")
      << R"({"resourceType":"Patient","id":"x","meta":{"lastUpdated":"2024-01-01T00:00:00Z"},"gender":"female"})"
      << "\n";
  std::string second =
      R"({"resourceType":"Patient","id":"x","meta":{"lastUpdated":"2025-01-01T00:00:00Z"},"gender":"female",)"
      R"("deceasedBoolean":true})";
  second += "\n";
  for (int i = 0; i < 200; ++i) {
    second +=
        R"({"resourceType":"Patient","id":"filler-)" + std::to_string(i) + R"(","gender":"male"})" + "\n";
  }
  std::ofstream(dir / "in/Patient.001.ndjson") << second;
  for (size_t memory : {size_t{512} << 20, size_t{64} << 10}) {  // held in memory, and spilled
    const std::string out = dir / ("out-" + std::to_string(memory));
    Result<ScreenReport> report = RunScreen({dir / "in"}, out, 1, memory);
    ASSERT_TRUE(report.has_value()) << report.error().message();
    std::vector<std::string> patients = Lines(ReadFile(out + "/patients.ndjson"));
    ASSERT_EQ(patients.size(), 201u);
    const auto x = std::find_if(patients.begin(), patients.end(), [](const std::string& line) {
      return line.find("\"Patient/x\"") != std::string::npos;
    });
    ASSERT_NE(x, patients.end());
    // Each named by its file and line in the export.
    EXPECT_THAT(*x, HasSubstr(dir / "in/Patient.000.ndjson:1 (updated 2024-01-01T00:00:00Z), " +
                              (dir / "in/Patient.001.ndjson:1 (updated 2025-01-01T00:00:00Z)")))
        << "memory " << memory;
  }
  // A copy in the second piece of a file read in pieces (over kPieceBytes),
  // after 9 MB of lines of no patient: its line in the file, not in the piece.
  fs::create_directories(dir / "pieces");
  fs::copy(dir / "in/Patient.000.ndjson", dir / "pieces/Patient.000.ndjson");
  {
    std::ofstream big(dir / "pieces/Patient.001.ndjson", std::ios::binary);
    const std::string filler =
        R"({"resourceType":"Organization","id":"o","name":")" + std::string(1000, 'x') + "\"}\n";
    for (int i = 0; i < 9000; ++i) big << filler;
    big << second;
  }
  ASSERT_GT(fs::file_size(dir / "pieces/Patient.001.ndjson"), kPieceBytes);
  for (size_t jobs : {1, 2}) {
    const std::string out = dir / ("pieces-out-" + std::to_string(jobs));
    ASSERT_TRUE(RunScreen({dir / "pieces"}, out, jobs).has_value());
    EXPECT_THAT(ReadFile(out + "/patients.ndjson"),
                HasSubstr(dir / "pieces/Patient.000.ndjson:1 (updated 2024-01-01T00:00:00Z), " +
                          (dir / "pieces/Patient.001.ndjson:9001 (updated 2025-01-01T00:00:00Z)")))
        << jobs;
  }
  // A shuffle's reduce task names them alike (its lines' pieces come from
  // the map tasks' manifests).
  const std::string shuffled = dir / "pieces-shuffled";
  ASSERT_TRUE(RunShuffled({dir / "pieces"}, dir / "pieces-work", shuffled, 2, 2).ok());
  ExpectSameOutput(dir / "pieces-out-1", shuffled);
}

TEST(ScreenTest, BadLinesGzipAndOrphansAreReportedNotFatal) {
  TempDir dir;
  fs::create_directories(dir / "in");
  // Line 1 of Condition and a line in the middle of Procedure are malformed;
  // MedicationRequest is compressed; one Observation names no patient.
  std::string conditions = ReadFile(BulkDir() + "/Condition.000.ndjson");
  std::ofstream(dir / "in/Condition.000.ndjson", std::ios::binary) << "{\"resourceType\":\"Condition\",\n" << conditions;
  std::vector<std::string> procedures = Lines(ReadFile(BulkDir() + "/Procedure.000.ndjson"));
  procedures.insert(procedures.begin() + 10, "not json");
  // Broken after its subject: routed to its patient, then found malformed (in
  // that patient's shard only when sharded).
  procedures[20].resize(procedures[20].size() - 2);
  std::string procedure_text;
  for (const std::string& line : procedures) procedure_text += line + "\n";
  std::ofstream(dir / "in/Procedure.000.ndjson", std::ios::binary) << procedure_text;
  WriteGzip(dir / "in/MedicationRequest.000.ndjson.gz", ReadFile(BulkDir() + "/MedicationRequest.000.ndjson"));
  for (const std::string name : {"Patient.000.ndjson", "AllergyIntolerance.000.ndjson", "Device.000.ndjson",
                                 "Encounter.000.ndjson", "Immunization.000.ndjson", "Organization.000.ndjson"}) {
    fs::copy_file(BulkDir() + "/" + name, dir / ("in/" + name));
  }
  std::ofstream(dir / "in/Observation.000.ndjson") << R"({"resourceType":"Observation","status":"final"})" << "\n";

  Result<ScreenReport> report = RunScreen({dir / "in"}, dir / "out", 2);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->patients, 13u);
  EXPECT_EQ(report->malformed_lines, 3u);
  std::vector<std::string> issues = Lines(ReadFile(dir / "out/issues.ndjson"));
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_THAT(issues[0], HasSubstr("Condition.000.ndjson\",\"line\":1,"));
  EXPECT_THAT(issues[1], HasSubstr("Procedure.000.ndjson\",\"line\":11,"));
  EXPECT_THAT(issues[2], HasSubstr("Procedure.000.ndjson\",\"line\":21,"));
  std::string summary = ReadFile(dir / "out/summary.json");
  EXPECT_THAT(summary, HasSubstr("\"naming_no_patient\": {\"Observation\": 1}"));
  EXPECT_THAT(summary, HasSubstr("\"malformed\": 3"));

  // Sharded, each shard checks only its own patients' lines fully; merged,
  // the issues, counts and everything else are the single run's.
  std::vector<std::string> shard_dirs;
  for (uint32_t shard = 0; shard < 3; ++shard) {
    shard_dirs.push_back(dir / ("shard-" + std::to_string(shard)));
    ASSERT_TRUE(RunScreen({dir / "in"}, shard_dirs.back(), 1, size_t{512} << 20, shard, 3).has_value());
  }
  ASSERT_TRUE(MergeShards(shard_dirs, dir / "merged").has_value());
  ExpectSameOutput(dir / "out", dir / "merged");
  // Shuffled, each map task checks the lines of its own files: the same.
  Status shuffled = RunShuffled({dir / "in"}, dir / "shuffled", dir / "shuffled-merged", 4, 3);
  ASSERT_TRUE(shuffled.ok()) << shuffled.message();
  ExpectSameOutput(dir / "out", dir / "shuffled-merged");

  // Without the bad lines, the same patients, but for the one whose Procedure was lost.
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "clean", 2).has_value());
  std::vector<std::string> with_bad = Lines(ReadFile(dir / "out/patients.ndjson"));
  std::vector<std::string> clean = Lines(ReadFile(dir / "clean/patients.ndjson"));
  ASSERT_EQ(with_bad.size(), clean.size());
  size_t differing = 0;
  for (size_t i = 0; i < clean.size(); ++i) differing += with_bad[i] != clean[i];
  EXPECT_LE(differing, 1u);

  // An unreadable input is named and fails the run, leaving no output behind.
  WriteGzip(dir / "in/Procedure.001.ndjson.gz", procedure_text);
  std::string compressed = ReadFile(dir / "in/Procedure.001.ndjson.gz");
  std::ofstream(dir / "in/Procedure.001.ndjson.gz", std::ios::binary | std::ios::trunc)
      << compressed.substr(0, compressed.size() / 2);
  Result<ScreenReport> failed = RunScreen({dir / "in"}, dir / "failed", 2);
  ASSERT_FALSE(failed.has_value());
  EXPECT_THAT(failed.error().message(), HasSubstr("Procedure.001.ndjson.gz"));
  EXPECT_FALSE(fs::exists(dir / "failed/patients.ndjson"));
  EXPECT_FALSE(fs::exists(dir / "failed/.partial"));
}

TEST(ScreenTest, SummaryMeasureReportAndGroupAgreeWithThePatientLines) {
  TempDir dir;
  ASSERT_TRUE(RunScreen({BulkDir()}, dir / "out", 2).has_value());
  simdjson::dom::parser parser;
  std::map<std::string, uint64_t> stages;
  std::vector<std::string> candidates;
  uint64_t deceased = 0;
  for (const std::string& line : Lines(ReadFile(dir / "out/patients.ndjson"))) {
    simdjson::dom::element root = parser.parse(line);
    bool dead = false;
    if (root["deceased"].get_bool().get(dead) == simdjson::SUCCESS && dead) {
      ++deceased;
      continue;
    }
    std::string stage = std::string(std::string_view(root["stage"]));
    ++stages[stage];
    if (stage == "regenerative-candidate") candidates.emplace_back(std::string_view(root["patient"]));
  }
  simdjson::dom::parser summary_parser;
  simdjson::dom::element summary = summary_parser.load(dir / "out/summary.json");
  EXPECT_EQ(uint64_t(summary["excluded"]["deceased"]), deceased);
  for (const auto& [stage, count] : stages) EXPECT_EQ(uint64_t(summary["stages"][stage]), count) << stage;
  simdjson::dom::parser group_parser;
  simdjson::dom::element group = group_parser.load(dir / "out/Group.json");
  EXPECT_EQ(std::string_view(group["resourceType"]), "Group");
  EXPECT_EQ(uint64_t(group["quantity"]), candidates.size());
  simdjson::dom::parser measure_parser;
  simdjson::dom::element measure = measure_parser.load(dir / "out/MeasureReport.json");
  EXPECT_EQ(std::string_view(measure["type"]), "summary");
  EXPECT_EQ(uint64_t(measure["group"].at(0)["population"].at(0)["count"]), 13 - deceased);
  // It reports on the Measure `regenpath kb export --fhir` writes (its
  // canonical URL and version), group and stratifiers named alike.
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Embedded();
  EXPECT_EQ(std::string_view(measure["measure"]),
            knowledge::CanonicalUrl("Measure", kb->name()) + "|" + kb->version());
  EXPECT_EQ(std::string_view(measure["group"].at(0)["code"]["text"]), knowledge::kScreeningGroup);
  std::vector<std::string_view> stratifiers, expected_stratifiers;
  for (simdjson::dom::element stratifier : measure["group"].at(0)["stratifier"].get_array())
    stratifiers.push_back(std::string_view(stratifier["code"].at(0)["text"]));
  for (const knowledge::ScreeningStratifier& stratifier : knowledge::ScreeningStratifiers())
    expected_stratifiers.push_back(stratifier.code);
  EXPECT_EQ(stratifiers, expected_stratifiers);
  // The CSV has a header and a row per patient.
  EXPECT_EQ(Lines(ReadFile(dir / "out/patients.csv")).size(), 14u);
  // Both FHIR resources validate against the FHIR R4 JSON schema.
  const std::string command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR +
                              "/tools/validate_json_schema.py " + REGENPATH_SHARED_DIR +
                              "/testdata/fhir-json-schema/fhir.schema.json " + (dir / "out/MeasureReport.json") + " " +
                              (dir / "out/Group.json");
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

// The clinical scenarios of tests/scenarios (one patient per Bundle, each
// with its expected stage), turned into one Bulk Data export of 81 patients:
// every patient gets the stage its scenario expects, and the Group lists
// exactly the regenerative candidates; both FHIR resources validate.
TEST(ScreenTest, ScenariosAsOneExportGiveTheirExpectedStages) {
  TempDir dir;
  fs::create_directories(dir / "export");
  const std::string scenarios = std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios";
  std::map<std::string, std::string> lines_by_type;
  std::map<std::string, std::string> expected_stage;  // "Patient/<id>" -> stage
  simdjson::dom::parser parser;
  std::vector<fs::path> bundles;
  for (const auto& entry : fs::directory_iterator(scenarios)) {
    if (entry.path().extension() == ".json") bundles.push_back(entry.path());
  }
  std::sort(bundles.begin(), bundles.end());
  ASSERT_GT(bundles.size(), 50u);
  for (const fs::path& bundle : bundles) {
    simdjson::dom::element root = parser.load(bundle.string());
    std::string patient;
    for (simdjson::dom::element entry : root["entry"].get_array()) {
      simdjson::dom::element resource = entry["resource"];
      std::string type = std::string(std::string_view(resource["resourceType"]));
      if (type == "Patient") patient = "Patient/" + std::string(std::string_view(resource["id"]));
      lines_by_type[type] += simdjson::to_string(resource) + "\n";
    }
    std::string expect = ReadFile(bundle.parent_path().string() + "/" + bundle.stem().string() + ".expect.yaml");
    size_t at = expect.find("\nstage: ");
    ASSERT_NE(at, std::string::npos) << bundle;
    expected_stage[patient] = expect.substr(at + 8, expect.find('\n', at + 1) - at - 8);
  }
  for (const auto& [type, text] : lines_by_type) std::ofstream(dir / ("export/" + type + ".ndjson")) << text;
  ScreenOptions options;
  options.inputs = {dir / "export"};
  options.now = *DateTime::ParseDateTime("2026-06-01");
  options.now_text = "2026-06-01";
  options.jobs = 2;
  options.output_dir = dir / "out";
  options.kb = knowledge::KnowledgeBase::Embedded();
  Result<ScreenReport> report = Screen(options);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->patients, expected_stage.size());
  // The worklist: candidates by stage with a regenerative option open for a
  // shared decision (recommended or consider); every scenario's patient has
  // a Patient resource, alive, with a valid id.
  std::set<std::string> candidates, closed;
  for (const std::string& line : Lines(ReadFile(dir / "out/patients.ndjson"))) {
    simdjson::dom::element item = parser.parse(line);
    std::string patient = std::string(std::string_view(item["patient"]));
    std::string stage = std::string(std::string_view(item["stage"]));
    EXPECT_EQ(stage, expected_stage[patient]) << patient;
    if (stage != "regenerative-candidate") continue;
    bool open = false;
    for (simdjson::dom::element option : item["regenerative_options"].get_array()) {
      const std::string_view status = option["status"];
      open = open || status == "recommended" || status == "consider";
    }
    (open ? candidates : closed).insert(patient);
  }
  EXPECT_GT(candidates.size(), 10u);
  // Every regenerative option contraindicated (platelet dysfunction): a
  // candidate by stage, on no worklist.
  EXPECT_EQ(closed.count("Patient/knee-oa-platelet-dysfunction"), 1u);
  const std::string summary = ReadFile(dir / "out/summary.json");
  EXPECT_THAT(summary,
              HasSubstr(fmt::format(R"("regenerative-candidate": {})", candidates.size() + closed.size())));
  EXPECT_THAT(summary, HasSubstr(fmt::format(R"("no_regenerative_option_open": {}, "inactive_record": 0, )"
                                             R"("no_patient_resource": 0, "invalid_id": 0)",
                                             closed.size())));
  EXPECT_THAT(ReadFile(dir / "out/summary.txt"),
              HasSubstr(fmt::format("and {} more whose stage offers regenerative options but none is open",
                                    closed.size())));
  simdjson::dom::parser group_parser;
  simdjson::dom::element group = group_parser.load(dir / "out/Group.json");
  std::set<std::string> members;
  for (simdjson::dom::element member : group["member"].get_array()) {
    members.insert(std::string(std::string_view(member["entity"]["reference"])));
  }
  EXPECT_EQ(members, candidates);
  EXPECT_EQ(uint64_t(group["quantity"]), candidates.size());
  // The same identifier every run (the worklist of this knowledge base); a name saying as of when.
  EXPECT_EQ(std::string_view(group["identifier"].at(0)["system"]), "urn:regenpath:worklist");
  EXPECT_EQ(std::string_view(group["identifier"].at(0)["value"]),
            options.kb->name() + "/regenerative-candidates");
  EXPECT_EQ(std::string_view(group["name"]), "regenerative candidates as of 2026-06-01 (" +
                                                 options.kb->name() + " " + options.kb->version() + ")");
  const std::string command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR +
                              "/tools/validate_json_schema.py " + REGENPATH_SHARED_DIR +
                              "/testdata/fhir-json-schema/fhir.schema.json " + (dir / "out/MeasureReport.json") + " " +
                              (dir / "out/Group.json");
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

// The worklist holds the candidates known to be alive, named by a valid id,
// in a record still in use: a candidate whose export has no Patient resource
// ("deceased": null) or whose id FHIR does not allow keeps its stage in
// patients.ndjson but is left out of the Group, counted in the summary; a
// record merged into another is left out of the counts too.
TEST(ScreenTest, ACandidateWithoutAPatientResourceIsOnNoWorklist) {
  // A candidate with regenerative options open (consider).
  const std::string kScenario = "disc-candidate-baseline-nrs-outdated";
  TempDir dir;
  simdjson::dom::parser parser;
  simdjson::dom::element bundle =
      parser.load(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/" + kScenario + ".json");
  std::map<std::string, std::string> with, without, invalid, replaced, inactive;  // resourceType -> NDJSON
  for (simdjson::dom::element entry : bundle["entry"].get_array()) {
    const std::string type = std::string(std::string_view(entry["resource"]["resourceType"]));
    const std::string line = simdjson::minify(entry["resource"]) + "\n";
    with[type] += line;
    if (type != "Patient") without[type] += line;
    // The patient's id made one FHIR does not allow (a space), references too.
    std::string renamed = line;
    for (const std::string from : {R"("id":")" + kScenario + '"', R"("Patient/)" + kScenario + '"'}) {
      for (size_t at; (at = renamed.find(from)) != std::string::npos;) {
        renamed.replace(at, from.size(),
                        from.substr(0, from.size() - kScenario.size() - 1) + R"(disc cand")");
      }
    }
    invalid[type] += renamed;
    // The record merged into another (Patient.link replaced-by).
    std::string merged = line;
    if (type == "Patient") {
      merged.insert(merged.rfind('}'),
                    R"(,"link":[{"other":{"reference":"Patient/survivor"},"type":"replaced-by"}])");
    }
    replaced[type] += merged;
    // The record not in active use (Patient.active false).
    std::string passive = line;
    if (type == "Patient") passive.insert(passive.rfind('}'), R"(,"active":false)");
    inactive[type] += passive;
  }
  ASSERT_THAT(invalid["Patient"], HasSubstr(R"("id":"disc cand")"));
  ASSERT_THAT(invalid["Condition"], HasSubstr(R"("Patient/disc cand")"));
  for (const auto& [name, by_type] :
       {std::pair{"with", with}, std::pair{"without", without}, std::pair{"invalid", invalid},
        std::pair{"replaced", replaced}, std::pair{"inactive", inactive}}) {
    fs::create_directories(dir / name);
    for (const auto& [type, text] : by_type)
      std::ofstream(dir / (std::string(name) + "/" + type + ".ndjson")) << text;
    ASSERT_TRUE(RunScreen({dir / name}, dir / (std::string(name) + "-out"), 1).has_value()) << name;
  }
  EXPECT_THAT(ReadFile(dir / "with-out/patients.ndjson"),
              AllOf(HasSubstr(R"("deceased":false,"stage":"regenerative-candidate","candidate":true)")));
  EXPECT_THAT(ReadFile(dir / "with-out/Group.json"), HasSubstr("Patient/" + kScenario));
  EXPECT_THAT(ReadFile(dir / "with-out/summary.json"),
              AllOf(HasSubstr(R"("regenerative_candidates": 1,)"), HasSubstr(R"("no_patient_resource": 0)")));

  EXPECT_THAT(ReadFile(dir / "without-out/patients.ndjson"),
              HasSubstr(R"("deceased":null,"stage":"regenerative-candidate","candidate":true)"));
  EXPECT_THAT(ReadFile(dir / "without-out/Group.json"),
              AllOf(Not(HasSubstr("Patient/")), HasSubstr(R"("quantity": 0)")));
  EXPECT_THAT(ReadFile(dir / "without-out/summary.json"),
              AllOf(HasSubstr(R"("regenerative_candidates": 0,)"), HasSubstr(R"("no_patient_resource": 1)")));
  EXPECT_THAT(ReadFile(dir / "without-out/summary.txt"), HasSubstr("1 more without a Patient resource"));

  // A candidate whose id is no FHIR id: its record has the issue, and the
  // Group (which a server would refuse with "Patient/knee oa" in it) leaves it out.
  EXPECT_THAT(
      ReadFile(dir / "invalid-out/patients.ndjson"),
      HasSubstr(R"("patient":"Patient/disc cand","deceased":false,"stage":"regenerative-candidate")"));
  EXPECT_THAT(ReadFile(dir / "invalid-out/Group.json"), Not(HasSubstr("Patient/")));
  EXPECT_THAT(ReadFile(dir / "invalid-out/summary.json"),
              AllOf(HasSubstr(R"("regenerative_candidates": 0,)"), HasSubstr(R"("invalid_id": 1)")));
  EXPECT_THAT(ReadFile(dir / "invalid-out/summary.txt"), HasSubstr("1 more whose id is not a valid FHIR id"));

  // A candidate whose record was merged into another (FHIR: must no longer be used).
  EXPECT_THAT(
      ReadFile(dir / "replaced-out/patients.ndjson"),
      HasSubstr(R"("deceased":false,"replaced_by":"Patient/survivor","stage":"regenerative-candidate")"));
  EXPECT_THAT(ReadFile(dir / "replaced-out/Group.json"), Not(HasSubstr("Patient/")));
  // The person is counted through the record that replaced it: this one is
  // excluded from the counts (a merged person would be counted twice), and
  // counted; not among the candidates left off the worklist, whose reasons
  // split the assessed candidates.
  EXPECT_THAT(ReadFile(dir / "replaced-out/summary.json"),
              AllOf(HasSubstr(R"("assessed": 0,)"),
                    HasSubstr(R"("excluded": {"deceased": 0, "replaced_record": 1, "unreadable_record": 0})"),
                    HasSubstr(R"("stages": {})"), HasSubstr(R"("regenerative_candidates": 0,)"),
                    HasSubstr(R"("candidates_not_in_group": {"no_regenerative_option_open": 0, )"
                              R"("inactive_record": 0, "no_patient_resource": 0, "invalid_id": 0})")));
  EXPECT_THAT(ReadFile(dir / "replaced-out/summary.txt"), HasSubstr("1 replaced by another record"));
  EXPECT_THAT(ReadFile(dir / "replaced-out/MeasureReport.json"), HasSubstr(R"("count": 0)"));

  // A candidate whose record is not in active use (Patient.active false:
  // FHIR says patient lists leave such records out): counted, on no worklist.
  EXPECT_THAT(
      ReadFile(dir / "inactive-out/patients.ndjson"),
      HasSubstr(R"("deceased":false,"active":false,"stage":"regenerative-candidate","candidate":true)"));
  EXPECT_THAT(ReadFile(dir / "inactive-out/patients.csv"),
              HasSubstr(",false,,false,regenerative-candidate,true,"));
  EXPECT_THAT(ReadFile(dir / "inactive-out/Group.json"), Not(HasSubstr("Patient/")));
  EXPECT_THAT(ReadFile(dir / "inactive-out/summary.json"),
              AllOf(HasSubstr(R"("assessed": 1,)"), HasSubstr(R"("regenerative_candidates": 0,)"),
                    HasSubstr(R"("inactive_record": 1, "no_patient_resource": 0)")));
  EXPECT_THAT(ReadFile(dir / "inactive-out/summary.txt"),
              HasSubstr("1 more whose record is not in active use"));
  EXPECT_THAT(ReadFile(dir / "with-out/patients.ndjson"), Not(HasSubstr(R"("active")")));
  EXPECT_THAT(
      ReadFile(dir / "with-out/summary.json"),
      AllOf(HasSubstr(R"("assessed": 1,)"), HasSubstr(R"("replaced_record": 0, "unreadable_record": 0})")));

  // A candidate by stage none of whose regenerative options is open (ACR/AF
  // 2019 against each for the knee): on no worklist, counted.
  simdjson::dom::element knee =
      parser.load(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/knee-oa-candidate.json");
  fs::create_directories(dir / "closed");
  std::map<std::string, std::string> closed;
  for (simdjson::dom::element entry : knee["entry"].get_array()) {
    closed[std::string(std::string_view(entry["resource"]["resourceType"]))] +=
        simdjson::minify(entry["resource"]) + "\n";
  }
  for (const auto& [type, text] : closed) std::ofstream(dir / ("closed/" + type + ".ndjson")) << text;
  ASSERT_TRUE(RunScreen({dir / "closed"}, dir / "closed-out", 1).has_value());
  EXPECT_THAT(ReadFile(dir / "closed-out/patients.ndjson"),
              AllOf(HasSubstr(R"("stage":"regenerative-candidate","candidate":true)"),
                    Not(HasSubstr(R"("status":"consider")")), Not(HasSubstr(R"("status":"recommended")"))));
  EXPECT_THAT(ReadFile(dir / "closed-out/Group.json"), HasSubstr(R"("quantity": 0)"));
  EXPECT_THAT(ReadFile(dir / "closed-out/summary.json"),
              AllOf(HasSubstr(R"("regenerative_candidates": 0,)"),
                    HasSubstr(R"("candidates_not_in_group": {"no_regenerative_option_open": 1, )")));
}

TEST(ScreenOptionsTest, SizesAndShards) {
  EXPECT_EQ(*ParseSize("512M"), size_t{512} << 20);
  EXPECT_EQ(*ParseSize("2G"), size_t{2} << 30);
  EXPECT_EQ(*ParseSize("1000"), 1000u);
  EXPECT_FALSE(ParseSize("12X").has_value());
  EXPECT_FALSE(ParseSize("M").has_value());
  EXPECT_FALSE(ParseSize("0").has_value());
  EXPECT_EQ(*ParseShard("2/5"), (std::pair<uint32_t, uint32_t>{2, 5}));
  EXPECT_FALSE(ParseShard("5/5").has_value());
  EXPECT_FALSE(ParseShard("1").has_value());
  EXPECT_FALSE(ParseShard("0/0").has_value());
  EXPECT_FALSE(ParseShard("1/2x").has_value());  // each number whole
  EXPECT_FALSE(ParseShard("1x/2").has_value());
  EXPECT_FALSE(ParseShard("/2").has_value());
  EXPECT_FALSE(ParseSize("99999999999999G").has_value());  // overflows
}

}  // namespace
}  // namespace regenpath::screen
