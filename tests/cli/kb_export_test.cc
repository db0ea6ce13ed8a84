// `regenpath kb export --fhir OUTDIR [--kb DIR]` (shared/spec/cli.md): runs
// the built binary and checks the files it leaves (or does not leave) behind.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace regenpath::cli {
namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kMinimal = std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/minimal";

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct ExportRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A fresh, empty directory for one test.
fs::path Scratch(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("kb-export-cli-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs `regenpath args...` with stdout and stderr captured in `scratch`.
ExportRun Regenpath(const std::vector<std::string>& args, const fs::path& scratch) {
  std::string command = Quote(REGENPATH_BINARY);
  for (const std::string& arg : args) {
    command += ' ';
    command += Quote(arg);
  }
  fs::path out = scratch / "stdout.txt";
  fs::path err = scratch / "stderr.txt";
  command += " >";
  command += Quote(out.string());
  command += " 2>";
  command += Quote(err.string());
  command += " </dev/null";
  int status = std::system(command.c_str());
  ExportRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out);
  run.err = ReadFile(err);
  fs::remove(out);
  fs::remove(err);
  return run;
}

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    names.insert(entry.path().filename().string());
  return names;
}

const std::set<std::string> kMinimalFiles = {"PlanDefinition-test-kb.json",
                                             "Library-test-kb.json",
                                             "Measure-test-kb.json",
                                             "ActivityDefinition-exercise.json",
                                             "ActivityDefinition-knee-imaging.json",
                                             "ActivityDefinition-prp-knee.json",
                                             "ActivityDefinition-prolotherapy-knee.json",
                                             "ValueSet-knee-oa.json",
                                             "ValueSet-cauda-equina.json",
                                             "ValueSet-apixaban.json",
                                             "ValueSet-septicemia.json",
                                             "ValueSet-physical-therapy.json",
                                             "ValueSet-platelet-count.json"};

TEST(CliKbExportTest, WritesOneValidFilePerResource) {
  fs::path scratch = Scratch("minimal");
  fs::path out = scratch / "fhir";
  ExportRun run = Regenpath({"kb", "export", "--fhir", out.string(), "--kb", kMinimal}, scratch);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("test-kb 1.2.3: wrote 13 resources"));
  EXPECT_THAT(run.err, IsEmpty());
  EXPECT_EQ(Names(out), kMinimalFiles);
  EXPECT_EQ(Names(scratch), std::set<std::string>{"fhir"});  // no temporary directory left
  std::string command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR +
                        "/tools/validate_json_schema.py " + REGENPATH_SHARED_DIR +
                        "/testdata/fhir-json-schema/fhir.schema.json";
  for (const std::string& name : kMinimalFiles) {
    command += ' ';
    command += Quote((out / name).string());
  }
  EXPECT_EQ(std::system(command.c_str()), 0);
  EXPECT_THAT(ReadFile(out / "PlanDefinition-test-kb.json"),
              HasSubstr("\"resourceType\": \"PlanDefinition\""));
}

TEST(CliKbExportTest, ExportsTheBuiltInKnowledgeBaseByDefault) {
  fs::path scratch = Scratch("builtin");
  ExportRun run = Regenpath({"kb", "export", "--fhir", (scratch / "fhir").string()}, scratch);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("1 PlanDefinition, 1 Library"));
  EXPECT_EQ(Names(scratch / "fhir").count("Library-regenpath-pain-kb.json"), 1u);
}

TEST(CliKbExportTest, TrailingSlashNamesTheSameDirectory) {
  fs::path scratch = Scratch("slash");
  ExportRun run =
      Regenpath({"kb", "export", "--fhir", (scratch / "fhir").string() + "/", "--kb", kMinimal}, scratch);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Names(scratch / "fhir"), kMinimalFiles);
  EXPECT_EQ(Names(scratch), std::set<std::string>{"fhir"});
}

