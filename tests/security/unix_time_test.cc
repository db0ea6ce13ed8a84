#include "security/unix_time.h"

#include <gtest/gtest.h>

namespace regenpath::security {
namespace {

TEST(UnixTimeTest, ConvertsBothWays) {
  DateTime epoch = DateTime::ParseDateTime("1970-01-01T00:00:00Z").value();
  EXPECT_EQ(ToUnixMillis(epoch).value(), 0);
  DateTime spec_exp = DateTime::ParseDateTime("2015-01-29T22:01:00Z").value();
  EXPECT_EQ(ToUnixMillis(spec_exp).value(), int64_t{1422568860} * 1000);
  DateTime offset = DateTime::ParseDateTime("2015-01-30T08:01:00.250+10:00").value();
  EXPECT_EQ(ToUnixMillis(offset).value(), int64_t{1422568860} * 1000 + 250);
  DateTime no_offset = DateTime::ParseDateTime("2015-01-29T22:01:00").value();
  EXPECT_EQ(ToUnixMillis(no_offset).value(), int64_t{1422568860} * 1000);
  EXPECT_EQ(FromUnixMillis(int64_t{1422568860} * 1000 + 7).value().ToString(),
            "2015-01-29T22:01:00.007+00:00");
  EXPECT_EQ(FromUnixMillis(-1).value().ToString(), "1969-12-31T23:59:59.999+00:00");
}

TEST(UnixTimeTest, RejectsWhatIsNotAnInstant) {
  EXPECT_FALSE(ToUnixMillis(DateTime::ParseTime("12:00").value()).has_value());
  EXPECT_FALSE(FromUnixMillis(int64_t{253402300800} * 1000).has_value());
  EXPECT_FALSE(FromUnixMillis(INT64_MIN).has_value());
}

}  // namespace
}  // namespace regenpath::security
