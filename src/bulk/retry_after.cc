#include "bulk/retry_after.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace regenpath::bulk {

namespace {

using std::chrono::system_clock;

bool Literal(std::string_view& text, std::string_view literal) {
  if (!text.starts_with(literal)) return false;
  text.remove_prefix(literal.size());
  return true;
}

// Exactly `count` digits.
bool Digits(std::string_view& text, size_t count, int& out) {
  if (text.size() < count) return false;
  out = 0;
  for (size_t index = 0; index < count; ++index) {
    const char c = text[index];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  text.remove_prefix(count);
  return true;
}

bool Month(std::string_view& text, int& month) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t index = 0; index < kMonths.size(); ++index) {
    if (Literal(text, kMonths[index])) {
      month = static_cast<int>(index) + 1;
      return true;
    }
  }
  return false;
}

// "Mon" ... "Sun", or with `long_form` "Monday" ... "Sunday".
bool DayName(std::string_view& text, bool long_form) {
  static constexpr std::array<std::string_view, 7> kDays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                            "Friday", "Saturday", "Sunday"};
  for (std::string_view day : kDays) {
    if (Literal(text, long_form ? day : day.substr(0, 3))) return true;
  }
  return false;
}

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

bool TimeOfDay(std::string_view& text, Fields& fields) {
  return Digits(text, 2, fields.hour) && Literal(text, ":") && Digits(text, 2, fields.minute) &&
         Literal(text, ":") && Digits(text, 2, fields.second) && fields.hour <= 23 && fields.minute <= 59 &&
         fields.second <= 60;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
bool ImfFixdate(std::string_view text, Fields& fields) {
  return DayName(text, false) && Literal(text, ", ") && Digits(text, 2, fields.day) && Literal(text, " ") &&
         Month(text, fields.month) && Literal(text, " ") && Digits(text, 4, fields.year) &&
         Literal(text, " ") && TimeOfDay(text, fields) && Literal(text, " GMT") && text.empty();
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (the year's century is the caller's).
bool Rfc850Date(std::string_view text, Fields& fields) {
  return DayName(text, true) && Literal(text, ", ") && Digits(text, 2, fields.day) && Literal(text, "-") &&
         Month(text, fields.month) && Literal(text, "-") && Digits(text, 2, fields.year) &&
         Literal(text, " ") && TimeOfDay(text, fields) && Literal(text, " GMT") && text.empty();
}

// asctime: "Sun Nov  6 08:49:37 1994" (a one-digit day after a space).
bool AsctimeDate(std::string_view text, Fields& fields) {
  if (!DayName(text, false) || !Literal(text, " ") || !Month(text, fields.month) || !Literal(text, " ")) {
    return false;
  }
  if (!(Literal(text, " ") ? Digits(text, 1, fields.day) : Digits(text, 2, fields.day))) return false;
  return Literal(text, " ") && TimeOfDay(text, fields) && Literal(text, " ") &&
         Digits(text, 4, fields.year) && text.empty();
}

std::optional<system_clock::time_point> ToTimePoint(const Fields& fields) {
  const std::chrono::year_month_day date{std::chrono::year(fields.year),
                                         std::chrono::month(static_cast<unsigned>(fields.month)),
                                         std::chrono::day(static_cast<unsigned>(fields.day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(fields.hour) + std::chrono::minutes(fields.minute) +
         std::chrono::seconds(fields.second);
}

}  // namespace

std::optional<system_clock::time_point> ParseHttpDate(std::string_view text, system_clock::time_point now) {
  Fields fields;
  if (ImfFixdate(text, fields) || AsctimeDate(text, fields)) return ToTimePoint(fields);
  if (!Rfc850Date(text, fields)) return std::nullopt;
  // RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the
  // future is the most recent past year with those last two digits.
  const int this_year =
      static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
  fields.year += this_year - this_year % 100;
  if (fields.year > this_year + 50) fields.year -= 100;
  return ToTimePoint(fields);
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // delay-seconds; saturated far beyond any cap a caller would apply.
    constexpr int64_t kSaturated = int64_t{1} << 40;
    int64_t seconds = 0;
    for (char c : value) seconds = std::min(seconds * 10 + (c - '0'), kSaturated);
    return std::chrono::seconds(seconds);
  }
  std::optional<system_clock::time_point> date = ParseHttpDate(value, now);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(*date - now);
}

}  // namespace regenpath::bulk