TEST(CliKbExportTest, ExistingDirectoryGetsTheNewFilesAndKeepsOthers) {
  fs::path scratch = Scratch("existing");
  fs::path out = scratch / "fhir";
  fs::create_directories(out);
  std::ofstream(out / "ValueSet-knee-oa.json") << "stale";
  std::ofstream(out / "ValueSet-removed.json") << "{}";
  std::ofstream(out / "notes.txt") << "mine";
  ExportRun run = Regenpath({"kb", "export", "--fhir", out.string(), "--kb", kMinimal}, scratch);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(ReadFile(out / "ValueSet-knee-oa.json"), HasSubstr("\"resourceType\": \"ValueSet\""));
  EXPECT_EQ(ReadFile(out / "notes.txt"), "mine");
  EXPECT_THAT(run.err, HasSubstr("ValueSet-removed.json' is not part of this export"));
  std::set<std::string> expected = kMinimalFiles;
  expected.insert({"ValueSet-removed.json", "notes.txt"});
  EXPECT_EQ(Names(out), expected);  // no temporary directory left inside
}

TEST(CliKbExportTest, KnowledgeBaseWithProblemsExitsThreeAndWritesNothing) {
  fs::path scratch = Scratch("unusable");
  fs::path kb = scratch / "kb";
  fs::create_directories(kb);
  std::string text = ReadFile(kMinimal + "/kb.yaml");
  text.replace(text.find("definition: septicemia-findings"), 31, "definition: nowhere");
  std::ofstream(kb / "kb.yaml") << text;
  fs::path out = scratch / "fhir";
  ExportRun run = Regenpath({"kb", "export", "--fhir", out.string(), "--kb", kb.string()}, scratch);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_THAT(run.err, HasSubstr("problem(s); run `regenpath kb check --kb " + kb.string() + "`"));
  EXPECT_THAT(run.out, IsEmpty());
  EXPECT_EQ(Names(scratch), std::set<std::string>{"kb"});
}

TEST(CliKbExportTest, UnreadableKnowledgeBaseExitsThree) {
  fs::path scratch = Scratch("nokb");
  ExportRun run = Regenpath(
      {"kb", "export", "--fhir", (scratch / "fhir").string(), "--kb", (scratch / "none").string()}, scratch);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_THAT(run.err, HasSubstr("regenpath kb export: "));
  EXPECT_THAT(Names(scratch), IsEmpty());
}

TEST(CliKbExportTest, OutputThatIsAFileExitsTwoAndLeavesItAlone) {
  fs::path scratch = Scratch("file");
  fs::path out = scratch / "fhir";
  std::ofstream(out) << "keep";
  ExportRun run = Regenpath({"kb", "export", "--fhir", out.string(), "--kb", kMinimal}, scratch);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("exists and is not a directory"));
  EXPECT_EQ(ReadFile(out), "keep");
  EXPECT_EQ(Names(scratch), std::set<std::string>{"fhir"});
}

TEST(CliKbExportTest, OutputInAMissingDirectoryExitsTwo) {
  fs::path scratch = Scratch("parent");
  ExportRun run =
      Regenpath({"kb", "export", "--fhir", (scratch / "no" / "fhir").string(), "--kb", kMinimal}, scratch);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("is not an existing directory"));
  EXPECT_THAT(Names(scratch), IsEmpty());
}

TEST(CliKbExportTest, UnwritableParentExitsTwoAndLeavesNothing) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  fs::path scratch = Scratch("readonly");
  fs::path parent = scratch / "ro";
  fs::create_directories(parent);
  chmod(parent.c_str(), 0555);
  ExportRun run =
      Regenpath({"kb", "export", "--fhir", (parent / "fhir").string(), "--kb", kMinimal}, scratch);
  chmod(parent.c_str(), 0755);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(Names(parent), IsEmpty());
}

TEST(CliKbExportTest, UsageErrorsExitTwo) {
  fs::path scratch = Scratch("usage");
  EXPECT_EQ(Regenpath({"kb", "export"}, scratch).exit_code, 2);
  EXPECT_EQ(Regenpath({"kb", "export", "--fhir"}, scratch).exit_code, 2);
  EXPECT_EQ(Regenpath({"kb", "export", "--fhir", (scratch / "a").string(), "extra"}, scratch).exit_code, 2);
  EXPECT_EQ(Regenpath({"kb", "export", "--fhir", "", "--kb", kMinimal}, scratch).exit_code, 2);
  EXPECT_THAT(Names(scratch), IsEmpty());
}

TEST(CliKbExportTest, HelpNamesTheOptions) {
  fs::path scratch = Scratch("help");
  ExportRun run = Regenpath({"kb", "export", "--help"}, scratch);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("--fhir"));
  EXPECT_THAT(run.out, HasSubstr("--kb"));
}

}  // namespace
}  // namespace regenpath::cli
