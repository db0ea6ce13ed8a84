#include "common/now_option.h"

#include <fmt/format.h>

#include "common/clock.h"

namespace regenpath {

Result<DateTime> ParseNowOption(const std::optional<std::string>& text) {
  if (!text) return SystemClock().Now();
  std::optional<DateTime> value = DateTime::ParseDateTime(*text);
  if (!value) return Fail(InvalidArgument(fmt::format("--now: '{}' is not a date or dateTime", *text)));
  // A time goes into FHIR resources (a screening's MeasureReport.date), whose
  // dateTime gives seconds and a time zone with any time.
  if (value->precision() > DateTimePrecision::kDay &&
      (value->precision() < DateTimePrecision::kSecond || !value->has_timezone())) {
    return Fail(
        InvalidArgument(fmt::format("--now: '{}': a time needs seconds and a time zone, as a FHIR dateTime "
                                    "does (e.g. 2025-06-01T10:30:00Z)",
                                    *text)));
  }
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
