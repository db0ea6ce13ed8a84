// The `regenpath screen` commands (cli/screen_command.h) as a user meets
// them: here, what they say when the system will not start their threads.
// (Apart from screen_test.cc, which sanitizer builds also link without the
// CLI as screen_core_test.)
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/screen_command.h"
#include "screen/screener.h"
#include "tests/screen/test_support.h"

namespace regenpath::screen {
namespace {

using testing::BulkDir;
using ::testing::HasSubstr;
using testing::kNow;
using testing::ReadFile;
using testing::TempDir;
using testing::TestOptions;

void ExpectSameOutput(const std::string& a, const std::string& b) {
  for (const char* name : {"patients.ndjson", "patients.csv", "summary.json", "summary.txt",
                           "MeasureReport.json", "Group.json", "run.json", "issues.ndjson"}) {
    ASSERT_TRUE(std::filesystem::exists(a + "/" + name)) << a << "/" << name;
    ASSERT_TRUE(std::filesystem::exists(b + "/" + name)) << b << "/" << name;
    EXPECT_EQ(ReadFile(a + "/" + name), ReadFile(b + "/" + name))
        << name << " differs between " << a << " and " << b;
  }
}

// The commands, when the system starts none of the threads --jobs asked
// for beyond the caller's: `screen`, `screen map` and `screen reduce` each
// warn, naming how many it would not start, exit 0, and write what they
// would have written; with every thread started, no warning.
TEST(ScreenCommandTest, WarnsWhenThreadsCannotStartAndGoesOn) {
  TempDir dir;
  Result<ScreenReport> reference = Screen([&] {
    ScreenOptions options = TestOptions({BulkDir()}, 1);
    options.output_dir = dir / "one";
    return options;
  }());
  ASSERT_TRUE(reference.has_value()) << reference.error().message();
  const auto refuse = [](std::function<void()>) -> std::thread {
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
  };
  const auto warning = [](const std::string& command, size_t threads) {
    return fmt::format("{}: warning: the system would not start {} of the threads --jobs asked for", command,
                       threads);
  };
  for (bool started : {false, true}) {
    const std::string run = started ? "started" : "refused";
    cli::ScreenCommandOptions options;
    options.now = kNow;
    options.jobs = 3;
    if (!started) options.start_thread = refuse;

    options.inputs = {BulkDir()};
    options.output_dir = dir / ("screen-" + run);
    std::ostringstream err;
    ASSERT_EQ(cli::RunScreen(options, err), 0) << err.str();
    // Two threads short in the scan (12 files), the most of any phase.
    EXPECT_EQ(err.str().find(warning("regenpath screen", 2)) != std::string::npos, !started) << err.str();
    EXPECT_THAT(err.str(), HasSubstr("regenpath screen: 13 patients from 12 files"));
    EXPECT_EQ(err.str().find("warning") == std::string::npos, started) << err.str();
    ExpectSameOutput(dir / "one", options.output_dir);

    const std::string shuffle = dir / ("shuffle-" + run);
    options.map = "0/1";
    options.shards = 1;
    options.shuffle_dir = shuffle;
    options.output_dir.clear();
    std::ostringstream map_err;
    ASSERT_EQ(cli::RunScreenMap(options, map_err), 0) << map_err.str();
    EXPECT_EQ(map_err.str().find(warning("regenpath screen map", 2)) != std::string::npos, !started)
        << map_err.str();
    EXPECT_EQ(map_err.str().find("warning") == std::string::npos, started) << map_err.str();

    options.inputs.clear();
    options.map.reset();
    options.shard = "0/1";
    options.maps = 1;
    options.output_dir = dir / ("reduce-" + run);
    std::ostringstream reduce_err;
    ASSERT_EQ(cli::RunScreenReduce(options, reduce_err), 0) << reduce_err.str();
    EXPECT_EQ(reduce_err.str().find("regenpath screen reduce: warning: the system would not start") !=
                  std::string::npos,
              !started)
        << reduce_err.str();
    EXPECT_EQ(reduce_err.str().find("warning") == std::string::npos, started) << reduce_err.str();
    ExpectSameOutput(dir / "one", options.output_dir);
  }
}

// Files of an input directory named .ndjson but not as an export's are not
// read, and the run says so on stderr, naming one (run.json lists them all);
// a Bulk Data client's log.ndjson is not warned about.
TEST(ScreenCommandTest, WarnsOfNdjsonFilesNotRead) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  for (const auto& entry : std::filesystem::directory_iterator(BulkDir()))
    std::filesystem::copy(entry.path(), dir / "in" / entry.path().filename());
  std::ofstream(dir / "in/log.ndjson") << "{}\n";
  cli::ScreenCommandOptions options;
  options.now = kNow;
  options.jobs = 1;
  options.inputs = {dir / "in"};
  options.output_dir = dir / "quiet";
  std::ostringstream quiet;
  ASSERT_EQ(cli::RunScreen(options, quiet), 0) << quiet.str();
  EXPECT_EQ(quiet.str().find("warning"), std::string::npos) << quiet.str();

  std::ofstream(dir / "in/Patient_extra.ndjson") << "{}\n";
  std::ofstream(dir / "in/more.ndjson.gz") << "";
  options.output_dir = dir / "warned";
  std::ostringstream warned;
  ASSERT_EQ(cli::RunScreen(options, warned), 0) << warned.str();
  EXPECT_THAT(warned.str(), HasSubstr("regenpath screen: warning: 2 file(s) named .ndjson not read"));
  EXPECT_THAT(warned.str(), HasSubstr(dir / "in/Patient_extra.ndjson" + ", ..."));

  // A shuffle's map task says so too (it lists the inputs itself).
  options.map = "0/1";
  options.shards = 1;
  options.shuffle_dir = dir / "shuffle";
  options.output_dir.clear();
  std::ostringstream map_err;
  ASSERT_EQ(cli::RunScreenMap(options, map_err), 0) << map_err.str();
  EXPECT_THAT(map_err.str(), HasSubstr("regenpath screen map: warning: 2 file(s) named .ndjson not read"));
}

}  // namespace
}  // namespace regenpath::screen
