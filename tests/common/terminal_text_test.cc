// TerminalSafe, LogSafe and TerminalSafeStream: no control character (C0,
// DEL, C1, bidirectional override) reaches a terminal but newline and tab,
// none a log line unescaped; everything else, UTF-8 included, as it is.
#include "common/terminal_text.h"

#include <gtest/gtest.h>

#include <sstream>

namespace regenpath {
namespace {

constexpr const char* kFffd = "\xEF\xBF\xBD";

TEST(TerminalSafeTest, ReplacesControlsKeepsTheRest) {
  EXPECT_EQ(TerminalSafe("plain\ttext\n"), "plain\ttext\n");
  EXPECT_EQ(TerminalSafe("\x1b[31mred\x07"), std::string(kFffd) + "[31mred" + kFffd);
  EXPECT_EQ(TerminalSafe("a\rb\x7f"
                         "c"),
            std::string("a") + kFffd + "b" + kFffd + "c");
  // C1 controls (U+0085, U+009B) as UTF-8; U+00A0 and U+201B are no controls.
  EXPECT_EQ(TerminalSafe("x\xc2\x85y\xc2\x9bz"), std::string("x") + kFffd + "y" + kFffd + "z");
  EXPECT_EQ(TerminalSafe("\xc2\xa0\xe2\x80\x9b\xc3\xa9"), "\xc2\xa0\xe2\x80\x9b\xc3\xa9");
  EXPECT_EQ(TerminalSafe("end\xc2"), "end\xc2");  // a lone lead byte: not a control
}

// "Trojan Source": U+202E (RLO) and U+2066-U+2069 reorder what is shown;
// their neighbours U+2029, U+202F, U+2065, U+206A and the dashes and quotes
// of E2 80 are text.
TEST(TerminalSafeTest, ReplacesBidirectionalOverridesKeepsTheirNeighbours) {
  EXPECT_EQ(TerminalSafe("name \xe2\x80\xaetxt.exe"), std::string("name ") + kFffd + "txt.exe");
  for (const char* control : {"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",
                              "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9"}) {
    EXPECT_EQ(TerminalSafe(std::string("a") + control + "b"), std::string("a") + kFffd + "b");
  }
  const std::string text =
      "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa \xe2\x80\x94 \xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac";
  EXPECT_EQ(TerminalSafe(text), text);
  // Cut short, or broken by another lead byte: text as it is.
  EXPECT_EQ(TerminalSafe("\xe2\x80"), "\xe2\x80");
  EXPECT_EQ(TerminalSafe("\xe2\xe2\x80\xae"), std::string("\xe2") + kFffd);
  EXPECT_EQ(TerminalSafe("\xe2\x80\xc2\x9b"), std::string("\xe2\x80") + kFffd);
}

TEST(TerminalSafeTest, FirstTerminalControlNamesTheFirstReplaced) {
  EXPECT_EQ(FirstTerminalControl("plain\ttext\n\xe2\x80\x94\xc2\xa0"), std::nullopt);
  EXPECT_EQ(FirstTerminalControl("a\x1b"), 0x1Bu);
  EXPECT_EQ(FirstTerminalControl("\xe2\x80\x94 \xe2\x81\xa7 \x07"), 0x2067u);
  EXPECT_EQ(FirstTerminalControl("\xc2\x9b"), 0x9Bu);
  EXPECT_EQ(FirstTerminalControl("\xe2\x80"), std::nullopt);
  for (const std::string text : {"x\x7f", "\xe2\xe2\x80\xae", "\xc2\xe2\x80\xaa", "ok\r"}) {
    EXPECT_NE(FirstTerminalControl(text), std::nullopt) << text;
    EXPECT_NE(TerminalSafe(text), text);
  }
}

// A log record stays one line: newline, CR and tab are escaped too, each
// control as an escape that names it.
TEST(TerminalSafeTest, LogSafeEscapesEveryControlNewlinesIncluded) {
  EXPECT_EQ(LogSafe("plain text, caf\xc3\xa9"), "plain text, caf\xc3\xa9");
  EXPECT_EQ(LogSafe("a\nINFO forged\r\tb"), "a\\nINFO forged\\r\\tb");
  EXPECT_EQ(LogSafe("\x1b[31m\x07\x7f\x01"), "\\x1B[31m\\x07\\x7F\\x01");
  EXPECT_EQ(LogSafe("x\xc2\x85y\xe2\x80\xaez\xe2\x81\xa9"), "x\\u0085y\\u202Ez\\u2069");
  // A backslash is escaped too, so that "\\n" in a message is not read as
  // a newline; invalid UTF-8 and the separators U+2028, U+2029 likewise.
  EXPECT_EQ(LogSafe("C:\\dir\\n"), "C:\\\\dir\\\\n");
  EXPECT_EQ(LogSafe("csi \x9b"
                    "2J, overlong \xc0\x8a, cut \xe2\x80"),
            "csi \\x9B2J, overlong \\xC0\\x8A, cut \\xE2\\x80");
  EXPECT_EQ(LogSafe("a\xe2\x80\xa8"
                    "b\xe2\x80\xa9"),
            "a\\u2028b\\u2029");
  EXPECT_EQ(LogSafe("\xe2\x80\x94 \xf0\x9f\x98\x80 \xc2\xa0"), "\xe2\x80\x94 \xf0\x9f\x98\x80 \xc2\xa0");
}

// The stream gives what TerminalSafe gives, however the text is cut: a C1
// control split between two writes, and a C2 held back at the end.
TEST(TerminalSafeTest, TheStreamAgreesWhateverThePieces) {
  const std::string text =
      "msg \x1b]0;title\x07 \xc2\x9b"
      "31m \xc2\xa0 ok\n\xe2\x80\xae \xe2\x80\x94 \xe2\x81\xa6\xe2\xc2";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    std::ostringstream target;
    {
      TerminalSafeStream stream(target);
      stream << text.substr(0, cut) << std::flush;
      stream << text.substr(cut);
    }
    EXPECT_EQ(target.str(), TerminalSafe(text)) << "cut at " << cut;
  }
}

// The writer gives what TerminalSafe gives, whatever the cuts.
TEST(TerminalSafeTest, TheWriterAgreesWhateverTheCuts) {
  const std::string text = "a\xc2\x85\n\xe2\x80\xae\xe2\x80\x94\xe2\x81\xa9\t\xc2\xe2\x80";
  for (size_t first = 0; first <= text.size(); ++first) {
    for (size_t second = first; second <= text.size(); ++second) {
      TerminalTextWriter writer;
      std::string out;
      writer.Append(std::string_view(text).substr(0, first), out);
      writer.Append(std::string_view(text).substr(first, second - first), out);
      writer.Append(std::string_view(text).substr(second), out);
      writer.Finish(out);
      EXPECT_EQ(out, TerminalSafe(text)) << "cuts at " << first << " and " << second;
    }
  }
}

}  // namespace
}  // namespace regenpath
