// Tests of the `regenpath` executable against shared/spec/cli.md: each test
// runs the built binary (REGENPATH_BINARY) in a child process and checks its
// stdout, stderr and exit code.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "simdjson.h"

extern char** environ;

namespace regenpath::cli {
namespace {

namespace fs = std::filesystem;

// Skips a test that exposes a known bug in src/ (described in the skip
// message) unless REGENPATH_RUN_KNOWN_BUGS is set in the environment.
#define SKIP_KNOWN_BUG(description) \
  if (std::getenv("REGENPATH_RUN_KNOWN_BUGS") == nullptr) GTEST_SKIP() << "bug: " << description

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string DataDir() { return std::string(REGENPATH_SOURCE_DIR) + "/tests/cli/data"; }
std::string Data(const std::string& name) { return DataDir() + "/" + name; }
std::string SharedDir() { return REGENPATH_SHARED_DIR; }

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended the process, or 0
  bool timed_out = false;
  std::string out;
  std::string err;

  std::vector<std::string> OutLines() const { return Lines(out); }
  std::vector<std::string> ErrLines() const { return Lines(err); }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    std::string line;
    while (std::getline(stream, line)) lines.push_back(line);
    return lines;
  }
};

std::ostream& operator<<(std::ostream& os, const RunResult& result) {
  return os << "exit " << result.exit_code
            << (result.signal ? " signal " + std::to_string(result.signal) : "")
            << (result.timed_out ? " (timed out)" : "") << "\n--- stdout ---\n"
            << result.out.substr(0, 2000) << "\n--- stderr ---\n"
            << result.err.substr(0, 2000);
}

// Runs `regenpath args...` with `input` on stdin; kills it after `timeout`.
RunResult RunRegenpath(const std::vector<std::string>& args, const std::string& input = "",
                       std::chrono::seconds timeout = std::chrono::seconds(120)) {
  RunResult result;
  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
    posix_spawn_file_actions_addclose(&actions, fd);
  }
  std::vector<std::string> argv_strings = {REGENPATH_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawn_error = posix_spawn(&pid, REGENPATH_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_error != 0) {
    ADD_FAILURE() << "posix_spawn " << REGENPATH_BINARY << ": " << std::strerror(spawn_error);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }
  // Feed stdin and drain both outputs together so no pipe fills up.
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  int stdin_fd = in_pipe[1];
  if (input.empty()) {
    close(stdin_fd);
    stdin_fd = -1;
  } else {
    fcntl(stdin_fd, F_SETFL, O_NONBLOCK);
  }
  bool out_open = true;
  bool err_open = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_open || err_open) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
    if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
    if (stdin_fd >= 0) fds.push_back({stdin_fd, POLLOUT, 0});
    if (std::chrono::steady_clock::now() > deadline) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    for (const pollfd& fd : fds) {
      if (fd.revents == 0) continue;
      if (fd.fd == stdin_fd) {
        ssize_t count = write(stdin_fd, input.data() + written, input.size() - written);
        if (count > 0) written += static_cast<size_t>(count);
        if (count < 0 && errno != EAGAIN) written = input.size();
        if (written == input.size()) {
          close(stdin_fd);
          stdin_fd = -1;
        }
        continue;
      }
      char buffer[65536];
      ssize_t count = read(fd.fd, buffer, sizeof(buffer));
      std::string& target = fd.fd == out_pipe[0] ? result.out : result.err;
      if (count > 0) {
        target.append(buffer, static_cast<size_t>(count));
      } else if (count == 0 || errno != EAGAIN) {
        (fd.fd == out_pipe[0] ? out_open : err_open) = false;
      }
    }
  }
  if (stdin_fd >= 0) close(stdin_fd);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// A scratch directory for generated inputs, removed afterwards.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/regenpath-cli-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// JSON with object members sorted by key, for comparing documents whose
// member order may differ. Numbers compare by their double value.
std::string Canonical(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      std::vector<std::pair<std::string, std::string>> members;
      for (auto [key, value] : element.get_object()) members.emplace_back(std::string(key), Canonical(value));
      std::sort(members.begin(), members.end());
      std::string out = "{";
      for (size_t index = 0; index < members.size(); ++index) {
        if (index > 0) out += ",";
        out += "\"" + members[index].first + "\":" + members[index].second;
      }
      return out + "}";
    }
    case simdjson::dom::element_type::ARRAY: {
      std::string out = "[";
      bool first = true;
      for (simdjson::dom::element item : element.get_array()) {
        if (!first) out += ",";
        first = false;
        out += Canonical(item);
      }
      return out + "]";
    }
    default:
      return simdjson::minify(element);
  }
}

// The canonical form of `json`, or "<not JSON: ...>".
std::string CanonicalJson(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  if (parser.parse(json).get(element) != simdjson::SUCCESS) return "<not JSON: " + json.substr(0, 200) + ">";
  return Canonical(element);
}

// Checks the failure contract: exit `code`, nothing on stdout, one line on
// stderr that contains each of `parts`, no crash.
void ExpectFailure(const RunResult& result, int code, const std::vector<std::string>& parts) {
  EXPECT_EQ(result.signal, 0) << result;
  EXPECT_EQ(result.exit_code, code) << result;
  EXPECT_EQ(result.out, "") << result;
  std::vector<std::string> lines = result.ErrLines();
  ASSERT_EQ(lines.size(), 1u) << "stderr must be one line\n" << result;
  for (const std::string& part : parts) EXPECT_THAT(lines[0], HasSubstr(part)) << result;
}

// ---------------------------------------------------------------------------
// Results

