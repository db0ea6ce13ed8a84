#include "common/json_string.h"

#include <gtest/gtest.h>

#include "common/utf8.h"

namespace regenpath {
namespace {

TEST(JsonStringTest, PlainTextIsQuoted) { EXPECT_EQ(JsonQuoted("knee pain"), "\"knee pain\""); }

TEST(JsonStringTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(JsonQuoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(JsonQuoted(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
}

TEST(JsonStringTest, ValidUtf8IsKept) {
  EXPECT_EQ(JsonQuoted("Schmerz \xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"Schmerz \xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(JsonStringTest, InvalidUtf8BecomesReplacementCharacter) {
  // A lone continuation byte, a truncated sequence, an overlong form and a surrogate.
  for (std::string_view bad : {"\x80", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80"}) {
    std::string quoted = JsonQuoted(bad);
    EXPECT_FALSE(FirstInvalidUtf8(quoted).has_value()) << quoted;
    EXPECT_NE(quoted.find("\xEF\xBF\xBD"), std::string::npos) << quoted;
  }
}

TEST(JsonStringTest, AppendsToExistingText) {
  std::string out = "x=";
  AppendJsonString("y", out);
  EXPECT_EQ(out, "x=\"y\"");
}

}  // namespace
}  // namespace regenpath
