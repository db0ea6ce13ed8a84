// DateTime: a FHIR / FHIRPath Date, DateTime or Time with partial precision.
//
// "2014", "2014-01", "2014-01-25T14:30", "2014-01-25T14:30:14.559+10:00" and
// "14:30" are all values: each remembers the finest component written (its
// precision) and whether a time-zone offset was given. Comparison follows
// FHIRPath: components are compared from the coarsest down, and when one
// value stops before the other can be told apart the answer is unknown
// (std::nullopt), never a guess.
//
// A DateTime is a plain value; every function here is pure and thread-safe.
#ifndef REGENPATH_COMMON_DATE_TIME_H_
#define REGENPATH_COMMON_DATE_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/decimal.h"

namespace regenpath {

enum class DateTimeKind : uint8_t { kDate, kDateTime, kTime };

// The finest component present. Seconds and milliseconds are one precision
// for comparison, but both are kept so that text round-trips.
enum class DateTimePrecision : uint8_t {
  kYear = 0,
  kMonth,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
};

// Calendar units FHIRPath can add to a date/time: year, month, week, day,
// hour, minute, second, millisecond (and their plurals / UCUM forms are mapped
// to these by the caller).
enum class CalendarUnit : uint8_t { kYear, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };

class DateTime {
 public:
  DateTime() = default;

  // FHIR JSON forms, also the FHIRPath literal bodies without '@':
  //   date:     YYYY, YYYY-MM, YYYY-MM-DD
  //   dateTime: any date form, or YYYY-MM-DDThh, YYYY-MM-DDThh:mm,
  //             YYYY-MM-DDThh:mm:ss(.f+)?, each optionally followed by Z or
  //             (+|-)hh:mm; FHIRPath's partial "YYYY-MM-DDT" and "YYYYT" forms
  //             are accepted too (precision of what precedes the T).
  //   time:     hh, hh:mm, hh:mm:ss(.f+)? (no offset).
  // Fraction digits beyond milliseconds are truncated. Field ranges are
  // checked (month 1-12, day within the month incl. leap years, hour 0-23,
  // minute 0-59, second 0-59, offset within +-14:00). Returns nullopt on any
  // other text.
  static std::optional<DateTime> ParseDate(std::string_view text);
  static std::optional<DateTime> ParseDateTime(std::string_view text);
  static std::optional<DateTime> ParseTime(std::string_view text);

  // Builds a value from fields; `precision` says which are meaningful.
  // For kTime only hour..millisecond are used. Returns nullopt if out of range.
  static std::optional<DateTime> FromFields(DateTimeKind kind, DateTimePrecision precision, int year, int month,
                                            int day, int hour, int minute, int second, int millisecond,
                                            std::optional<int> tz_offset_minutes);

  DateTimeKind kind() const { return kind_; }
  DateTimePrecision precision() const { return precision_; }
  int year() const { return year_; }
  int month() const { return month_; }
  int day() const { return day_; }
  int hour() const { return hour_; }
  int minute() const { return minute_; }
  int second() const { return second_; }
  int millisecond() const { return millisecond_; }
  bool has_timezone() const { return has_tz_; }
  // Minutes east of UTC; meaningful only when has_timezone().
  int tz_offset_minutes() const { return tz_offset_minutes_; }

  // FHIR text of the value at its own precision, without '@':
  // "2014-01", "2014-01-25T14:30:14.559+10:00", "14:30:00". UTC offsets print
  // as "Z" only if they were parsed as "Z"; otherwise "+00:00".
  std::string ToString() const;

  // FHIRPath precision(): digits in the written value (year 4, month 6,
  // day 8, hour 10, minute 12, second 14, millisecond 17; for Time: hour 2,
  // minute 4, second 6, millisecond 9).
  int PrecisionDigits() const;

  // Returns this value with the time-zone offset changed to `offset_minutes`
  // (the instant is unchanged). Values without a time zone or without a time
  // component are returned unchanged.
  DateTime WithOffset(int offset_minutes) const;

  // The same value at a coarser precision (fields below it cleared). A finer
  // precision than the value has returns it unchanged.
  DateTime Truncate(DateTimePrecision precision) const;

  // FHIRPath comparison. Both values must have the same kind (a Date is
  // compared with a DateTime as a DateTime at day precision). If both have
  // offsets they are normalised to UTC first; if exactly one has an offset and
  // either has a time component, the result is nullopt. Returns <0, 0, >0,
  // or nullopt when precision differences make the order unknown.
  static std::optional<int> Compare(const DateTime& a, const DateTime& b);

  // FHIRPath `=`: true/false, or nullopt when unknown (see Compare).
  static std::optional<bool> Equal(const DateTime& a, const DateTime& b);
  // FHIRPath `~`: false instead of unknown when precisions differ.
  static bool Equivalent(const DateTime& a, const DateTime& b);

  // Adds `amount` units (negative to subtract) with FHIRPath calendar rules:
  // years/months keep the day, clamped to the month's last day
  // (2012-02-29 + 1 year = 2013-02-28); a unit finer than the value's
  // precision is converted to that precision and truncated toward zero
  // (@2014 + 24 months = @2016; @1973-12-25 + 7.7 days counts 7 days);
  // weeks are 7 days. The result keeps this value's precision and offset.
  // Returns nullopt on overflow outside years 1-9999 or a unit that cannot
  // apply (e.g. hours to a Date).
  std::optional<DateTime> Add(const Decimal& amount, CalendarUnit unit) const;

  // FHIRPath lowBoundary()/highBoundary() for dates and times: the earliest /
  // latest value the partial value could stand for, at `precision_digits`
  // (same numbering as PrecisionDigits(); default 17 for DateTime, 8 for
  // Date, 9 for Time). A DateTime without an offset gets +14:00 for the low
  // boundary and -12:00 for the high one. nullopt for an invalid precision.
  std::optional<DateTime> LowBoundary(int precision_digits) const;
  std::optional<DateTime> HighBoundary(int precision_digits) const;

 private:
  DateTimeKind kind_ = DateTimeKind::kDate;
  DateTimePrecision precision_ = DateTimePrecision::kYear;
  bool has_tz_ = false;
  bool tz_is_z_ = false;
  int16_t tz_offset_minutes_ = 0;
  int16_t year_ = 1;
  uint8_t month_ = 1;
  uint8_t day_ = 1;
  uint8_t hour_ = 0;
  uint8_t minute_ = 0;
  uint8_t second_ = 0;
  uint16_t millisecond_ = 0;
};

// Number of days in `month` (1-12) of `year`, leap years included.
int DaysInMonth(int year, int month);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_DATE_TIME_H_
