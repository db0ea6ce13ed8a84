#include "common/date_time.h"

#include <string>

#include <gtest/gtest.h>

namespace regenpath {
namespace {

// Parses text the test knows to be valid.
DateTime Date(std::string_view text) {
  std::optional<DateTime> value = DateTime::ParseDate(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(DateTime());
}

DateTime Dt(std::string_view text) {
  std::optional<DateTime> value = DateTime::ParseDateTime(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(DateTime());
}

DateTime Time(std::string_view text) {
  std::optional<DateTime> value = DateTime::ParseTime(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(DateTime());
}

Decimal Num(std::string_view text) { return Decimal::Parse(text).value(); }

std::string Str(const std::optional<DateTime>& value) { return value ? value->ToString() : "<nullopt>"; }

std::string Eq(const std::optional<bool>& value) { return value ? (*value ? "true" : "false") : "empty"; }

// --- DaysInMonth ------------------------------------------------------------

TEST(DaysInMonthTest, LeapYears) {
  EXPECT_EQ(DaysInMonth(2023, 1), 31);
  EXPECT_EQ(DaysInMonth(2023, 2), 28);
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2023, 4), 30);
  EXPECT_EQ(DaysInMonth(2023, 12), 31);
  EXPECT_EQ(DaysInMonth(2023, 0), 0);
  EXPECT_EQ(DaysInMonth(2023, 13), 0);
}

// --- Parsing and printing ---------------------------------------------------

TEST(DateTimeParseTest, Dates) {
  DateTime year = Date("2014");
  EXPECT_EQ(year.kind(), DateTimeKind::kDate);
  EXPECT_EQ(year.precision(), DateTimePrecision::kYear);
  EXPECT_EQ(year.year(), 2014);
  DateTime month = Date("2014-01");
  EXPECT_EQ(month.precision(), DateTimePrecision::kMonth);
  EXPECT_EQ(month.month(), 1);
  DateTime day = Date("2014-01-25");
  EXPECT_EQ(day.precision(), DateTimePrecision::kDay);
  EXPECT_EQ(day.day(), 25);
  EXPECT_FALSE(day.has_timezone());
  EXPECT_TRUE(DateTime::ParseDate("2024-02-29").has_value());
  EXPECT_TRUE(DateTime::ParseDate("2000-02-29").has_value());
  EXPECT_TRUE(DateTime::ParseDate("0001-01-01").has_value());
  EXPECT_TRUE(DateTime::ParseDate("9999-12-31").has_value());
}

TEST(DateTimeParseTest, RejectsBadDates) {
  for (const char* text : {"",
                           "2014-13",
                           "2014-00",
                           "2014-02-30",
                           "2023-02-29",
                           "1900-02-29",
                           "2014-04-31",
                           "2014-01-32",
                           "2014-01-00",
                           "0000",
                           "0000-01-01",
                           "14",
                           "201",
                           "20145",
                           "2014-1",
                           "2014-01-1",
                           "2014/01/01",
                           "2014-01-01T10:00",
                           "2014-01-01T",
                           "2014-",
                           "-2014",
                           "+2014",
                           " 2014",
                           "2014 ",
                           "abcd",
                           "2014-01-01Z",
                           "2014-01-01x",
                           "２０１４"}) {
    EXPECT_FALSE(DateTime::ParseDate(text).has_value()) << "'" << text << "'";
  }
}

TEST(DateTimeParseTest, DateTimes) {
  DateTime value = Dt("2014-01-25T14:30:14.559+10:00");
  EXPECT_EQ(value.kind(), DateTimeKind::kDateTime);
  EXPECT_EQ(value.precision(), DateTimePrecision::kMillisecond);
  EXPECT_EQ(value.hour(), 14);
  EXPECT_EQ(value.minute(), 30);
  EXPECT_EQ(value.second(), 14);
  EXPECT_EQ(value.millisecond(), 559);
  EXPECT_TRUE(value.has_timezone());
  EXPECT_EQ(value.tz_offset_minutes(), 600);
  EXPECT_EQ(Dt("2014-01-25T14:30-05:30").tz_offset_minutes(), -330);
  EXPECT_EQ(Dt("2014").kind(), DateTimeKind::kDateTime);
  EXPECT_EQ(Dt("2014T").precision(), DateTimePrecision::kYear);
  EXPECT_EQ(Dt("2014-01T").precision(), DateTimePrecision::kMonth);
  EXPECT_EQ(Dt("2014-03-25T").precision(), DateTimePrecision::kDay);
  EXPECT_EQ(Dt("2014-01-25T14").precision(), DateTimePrecision::kHour);
  EXPECT_EQ(Dt("2014-01-25T14:30").precision(), DateTimePrecision::kMinute);
  EXPECT_EQ(Dt("2014-01-25T14:30:14").precision(), DateTimePrecision::kSecond);
  EXPECT_FALSE(Dt("2014-01-25T14:30:14").has_timezone());
  EXPECT_TRUE(Dt("2014-01-25T14Z").has_timezone());
}

TEST(DateTimeParseTest, FractionDigits) {
  EXPECT_EQ(Dt("2014-01-25T14:30:14.5").millisecond(), 500);
  EXPECT_EQ(Dt("2014-01-25T14:30:14.05").millisecond(), 50);
  EXPECT_EQ(Dt("2014-01-25T14:30:14.123456789Z").millisecond(), 123);
  EXPECT_EQ(Dt("2014-01-25T14:30:14.123456789Z").ToString(), "2014-01-25T14:30:14.123Z");
  EXPECT_EQ(Dt("2014-01-25T14:30:14.9999").millisecond(), 999);
}

TEST(DateTimeParseTest, RejectsBadDateTimes) {
  for (const char* text : {"2014-01-25T25:00",
                           "2014-01-25T24:00:00",
                           "2014-01-25T23:60",
                           "2014-01-25T23:59:60",
                           "2014-01-25T14:30:14.",
                           "2014-01-25T14:30:14.Z",
                           "2014-01-25T1",
                           "2014-01-25T14:3",
                           "2014-01-25T14:30:1",
                           "2014-01T10:00",
                           "2014T10",
                           "2014-01-25 14:30",
                           "2014-01-25t14:30",
                           "2014-01-25T14:30z",
                           "2014-01-25T14:30+10",
                           "2014-01-25T14:30+1000",
                           "2014-01-25T14:30+10:0",
                           "2014-01-25T14:30+14:01",
                           "2014-01-25T14:30-15:00",
                           "2014-01-25T14:30+10:60",
                           "2014-01-25T14:30Z+10:00",
                           "2014-01-25T14:30ZZ",
                           "2014-01-25TZ",
                           "2014TZ",
                           "2014-01-25T14:30:00+10:00 ",
                           "2014-01-25T+10:00",
                           "2014-02-30T10:00",
                           "T14:30",
                           "14:30",
                           "",
                           "T",
                           "2014-01-25TT10",
                           "2014-01-2510"}) {
    EXPECT_FALSE(DateTime::ParseDateTime(text).has_value()) << "'" << text << "'";
  }
  EXPECT_TRUE(DateTime::ParseDateTime("2014-01-25T14:30+14:00").has_value());
  EXPECT_TRUE(DateTime::ParseDateTime("2014-01-25T14:30-14:00").has_value());
}

TEST(DateTimeParseTest, Times) {
  DateTime time = Time("14:30:14.559");
  EXPECT_EQ(time.kind(), DateTimeKind::kTime);
  EXPECT_EQ(time.precision(), DateTimePrecision::kMillisecond);
  EXPECT_EQ(time.millisecond(), 559);
  EXPECT_EQ(Time("14").precision(), DateTimePrecision::kHour);
  EXPECT_EQ(Time("14:30").precision(), DateTimePrecision::kMinute);
  EXPECT_EQ(Time("00:00:00").precision(), DateTimePrecision::kSecond);
  EXPECT_EQ(Time("T12:00").ToString(), "12:00");  // The FHIRPath literal body.
  for (const char* text : {"", "T", "25:00", "24:00", "12:60", "12:00:60", "1", "1:00", "12:0", "12:00:00.",
                           "14:34:28Z", "14:34:28+10:00", "TT12", "2014-01-01", "12-00", "12:00 "}) {
    EXPECT_FALSE(DateTime::ParseTime(text).has_value()) << "'" << text << "'";
  }
}

TEST(DateTimeToStringTest, RoundTrips) {
  for (const char* text :
       {"2014", "2014-01", "2014-01-25", "2014-01-25T14", "2014-01-25T14:30", "2014-01-25T14:30:14",
        "2014-01-25T14:30:14.559", "2014-01-25T14:30:14.559+10:00", "2014-01-25T14:30:14.559Z",
        "2014-01-25T14:30:14+00:00", "2014-01-25T14:30:14.5-05:30", "2014-01-25T14:30:14.50Z",
        "2014-01-25T14:30:14.000Z", "2014-01-25T14:30:14.0", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999"}) {
    EXPECT_EQ(Dt(text).ToString(), text);
    std::optional<DateTime> reparsed = DateTime::ParseDateTime(Dt(text).ToString());
    ASSERT_TRUE(reparsed.has_value()) << text;
    EXPECT_EQ(Eq(DateTime::Equal(*reparsed, Dt(text))), "true") << text;
  }
  for (const char* text : {"2014", "2014-01", "2024-02-29"}) EXPECT_EQ(Date(text).ToString(), text);
  for (const char* text : {"14", "14:30", "14:30:00", "14:30:00.000", "14:30:00.1"}) {
    EXPECT_EQ(Time(text).ToString(), text);
  }
  // The partial forms print without the trailing 'T'.
  EXPECT_EQ(Dt("2014T").ToString(), "2014");
  EXPECT_EQ(Dt("2014-03-25T").ToString(), "2014-03-25");
  // "-00:00" is the same offset as "+00:00".
  EXPECT_EQ(Dt("2014-01-25T14:30-00:00").ToString(), "2014-01-25T14:30+00:00");
}

TEST(DateTimeTest, FromFields) {
  EXPECT_EQ(Str(DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kMillisecond, 2014, 1, 25,
                                     14, 30, 14, 5, 600)),
            "2014-01-25T14:30:14.005+10:00");
  EXPECT_EQ(Str(DateTime::FromFields(DateTimeKind::kDate, DateTimePrecision::kMonth, 2014, 7, 99, 99, 99, 99,
                                     9999, std::nullopt)),
            "2014-07");
  EXPECT_EQ(Str(DateTime::FromFields(DateTimeKind::kTime, DateTimePrecision::kMinute, 0, 0, 0, 9, 5, 0, 0,
                                     std::nullopt)),
            "09:05");
  // The offset only applies to a DateTime with a time part.
  EXPECT_EQ(Str(DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kDay, 2014, 1, 25, 0, 0, 0,
                                     0, 60)),
            "2014-01-25");
  EXPECT_FALSE(
      DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kDay, 2014, 1, 25, 0, 0, 0, 0, 60)
          ->has_timezone());
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kDate, DateTimePrecision::kHour, 2014, 1, 1, 1, 0, 0, 0,
                                    std::nullopt));
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kTime, DateTimePrecision::kDay, 2014, 1, 1, 1, 0, 0, 0,
                                    std::nullopt));
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kDate, DateTimePrecision::kDay, 2023, 2, 29, 0, 0, 0, 0,
                                    std::nullopt));
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kDate, DateTimePrecision::kDay, 10000, 1, 1, 0, 0, 0, 0,
                                    std::nullopt));
  EXPECT_FALSE(
      DateTime::FromFields(DateTimeKind::kDate, DateTimePrecision::kYear, 0, 1, 1, 0, 0, 0, 0, std::nullopt));
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kTime, DateTimePrecision::kMillisecond, 0, 0, 0, 23, 59, 59,
                                    1000, std::nullopt));
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kTime, DateTimePrecision::kHour, 0, 0, 0, -1, 0, 0, 0,
                                    std::nullopt));
  EXPECT_FALSE(DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kHour, 2014, 1, 1, 1, 0, 0, 0,
                                    15 * 60));
}

