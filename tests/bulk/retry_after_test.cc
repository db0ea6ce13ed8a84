// Retry-After: delay-seconds and the three HTTP-date forms (RFC 9110).
#include "bulk/retry_after.h"

#include <gtest/gtest.h>

namespace regenpath::bulk {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// 2025-06-01T00:00:00Z.
const system_clock::time_point kNow =
    std::chrono::sys_days(std::chrono::year(2025) / std::chrono::June / 1) + std::chrono::hours(0);

TEST(RetryAfterTest, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0\t", kNow), seconds(0));
  // Saturates instead of overflowing.
  std::optional<seconds> huge = ParseRetryAfter("99999999999999999999999999", kNow);
  ASSERT_TRUE(huge.has_value());
  EXPECT_GT(*huge, seconds(1'000'000'000));
}

TEST(RetryAfterTest, HttpDates) {
  EXPECT_EQ(ParseRetryAfter("Sun, 01 Jun 2025 00:00:30 GMT", kNow), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sunday, 01-Jun-25 00:02:00 GMT", kNow), seconds(120));
  EXPECT_EQ(ParseRetryAfter("Sun Jun  1 01:00:00 2025", kNow), seconds(3600));
  EXPECT_EQ(ParseRetryAfter("Mon Jun 02 00:00:00 2025", kNow), seconds(86400));
  // A date past is no wait; a fraction of a second left is rounded up.
  EXPECT_EQ(ParseRetryAfter("Sat, 31 May 2025 23:00:00 GMT", kNow), seconds(0));
  EXPECT_EQ(ParseRetryAfter("Sun, 01 Jun 2025 00:00:01 GMT", kNow + std::chrono::milliseconds(200)),
            seconds(1));
}

TEST(RetryAfterTest, TwoDigitYears) {
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", kNow),
            ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", kNow));
  EXPECT_EQ(ParseHttpDate("Monday, 06-Nov-34 08:49:37 GMT", kNow),
            ParseHttpDate("Mon, 06 Nov 2034 08:49:37 GMT", kNow));
}

TEST(RetryAfterTest, NotRetryAfter) {
  for (const char* value : {"", "  ", "soon", "-5", "1.5", "10 s", "Sun, 31 Jun 2025 00:00:00 GMT",
                            "Sun, 01 Jun 2025 24:00:00 GMT", "Sun, 01 Jun 2025 00:00:00 UTC",
                            "Sun, 1 Jun 2025 00:00:00 GMT", "Sun Jun 1 00:00:00 2025"}) {
    EXPECT_FALSE(ParseRetryAfter(value, kNow).has_value()) << value;
  }
}

}  // namespace
}  // namespace regenpath::bulk
