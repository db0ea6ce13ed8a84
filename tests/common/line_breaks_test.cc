// LoneCrAsLf: a lone CR ends a line as YAML 1.2 says; CRLF and LF stay.
#include "common/line_breaks.h"

#include <gtest/gtest.h>

namespace regenpath {
namespace {

TEST(LineBreaksTest, ALoneCrBecomesLfCrlfStays) {
  EXPECT_EQ(LoneCrAsLf("a\rb\r\nc\nd\r"), "a\nb\r\nc\nd\n");
  EXPECT_EQ(LoneCrAsLf("\r\r\n\r"), "\n\r\n\n");
  EXPECT_EQ(LoneCrAsLf("no break"), "no break");
  EXPECT_EQ(LoneCrAsLf(""), "");
}

}  // namespace
}  // namespace regenpath