TEST(CliFhirpathTest, OneLinePerFileInOrder) {
  RunResult result = RunRegenpath(
      {"fhirpath", "Patient.name.given", Data("patient.json"), Data("patient2.json"), Data("patient.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.err, "");
  std::vector<std::string> lines = result.OutLines();
  ASSERT_EQ(lines.size(), 3u) << result;
  EXPECT_EQ(CanonicalJson(lines[0]), R"(["Peter","James","Jim"])");
  EXPECT_EQ(CanonicalJson(lines[1]), R"(["Ann"])");
  EXPECT_EQ(CanonicalJson(lines[2]), R"(["Peter","James","Jim"])");
}

TEST(CliFhirpathTest, EmptyResultIsAnEmptyArray) {
  RunResult result =
      RunRegenpath({"fhirpath", "Patient.name.where(family = 'Nobody')", Data("patient.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(CanonicalJson(result.out), "[]");
  EXPECT_EQ(result.OutLines().size(), 1u);
}

TEST(CliFhirpathTest, JsonFormOfEachKind) {
  struct Case {
    std::string expression;
    std::string expected;  // canonical JSON
  };
  const std::vector<Case> cases = {
      {"true", "[true]"},
      {"1 + 1", "[2]"},
      {"1.50", "[1.5]"},
      {"'é中\"'", R"(["é中\""])"},
      {"@2024-01-01", R"(["2024-01-01"])"},
      {"@2024-01-01T10:00:00.000+01:00", R"(["2024-01-01T10:00:00.000+01:00"])"},
      {"@T10:30", R"(["10:30"])"},
      {"1.5 'mg'", R"([{"unit":"mg","value":1.5}])"},
      {"Patient.gender", R"(["male"])"},
      {"Patient.birthDate", R"(["1974-12-25"])"},
      {"Patient.active", "[true]"},
      {"Patient.name[1]", R"([{"family":"Windsor","given":["Jim"],"use":"maiden"}])"},
      {"Patient.telecom.rank", "[1]"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.expression);
    RunResult result = RunRegenpath({"fhirpath", test.expression, Data("patient.json")});
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(CanonicalJson(result.out), test.expected) << result.out;
  }
}

TEST(CliFhirpathTest, DecimalsKeepTheirTextInJson) {
  RunResult result = RunRegenpath(
      {"fhirpath", "Observation.value.value | 1.50 | (1.50 'mg').value", Data("observation.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "[1.50]\n");
}

TEST(CliFhirpathTest, ChoiceElementsPrintUnderTheirTypedName) {
  RunResult result = RunRegenpath({"fhirpath", "Observation.component[0]", Data("observation.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(
      CanonicalJson(result.out),
      CanonicalJson(R"([{"code":{"coding":[{"system":"http://loinc.org","code":"26464-8"}],"text":"WBC"},
              "valueQuantity":{"value":5.2,"unit":"10*3/uL","system":"http://unitsofmeasure.org","code":"10*3/uL"}}])"));
  EXPECT_THAT(result.out, HasSubstr("\"valueQuantity\""));
}

// Printing a whole resource gives back its JSON: choice names, `_name`
// parts and null alignment restored, decimals as written.
class RoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTripTest, ResourcePrintsAsItsJson) {
  const std::string path = GetParam();
  RunResult result = RunRegenpath({"fhirpath", "%resource", path});
  ASSERT_EQ(result.exit_code, 0) << result;
  ASSERT_EQ(result.OutLines().size(), 1u);
  EXPECT_EQ(CanonicalJson(result.out), "[" + CanonicalJson(ReadFile(path)) + "]");
}

INSTANTIATE_TEST_SUITE_P(
    Files, RoundTripTest,
    ::testing::Values(std::string(REGENPATH_SOURCE_DIR) + "/tests/fhir/data/patient-extensions.json",
                      std::string(REGENPATH_SOURCE_DIR) + "/tests/cli/data/patient.json",
                      std::string(REGENPATH_SOURCE_DIR) + "/tests/cli/data/observation.json",
                      std::string(REGENPATH_SHARED_DIR) + "/testdata/hl7-r4-examples/Patient-example.json",
                      std::string(REGENPATH_SHARED_DIR) +
                          "/testdata/hl7-r4-examples/Observation-example.json",
                      std::string(REGENPATH_SHARED_DIR) + "/testdata/hl7-r4-examples/Questionnaire-3141.json",
                      std::string(REGENPATH_SHARED_DIR) + "/testdata/hl7-r4-examples/Bundle-father.json"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = fs::path(info.param).stem().string();
      std::string safe;
      for (char c : name) safe += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return safe;
    });

TEST(CliFhirpathTest, TypedOutputInTheSuiteForm) {
  struct Case {
    std::string expression;
    std::string expected;  // canonical JSON
  };
  const std::vector<Case> cases = {
      {"true", R"([{"type":"boolean","value":"true"}])"},
      {"4", R"([{"type":"integer","value":"4"}])"},
      {"1.50000000", R"([{"type":"decimal","value":"1.50000000"}])"},
      {"'abc'", R"([{"type":"string","value":"abc"}])"},
      {"@1974-01-01", R"([{"type":"date","value":"@1974-01-01"}])"},
      {"@1973-12-25T00:00:01.000+10:00", R"([{"type":"dateTime","value":"@1973-12-25T00:00:01.000+10:00"}])"},
      {"@T10:30:00", R"([{"type":"time","value":"@T10:30:00"}])"},
      {"1 'cm'", R"([{"type":"Quantity","value":"1 'cm'"}])"},
      {"Patient.gender", R"([{"type":"code","value":"male"}])"},
      {"Patient.id", R"([{"type":"id","value":"example"}])"},
      {"Patient.birthDate", R"([{"type":"date","value":"@1974-12-25"}])"},
      {"Patient.active", R"([{"type":"boolean","value":"true"}])"},
      {"Patient.telecom.rank", R"([{"type":"positiveInt","value":"1"}])"},
      {"Patient.name.given.first() | 2",
       R"([{"type":"string","value":"Peter"},{"type":"integer","value":"2"}])"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.expression);
    RunResult result = RunRegenpath({"fhirpath", "--typed", test.expression, Data("patient.json")});
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(CanonicalJson(result.out), test.expected) << result.out;
  }
}

TEST(CliFhirpathTest, TypedComplexElementIsItsJson) {
  RunResult result = RunRegenpath({"fhirpath", "--typed", "Patient.name[1]", Data("patient.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  simdjson::dom::parser parser;
  simdjson::dom::element output;
  ASSERT_EQ(parser.parse(result.out).get(output), simdjson::SUCCESS) << result.out;
  simdjson::dom::array items = output.get_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(std::string_view(items.at(0)["type"].get_string()), "HumanName");
  std::string value(std::string_view(items.at(0)["value"].get_string()));
  EXPECT_EQ(CanonicalJson(value), R"({"family":"Windsor","given":["Jim"],"use":"maiden"})");
}

TEST(CliFhirpathTest, ReadsStdinWithoutFile) {
  RunResult result = RunRegenpath({"fhirpath", "Patient.id"}, ReadFile(Data("patient2.json")));
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(CanonicalJson(result.out), R"(["second"])");
  EXPECT_EQ(result.OutLines().size(), 1u);
}

TEST(CliFhirpathTest, DashReadsStdin) {
  RunResult result =
      RunRegenpath({"fhirpath", "Patient.id", Data("patient.json"), "-"}, ReadFile(Data("patient2.json")));
  ASSERT_EQ(result.exit_code, 0) << result;
  std::vector<std::string> lines = result.OutLines();
  ASSERT_EQ(lines.size(), 2u) << result;
  EXPECT_EQ(CanonicalJson(lines[0]), R"(["example"])");
  EXPECT_EQ(CanonicalJson(lines[1]), R"(["second"])");
}

TEST(CliFhirpathTest, NdjsonAndBundles) {
  // NDJSON: each line is its own resource, with one line of output (the
  // blank line in the middle is not a resource and prints nothing).
  RunResult ndjson = RunRegenpath({"fhirpath", "Patient.name.given", Data("patients.ndjson")});
  ASSERT_EQ(ndjson.exit_code, 0) << ndjson;
  ASSERT_EQ(ndjson.OutLines().size(), 2u) << ndjson;
  EXPECT_EQ(CanonicalJson(ndjson.OutLines()[0]), R"(["A"])");
  EXPECT_EQ(CanonicalJson(ndjson.OutLines()[1]), R"(["B","C"])");

  const std::string bundle = SharedDir() +
                             "/testdata/synthea/r4-bundles-pain-subset/"
                             "Antonio_Castellanos_6d2eba67-5b4a-403f-a29f-e6da3f1ea963.json";
  RunResult resolved = RunRegenpath(
      {"fhirpath", "Bundle.entry.resource.ofType(Observation).first().subject.resolve().name.family",
       bundle});
  ASSERT_EQ(resolved.exit_code, 0) << resolved;
  EXPECT_EQ(CanonicalJson(resolved.out), R"(["Castellanos"])");
}

// A malformed NDJSON line is reported with file:line and skipped, the same
// rule for the first line as for any other, with an empty output line (so
// that output lines still match the input's non-blank lines); the good lines
// are all evaluated and the exit code (3) says that something was skipped.
TEST(CliFhirpathTest, BadNdjsonLinesAreSkippedOnEveryLine) {
  TempDir dir;
  const std::string good = R"({"resourceType":"Patient","id":"p1"})";
  const std::string good2 = R"({"resourceType":"Patient","id":"p2"})";
  const std::string truncated = R"({"resourceType":"Patient","id":)";
  struct Case {
    std::string name;
    std::string text;
    std::vector<std::string> out;
    std::vector<int> bad_lines;
  };
  const std::vector<Case> cases = {
      {"first.ndjson", truncated + "\n" + good + "\n" + good2 + "\n", {"", R"(["p1"])", R"(["p2"])"}, {1}},
      {"middle.ndjson", good + "\n" + truncated + "\n" + good2 + "\n", {R"(["p1"])", "", R"(["p2"])"}, {2}},
      {"last.ndjson", good + "\n" + good2 + "\nnot json\n", {R"(["p1"])", R"(["p2"])", ""}, {3}},
      // Not named .ndjson: recognised by its lines, even with line 1 bad.
      {"first.txt", "not json at all\n" + good + "\n" + good2 + "\n", {"", R"(["p1"])", R"(["p2"])"}, {1}},
      {"clean.ndjson", good + "\n" + good2 + "\n", {R"(["p1"])", R"(["p2"])"}, {}},
      // Files that each began with a byte-order mark, concatenated, one of
      // them empty: a mark is no part of a line, a line of a mark is blank.
      {"marks.ndjson",
       "\xEF\xBB\xBF" + good + "\n\xEF\xBB\xBF\n\xEF\xBB\xBF" + good2 + "\n",
       {R"(["p1"])", R"(["p2"])"},
       {}},
  };
  for (const Case& c : cases) {
    const std::string path = dir.path() + "/" + c.name;
    std::ofstream(path) << c.text;
    RunResult result = RunRegenpath({"fhirpath", "Patient.id", path});
    EXPECT_EQ(result.exit_code, c.bad_lines.empty() ? 0 : 3) << c.name << result;
    std::vector<std::string> lines = result.OutLines();
    ASSERT_EQ(lines.size(), c.out.size()) << c.name << result;
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(c.out[i].empty() ? lines[i] : CanonicalJson(lines[i]), c.out[i]) << c.name;
    }
    for (int bad : c.bad_lines) {
      // FILE:LINE: then the place within the line as a column, as screen
      // names a line (not FILE:LINE:1:C, which reads as a line and column).
      EXPECT_THAT(result.err,
                  ::testing::ContainsRegex(path + ":" + std::to_string(bad) + ": (column [0-9]+: )?[a-z]"))
          << c.name << result;
      EXPECT_THAT(result.err, Not(HasSubstr(path + ":" + std::to_string(bad) + ":1:"))) << c.name << result;
    }
    EXPECT_EQ(result.ErrLines().size(), c.bad_lines.size()) << c.name << result;
  }
}

// A Bulk Data export's .ndjson.gz is read as its NDJSON: a line of output
// per line, a bad line named with its number, blank lines counted; a
// truncated file is named.
TEST(CliFhirpathTest, GzipNdjsonIsReadAsItsNdjson) {
  TempDir dir;
  auto write_gzip = [](const std::string& path, const std::string& content) {
    gzFile file = gzopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    ASSERT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())),
              static_cast<int>(content.size()));
    gzclose(file);
  };
  const std::string path = dir.path() + "/Patient.000.ndjson.gz";
  write_gzip(path, R"({"resourceType":"Patient","id":"p1"})"
                   "\n\n"
                   R"({"resourceType":"Patient","id":)"
                   "\n"
                   R"({"resourceType":"Patient","id":"p2"})"
                   "\n");
  RunResult result = RunRegenpath({"fhirpath", "Patient.id", path});
  EXPECT_EQ(result.exit_code, 3) << result;
  std::vector<std::string> lines = result.OutLines();
  ASSERT_EQ(lines.size(), 3u) << result;
  EXPECT_EQ(CanonicalJson(lines[0]), R"(["p1"])");
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(CanonicalJson(lines[2]), R"(["p2"])");
  EXPECT_THAT(result.err, HasSubstr(path + ":3: ")) << result;

  const std::string truncated = dir.path() + "/cut.ndjson.gz";
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  RunResult cut = RunRegenpath({"fhirpath", "Patient.id", truncated});
  EXPECT_EQ(cut.exit_code, 3) << cut;
  EXPECT_THAT(cut.err, HasSubstr("cut.ndjson.gz")) << cut;
}

TEST(CliFhirpathTest, BuiltInVariables) {
  RunResult result = RunRegenpath(
      {"fhirpath", "%resource.id | %rootResource.id | %context.id | %ucum", Data("patient.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(CanonicalJson(result.out), R"(["example","http://unitsofmeasure.org"])");
}

struct EnvCase {
  std::vector<std::string> env;
  std::string expression;
  std::string expected;
};

const std::vector<EnvCase>& EnvCases() {
  static const std::vector<EnvCase> cases = {
      {{"n=5"}, "%n + 1", "[6]"},
      {{"d=1.50"}, "%d", "[1.50]"},
      {{"s=\"abc\""}, "%s.upper()", R"(["ABC"])"},
      {{"b=true"}, "%b and Patient.active", "[true]"},
      {{"xs=[1,2,3]"}, "%xs.count() | %xs.aggregate($this + $total, 0)", "[3,6]"},
      {{"names=[\"Jim\",\"Peter\"]"}, "Patient.name.given.where($this in %names)", R"(["Peter","Jim"])"},
      {{"pt={\"resourceType\":\"Patient\",\"id\":\"env\",\"name\":[{\"family\":\"Env\"}]}"},
       "%pt.name.family | %pt.id",
       R"(["Env","env"])"},
      {{"a=1", "b=2"}, "%a + %b", "[3]"},
      {{"eq=\"x=y\""}, "%eq", R"(["x=y"])"},
  };
  return cases;
}

void CheckEnvCases(bool options_first) {
  for (const EnvCase& test : EnvCases()) {
    SCOPED_TRACE(test.expression);
    std::vector<std::string> env_args;
    for (const std::string& env : test.env) {
      env_args.push_back("--env");
      env_args.push_back(env);
    }
    std::vector<std::string> args = {"fhirpath"};
    if (options_first) args.insert(args.end(), env_args.begin(), env_args.end());
    args.push_back(test.expression);
    args.push_back(Data("patient.json"));
    if (!options_first) args.insert(args.end(), env_args.begin(), env_args.end());
    RunResult result = RunRegenpath(args);
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(CanonicalJson(result.out), CanonicalJson(test.expected)) << result.out;
    if (test.expected.find("1.50") != std::string::npos) {
      EXPECT_EQ(result.out, test.expected + "\n");
    }
  }
}

TEST(CliFhirpathTest, EnvVariablesBeforeTheExpression) {
  // The order of the usage line in shared/spec/cli.md.
  CheckEnvCases(/*options_first=*/true);
}

TEST(CliFhirpathTest, EnvVariablesAfterTheFiles) { CheckEnvCases(/*options_first=*/false); }

TEST(CliFhirpathTest, BadEnvIsAnError) {
  for (std::string env : {"novalue", "=5", "x={", "x=[1,", "x={\"id\":\"no-type\"}", "x=[{\"a\":1}]"}) {
    SCOPED_TRACE(env);
    RunResult result = RunRegenpath({"fhirpath", "1", Data("patient.json"), "--env", env});
    EXPECT_EQ(result.signal, 0) << result;
    // A bad option value: a usage error (2) or invalid input (3).
    EXPECT_TRUE(result.exit_code == 2 || result.exit_code == 3) << result;
    EXPECT_EQ(result.out, "") << result;
    ASSERT_EQ(result.ErrLines().size(), 1u) << result;
    EXPECT_THAT(result.err, HasSubstr("--env")) << result;
  }
}

TEST(CliFhirpathTest, NowFixesTodayAndNow) {
  RunResult date =
      RunRegenpath({"fhirpath", "--now", "2024-02-29", "today() | (today() + 1 year)", Data("patient.json")});
  ASSERT_EQ(date.exit_code, 0) << date;
  EXPECT_EQ(CanonicalJson(date.out), R"(["2024-02-29","2025-02-28"])");
  RunResult date_time = RunRegenpath({"fhirpath", "--typed", "--now", "2024-02-29T23:30:00.000-05:00",
                                      "now() | today()", Data("patient.json")});
  ASSERT_EQ(date_time.exit_code, 0) << date_time;
  EXPECT_EQ(
      CanonicalJson(date_time.out),
      R"([{"type":"dateTime","value":"@2024-02-29T23:30:00.000-05:00"},{"type":"date","value":"@2024-02-29"}])");
  RunResult bad = RunRegenpath({"fhirpath", "--now", "yesterday", "today()", Data("patient.json")});
  ExpectFailure(bad, 2, {"yesterday"});
}

// ---------------------------------------------------------------------------
// Exit codes and error lines

TEST(CliExitCodeTest, HelpExitsZero) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"}, {"fhirpath", "--help"}, {"fhirpath", "-h"}}) {
    RunResult result = RunRegenpath(args);
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_THAT(result.out + result.err, HasSubstr("fhirpath")) << result;
  }
  RunResult result = RunRegenpath({"fhirpath", "--help"});
  EXPECT_THAT(result.out, HasSubstr("--typed"));
  EXPECT_THAT(result.out, HasSubstr("--env"));
}

TEST(CliExitCodeTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"fhirpath"},
           {"fhirpath", "--bogus", "Patient.id", "x.json"},
           {"fhirpath", "--env"},
           {"no-such-command"},
           // An unknown subcommand with --help must not print the general help and exit 0 (issue 13;
           // `registry` itself is a command now, so a misspelling of it).
           {"registri", "--help"},
           {"registry", "bogus", "--help"},
           {"no-such-command", "-h"},
           {"kb", "bogus", "--help"},
       }) {
    std::string joined;
    for (const std::string& arg : args) joined += arg + " ";
    SCOPED_TRACE(joined);
    RunResult result = RunRegenpath(args);
    EXPECT_EQ(result.signal, 0) << result;
    EXPECT_EQ(result.exit_code, 2) << result;
    EXPECT_EQ(result.out, "") << result;
    EXPECT_FALSE(result.err.empty()) << result;
  }
  RunResult unknown = RunRegenpath({"registri", "--help"});
  EXPECT_THAT(unknown.err, HasSubstr("unknown subcommand 'registri'"));
  RunResult known = RunRegenpath({"registry", "--help"});
  EXPECT_EQ(known.exit_code, 0) << known;
  EXPECT_THAT(known.out, HasSubstr("The outcomes registry"));
}

TEST(CliExitCodeTest, MissingFileExitsThree) {
  const std::string path = DataDir() + "/no-such-file.json";
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", path}), 3, {path});
}

TEST(CliExitCodeTest, DirectoryExitsThree) {
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", DataDir()}), 3, {DataDir()});
}

TEST(CliExitCodeTest, UnreadableFileExitsThree) {
  if (geteuid() == 0) GTEST_SKIP() << "root can read any file";
  TempDir dir;
  std::string path = dir.Write("secret.json", R"({"resourceType":"Patient"})");
  chmod(path.c_str(), 0);
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", path}), 3, {path});
}

TEST(CliExitCodeTest, NotJsonExitsThree) {
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", Data("not-json.txt")}), 3, {"not-json.txt"});
}

TEST(CliExitCodeTest, EmptyFileExitsThree) {
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", Data("empty.json")}), 3, {"empty.json"});
}

TEST(CliExitCodeTest, TruncatedJsonNamesLineAndColumn) {
  RunResult result = RunRegenpath({"fhirpath", "Patient.id", Data("truncated.json")});
  ExpectFailure(result, 3, {"truncated.json"});
  EXPECT_THAT(result.err, ::testing::ContainsRegex("truncated\\.json:[0-9]+:[0-9]+"));
}

TEST(CliExitCodeTest, NotFhirExitsThree) {
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", Data("array.json")}), 3, {"array.json"});
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", Data("no-resource-type.json")}), 3,
                {"no-resource-type.json", "resourceType"});
}

TEST(CliExitCodeTest, BadStdinExitsThree) {
  RunResult result = RunRegenpath({"fhirpath", "Patient.id"}, "{ not json");
  ExpectFailure(result, 3, {"stdin"});
}

TEST(CliExitCodeTest, SyntaxErrorExitsThree) {
  RunResult result = RunRegenpath({"fhirpath", "Patient.name.where(", Data("patient.json")});
  ExpectFailure(result, 3, {"syntax error", "line 1, column"});
}

TEST(CliExitCodeTest, SyntaxErrorWithoutInputExitsThree) {
  ExpectFailure(RunRegenpath({"fhirpath", "1 +"}, ReadFile(Data("patient.json"))), 3, {"syntax error"});
}

TEST(CliExitCodeTest, SemanticErrorExitsThree) {
  RunResult result = RunRegenpath({"fhirpath", "name.given1", Data("patient.json")});
  ExpectFailure(result, 3, {"patient.json", "semantic error", "given1"});
}

TEST(CliExitCodeTest, PathAboutAnotherResourceTypeExitsThree) {
  ExpectFailure(RunRegenpath({"fhirpath", "Observation.status", Data("patient.json")}), 3,
                {"patient.json", "Observation"});
}

TEST(CliExitCodeTest, LenientSkipsTheElementCheck) {
  RunResult result = RunRegenpath({"fhirpath", "--lenient", "name.given1", Data("patient.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(CanonicalJson(result.out), "[]");
  EXPECT_EQ(result.err, "");
}

TEST(CliExitCodeTest, StrictChecksOrderedFunctions) {
  ExpectFailure(RunRegenpath({"fhirpath", "--strict", "Patient.children().first()", Data("patient.json")}), 3,
                {"semantic error"});
  RunResult relaxed = RunRegenpath({"fhirpath", "Patient.children().first().exists()", Data("patient.json")});
  EXPECT_EQ(relaxed.exit_code, 0) << relaxed;
}

TEST(CliExitCodeTest, EvaluationErrorExitsFour) {
  RunResult result = RunRegenpath({"fhirpath", "Patient.name.given.single()", Data("patient.json")});
  ExpectFailure(result, 4, {"patient.json", "single()"});
}

TEST(CliExitCodeTest, EvaluationErrorOnStdinNamesStdin) {
  RunResult result =
      RunRegenpath({"fhirpath", "Patient.name.given.single()"}, ReadFile(Data("patient.json")));
  ExpectFailure(result, 4, {"stdin", "single()"});
}

TEST(CliExitCodeTest, FailureAfterGoodFilesPrintsOnlyCompleteLines) {
  RunResult result = RunRegenpath(
      {"fhirpath", "Patient.id", Data("patient.json"), Data("not-json.txt"), Data("patient2.json")});
  EXPECT_EQ(result.exit_code, 3) << result;
  for (const std::string& line : result.OutLines())
    EXPECT_EQ(CanonicalJson(line), R"(["example"])") << result;
  EXPECT_TRUE(result.out.empty() || result.out.back() == '\n');
  ASSERT_EQ(result.ErrLines().size(), 1u) << result;
  EXPECT_THAT(result.err, HasSubstr("not-json.txt"));
}

// ---------------------------------------------------------------------------
// No input may crash or hang the program.

std::string NestedJson(char open, size_t depth) {
  std::string text;
  for (size_t level = 0; level < depth; ++level) text += open == '{' ? "{\"a\":" : "[";
  text += "1";
  text.append(depth, open == '{' ? '}' : ']');
  return text;
}

TEST(CliRobustnessTest, DeeplyNestedArrayAtTheRootFailsCleanly) {
  TempDir dir;
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", dir.Write("nested.json", NestedJson('[', 100'000))}),
                3, {"nested.json"});
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", dir.Write("open.json", std::string(100'000, '{'))}),
                3, {"open.json"});
}

TEST(CliRobustnessTest, DeeplyNestedObjectsAtTheRootFailCleanly) {
  TempDir dir;
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", dir.Write("objects.json", NestedJson('{', 100'000))}),
                3, {"objects.json"});
}

TEST(CliRobustnessTest, DeeplyNestedElementThatIsReadFailsCleanly) {
  TempDir dir;
  std::string path =
      dir.Write("nested.json", R"({"resourceType":"Patient","extension":)" + NestedJson('[', 300) + "}");
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.extension.count()", path}), 3, {"nested.json"});
}

// ParseOptions::max_depth applies to the whole input: an element nested too
// deeply is refused whether the expression reads it or not (the parse checks
// what its filter skips, fuzz finding 14), cleanly, with the file named.
TEST(CliRobustnessTest, DeeplyNestedElementFailsCleanlyWhetherReadOrNot) {
  TempDir dir;
  std::string path = dir.Write(
      "nested.json", R"({"resourceType":"Patient","id":"x","extension":)" + NestedJson('[', 100'000) + "}");
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", path}), 3, {"nested.json", "deep"});
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.extension.count()", path}), 3, {"nested.json"});
}

TEST(CliRobustnessTest, BinaryGarbageFailsCleanly) {
  TempDir dir;
  std::string garbage;
  for (int index = 0; index < 4096; ++index) garbage += static_cast<char>((index * 7919) % 256);
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id", dir.Write("garbage.bin", garbage)}), 3,
                {"garbage.bin"});
  ExpectFailure(RunRegenpath({"fhirpath", "Patient.id",
                              dir.Write("utf8.json", "{\"resourceType\":\"Patient\",\"id\":\"\xC3\x28\"}")}),
                3, {"utf8.json"});
}

TEST(CliRobustnessTest, DeeplyNestedExpressionDoesNotCrash) {
  // 60,000 levels: a single argument may hold at most 128 KiB.
  for (size_t depth : {1'000u, 60'000u}) {
    SCOPED_TRACE(depth);
    std::string expression = std::string(depth, '(') + "1" + std::string(depth, ')');
    RunResult result = RunRegenpath({"fhirpath", expression, Data("patient.json")});
    EXPECT_EQ(result.signal, 0) << "killed by signal " << result.signal;
    EXPECT_FALSE(result.timed_out);
    // Either it evaluates or it is rejected as invalid; it never crashes.
    EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 3) << result;
    if (result.exit_code == 0) {
      EXPECT_EQ(CanonicalJson(result.out), "[1]");
    } else {
      EXPECT_EQ(result.ErrLines().size(), 1u) << result;
    }
  }
}

TEST(CliRobustnessTest, LongOperatorChainsDoNotCrash) {
  std::string sum = "1";
  for (int index = 0; index < 50'000; ++index) sum += "+1";
  for (bool lenient : {false, true}) {
    SCOPED_TRACE(lenient ? "lenient" : "checked");
    std::vector<std::string> args = {"fhirpath", sum, Data("patient.json")};
    if (lenient) args.insert(args.begin() + 1, "--lenient");
    RunResult result = RunRegenpath(args);
    EXPECT_EQ(result.signal, 0) << "killed by signal " << result.signal;
    EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 3) << result;
    if (result.exit_code == 0) {
      EXPECT_EQ(CanonicalJson(result.out), "[50001]");
    }
  }
  std::string path = "Patient";
  for (int index = 0; index < 20'000; ++index) path += ".name";
  RunResult chained = RunRegenpath({"fhirpath", "--lenient", path, Data("patient.json")});
  EXPECT_EQ(chained.signal, 0) << "killed by signal " << chained.signal;
  EXPECT_TRUE(chained.exit_code == 0 || chained.exit_code == 3) << chained;
}

TEST(CliRobustnessTest, ModeratelyLongChainsWork) {
  std::string sum = "1";
  for (int index = 0; index < 200; ++index) sum += "+1";
  RunResult result = RunRegenpath({"fhirpath", sum, Data("patient.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(CanonicalJson(result.out), "[201]");
}

}  // namespace
// ---------------------------------------------------------------------------
// assess and kb eval: one patient per run

std::string ScenarioFile(const std::string& name) {
  return std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/" + name;
}

// A Bundle holding the entries of two scenario Bundles (two patients).
std::string TwoPatientBundle() {
  std::string first = ReadFile(ScenarioFile("no-pain-condition.json"));
  std::string second = ReadFile(ScenarioFile("cauda-equina-radicular.json"));
  auto entries = [](const std::string& bundle) {
    size_t start = bundle.find('[', bundle.find("\"entry\""));
    size_t end = bundle.rfind(']');
    return bundle.substr(start + 1, end - start - 1);
  };
  return R"({"resourceType": "Bundle", "type": "collection", "entry": [)" + entries(first) + "," + entries(second) +
         "]}";
}

TEST(CliAssessTest, TwoPatientsExitThreeNamingThem) {
  RunResult result = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "-"}, TwoPatientBundle());
  ExpectFailure(result, 3, {"Patient/no-pain-condition", "Patient/cauda-equina-radicular", "--patient"});
}

// A message quoting a record's words sends no terminal sequence: an id
// whose JSON escape holds ESC comes out as U+FFFD.
TEST(CliAssessTest, MessagesQuoteRecordsWithoutControlCharacters) {
  std::string bundle = TwoPatientBundle();
  const std::string id = R"("id": "cauda-equina-radicular")";
  ASSERT_NE(bundle.find(id), std::string::npos);
  bundle.replace(bundle.find(id), id.size(), R"("id": "cauda\u001b[31mQ\u0007")");
  RunResult result = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "-"}, bundle);
  ExpectFailure(result, 3, {"Patient/no-pain-condition", "Patient/cauda\xEF\xBF\xBD[31mQ\xEF\xBF\xBD"});
  EXPECT_EQ(result.err.find('\x1b'), std::string::npos) << result;
  EXPECT_EQ(result.err.find('\x07'), std::string::npos) << result;
}

TEST(CliAssessTest, PatientPicksOneAndLeavesTheOthersDataOut) {
  RunResult result = RunRegenpath(
      {"assess", "--now", "2026-06-01", "--format", "json", "--patient", "no-pain-condition", "-"}, TwoPatientBundle());
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_THAT(result.out, HasSubstr(R"("reference": "Patient/no-pain-condition")"));
  EXPECT_THAT(result.out, HasSubstr(R"("stage": "not-applicable")"));
  // The other patient's cauda equina and radicular pain are not this patient's (they are only named,
  // by reference, in the issue that says they were left out).
  EXPECT_THAT(result.out, HasSubstr(R"("conditions": [])"));
  EXPECT_THAT(result.out, HasSubstr(R"("red_flags": [])"));
  EXPECT_THAT(result.out, Not(HasSubstr("Cauda equina"))) << "another patient's data";
  EXPECT_THAT(result.out, HasSubstr("of another patient (Patient/cauda-equina-radicular) were excluded"));

  RunResult unknown = RunRegenpath({"assess", "--now", "2026-06-01", "--patient", "nobody", "-"}, TwoPatientBundle());
  ExpectFailure(unknown, 3, {"no patient 'nobody'"});
}

// A record holding its Patient twice (an export that wrote the patient
// twice): identical copies (the same JSON value: whitespace, member order and
// escapes aside) are one patient, the second left out and named;
// copies that differ (one says the patient died) are refused, with
// --patient too, since nothing says which copy is current.
TEST(CliAssessTest, CopiesOfThePatientAreOnePatientOnlyWhenIdentical) {
  TempDir dir;
  const std::string patient =
      R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-01")";
  const std::string condition =
      R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"knee pain"}})";
  const std::string same = dir.path() + "/same.ndjson";
  // The same JSON value, written with spaces, its members in another order and an escape.
  const std::string spaced =
      R"({ "birthDate": "1970-01-01", "gender": "fem\u0061le", "id": "p1", "resourceType": "Patient" })";
  std::ofstream(same) << patient << "}\n" << condition << "\n" << spaced << "\n";
  RunResult identical = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", same});
  ASSERT_EQ(identical.exit_code, 0) << identical;
  EXPECT_THAT(identical.out, HasSubstr(R"("reference": "Patient/p1")"));
  EXPECT_THAT(identical.out, HasSubstr("Patient/p1 (a second copy of its Patient resource)"));

  const std::string differ = dir.path() + "/differ.ndjson";
  std::ofstream(differ) << patient << "}\n"
                        << condition << "\n"
                        << patient << R"(,"deceasedBoolean":true})"
                        << "\n";
  RunResult whole = RunRegenpath({"assess", "--now", "2026-06-01", differ});
  ExpectFailure(whole, 3,
                {"2 different copies of Patient/p1", "Bundle.entry[0].resource", "Bundle.entry[2].resource"});
  RunResult picked = RunRegenpath({"assess", "--now", "2026-06-01", "--patient", "p1", differ});
  ExpectFailure(picked, 3, {"2 different copies of Patient/p1"});
}

// A resource belongs to the patient its compartment element names
// (AllergyIntolerance: `patient`), as `regenpath screen` routes it, even
// when it also carries a stray `subject` naming another patient: pa's
// allergy stays pa's and is left out of pb's assessment; one naming a
// patient only in a stray element is still that patient's.
TEST(CliAssessTest, AResourceIsThePatientsItsCompartmentElementNames) {
  TempDir dir;
  const std::string file = dir.path() + "/two.ndjson";
  std::ofstream(file)
      << R"({"resourceType":"Patient","id":"pa","gender":"female","birthDate":"1970-01-01"})"
      << "\n"
      << R"({"resourceType":"Patient","id":"pb","gender":"male","birthDate":"1971-01-01"})"
      << "\n"
      << R"({"resourceType":"AllergyIntolerance","id":"al1","patient":{"reference":"Patient/pa"},)"
      << R"("subject":{"reference":"Patient/pb"},"code":{"text":"iodinated contrast"}})"
      << "\n";
  RunResult pa = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "--patient", "pa", file});
  ASSERT_EQ(pa.exit_code, 0) << pa;
  EXPECT_THAT(pa.out, HasSubstr("1 resource(s) of another patient (Patient/pb) were excluded"));
  RunResult pb = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "--patient", "pb", file});
  ASSERT_EQ(pb.exit_code, 0) << pb;
  EXPECT_THAT(pb.out, HasSubstr("2 resource(s) of another patient (Patient/pa) were excluded"));

  // Naming a patient only in the stray element, it is that patient's still:
  // left out of pa's own record, not taken for nobody's and kept.
  const std::string stray = dir.path() + "/stray.ndjson";
  std::ofstream(stray)
      << R"({"resourceType":"Patient","id":"pa","gender":"female","birthDate":"1970-01-01"})"
      << "\n"
      << R"({"resourceType":"AllergyIntolerance","id":"al2","subject":{"reference":"Patient/pb"},)"
      << R"("code":{"text":"iodinated contrast"}})"
      << "\n";
  RunResult own = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", stray});
  ASSERT_EQ(own.exit_code, 0) << own;
  EXPECT_THAT(own.out, HasSubstr("1 resource(s) of another patient (Patient/pb) were excluded"));

  // But a compartment element that holds a reference decides alone: one
  // naming no patient that can be read (an urn:uuid an NDJSON record cannot
  // resolve) makes the Condition nobody's, never pb's through a stray
  // `patient` (it is pa's data, as screen routes it).
  const std::string urn = dir.path() + "/urn.ndjson";
  std::ofstream(urn) << R"({"resourceType":"Patient","id":"pa","gender":"female","birthDate":"1970-01-01"})"
                     << "\n"
                     << R"({"resourceType":"Patient","id":"pb","gender":"male","birthDate":"1971-01-01"})"
                     << "\n"
                     << R"({"resourceType":"Condition","id":"c1","subject":{"reference":"urn:uuid:pa"},)"
                     << R"("patient":{"reference":"Patient/pb"},"code":{"text":"knee pain"}})"
                     << "\n";
  RunResult pb_urn =
      RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "--patient", "pb", urn});
  ASSERT_EQ(pb_urn.exit_code, 0) << pb_urn;
  EXPECT_THAT(pb_urn.out, HasSubstr("1 resource(s) that name no patient were excluded"));
}