TEST(DateTimeTest, PrecisionDigits) {
  EXPECT_EQ(Date("2014").PrecisionDigits(), 4);
  EXPECT_EQ(Date("2014-01").PrecisionDigits(), 6);
  EXPECT_EQ(Date("2014-01-05").PrecisionDigits(), 8);
  EXPECT_EQ(Dt("2014T").PrecisionDigits(), 4);
  EXPECT_EQ(Dt("2014-01-05T10").PrecisionDigits(), 10);
  EXPECT_EQ(Dt("2014-01-05T10:30").PrecisionDigits(), 12);
  EXPECT_EQ(Dt("2014-01-05T10:30:00").PrecisionDigits(), 14);
  EXPECT_EQ(Dt("2014-01-05T10:30:00.000").PrecisionDigits(), 17);
  EXPECT_EQ(Time("10").PrecisionDigits(), 2);
  EXPECT_EQ(Time("10:30").PrecisionDigits(), 4);
  EXPECT_EQ(Time("10:30:00").PrecisionDigits(), 6);
  EXPECT_EQ(Time("10:30:00.000").PrecisionDigits(), 9);
}

TEST(DateTimeTest, WithOffset) {
  EXPECT_EQ(Dt("2014-01-25T14:30:00+10:00").WithOffset(0).ToString(), "2014-01-25T04:30:00+00:00");
  EXPECT_EQ(Dt("2014-01-01T02:00:00.123+05:00").WithOffset(-300).ToString(), "2013-12-31T16:00:00.123-05:00");
  EXPECT_EQ(Dt("2014-02-28T23:30Z").WithOffset(60).ToString(), "2014-03-01T00:30+01:00");
  EXPECT_EQ(Dt("2024-02-28T23:30Z").WithOffset(60).ToString(), "2024-02-29T00:30+01:00");
  EXPECT_EQ(Dt("2014-01-25T14:30Z").WithOffset(0).ToString(), "2014-01-25T14:30Z");
  // Unchanged: no offset, no time, out of range.
  EXPECT_EQ(Dt("2014-01-25T14:30").WithOffset(60).ToString(), "2014-01-25T14:30");
  EXPECT_EQ(Date("2014-01-25").WithOffset(60).ToString(), "2014-01-25");
  EXPECT_EQ(Time("14:30").WithOffset(60).ToString(), "14:30");
  EXPECT_EQ(Dt("0001-01-01T00:30+00:00").WithOffset(-60).ToString(), "0001-01-01T00:30+00:00");
  EXPECT_EQ(Dt("9999-12-31T23:30+00:00").WithOffset(60).ToString(), "9999-12-31T23:30+00:00");
  EXPECT_EQ(Dt("2014-01-25T14:30+00:00").WithOffset(15 * 60).ToString(), "2014-01-25T14:30+00:00");
}

