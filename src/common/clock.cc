#include "common/clock.h"

#include <chrono>
#include <ctime>

namespace regenpath {

DateTime SystemClock::Now() const {
  auto now = std::chrono::system_clock::now();
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  int offset_minutes = static_cast<int>(local.tm_gmtoff / 60);
  std::optional<DateTime> value =
      DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kMillisecond, local.tm_year + 1900,
                           local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
                           static_cast<int>(millis % 1000), offset_minutes);
  return value.value_or(DateTime());
}

}  // namespace regenpath