// A versioned reference to a patient whose id ends with "Patient" names that
// patient (fhir::PatientIdInReference): another patient's data is left out
// of the one picked (its Patient and its Condition), never taken for
// nobody's and kept.
TEST(CliAssessTest, AVersionedReferenceNamesItsPatientWhateverTheId) {
  TempDir dir;
  const std::string file = dir.path() + "/two.ndjson";
  std::ofstream(file)
      << R"({"resourceType":"Patient","id":"pa","gender":"female","birthDate":"1970-01-01"})"
      << "\n"
      << R"({"resourceType":"Patient","id":"otherPatient","gender":"male","birthDate":"1971-01-01"})"
      << "\n"
      << R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/otherPatient/_history/1"},)"
      << R"("code":{"text":"knee pain"}})"
      << "\n";
  RunResult pa = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "--patient", "pa", file});
  ASSERT_EQ(pa.exit_code, 0) << pa;
  EXPECT_THAT(pa.out, HasSubstr("2 resource(s) of another patient (Patient/otherPatient) were excluded"));
  RunResult other =
      RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", "--patient", "otherPatient", file});
  ASSERT_EQ(other.exit_code, 0) << other;
  EXPECT_THAT(other.out, Not(HasSubstr("name no patient")));
}

// A Patient record merged into another (link replaced-by) must no longer be
// used: the assessment says so (patient.replaced_by, a warning at the link,
// the text report's heading).
TEST(CliAssessTest, ARecordReplacedByAnotherSaysSo) {
  TempDir dir;
  const std::string file = dir.path() + "/merged.ndjson";
  std::ofstream(file) << R"({"resourceType":"Patient","id":"old","gender":"female","birthDate":"1970-01-01",)"
                      << R"("link":[{"other":{"reference":"Patient/new"},"type":"seealso"},)"
                      << R"({"other":{"reference":"Patient/new"},"type":"replaced-by"}]})"
                      << "\n";
  RunResult json = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", file});
  ASSERT_EQ(json.exit_code, 0) << json;
  EXPECT_THAT(json.out, HasSubstr(R"("replaced_by": "Patient/new")"));
  EXPECT_THAT(json.out, HasSubstr("this Patient record has been replaced by Patient/new"));
  EXPECT_THAT(json.out, HasSubstr(R"(resource.link[1]")"));  // the replaced-by link
  RunResult text = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "text", file});
  ASSERT_EQ(text.exit_code, 0) << text;
  EXPECT_THAT(text.out, HasSubstr("RECORD REPLACED by Patient/new: it must no longer be used"));

  const std::string plain = dir.path() + "/plain.ndjson";
  std::ofstream(plain) << R"({"resourceType":"Patient","id":"old","gender":"female",)"
                       << R"("link":[{"other":{"reference":"Patient/new"},"type":"seealso"}]})"
                       << "\n";
  RunResult seealso = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", plain});
  ASSERT_EQ(seealso.exit_code, 0) << seealso;
  EXPECT_THAT(seealso.out, Not(HasSubstr("replaced")));

  // A link naming the other record by identifier only: said so, never empty.
  const std::string by_identifier = dir.path() + "/identifier.ndjson";
  std::ofstream(by_identifier)
      << R"({"resourceType":"Patient","id":"old","gender":"female",)"
      << R"("link":[{"other":{"identifier":{"value":"MRN-2"}},"type":"replaced-by"}]})"
      << "\n";
  RunResult identified = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", by_identifier});
  ASSERT_EQ(identified.exit_code, 0) << identified;
  EXPECT_THAT(identified.out, HasSubstr(R"("replaced_by": "identifier MRN-2")"));
}