TEST(DateTimeTest, Truncate) {
  DateTime value = Dt("2014-01-25T14:30:14.559+10:00");
  EXPECT_EQ(value.Truncate(DateTimePrecision::kSecond).ToString(), "2014-01-25T14:30:14+10:00");
  EXPECT_EQ(value.Truncate(DateTimePrecision::kHour).ToString(), "2014-01-25T14+10:00");
  DateTime day = value.Truncate(DateTimePrecision::kDay);
  EXPECT_EQ(day.ToString(), "2014-01-25");
  EXPECT_FALSE(day.has_timezone());
  EXPECT_EQ(value.Truncate(DateTimePrecision::kYear).ToString(), "2014");
  EXPECT_EQ(value.Truncate(DateTimePrecision::kYear).month(), 1);
  EXPECT_EQ(Date("2014-05").Truncate(DateTimePrecision::kDay).ToString(), "2014-05");
  EXPECT_EQ(Time("10:30:15").Truncate(DateTimePrecision::kMinute).ToString(), "10:30");
  EXPECT_EQ(Time("10:30:15").Truncate(DateTimePrecision::kYear).ToString(), "10");
}

// --- Equality, equivalence, comparison ---------------------------------------

struct EqualityCase {
  const char* a;
  const char* b;
  const char* expected;  // "true", "false" or "empty".
};

