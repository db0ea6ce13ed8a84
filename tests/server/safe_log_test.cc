// The server's log keeps one record per line and no terminal sequence,
// whatever text a message carries; the pattern's own parts stay as they are.
#include "server/safe_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

namespace regenpath::server {
namespace {

TEST(SafeLogTest, AMessageCannotForgeARecordOrDriveATerminal) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("safe-log-test", sink);
  logger.set_formatter(SafeLogFormatter("[%l] %v"));
  logger.warn("FHIR fetch failed: {}", "upstream said\n[error] forged record\x1b[2J\xe2\x80\xae");
  logger.info("plain {} caf\xc3\xa9", 42);
  EXPECT_EQ(out.str(),
            "[warning] FHIR fetch failed: upstream said\\n[error] forged record\\x1B[2J\\u202E\n"
            "[info] plain 42 caf\xc3\xa9\n");
}

// A logger of several sinks gives each a clone of the formatter: each
// clone makes the message safe.
TEST(SafeLogTest, EverySinkOfALoggerGetsTheSafeFormatter) {
  std::ostringstream first;
  std::ostringstream second;
  spdlog::logger logger("safe-log-test-sinks", {std::make_shared<spdlog::sinks::ostream_sink_mt>(first),
                                                std::make_shared<spdlog::sinks::ostream_sink_mt>(second)});
  logger.set_formatter(SafeLogFormatter("%v"));
  logger.error("a\rb");
  EXPECT_EQ(first.str(), "a\\rb\n");
  EXPECT_EQ(second.str(), "a\\rb\n");
}

// The level's colour is kept where a message had to be escaped: the colour
// sink reads its range from the message it was given.
TEST(SafeLogTest, AnEscapedMessageKeepsItsLevelColour) {
  spdlog::details::log_msg plain("name", spdlog::level::warn, "plain");
  spdlog::details::log_msg escaped("name", spdlog::level::warn, "with\nnewline");
  std::unique_ptr<spdlog::formatter> formatter = SafeLogFormatter("%^%l%$ %v");
  spdlog::memory_buf_t plain_out;
  spdlog::memory_buf_t escaped_out;
  formatter->format(plain, plain_out);
  formatter->format(escaped, escaped_out);
  EXPECT_EQ(plain.color_range_start, 0u);
  EXPECT_EQ(plain.color_range_end, 7u);  // "warning"
  EXPECT_EQ(escaped.color_range_start, 0u);
  EXPECT_EQ(escaped.color_range_end, 7u);
}

// `serve` logs through the logger SetUpServerLogging makes: on stderr, at
// the level given, the message made safe.
TEST(SafeLogTest, TheServerLoggerWritesOneLinePerRecordOnStderr) {
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  testing::internal::CaptureStderr();
  SetUpServerLogging("warn");
  spdlog::info("not at this level");
  spdlog::warn("registry store failed: {}", "Key (x)=(a\n2026-01-01T00:00:00.000+0000 info forged)");
  spdlog::default_logger()->flush();
  const std::string err = testing::internal::GetCapturedStderr();
  spdlog::set_default_logger(previous);
  spdlog::drop("regenpath");
  EXPECT_EQ(err.find("not at this level"), std::string::npos) << err;
  EXPECT_NE(err.find("registry store failed: Key (x)=(a\\n2026-01-01T00:00:00.000+0000 info forged)"),
            std::string::npos)
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
}  // namespace regenpath::server
