#include "common/date_time.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace regenpath {
namespace {

constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
constexpr int kMaxOffsetMinutes = 14 * 60;
constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
// days_from_civil); valid for any year, so UTC normalisation may step
// briefly outside 1..9999.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_index = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
  const int month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
  return CivilDate{year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// All seven fields of a value, widened so arithmetic can step out of range
// before it is checked.
struct Fields {
  int64_t year = 1;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;
};

int64_t TimeOfDayMillis(const Fields& fields) {
  return fields.hour * kMillisPerHour + fields.minute * kMillisPerMinute + fields.second * kMillisPerSecond +
         fields.millisecond;
}

// Milliseconds since 1970-01-01T00:00 of the (local) wall-clock fields.
int64_t ToMillis(const Fields& fields) {
  return DaysFromCivil(fields.year, fields.month, fields.day) * kMillisPerDay + TimeOfDayMillis(fields);
}

Fields FromMillis(int64_t millis) {
  int64_t days = millis / kMillisPerDay;
  int64_t rest = millis % kMillisPerDay;
  if (rest < 0) {
    rest += kMillisPerDay;
    --days;
  }
  CivilDate date = CivilFromDays(days);
  Fields fields;
  fields.year = date.year;
  fields.month = date.month;
  fields.day = date.day;
  fields.hour = static_cast<int>(rest / kMillisPerHour);
  fields.minute = static_cast<int>(rest % kMillisPerHour / kMillisPerMinute);
  fields.second = static_cast<int>(rest % kMillisPerMinute / kMillisPerSecond);
  fields.millisecond = static_cast<int>(rest % kMillisPerSecond);
  return fields;
}

Fields FieldsOf(const DateTime& value) {
  Fields fields;
  fields.year = value.year();
  fields.month = value.month();
  fields.day = value.day();
  fields.hour = value.hour();
  fields.minute = value.minute();
  fields.second = value.second();
  fields.millisecond = value.millisecond();
  return fields;
}

bool HasTimeComponent(const DateTime& value) {
  return value.kind() == DateTimeKind::kTime ||
         (value.kind() == DateTimeKind::kDateTime && value.precision() >= DateTimePrecision::kHour);
}

// A time-zone offset only means something on a DateTime with a time part.
bool HasEffectiveOffset(const DateTime& value) {
  return value.has_timezone() && value.kind() == DateTimeKind::kDateTime &&
         value.precision() >= DateTimePrecision::kHour;
}

// Reads fixed-width decimal fields from the front of a string.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool PeekDigit() const { return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; }

  // Reads exactly `width` digits.
  std::optional<int> Digits(int width) {
    int value = 0;
    for (int i = 0; i < width; ++i) {
      if (!PeekDigit()) return std::nullopt;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return value;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct ParsedDate {
  DateTimePrecision precision;
  int year;
  int month = 1;
  int day = 1;
};

// YYYY, YYYY-MM or YYYY-MM-DD, ranges checked.
std::optional<ParsedDate> ParseDatePart(Cursor& cursor) {
  std::optional<int> year = cursor.Digits(4);
  if (!year || *year < kMinYear) return std::nullopt;
  ParsedDate date{DateTimePrecision::kYear, *year};
  if (!cursor.Consume('-')) return date;
  std::optional<int> month = cursor.Digits(2);
  if (!month || *month < 1 || *month > 12) return std::nullopt;
  date.month = *month;
  date.precision = DateTimePrecision::kMonth;
  if (!cursor.Consume('-')) return date;
  std::optional<int> day = cursor.Digits(2);
  if (!day || *day < 1 || *day > DaysInMonth(*year, *month)) return std::nullopt;
  date.day = *day;
  date.precision = DateTimePrecision::kDay;
  return date;
}

struct ParsedTime {
  DateTimePrecision precision = DateTimePrecision::kHour;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;
  int fraction_digits = 3;
};

// hh, hh:mm or hh:mm:ss(.f+)?, ranges checked; fraction digits past the
// third are dropped.
std::optional<ParsedTime> ParseTimePart(Cursor& cursor) {
  ParsedTime time;
  std::optional<int> hour = cursor.Digits(2);
  if (!hour || *hour > 23) return std::nullopt;
  time.hour = *hour;
  if (!cursor.Consume(':')) return time;
  std::optional<int> minute = cursor.Digits(2);
  if (!minute || *minute > 59) return std::nullopt;
  time.minute = *minute;
  time.precision = DateTimePrecision::kMinute;
  if (!cursor.Consume(':')) return time;
  std::optional<int> second = cursor.Digits(2);
  if (!second || *second > 59) return std::nullopt;
  time.second = *second;
  time.precision = DateTimePrecision::kSecond;
  if (!cursor.Consume('.')) return time;
  if (!cursor.PeekDigit()) return std::nullopt;
  int digits = 0;
  int millis = 0;
  while (cursor.PeekDigit()) {
    int digit = *cursor.Digits(1);
    if (digits < 3) millis = millis * 10 + digit;
    ++digits;
  }
  for (int i = digits; i < 3; ++i) millis *= 10;
  time.millisecond = millis;
  time.fraction_digits = std::min(digits, 3);
  time.precision = DateTimePrecision::kMillisecond;
  return time;
}

struct ParsedOffset {
  int minutes = 0;
  bool is_z = false;
};

// Z or (+|-)hh:mm within +-14:00.
std::optional<ParsedOffset> ParseOffset(Cursor& cursor) {
  ParsedOffset offset;
  if (cursor.Consume('Z')) {
    offset.is_z = true;
    return offset;
  }
  int sign = 1;
  if (cursor.Consume('-')) {
    sign = -1;
  } else if (!cursor.Consume('+')) {
    return std::nullopt;
  }
  std::optional<int> hours = cursor.Digits(2);
  if (!hours || !cursor.Consume(':')) return std::nullopt;
  std::optional<int> minutes = cursor.Digits(2);
  if (!minutes || *minutes > 59) return std::nullopt;
  int total = *hours * 60 + *minutes;
  if (total > kMaxOffsetMinutes) return std::nullopt;
  offset.minutes = sign * total;
  return offset;
}

// Precision of a unit, for comparing it with a value's precision; a week sits
// between month and day, and is handled in days.
DateTimePrecision UnitPrecision(CalendarUnit unit) {
  switch (unit) {
    case CalendarUnit::kYear:
      return DateTimePrecision::kYear;
    case CalendarUnit::kMonth:
      return DateTimePrecision::kMonth;
    case CalendarUnit::kWeek:
    case CalendarUnit::kDay:
      return DateTimePrecision::kDay;
    case CalendarUnit::kHour:
      return DateTimePrecision::kHour;
    case CalendarUnit::kMinute:
      return DateTimePrecision::kMinute;
    case CalendarUnit::kSecond:
      return DateTimePrecision::kSecond;
    case CalendarUnit::kMillisecond:
      return DateTimePrecision::kMillisecond;
  }
  return DateTimePrecision::kMillisecond;
}

// Length of a unit in milliseconds, with FHIRPath's calendar conversion
// factors for partial values: 1 month = 30 days, 1 year = 365 days.
int64_t UnitMillis(CalendarUnit unit) {
  switch (unit) {
    case CalendarUnit::kYear:
      return 365 * kMillisPerDay;
    case CalendarUnit::kMonth:
      return 30 * kMillisPerDay;
    case CalendarUnit::kWeek:
      return 7 * kMillisPerDay;
    case CalendarUnit::kDay:
      return kMillisPerDay;
    case CalendarUnit::kHour:
      return kMillisPerHour;
    case CalendarUnit::kMinute:
      return kMillisPerMinute;
    case CalendarUnit::kSecond:
      return kMillisPerSecond;
    case CalendarUnit::kMillisecond:
      return 1;
  }
  return 1;
}

// The unit whose step is one unit of `precision`.
CalendarUnit PrecisionUnit(DateTimePrecision precision) {
  switch (precision) {
    case DateTimePrecision::kYear:
      return CalendarUnit::kYear;
    case DateTimePrecision::kMonth:
      return CalendarUnit::kMonth;
    case DateTimePrecision::kDay:
      return CalendarUnit::kDay;
    case DateTimePrecision::kHour:
      return CalendarUnit::kHour;
    case DateTimePrecision::kMinute:
      return CalendarUnit::kMinute;
    case DateTimePrecision::kSecond:
      return CalendarUnit::kSecond;
    case DateTimePrecision::kMillisecond:
      return CalendarUnit::kMillisecond;
  }
  return CalendarUnit::kMillisecond;
}

// PrecisionDigits() numbering back to a precision; nullopt if not a valid
// precision for `kind`.
std::optional<DateTimePrecision> PrecisionFromDigits(DateTimeKind kind, int digits) {
  if (kind == DateTimeKind::kTime) {
    switch (digits) {
      case 2:
        return DateTimePrecision::kHour;
      case 4:
        return DateTimePrecision::kMinute;
      case 6:
        return DateTimePrecision::kSecond;
      case 9:
        return DateTimePrecision::kMillisecond;
      default:
        return std::nullopt;
    }
  }
  std::optional<DateTimePrecision> precision;
  switch (digits) {
    case 4:
      precision = DateTimePrecision::kYear;
      break;
    case 6:
      precision = DateTimePrecision::kMonth;
      break;
    case 8:
      precision = DateTimePrecision::kDay;
      break;
    case 10:
      precision = DateTimePrecision::kHour;
      break;
    case 12:
      precision = DateTimePrecision::kMinute;
      break;
    case 14:
      precision = DateTimePrecision::kSecond;
      break;
    case 17:
      precision = DateTimePrecision::kMillisecond;
      break;
    default:
      return std::nullopt;
  }
  if (kind == DateTimeKind::kDate && *precision > DateTimePrecision::kDay) return std::nullopt;
  return precision;
}

// The value's components, coarsest first; seconds and milliseconds are one
// component (seconds * 1000 + ms), as FHIRPath compares them.
struct Components {
  std::array<int64_t, 6> values;
  int first;  // Index of the coarsest component (3, hours, for a Time).
  int last;   // Index of the finest component present.
};

Components ComponentsOf(const Fields& fields, DateTimeKind kind, DateTimePrecision precision) {
  Components components;
  components.values = {fields.year, fields.month,  fields.day,
                       fields.hour, fields.minute, fields.second * kMillisPerSecond + fields.millisecond};
  components.first = kind == DateTimeKind::kTime ? 3 : 0;
  components.last = std::min(static_cast<int>(precision), 5);
  return components;
}

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

std::optional<DateTime> DateTime::ParseDate(std::string_view text) {
  Cursor cursor(text);
  std::optional<ParsedDate> date = ParseDatePart(cursor);
  if (!date || !cursor.AtEnd()) return std::nullopt;
  return FromFields(DateTimeKind::kDate, date->precision, date->year, date->month, date->day, 0, 0, 0, 0,
                    std::nullopt);
}

std::optional<DateTime> DateTime::ParseDateTime(std::string_view text) {
  Cursor cursor(text);
  std::optional<ParsedDate> date = ParseDatePart(cursor);
  if (!date) return std::nullopt;
  if (!cursor.AtEnd() && !cursor.Consume('T')) return std::nullopt;
  if (cursor.AtEnd()) {
    // A date alone, or FHIRPath's partial form ending in 'T'.
    return FromFields(DateTimeKind::kDateTime, date->precision, date->year, date->month, date->day, 0, 0, 0,
                      0, std::nullopt);
  }
  if (date->precision != DateTimePrecision::kDay) return std::nullopt;  // A time needs a full date.
  std::optional<ParsedTime> time = ParseTimePart(cursor);
  if (!time) return std::nullopt;
  std::optional<ParsedOffset> offset;
  if (!cursor.AtEnd()) {
    offset = ParseOffset(cursor);
    if (!offset || !cursor.AtEnd()) return std::nullopt;
  }
  std::optional<DateTime> result = FromFields(
      DateTimeKind::kDateTime, time->precision, date->year, date->month, date->day, time->hour, time->minute,
      time->second, time->millisecond, offset ? std::optional<int>(offset->minutes) : std::nullopt);
  if (!result) return std::nullopt;
  result->tz_is_z_ = offset && offset->is_z;
  result->fraction_digits_ = static_cast<uint8_t>(time->fraction_digits);
  return result;
}

std::optional<DateTime> DateTime::ParseTime(std::string_view text) {
  if (!text.empty() && text.front() == 'T') text.remove_prefix(1);
  Cursor cursor(text);
  std::optional<ParsedTime> time = ParseTimePart(cursor);
  if (!time || !cursor.AtEnd()) return std::nullopt;
  std::optional<DateTime> result = FromFields(DateTimeKind::kTime, time->precision, 1, 1, 1, time->hour,
                                              time->minute, time->second, time->millisecond, std::nullopt);
  if (!result) return std::nullopt;
  result->fraction_digits_ = static_cast<uint8_t>(time->fraction_digits);
  return result;
}

std::optional<DateTime> DateTime::FromFields(DateTimeKind kind, DateTimePrecision precision, int year,
                                             int month, int day, int hour, int minute, int second,
                                             int millisecond, std::optional<int> tz_offset_minutes) {
  if (kind == DateTimeKind::kDate && precision > DateTimePrecision::kDay) return std::nullopt;
  if (kind == DateTimeKind::kTime && precision < DateTimePrecision::kHour) return std::nullopt;
  if (precision > DateTimePrecision::kMillisecond) return std::nullopt;
  DateTime result;
  result.kind_ = kind;
  result.precision_ = precision;
  if (kind != DateTimeKind::kTime) {
    if (year < kMinYear || year > kMaxYear) return std::nullopt;
    result.year_ = static_cast<int16_t>(year);
    if (precision >= DateTimePrecision::kMonth) {
      if (month < 1 || month > 12) return std::nullopt;
      result.month_ = static_cast<uint8_t>(month);
    }
    if (precision >= DateTimePrecision::kDay) {
      if (day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
      result.day_ = static_cast<uint8_t>(day);
    }
  }
  if (precision >= DateTimePrecision::kHour) {
    if (hour < 0 || hour > 23) return std::nullopt;
    result.hour_ = static_cast<uint8_t>(hour);
  }
  if (precision >= DateTimePrecision::kMinute) {
    if (minute < 0 || minute > 59) return std::nullopt;
    result.minute_ = static_cast<uint8_t>(minute);
  }
  if (precision >= DateTimePrecision::kSecond) {
    if (second < 0 || second > 59) return std::nullopt;
    result.second_ = static_cast<uint8_t>(second);
  }
  if (precision >= DateTimePrecision::kMillisecond) {
    if (millisecond < 0 || millisecond > 999) return std::nullopt;
    result.millisecond_ = static_cast<uint16_t>(millisecond);
  }
  if (tz_offset_minutes && kind == DateTimeKind::kDateTime && precision >= DateTimePrecision::kHour) {
    if (*tz_offset_minutes < -kMaxOffsetMinutes || *tz_offset_minutes > kMaxOffsetMinutes)
      return std::nullopt;
    result.has_tz_ = true;
    result.tz_offset_minutes_ = static_cast<int16_t>(*tz_offset_minutes);
  }
  return result;
}

namespace {

// Appends `value` (0 <= value < 10^width) with `width` digits, zero-padded.
void AppendDigits(std::string& text, int value, int width) {
  char digits[4];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  text.append(digits, static_cast<size_t>(width));
}

}  // namespace

std::string DateTime::ToString() const {
  std::string text;
  text.reserve(32);
  if (kind_ != DateTimeKind::kTime) {
    if (year_ >= 0 && year_ <= 9999) {
      AppendDigits(text, year_, 4);
    } else {
      char buffer[16];
      std::snprintf(buffer, sizeof(buffer), "%04d", year_);
      text += buffer;
    }
    if (precision_ >= DateTimePrecision::kMonth) {
      text += '-';
      AppendDigits(text, month_, 2);
    }
    if (precision_ >= DateTimePrecision::kDay) {
      text += '-';
      AppendDigits(text, day_, 2);
    }
    if (precision_ < DateTimePrecision::kHour) return text;
    text += 'T';
  }
  AppendDigits(text, hour_, 2);
  if (precision_ >= DateTimePrecision::kMinute) {
    text += ':';
    AppendDigits(text, minute_, 2);
  }
  if (precision_ >= DateTimePrecision::kSecond) {
    text += ':';
    AppendDigits(text, second_, 2);
  }
  if (precision_ >= DateTimePrecision::kMillisecond) {
    // As many fraction digits as were written, but never fewer than the
    // milliseconds need (arithmetic may have changed them).
    int needed = millisecond_ % 10 != 0 ? 3 : (millisecond_ % 100 != 0 ? 2 : 1);
    int digits = std::max<int>(needed, fraction_digits_);
    std::string fraction;
    AppendDigits(fraction, millisecond_, 3);
    text += '.';
    text.append(fraction, 0, static_cast<size_t>(std::min(digits, 3)));
  }
  if (has_tz_) {
    if (tz_is_z_ && tz_offset_minutes_ == 0) {
      text += 'Z';
    } else {
      int offset = tz_offset_minutes_;
      text += offset < 0 ? '-' : '+';
      if (offset < 0) offset = -offset;
      AppendDigits(text, (offset / 60) % 100, 2);
      text += ':';
      AppendDigits(text, offset % 60, 2);
    }
  }
  return text;
}

int DateTime::PrecisionDigits() const {
  if (kind_ == DateTimeKind::kTime) {
    switch (precision_) {
      case DateTimePrecision::kHour:
        return 2;
      case DateTimePrecision::kMinute:
        return 4;
      case DateTimePrecision::kSecond:
        return 6;
      default:
        return 9;
    }
  }
  static constexpr int kDigits[] = {4, 6, 8, 10, 12, 14, 17};
  return kDigits[static_cast<int>(precision_)];
}

DateTime DateTime::WithOffset(int offset_minutes) const {
  if (!HasEffectiveOffset(*this) || offset_minutes == tz_offset_minutes_) return *this;
  if (offset_minutes < -kMaxOffsetMinutes || offset_minutes > kMaxOffsetMinutes) return *this;
  Fields fields =
      FromMillis(ToMillis(FieldsOf(*this)) + (offset_minutes - tz_offset_minutes_) * kMillisPerMinute);
  if (fields.year < kMinYear || fields.year > kMaxYear) return *this;
  DateTime result = *this;
  result.year_ = static_cast<int16_t>(fields.year);
  result.month_ = static_cast<uint8_t>(fields.month);
  result.day_ = static_cast<uint8_t>(fields.day);
  result.hour_ = static_cast<uint8_t>(fields.hour);
  // Keep fields below the precision cleared (a half-hour offset change on an
  // hour-precision value has no minute to land in).
  result.minute_ = precision_ >= DateTimePrecision::kMinute ? static_cast<uint8_t>(fields.minute) : 0;
  result.tz_offset_minutes_ = static_cast<int16_t>(offset_minutes);
  result.tz_is_z_ = false;
  return result;
}

DateTime DateTime::Truncate(DateTimePrecision precision) const {
  if (kind_ == DateTimeKind::kTime) precision = std::max(precision, DateTimePrecision::kHour);
  if (precision >= precision_) return *this;
  DateTime result = *this;
  result.precision_ = precision;
  if (precision < DateTimePrecision::kMonth) result.month_ = 1;
  if (precision < DateTimePrecision::kDay) result.day_ = 1;
  if (precision < DateTimePrecision::kHour) {
    result.hour_ = 0;
    result.has_tz_ = false;
    result.tz_is_z_ = false;
    result.tz_offset_minutes_ = 0;
  }
  if (precision < DateTimePrecision::kMinute) result.minute_ = 0;
  if (precision < DateTimePrecision::kSecond) result.second_ = 0;
  if (precision < DateTimePrecision::kMillisecond) {
    result.millisecond_ = 0;
    result.fraction_digits_ = 3;
  }
  return result;
}

std::optional<int> DateTime::Compare(const DateTime& a, const DateTime& b) {
  if ((a.kind_ == DateTimeKind::kTime) != (b.kind_ == DateTimeKind::kTime)) return std::nullopt;
  const bool offset_a = HasEffectiveOffset(a);
  const bool offset_b = HasEffectiveOffset(b);
  // Without a common offset, time components cannot be lined up; a value of
  // date precision is compared on its date alone (@2026-11-24T10:00+01:00 >
  // @1974-12-25 is true; against @2026-11-24 it is unknown).
  if (offset_a != offset_b && HasTimeComponent(a) && HasTimeComponent(b)) return std::nullopt;
  Fields fields_a = FieldsOf(a);
  Fields fields_b = FieldsOf(b);
  if (offset_a && offset_b && a.tz_offset_minutes_ != b.tz_offset_minutes_) {
    // Both to UTC; the year may leave 1..9999 here, which is harmless.
    fields_a = FromMillis(ToMillis(fields_a) - a.tz_offset_minutes_ * kMillisPerMinute);
    fields_b = FromMillis(ToMillis(fields_b) - b.tz_offset_minutes_ * kMillisPerMinute);
  }
  Components components_a = ComponentsOf(fields_a, a.kind_, a.precision_);
  Components components_b = ComponentsOf(fields_b, b.kind_, b.precision_);
  for (int index = components_a.first; index <= 5; ++index) {
    const bool has_a = index <= components_a.last;
    const bool has_b = index <= components_b.last;
    if (!has_a && !has_b) return 0;
    if (has_a != has_b) return std::nullopt;
    if (components_a.values[index] != components_b.values[index]) {
      return components_a.values[index] < components_b.values[index] ? -1 : 1;
    }
  }
  return 0;
}

std::optional<bool> DateTime::Equal(const DateTime& a, const DateTime& b) {
  std::optional<int> order = Compare(a, b);
  if (!order) return std::nullopt;
  return *order == 0;
}

bool DateTime::Equivalent(const DateTime& a, const DateTime& b) {
  std::optional<int> order = Compare(a, b);
  return order && *order == 0;
}

std::optional<DateTime> DateTime::Add(const Decimal& amount, CalendarUnit unit) const {
  const bool date_unit = unit == CalendarUnit::kYear || unit == CalendarUnit::kMonth ||
                         unit == CalendarUnit::kWeek || unit == CalendarUnit::kDay;
  if (kind_ == DateTimeKind::kTime && date_unit) return std::nullopt;
  if (kind_ == DateTimeKind::kDate && !date_unit) return std::nullopt;

  // Only seconds and milliseconds keep their fraction (42.53 seconds); every
  // other unit counts whole units (7.7 days is 7 days).
  const bool fractional = unit == CalendarUnit::kSecond || unit == CalendarUnit::kMillisecond;
  const Decimal whole = fractional ? amount : amount.Truncate();

  // Express the amount as a whole number of `step` units, where `step` is the
  // unit itself or, if it is finer than this value, the value's own precision
  // (@2014 + 24 months = @2016; @2026-02 + 5 weeks = @2026-03).
  CalendarUnit step = unit;
  std::optional<Decimal> count;
  if (UnitPrecision(unit) > precision_) {
    step = PrecisionUnit(precision_);
    if (step == CalendarUnit::kYear && unit == CalendarUnit::kMonth) {
      count = Decimal::IntegerDivide(whole, Decimal::FromInt(12));
    } else {
      std::optional<Decimal> millis = Decimal::Multiply(whole, Decimal::FromInt(UnitMillis(unit)));
      if (!millis) return std::nullopt;
      count = Decimal::IntegerDivide(*millis, Decimal::FromInt(UnitMillis(step)));
    }
  } else if (unit == CalendarUnit::kSecond && precision_ == DateTimePrecision::kMillisecond) {
    step = CalendarUnit::kMillisecond;
    std::optional<Decimal> millis = Decimal::Multiply(whole, Decimal::FromInt(kMillisPerSecond));
    if (!millis) return std::nullopt;
    count = millis->Truncate();
  } else {
    count = whole.Truncate();
  }
  if (!count) return std::nullopt;
  std::optional<int64_t> n = count->ToInt64();
  if (!n) return std::nullopt;

  Fields fields = FieldsOf(*this);
  if (kind_ == DateTimeKind::kTime) {
    // Time is cyclic: reduce the count to within a day first, then wrap.
    const int64_t step_millis = UnitMillis(step);
    const int64_t per_day = kMillisPerDay / step_millis;
    int64_t millis = (TimeOfDayMillis(fields) + (*n % per_day) * step_millis) % kMillisPerDay;
    if (millis < 0) millis += kMillisPerDay;
    fields = FromMillis(millis);
  } else if (step == CalendarUnit::kYear || step == CalendarUnit::kMonth) {
    // |n| beyond 10^6 cannot stay within years 1..9999 either way.
    if (*n > 1000000 || *n < -1000000) return std::nullopt;
    int64_t months = fields.year * 12 + (fields.month - 1) + (step == CalendarUnit::kYear ? *n * 12 : *n);
    if (months < 0) return std::nullopt;
    fields.year = months / 12;
    fields.month = static_cast<int>(months % 12) + 1;
    if (fields.year < kMinYear || fields.year > kMaxYear) return std::nullopt;
    if (precision_ >= DateTimePrecision::kDay) {
      fields.day = std::min(fields.day, DaysInMonth(static_cast<int>(fields.year), fields.month));
    }
  } else {
    int64_t delta = 0;
    int64_t millis = 0;
    if (__builtin_mul_overflow(*n, UnitMillis(step), &delta) ||
        __builtin_add_overflow(ToMillis(fields), delta, &millis)) {
      return std::nullopt;
    }
    fields = FromMillis(millis);
    if (fields.year < kMinYear || fields.year > kMaxYear) return std::nullopt;
  }

  DateTime result = *this;
  if (kind_ != DateTimeKind::kTime) {
    result.year_ = static_cast<int16_t>(fields.year);
    result.month_ = static_cast<uint8_t>(fields.month);
    result.day_ = static_cast<uint8_t>(fields.day);
  }
  result.hour_ = static_cast<uint8_t>(fields.hour);
  result.minute_ = static_cast<uint8_t>(fields.minute);
  result.second_ = static_cast<uint8_t>(fields.second);
  result.millisecond_ = static_cast<uint16_t>(fields.millisecond);
  return result;
}

std::optional<DateTime> DateTime::LowBoundary(int precision_digits) const {
  std::optional<DateTimePrecision> target = PrecisionFromDigits(kind_, precision_digits);
  if (!target) return std::nullopt;
  // Fields the value lacks are already at their least value, so widening the
  // precision is enough.
  DateTime result = Truncate(*target);
  result.precision_ = *target;
  result.fraction_digits_ = 3;
  if (kind_ == DateTimeKind::kDateTime && *target >= DateTimePrecision::kHour && !has_tz_) {
    result.has_tz_ = true;
    result.tz_is_z_ = false;
    result.tz_offset_minutes_ = kMaxOffsetMinutes;  // The earliest offset: +14:00.
  }
  return result;
}

std::optional<DateTime> DateTime::HighBoundary(int precision_digits) const {
  std::optional<DateTimePrecision> target = PrecisionFromDigits(kind_, precision_digits);
  if (!target) return std::nullopt;
  DateTime result = Truncate(*target);
  result.precision_ = *target;
  result.fraction_digits_ = 3;
  // Fill each missing field up to the target with its greatest value.
  auto missing = [&](DateTimePrecision field) { return precision_ < field && field <= *target; };
  if (kind_ != DateTimeKind::kTime) {
    if (missing(DateTimePrecision::kMonth)) result.month_ = 12;
    if (missing(DateTimePrecision::kDay))
      result.day_ = static_cast<uint8_t>(DaysInMonth(year_, result.month_));
  }
  if (missing(DateTimePrecision::kHour)) result.hour_ = 23;
  if (missing(DateTimePrecision::kMinute)) result.minute_ = 59;
  if (missing(DateTimePrecision::kSecond)) result.second_ = 59;
  if (missing(DateTimePrecision::kMillisecond)) result.millisecond_ = 999;
  if (kind_ == DateTimeKind::kDateTime && *target >= DateTimePrecision::kHour && !has_tz_) {
    result.has_tz_ = true;
    result.tz_is_z_ = false;
    result.tz_offset_minutes_ = -12 * 60;  // The latest offset: -12:00.
  }
  return result;
}

}  // namespace regenpath