// Parses "@..." FHIRPath literals: "@T..." is a Time, "@YYYY-MM-DD" a Date
// unless it carries a 'T', anything else a DateTime.
DateTime Literal(std::string_view text) {
  text.remove_prefix(1);
  if (text.front() == 'T') return Time(text);
  if (text.find('T') == std::string_view::npos) return Date(text);
  return Dt(text);
}

TEST(DateTimeCompareTest, SpecAndSuiteEquality) {
  const EqualityCase cases[] = {
      {"@2012", "@2012", "true"},
      {"@2012", "@2013", "false"},
      {"@2012-01", "@2012", "empty"},
      {"@2012-01-01T10:30", "@2012-01-01T10:30", "true"},
      {"@2012-01-01T10:30", "@2012-01-01T10:31", "false"},
      {"@2012-01-01T10:30:31", "@2012-01-01T10:30", "empty"},
      {"@2012-01-01T10:30:31.0", "@2012-01-01T10:30:31", "true"},
      {"@2012-01-01T10:30:31.1", "@2012-01-01T10:30:31", "false"},
      {"@2017-11-05T01:30:00.0-04:00", "@2017-11-05T01:15:00.0-05:00", "false"},
      {"@2017-11-05T01:30:00.0-04:00", "@2017-11-05T00:30:00.0-05:00", "true"},
      {"@2012-04-15", "@2012-04-15", "true"},
      {"@2012-04-15", "@2012-04-16", "false"},
      {"@2012-04-15", "@2012-04-15T10:00:00", "empty"},
      {"@2012-04-15T15:00:00", "@2012-04-15T10:00:00", "false"},
      {"@2012-04-15T15:30:31", "@2012-04-15T15:30:31.0", "true"},
      {"@2012-04-15T15:30:31", "@2012-04-15T15:30:31.1", "false"},
      {"@2012-04-15T15:00:00Z", "@2012-04-15T10:00:00", "empty"},
      {"@2012-04-15T15:00:00+02:00", "@2012-04-15T16:00:00+03:00", "true"},
      {"@2012-04-15T15:00:00Z", "@2012-04-15T15:00:00+00:00", "true"},
      {"@2012-04-15T15:00:00Z", "@2012-04-15T15:00:00-00:00", "true"},
      {"@T10:30", "@T10:30", "true"},
      {"@T10:30:00", "@T10:30:00.000", "true"},
      {"@T10", "@T10:30", "empty"},
      {"@T10", "@T11:30", "false"},
      // Different at a shared component: false even though precisions differ.
      {"@2012-01", "@2013", "false"},
      {"@2012-04-15", "@2012-04-16T10:00:00", "false"},
      // A Date against a DateTime at day precision.
      {"@2012-04-15", "@2012-04-15T", "true"},
      // Offsets crossing midnight and years.
      {"@2012-12-31T23:30:00-01:00", "@2013-01-01T00:30:00Z", "true"},
      {"@2013-01-01T00:30:00+14:00", "@2012-12-31T10:30:00Z", "true"},
      {"@2012-03-01T00:30+01:00", "@2012-02-29T23:30Z", "true"},
  };
  for (const EqualityCase& c : cases) {
    EXPECT_EQ(Eq(DateTime::Equal(Literal(c.a), Literal(c.b))), c.expected) << c.a << " = " << c.b;
    EXPECT_EQ(Eq(DateTime::Equal(Literal(c.b), Literal(c.a))), c.expected) << c.b << " = " << c.a;
  }
}

