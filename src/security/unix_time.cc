#include "security/unix_time.h"

#include <chrono>

namespace regenpath::security {

Result<int64_t> ToUnixMillis(const DateTime& value) {
  if (value.kind() == DateTimeKind::kTime) return Fail(InvalidArgument("a time of day is not an instant"));
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  std::chrono::year_month_day date{year(value.year()), month(static_cast<unsigned>(value.month())),
                                   day(static_cast<unsigned>(value.day()))};
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t millis = days * 86'400'000 + int64_t{value.hour()} * 3'600'000 + int64_t{value.minute()} * 60'000 +
                   int64_t{value.second()} * 1'000 + value.millisecond();
  if (value.has_timezone()) millis -= int64_t{value.tz_offset_minutes()} * 60'000;
  return millis;
}

Result<DateTime> FromUnixMillis(int64_t millis) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z; checked first so the
  // calendar arithmetic below never sees an out-of-range day count.
  constexpr int64_t kMinMillis = -62'135'596'800'000;
  constexpr int64_t kMaxMillis = 253'402'300'799'999;
  if (millis < kMinMillis || millis > kMaxMillis)
    return Fail(InvalidArgument("instant outside years 1-9999"));
  using namespace std::chrono;
  sys_time<milliseconds> instant{milliseconds(millis)};
  sys_days date_part = floor<days>(instant);
  year_month_day date{date_part};
  hh_mm_ss<milliseconds> time{instant - date_part};
  std::optional<DateTime> value = DateTime::FromFields(
      DateTimeKind::kDateTime, DateTimePrecision::kMillisecond, static_cast<int>(date.year()),
      static_cast<int>(static_cast<unsigned>(date.month())),
      static_cast<int>(static_cast<unsigned>(date.day())), static_cast<int>(time.hours().count()),
      static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
      static_cast<int>(time.subseconds().count()), 0);
  if (!value.has_value()) return Fail(InvalidArgument("instant outside years 1-9999"));
  return *value;
}

}  // namespace regenpath::security
