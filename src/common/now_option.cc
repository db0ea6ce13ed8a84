#include "common/now_option.h"

#include <fmt/format.h>

#include "common/clock.h"

namespace regenpath {

Result<DateTime> ParseNowOption(const std::optional<std::string>& text) {
  if (!text) return SystemClock().Now();
  std::optional<DateTime> value = DateTime::ParseDateTime(*text);
  if (!value) return Fail(InvalidArgument(fmt::format("--now: '{}' is not a date or dateTime", *text)));
  if (value->precision() <= DateTimePrecision::kDay) {
    if (value->precision() < DateTimePrecision::kDay) {
      return Fail(InvalidArgument(fmt::format("--now: '{}' must give at least a day", *text)));
    }
    value = DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kDay, value->year(), value->month(),
                                 value->day(), 0, 0, 0, 0, std::nullopt);
  }
  return *value;
}

}  // namespace regenpath