TEST(DateTimeCompareTest, Equivalence) {
  const EqualityCase cases[] = {
      {"@2012", "@2012", "true"},
      {"@2012", "@2013", "false"},
      {"@2012-01", "@2012", "false"},
      {"@2012-01-01T10:30", "@2012-01-01T10:30", "true"},
      {"@2012-01-01T10:30", "@2012-01-01T10:31", "false"},
      {"@2012-01-01T10:30:31", "@2012-01-01T10:30", "false"},
      {"@2012-01-01T10:30:31.0", "@2012-01-01T10:30:31", "true"},
      {"@2012-01-01T10:30:31.1", "@2012-01-01T10:30:31", "false"},
      {"@2012-04-15", "@2012-04-15T10:00:00", "false"},
      {"@2012-04-15T15:00:00Z", "@2012-04-15T10:00:00", "false"},
      {"@2012-04-15T15:00:00+02:00", "@2012-04-15T16:00:00+03:00", "true"},
  };
  for (const EqualityCase& c : cases) {
    EXPECT_EQ(DateTime::Equivalent(Literal(c.a), Literal(c.b)) ? "true" : "false", std::string(c.expected))
        << c.a << " ~ " << c.b;
  }
}

TEST(DateTimeCompareTest, Ordering) {
  auto compare = [](const char* a, const char* b) -> std::string {
    std::optional<int> order = DateTime::Compare(Literal(a), Literal(b));
    if (!order) return "empty";
    return *order < 0 ? "<" : (*order > 0 ? ">" : "=");
  };
  EXPECT_EQ(compare("@2018-03-01", "@2018-01-01"), ">");
  EXPECT_EQ(compare("@2018-03", "@2018-03-01"), "empty");
  EXPECT_EQ(compare("@2018-03-01T10:30:00", "@2018-03-01T10:00:00"), ">");
  EXPECT_EQ(compare("@2018-03-01T10", "@2018-03-01T10:30"), "empty");
  EXPECT_EQ(compare("@2018-03-01T10:30:00", "@2018-03-01T10:30:00.0"), "=");
  EXPECT_EQ(compare("@T10:30:00", "@T10:00:00"), ">");
  EXPECT_EQ(compare("@T10", "@T10:30"), "empty");
  EXPECT_EQ(compare("@T10:30:00", "@T10:30:00.0"), "=");
  EXPECT_EQ(compare("@2018-01-01T16:00:00+11:00", "@2018-01-01T15:00:00.0+10:00"), "=");
  EXPECT_EQ(compare("@2018-01-01T16:00:00+12:00", "@2018-01-01T15:00:00.0+10:00"), "<");
  EXPECT_EQ(compare("@2017-11-05T01:30:00.0-04:00", "@2017-11-05T01:15:00.0-05:00"), "<");
  EXPECT_EQ(compare("@2014-12-13T12:00:00", "@2014-12-13T12:00:01"), "<");
  EXPECT_EQ(compare("@T12:00:00", "@T14:00:00"), "<");
  EXPECT_EQ(compare("@T12:00:01", "@T12:00:00"), ">");
  EXPECT_EQ(compare("@2014-12-12", "@2014-12-13"), "<");
  EXPECT_EQ(compare("@2018-03-01T10:30", "@2018-03-01T10:30:00"), "empty");
  EXPECT_EQ(compare("@T10:30", "@T10:30:00"), "empty");
  EXPECT_EQ(compare("@2012-04-15T10:00:00.999", "@2012-04-15T10:00:01"), "<");
  // Year boundary in UTC (year 0 and 10000 appear transiently).
  EXPECT_EQ(compare("@0001-01-01T00:00:00+01:00", "@0001-01-01T00:00:00Z"), "<");
  EXPECT_EQ(compare("@9999-12-31T23:30:00-01:00", "@9999-12-31T23:30:00Z"), ">");
}

TEST(DateTimeCompareTest, IncompatibleKinds) {
  EXPECT_FALSE(DateTime::Compare(Time("10:00"), Date("2014-01-01")).has_value());
  EXPECT_FALSE(DateTime::Compare(Dt("2014-01-01T10:00"), Time("10:00")).has_value());
  EXPECT_FALSE(DateTime::Equivalent(Time("10:00"), Dt("2014-01-01T10:00")));
}

// --- Arithmetic -------------------------------------------------------------

struct AddCase {
  const char* value;
  const char* amount;
  CalendarUnit unit;
  const char* expected;  // "<nullopt>" when the addition cannot apply.
};

