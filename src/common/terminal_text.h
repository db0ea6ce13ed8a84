// Text for a terminal or a log line: a control character that came in with
// a record's, a knowledge base's, a request's or a user's words (JSON and
// YAML escapes can carry ESC, which starts a terminal sequence, BEL, DEL, a
// C1 control, or a newline that forges a log record) is not written as it
// is. Nor are the bidirectional embeddings, overrides and isolates
// (U+202A-U+202E, U+2066-U+2069), which reorder what a reader sees. For
// human-readable output only: JSON, CSV and NDJSON carry their data as it is.
#ifndef REGENPATH_COMMON_TERMINAL_TEXT_H_
#define REGENPATH_COMMON_TERMINAL_TEXT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace regenpath {

// What becomes of a control character:
//  - kTerminal: written as U+FFFD; newline and tab are kept (a report's
//    lines and columns);
//  - kLogLine: written as an escape a reader can decode (\n, \r, \t,
//    \x1B, \u0085, \u202E), newline and tab included, so that one record
//    stays one line. A backslash stays as it is.
// The controls: C0, DEL, the C1 controls U+0080-U+009F (encoded C2 80-C2
// 9F) and the bidirectional ones above. Everything else, invalid UTF-8
// included, is written as it is.
enum class SafeTextRule { kTerminal, kLogLine };

// Makes text safe piece by piece, whatever the cuts: a byte that may start
// a control (C2, E2) is held until the next says (at most two are held).
// One writer per text; not thread-safe.
class SafeTextWriter {
 public:
  explicit SafeTextWriter(SafeTextRule rule) : rule_(rule) {}
  // Appends `text` made safe to `out`, holding back an unfinished sequence.
  void Append(std::string_view text, std::string& out);
  // Appends the bytes still held (a sequence cut short is no control).
  void Finish(std::string& out);

 private:
  SafeTextRule rule_;
  std::array<char, 3> held_{};
  size_t held_size_ = 0;
};

// `text` made safe by `rule`. Pure; thread-safe.
std::string SafeText(std::string text, SafeTextRule rule);
// The code point of the first character TerminalSafe would replace, if any.
std::optional<uint32_t> FirstTerminalControl(std::string_view text);
// SafeText(text, kTerminal) and SafeText(text, kLogLine).
std::string TerminalSafe(std::string text);
std::string LogSafe(std::string text);

// An ostream that writes to `target` what TerminalSafe would make of what
// it is given, whatever the pieces. Unit-buffered: each output operation
// reaches `target` as one write (then flushed), so messages keep their
// order with other writers of `target`; bytes at the end of one that may
// start a control are held until the next bytes say (written on destruction
// at the latest). `target` must outlive the stream. One writer
// at a time, as for any ostream.
class TerminalSafeStream : public std::ostream {
 public:
  explicit TerminalSafeStream(std::ostream& target);
  ~TerminalSafeStream() override;

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(std::ostream& target);
    // Writes the bytes still held back (the text ended with them) and
    // flushes.
    void Finish();

   protected:
    int_type overflow(int_type c) override;
    int sync() override;

   private:
    // Writes the put area, made safe, to target_, and empties it.
    bool Drain();
    std::ostream& target_;
    std::array<char, 1024> area_{};
    SafeTextWriter writer_{SafeTextRule::kTerminal};
  };
  Buffer buffer_;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_TERMINAL_TEXT_H_
