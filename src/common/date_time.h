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
  //   time:     hh, hh:mm, hh:mm:ss(.f+)? (no offset), optionally preceded
  //             by the 'T' of a FHIRPath literal ("T14:30").
  // ParseDateTime returns kind kDateTime even for a date-only text. Fraction
  // digits beyond milliseconds are truncated. Field ranges are checked (year
  // 0001-9999 written with 4 digits, month 1-12, day within the month incl.
  // leap years, hour 0-23, minute 0-59, second 0-59, offset within +-14:00).
  // Returns nullopt on any other text.
  static std::optional<DateTime> ParseDate(std::string_view text);
  static std::optional<DateTime> ParseDateTime(std::string_view text);
  static std::optional<DateTime> ParseTime(std::string_view text);

  // Builds a value from fields; `precision` says which are meaningful (the
  // others are ignored and stored as their least value). For kTime only
  // hour..millisecond are used. The offset is kept only for a kDateTime with
  // a time part (hour or finer) and ignored otherwise. Returns nullopt if a
  // meaningful field or the offset is out of range, or the precision does not
  // suit the kind (a kDate finer than kDay, a kTime coarser than kHour).
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
  // "2014-01", "2014-01-25T14:30:14.559+10:00", "14:30:00". A DateTime
  // without a time part prints as its date ("2014T" -> "2014"). Fraction
  // digits print as parsed (".5" stays ".5"; values built otherwise use 3),
  // but never fewer than the milliseconds need. UTC offsets print as "Z" only
  // if they were parsed as "Z"; otherwise "+00:00".
  std::string ToString() const;

  // FHIRPath precision(): digits in the written value (year 4, month 6,
  // day 8, hour 10, minute 12, second 14, millisecond 17; for Time: hour 2,
  // minute 4, second 6, millisecond 9).
  int PrecisionDigits() const;

  // Returns this value with the time-zone offset changed to `offset_minutes`
  // (the instant is unchanged). Values without a time zone or without a time
  // component are returned unchanged, and so is the value when
  // `offset_minutes` is outside +-14:00 or the result would leave years
  // 1-9999. An hour-precision value moved by a non-whole-hour difference
  // keeps its minute cleared.
  DateTime WithOffset(int offset_minutes) const;

  // The same value at a coarser precision (fields below it cleared; the
  // offset too when no time part remains). A finer precision than the value
  // has returns it unchanged; a Time is never truncated below kHour.
  DateTime Truncate(DateTimePrecision precision) const;

  // FHIRPath comparison. Both values must have the same kind (a Date is
  // compared with a DateTime as a DateTime at day precision). If both have
  // offsets they are normalised to UTC first; if exactly one has an offset and
  // both have a time component, the result is nullopt (a value of date
  // precision is compared on its date fields as written). Returns <0, 0, >0,
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
  // weeks are 7 days. The conversion uses FHIRPath's factors (1 year = 12
  // months = 365 days, 1 month = 30 days, 1 day = 24 hours): @2016 + 365 days
  // = @2017, @2026-02 + 5 weeks = @2026-03. Only seconds and milliseconds
  // keep a fraction, to the value's precision (+ 42.53 seconds adds 42.530 s
  // to a millisecond-precision value, 42 s to a second-precision one); other
  // amounts are truncated first. A Time wraps around midnight (@T23:00 +
  // 2 hours = @T01:00). The result keeps this value's precision and offset
  // (arithmetic is on the local wall clock). Returns nullopt on overflow
  // outside years 1-9999 or a unit that cannot apply (hours, minutes, seconds
  // or milliseconds to a Date; years, months, weeks or days to a Time).
  std::optional<DateTime> Add(const Decimal& amount, CalendarUnit unit) const;

  // FHIRPath lowBoundary()/highBoundary() for dates and times: the earliest /
  // latest value the partial value could stand for, at `precision_digits`
  // (same numbering as PrecisionDigits(); default 17 for DateTime, 8 for
  // Date, 9 for Time): missing fields take their least / greatest value
  // (@2014-01-01T08.HighBoundary(17) = 2014-01-01T08:59:59.999-12:00), and a
  // precision coarser than the value's truncates it. A DateTime without an
  // offset gets +14:00 for the low boundary and -12:00 for the high one when
  // the result has a time part. nullopt for a precision that is not one of
  // 4, 6, 8 (Date), also 10, 12, 14, 17 (DateTime), or 2, 4, 6, 9 (Time).
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
  uint8_t fraction_digits_ = 3;  // Fraction digits written (1-3), for ToString.
};

// Number of days in `month` (1-12) of `year`, leap years included.
int DaysInMonth(int year, int month);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_DATE_TIME_H_