TEST(DateTimeAddTest, SuiteAndSpecExamples) {
  const AddCase cases[] = {
      {"@1973-12-25", "7", CalendarUnit::kDay, "1974-01-01"},
      {"@1973-12-25", "7.7", CalendarUnit::kDay, "1974-01-01"},
      {"@1973-12-25", "7.9", CalendarUnit::kDay, "1974-01-01"},
      {"@1973-12-25T00:00:00.000+10:00", "7", CalendarUnit::kDay, "1974-01-01T00:00:00.000+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "7.7", CalendarUnit::kDay, "1974-01-01T00:00:00.000+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "1", CalendarUnit::kSecond, "1973-12-25T00:00:01.000+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "10", CalendarUnit::kMillisecond, "1973-12-25T00:00:00.010+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "1", CalendarUnit::kMinute, "1973-12-25T00:01:00.000+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "1", CalendarUnit::kHour, "1973-12-25T01:00:00.000+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "0.1", CalendarUnit::kSecond, "1973-12-25T00:00:00.100+10:00"},
      {"@1973-12-25T00:00:00.000+10:00", "42.53", CalendarUnit::kSecond, "1973-12-25T00:00:42.530+10:00"},
      {"@1973-12-25", "1", CalendarUnit::kDay, "1973-12-26"},
      {"@1973-12-25", "1", CalendarUnit::kMonth, "1974-01-25"},
      {"@1973-12-25", "1", CalendarUnit::kWeek, "1974-01-01"},
      {"@1973-12-25", "1", CalendarUnit::kYear, "1974-12-25"},
      {"@1974-12-25", "-1", CalendarUnit::kMonth, "1974-11-25"},
      {"@2019-03-01", "24", CalendarUnit::kMonth, "2021-03-01"},
      {"@2019-03-01", "-24", CalendarUnit::kMonth, "2017-03-01"},
      {"@2026-01-31", "1", CalendarUnit::kMonth, "2026-02-28"},
      {"@2012-01-31", "1", CalendarUnit::kMonth, "2012-02-29"},
      {"@2012-02-29", "1", CalendarUnit::kYear, "2013-02-28"},
      {"@2012-02-29", "4", CalendarUnit::kYear, "2016-02-29"},
      {"@2026-01-01T13:00:00", "30", CalendarUnit::kMinute, "2026-01-01T13:30:00"},
      {"@T23:30:00", "1", CalendarUnit::kHour, "00:30:00"},
      {"@T01:00:00", "48", CalendarUnit::kHour, "01:00:00"},
      {"@T01:00:00", "2", CalendarUnit::kHour, "03:00:00"},
      {"@T23:00:00", "2", CalendarUnit::kHour, "01:00:00"},
      {"@T23:00:00", "50", CalendarUnit::kHour, "01:00:00"},
      {"@T00:30:00", "-1", CalendarUnit::kHour, "23:30:00"},
      {"@T01:00:00", "-2", CalendarUnit::kHour, "23:00:00"},
      // Partial values: the amount is converted to the value's precision.
      {"@2014", "24", CalendarUnit::kMonth, "2016"},
      {"@2014", "23", CalendarUnit::kMonth, "2015"},
      {"@2016", "365", CalendarUnit::kDay, "2017"},
      {"@2014", "11", CalendarUnit::kMonth, "2014"},
      {"@2026-02", "5", CalendarUnit::kWeek, "2026-03"},
      {"@2026-02", "4", CalendarUnit::kWeek, "2026-02"},
      {"@2014", "-24", CalendarUnit::kMonth, "2012"},
      {"@2014", "-1", CalendarUnit::kMonth, "2014"},
      {"@2026-02", "-1", CalendarUnit::kDay, "2026-02"},
  };
  for (const AddCase& c : cases) {
    std::optional<DateTime> result = Literal(c.value).Add(Num(c.amount), c.unit);
    EXPECT_EQ(Str(result), c.expected)
        << c.value << " + " << c.amount << " (unit " << static_cast<int>(c.unit) << ")";
  }
}

