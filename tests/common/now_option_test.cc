#include "common/now_option.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace regenpath {
namespace {

using ::testing::HasSubstr;

// --now takes a FHIR dateTime: a day, or a time with
// seconds and a time zone; a month, or a time without seconds or a zone, is
// refused saying what it needs.
TEST(NowOptionTest, TakesADayOrATimeWithSecondsAndAZone) {
  for (const std::string text : {"2025-06-01", "2025-06-01T10:30:00Z", "2025-06-01T10:30:00.250+02:00"}) {
    Result<DateTime> now = ParseNowOption(text);
    EXPECT_TRUE(now.has_value()) << text;
  }

  for (const std::string text :
       {"2025-06-01T10:30", "2025-06-01T10:30:00", "2025-06-01T10", "2025-06-01T10:30Z"}) {
    Result<DateTime> now = ParseNowOption(text);
    ASSERT_FALSE(now.has_value()) << text;
    EXPECT_THAT(now.error().message(), HasSubstr("seconds and a time zone")) << text;
  }
  Result<DateTime> month = ParseNowOption(std::string("2025-06"));
  ASSERT_FALSE(month.has_value());
  EXPECT_THAT(month.error().message(), HasSubstr("at least a day"));
}

}  // namespace
}  // namespace regenpath