// A record not in active use (Patient.active false): the assessment says so
// (patient.active false, the text report's heading); an active one, or one
// that does not say, has no such member.
TEST(CliAssessTest, ARecordNotInActiveUseSaysSo) {
  TempDir dir;
  const std::string patient =
      R"({"resourceType":"Patient","id":"p","gender":"female","birthDate":"1970-01-01")";
  for (const auto& [active, said] : {std::pair<std::string, bool>{R"(,"active":false)", true},
                                     {R"(,"active":true)", false},
                                     {"", false}}) {
    const std::string file = dir.path() + "/p.ndjson";
    std::ofstream(file) << patient << active << "}\n";
    RunResult json = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "json", file});
    ASSERT_EQ(json.exit_code, 0) << json;
    EXPECT_EQ(json.out.find(R"("active": false)") != std::string::npos, said) << active;
    EXPECT_EQ(json.out.find(R"("active": true)"), std::string::npos) << active;
    RunResult text = RunRegenpath({"assess", "--now", "2026-06-01", "--format", "text", file});
    ASSERT_EQ(text.exit_code, 0) << text;
    EXPECT_EQ(text.out.find("RECORD INACTIVE: the Patient resource says it is not in active use") !=
                  std::string::npos,
              said)
        << active;
  }
}

TEST(CliAssessTest, TextReportShowsTheDatedDataBehindCriteria) {
  RunResult result =
      RunRegenpath({"assess", "--now", "2026-06-01", "--format", "text", ScenarioFile("knee-oa-candidate.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_THAT(result.out, HasSubstr("STAGE: REGENERATIVE CANDIDATE"));
  // The first-line care behind "conventional care tried", with its date and reference.
  EXPECT_THAT(result.out, HasSubstr("naproxen 500 MG Oral Tablet: completed, 2024-10-02 "
                                    "[MedicationRequest/knee-oa-candidate-medrx-2]"));
  // A criterion that is not met says what was looked for.
  EXPECT_THAT(result.out, HasSubstr("looked for: Any red flag"));
}

TEST(CliKbEvalTest, PrintsTheValueThenTheDatedDataBehindIt) {
  RunResult result = RunRegenpath({"kb", "eval", "--now", "2026-06-01", "--condition", "knee-osteoarthritis",
                                   "first-line-care-since-onset", ScenarioFile("knee-oa-candidate.json")});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::vector<std::string> lines = result.OutLines();
  ASSERT_GE(lines.size(), 2u) << result;
  EXPECT_EQ(lines[0].front(), '[') << "the value first, as JSON";
  EXPECT_THAT(result.out, HasSubstr("  Procedure/knee-oa-candidate-proc-2  Physical therapy"));
  EXPECT_THAT(result.out, HasSubstr("2024-10-14"));

  RunResult two = RunRegenpath({"kb", "eval", "--now", "2026-06-01", "active-conditions", "-"}, TwoPatientBundle());
  ExpectFailure(two, 3, {"--patient"});
}

}  // namespace regenpath::cli

namespace regenpath::cli {
namespace {

// `regenpath screen` through the executable: not on a terminal it prints
// only a final line; shards merged by `screen merge` equal the single run;
// usage errors exit 2 and an unreadable input exits 3, naming it.
TEST(CliScreenTest, ScreenShardsMergeAndErrors) {
  TempDir dir;
  const std::string bulk = SharedDir() + "/testdata/synthea/bulk-ndjson-10-patients";
  RunResult single = RunRegenpath({"screen", "--now", "2025-06-01", "--jobs", "2", "--output", dir.path() + "/single", bulk});
  ASSERT_EQ(single.exit_code, 0) << single;
  ASSERT_EQ(single.ErrLines().size(), 1u) << single;
  EXPECT_THAT(single.err, HasSubstr("regenpath screen: 13 patients from 12 files"));
  EXPECT_EQ(single.out, "");
  std::vector<std::string> shards;
  for (const std::string shard : {"0/2", "1/2"}) {
    shards.push_back(dir.path() + "/shard" + shard.substr(0, 1));
    RunResult run = RunRegenpath({"screen", "--now", "2025-06-01", "--shard", shard, "--output", shards.back(), bulk});
    ASSERT_EQ(run.exit_code, 0) << run;
  }
  RunResult merge = RunRegenpath({"screen", "merge", "--output", dir.path() + "/merged", shards[0], shards[1]});
  ASSERT_EQ(merge.exit_code, 0) << merge;
  for (const std::string name : {"patients.ndjson", "patients.csv", "summary.json", "summary.txt", "MeasureReport.json",
                                 "Group.json", "run.json", "issues.ndjson"}) {
    EXPECT_EQ(ReadFile(dir.path() + "/single/" + name), ReadFile(dir.path() + "/merged/" + name)) << name;
  }
  RunResult bad_shard = RunRegenpath({"screen", "--shard", "2/2", "--output", dir.path() + "/x", bulk});
  EXPECT_EQ(bad_shard.exit_code, 2) << bad_shard;
  RunResult no_output = RunRegenpath({"screen", bulk});
  EXPECT_EQ(no_output.exit_code, 2) << no_output;
  RunResult missing = RunRegenpath({"screen", "--output", dir.path() + "/y", dir.path() + "/absent"});
  EXPECT_EQ(missing.exit_code, 3) << missing;
  EXPECT_THAT(missing.err, HasSubstr(dir.path() + "/absent"));
  RunResult one_shard = RunRegenpath({"screen", "merge", "--output", dir.path() + "/z", shards[0]});
  EXPECT_EQ(one_shard.exit_code, 3) << one_shard;
  EXPECT_THAT(one_shard.err, HasSubstr("shard 1/2 is missing"));
  EXPECT_THAT(one_shard.err, Not(HasSubstr("merge: screen merge:")));  // said once
  // A whole run's output is no shard's: said so, not "cannot open shard.json".
  RunResult unsharded =
      RunRegenpath({"screen", "merge", "--output", dir.path() + "/w", shards[0], dir.path() + "/single"});
  EXPECT_EQ(unsharded.exit_code, 3) << unsharded;
  EXPECT_THAT(unsharded.err, HasSubstr(dir.path() + "/single: not a shard's output"));
  // --jobs out of range is a usage error, not a crash.
  for (const char* jobs : {"-1", "99999999999", "4097"}) {
    RunResult bad_jobs = RunRegenpath({"screen", "--jobs", jobs, "--output", dir.path() + "/j", bulk});
    EXPECT_EQ(bad_jobs.exit_code, 2) << bad_jobs;
    RunResult bad_reduce = RunRegenpath({"screen", "reduce", "--jobs", jobs, "--shard", "0/1", "--maps", "1",
                                         "--shuffle-dir", dir.path() + "/s", "--output", dir.path() + "/j"});
    EXPECT_EQ(bad_reduce.exit_code, 2) << bad_reduce;
  }
}

// A shuffle through the executable: `screen map` tasks, `screen reduce`
// tasks, `screen merge` give the single run's output; a reduce before its
// map tasks exits 3 naming the missing one; missing options exit 2.
TEST(CliScreenTest, ShuffleMapReduceMerge) {
  TempDir dir;
  const std::string bulk = SharedDir() + "/testdata/synthea/bulk-ndjson-10-patients";
  const std::string shuffle = dir.path() + "/shuffle";
  ASSERT_EQ(RunRegenpath({"screen", "--now", "2025-06-01", "--output", dir.path() + "/single", bulk}).exit_code, 0);
  RunResult early = RunRegenpath({"screen", "reduce", "--shard", "0/2", "--maps", "2", "--shuffle-dir", shuffle,
                                  "--now", "2025-06-01", "--output", dir.path() + "/r0"});
  EXPECT_EQ(early.exit_code, 3) << early;
  EXPECT_THAT(early.err, HasSubstr("map task 0 of 2 has not finished"));
  for (const std::string map : {"0/2", "1/2"}) {
    RunResult run = RunRegenpath({"screen", "map", "--map", map, "--shards", "2", "--shuffle-dir", shuffle, bulk});
    ASSERT_EQ(run.exit_code, 0) << run;
    EXPECT_THAT(run.err, HasSubstr("regenpath screen map: map task " + map.substr(0, 1) + " of 2: "));
  }
  std::vector<std::string> outputs;
  for (const std::string shard : {"0/2", "1/2"}) {
    outputs.push_back(dir.path() + "/r" + shard.substr(0, 1));
    RunResult run = RunRegenpath({"screen", "reduce", "--shard", shard, "--maps", "2", "--shuffle-dir", shuffle,
                                  "--now", "2025-06-01", "--output", outputs.back()});
    ASSERT_EQ(run.exit_code, 0) << run;
  }
  ASSERT_EQ(RunRegenpath({"screen", "merge", "--output", dir.path() + "/merged", outputs[0], outputs[1]}).exit_code, 0);
  for (const std::string name : {"patients.ndjson", "patients.csv", "summary.json", "summary.txt", "MeasureReport.json",
                                 "Group.json", "run.json", "issues.ndjson"}) {
    EXPECT_EQ(ReadFile(dir.path() + "/single/" + name), ReadFile(dir.path() + "/merged/" + name)) << name;
  }
  RunResult no_shards = RunRegenpath({"screen", "map", "--map", "0/2", "--shuffle-dir", shuffle, bulk});
  EXPECT_EQ(no_shards.exit_code, 2) << no_shards;
  RunResult bad_map = RunRegenpath({"screen", "map", "--map", "2/2", "--shards", "2", "--shuffle-dir", shuffle, bulk});
  EXPECT_EQ(bad_map.exit_code, 2) << bad_map;
  RunResult no_dir = RunRegenpath({"screen", "reduce", "--shard", "0/2", "--maps", "2", "--output", dir.path() + "/x"});
  EXPECT_EQ(no_dir.exit_code, 2) << no_dir;
}

}  // namespace
}  // namespace regenpath::cli