TEST(DateTimeAddTest, MoreCalendarEdges) {
  const AddCase cases[] = {
      {"@2024-03-31", "-1", CalendarUnit::kMonth, "2024-02-29"},
      {"@2023-03-31", "-1", CalendarUnit::kMonth, "2023-02-28"},
      {"@2024-01-31", "3", CalendarUnit::kMonth, "2024-04-30"},
      {"@2024-12-31", "1", CalendarUnit::kDay, "2025-01-01"},
      {"@2024-02-28", "1", CalendarUnit::kDay, "2024-02-29"},
      {"@2023-02-28", "1", CalendarUnit::kDay, "2023-03-01"},
      {"@2024-03-01", "-1", CalendarUnit::kDay, "2024-02-29"},
      {"@2024-01-01", "366", CalendarUnit::kDay, "2025-01-01"},
      {"@2024-01-01", "-2", CalendarUnit::kWeek, "2023-12-18"},
      {"@2024-05", "13", CalendarUnit::kMonth, "2025-06"},
      {"@2024-05", "-5", CalendarUnit::kMonth, "2023-12"},
      {"@2024-05", "2", CalendarUnit::kYear, "2026-05"},
      {"@2024-05", "60", CalendarUnit::kDay, "2024-07"},
      {"@2024", "730", CalendarUnit::kDay, "2026"},
      {"@2024", "-364", CalendarUnit::kDay, "2024"},
      {"@2024", "52", CalendarUnit::kWeek, "2024"},
      {"@2024", "53", CalendarUnit::kWeek, "2025"},
      {"@2024", "1.9", CalendarUnit::kYear, "2025"},
      {"@2024", "-1.9", CalendarUnit::kYear, "2023"},
      // DateTime values with a time part, crossing midnight with the offset kept.
      {"@2024-02-28T23:30:00+05:00", "1", CalendarUnit::kHour, "2024-02-29T00:30:00+05:00"},
      {"@2024-12-31T23:59:59.999Z", "1", CalendarUnit::kMillisecond, "2025-01-01T00:00:00.000Z"},
      {"@2025-01-01T00:00:00.000Z", "-1", CalendarUnit::kMillisecond, "2024-12-31T23:59:59.999Z"},
      {"@2024-01-01T10:00", "-90", CalendarUnit::kMinute, "2024-01-01T08:30"},
      {"@2024-01-01T10:00", "1.5", CalendarUnit::kHour, "2024-01-01T11:00"},
      {"@2024-01-01T10:00", "90", CalendarUnit::kSecond, "2024-01-01T10:01"},
      {"@2024-01-01T10", "90", CalendarUnit::kMinute, "2024-01-01T11"},
      {"@2024-01-01T", "48", CalendarUnit::kHour, "2024-01-03"},
      {"@2024-01-01T", "47", CalendarUnit::kHour, "2024-01-02"},
      {"@2024-01-01T10:00:00", "1.5", CalendarUnit::kSecond, "2024-01-01T10:00:01"},
      {"@2024-01-01T10:00:00", "1500", CalendarUnit::kMillisecond, "2024-01-01T10:00:01"},
      {"@2024-01-01T10:00:00.5", "250", CalendarUnit::kMillisecond, "2024-01-01T10:00:00.75"},
      {"@2024-01-01T10:00:00.000", "0.0005", CalendarUnit::kSecond, "2024-01-01T10:00:00.000"},
      {"@2024-01-01T10:00:00.000", "-0.001", CalendarUnit::kSecond, "2024-01-01T09:59:59.999"},
      {"@2024-01-31T10:00+01:00", "1", CalendarUnit::kMonth, "2024-02-29T10:00+01:00"},
      // Time.
      {"@T10:00", "90", CalendarUnit::kMinute, "11:30"},
      {"@T10", "90", CalendarUnit::kMinute, "11"},
      {"@T23:59:59.999", "1", CalendarUnit::kMillisecond, "00:00:00.000"},
      {"@T00:00:00", "-1", CalendarUnit::kSecond, "23:59:59"},
      {"@T00:00", "-1441", CalendarUnit::kMinute, "23:59"},
      {"@T12:00", "1000000000000000000", CalendarUnit::kHour, "04:00"},
      {"@T12:00", "-1000000000000000000", CalendarUnit::kHour, "20:00"},
      // Units that do not apply.
      {"@2024-01-01", "1", CalendarUnit::kHour, "<nullopt>"},
      {"@2024-01-01", "1", CalendarUnit::kMinute, "<nullopt>"},
      {"@2024-01-01", "1", CalendarUnit::kSecond, "<nullopt>"},
      {"@2024-01-01", "1", CalendarUnit::kMillisecond, "<nullopt>"},
      {"@T10:00", "1", CalendarUnit::kDay, "<nullopt>"},
      {"@T10:00", "1", CalendarUnit::kWeek, "<nullopt>"},
      {"@T10:00", "1", CalendarUnit::kMonth, "<nullopt>"},
      {"@T10:00", "1", CalendarUnit::kYear, "<nullopt>"},
      // Out of range.
      {"@9999-12-31", "1", CalendarUnit::kDay, "<nullopt>"},
      {"@0001-01-01", "-1", CalendarUnit::kDay, "<nullopt>"},
      {"@9999", "1", CalendarUnit::kYear, "<nullopt>"},
      {"@9999-12", "1", CalendarUnit::kMonth, "<nullopt>"},
      {"@0001-01", "-1", CalendarUnit::kMonth, "<nullopt>"},
      {"@2024-01-01", "100000000", CalendarUnit::kYear, "<nullopt>"},
      {"@2024-01-01", "-100000000000", CalendarUnit::kMonth, "<nullopt>"},
      {"@2024-01-01", "1e30", CalendarUnit::kDay, "<nullopt>"},
      {"@2024-01-01T00:00:00.000Z", "9223372036854775807", CalendarUnit::kMillisecond, "<nullopt>"},
      {"@2024-01-01T00:00:00.000Z", "-9223372036854775808", CalendarUnit::kMillisecond, "<nullopt>"},
      {"@2024-01-01T00:00:00.000Z", "1e20", CalendarUnit::kSecond, "<nullopt>"},
      {"@2024-01-01T00:00:00Z", "100000000000000000", CalendarUnit::kHour, "<nullopt>"},
      {"@9999-12-31T23:59:59.999Z", "1", CalendarUnit::kMillisecond, "<nullopt>"},
  };
  for (const AddCase& c : cases) {
    std::optional<DateTime> result = Literal(c.value).Add(Num(c.amount), c.unit);
    EXPECT_EQ(Str(result), c.expected)
        << c.value << " + " << c.amount << " (unit " << static_cast<int>(c.unit) << ")";
  }
}

