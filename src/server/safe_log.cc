#include "server/safe_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string_view>

#include "common/terminal_text.h"

namespace regenpath::server {
namespace {

class SafeMessageFormatter final : public spdlog::formatter {
 public:
  explicit SafeMessageFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) override {
    const std::string_view text(message.payload.data(), message.payload.size());
    std::string safe = LogSafe(std::string(text));
    if (safe == text) {
      inner_->format(message, dest);
      return;
    }
    spdlog::details::log_msg copy = message;
    copy.payload = spdlog::string_view_t(safe.data(), safe.size());
    inner_->format(copy, dest);
    // Where the level's colour goes (%^...%$), for a colour sink, which
    // reads it from the message it was given.
    message.color_range_start = copy.color_range_start;
    message.color_range_end = copy.color_range_end;
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<SafeMessageFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

std::unique_ptr<spdlog::formatter> SafeLogFormatter(const std::string& pattern) {
  return std::make_unique<SafeMessageFormatter>(std::make_unique<spdlog::pattern_formatter>(pattern));
}

void SetUpServerLogging(const std::string& level) {
  spdlog::drop("regenpath");
  auto logger = spdlog::stderr_color_mt("regenpath");
  logger->set_formatter(SafeLogFormatter("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v"));
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace regenpath::server
