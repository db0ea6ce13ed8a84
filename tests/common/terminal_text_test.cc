// TerminalSafe and TerminalSafeStream: no control character reaches a
// terminal but newline and tab; everything else, UTF-8 included, as it is.
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

// The stream gives what TerminalSafe gives, however the text is cut: a C1
// control split between two writes, and a C2 held back at the end.
TEST(TerminalSafeTest, TheStreamAgreesWhateverThePieces) {
  const std::string text =
      "msg \x1b]0;title\x07 \xc2\x9b"
      "31m \xc2\xa0 ok\n\xc2";
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

}  // namespace
}  // namespace regenpath