TEST(DateTimeAddTest, KeepsKindPrecisionAndOffset) {
  std::optional<DateTime> result = Dt("2014-01-25T14:30Z").Add(Num("1"), CalendarUnit::kDay);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind(), DateTimeKind::kDateTime);
  EXPECT_EQ(result->precision(), DateTimePrecision::kMinute);
  EXPECT_TRUE(result->has_timezone());
  EXPECT_EQ(result->ToString(), "2014-01-26T14:30Z");
  result = Date("2014-01-25").Add(Num("1"), CalendarUnit::kDay);
  EXPECT_EQ(result->kind(), DateTimeKind::kDate);
  result = Time("10:00").Add(Num("1"), CalendarUnit::kHour);
  EXPECT_EQ(result->kind(), DateTimeKind::kTime);
}

// --- Boundaries -------------------------------------------------------------

TEST(DateTimeBoundaryTest, SuiteAndSpecExamples) {
  EXPECT_EQ(Str(Date("2014").LowBoundary(6)), "2014-01");
  EXPECT_EQ(Str(Dt("2014-01-01T08").LowBoundary(17)), "2014-01-01T08:00:00.000+14:00");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05+08:00").LowBoundary(17)), "2014-01-01T08:05:00.000+08:00");
  EXPECT_EQ(Str(Dt("2014-01-01T08").LowBoundary(8)), "2014-01-01");
  EXPECT_EQ(Str(Time("10:30").LowBoundary(9)), "10:30:00.000");
  EXPECT_EQ(Str(Date("2014").HighBoundary(6)), "2014-12");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05-05:00").HighBoundary(17)), "2014-01-01T08:05:59.999-05:00");
  EXPECT_EQ(Str(Time("10:30").HighBoundary(9)), "10:30:59.999");
  // The suite expects 08:00:59.999-12:00 here; the specification says 08:59:59.999.
  EXPECT_EQ(Str(Dt("2014-01-01T08").HighBoundary(17)), "2014-01-01T08:59:59.999-12:00");
}

TEST(DateTimeBoundaryTest, FillsMissingFields) {
  EXPECT_EQ(Str(Date("2014").LowBoundary(8)), "2014-01-01");
  EXPECT_EQ(Str(Date("2014").HighBoundary(8)), "2014-12-31");
  EXPECT_EQ(Str(Date("2024-02").HighBoundary(8)), "2024-02-29");
  EXPECT_EQ(Str(Date("2023-02").HighBoundary(8)), "2023-02-28");
  EXPECT_EQ(Str(Date("2014-04").HighBoundary(8)), "2014-04-30");
  EXPECT_EQ(Str(Date("2014-04-15").LowBoundary(8)), "2014-04-15");
  EXPECT_EQ(Str(Dt("2014T").LowBoundary(17)), "2014-01-01T00:00:00.000+14:00");
  EXPECT_EQ(Str(Dt("2014T").HighBoundary(17)), "2014-12-31T23:59:59.999-12:00");
  EXPECT_EQ(Str(Dt("2014-02T").HighBoundary(12)), "2014-02-28T23:59-12:00");
  EXPECT_EQ(Str(Dt("2014T").HighBoundary(6)), "2014-12");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05:03Z").HighBoundary(17)), "2014-01-01T08:05:03.999Z");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05:03.5Z").HighBoundary(17)), "2014-01-01T08:05:03.500Z");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05:03.123").LowBoundary(17)), "2014-01-01T08:05:03.123+14:00");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05:03").HighBoundary(14)), "2014-01-01T08:05:03-12:00");
  EXPECT_EQ(Str(Time("10").LowBoundary(9)), "10:00:00.000");
  EXPECT_EQ(Str(Time("10").HighBoundary(6)), "10:59:59");
  EXPECT_EQ(Str(Time("10:30:15.250").HighBoundary(4)), "10:30");
}

TEST(DateTimeBoundaryTest, CoarserPrecisionTruncates) {
  EXPECT_EQ(Str(Dt("2014-01-01T08:05+08:00").LowBoundary(10)), "2014-01-01T08+08:00");
  EXPECT_EQ(Str(Dt("2014-01-01T08:05+08:00").HighBoundary(4)), "2014");
  EXPECT_EQ(Str(Date("2014-06-15").HighBoundary(6)), "2014-06");
}

TEST(DateTimeBoundaryTest, InvalidPrecision) {
  for (int digits : {-1, 0, 1, 3, 5, 7, 9, 11, 13, 15, 16, 18, 100}) {
    EXPECT_FALSE(Dt("2014-01-01T08").LowBoundary(digits).has_value()) << digits;
    EXPECT_FALSE(Dt("2014-01-01T08").HighBoundary(digits).has_value()) << digits;
  }
  for (int digits : {10, 12, 14, 17}) EXPECT_FALSE(Date("2014").LowBoundary(digits).has_value()) << digits;
  for (int digits : {0, 1, 3, 8, 10, 17})
    EXPECT_FALSE(Time("10:30").HighBoundary(digits).has_value()) << digits;
}

}  // namespace
}  // namespace regenpath
