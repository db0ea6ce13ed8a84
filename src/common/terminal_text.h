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

// For a terminal: each control character but '\n' and '\t' (C0, DEL, the
// C1 controls U+0080-U+009F encoded C2 80-C2 9F) and each bidirectional
// override is written as U+FFFD; everything else, invalid UTF-8 included,
// as it is (for a UTF-8 terminal, which shows an invalid byte as a
// replacement; an 8-bit terminal would take a lone 0x9B for a CSI, which
// LogSafe below escapes). Piece by piece, whatever the cuts: a byte that may start a
// control (C2, E2) is held until the next says (at most two are held). One
// writer per text; not thread-safe.
class TerminalTextWriter {
 public:
  // Appends `text` made safe to `out`, holding back an unfinished sequence.
  void Append(std::string_view text, std::string& out);
  // Appends the bytes still held (a sequence cut short is no control).
  void Finish(std::string& out);

 private:
  std::array<char, 3> held_{};
  size_t held_size_ = 0;
};

// `text` as TerminalTextWriter writes it. Pure; thread-safe.
std::string TerminalSafe(std::string text);
// The code point of the first character TerminalSafe would replace, if any.
// Pure; thread-safe.
std::optional<uint32_t> FirstTerminalControl(std::string_view text);
// True for the bidirectional embeddings, overrides and isolates
// (U+202A-U+202E, U+2066-U+2069), which reorder what a reader sees.
bool IsBidiOverride(uint32_t code);

// For one log record, which must stay one line and say exactly what came
// in: every control character, newline and tab included, the C1 controls,
// the bidirectional overrides and the line and paragraph separators
// (U+2028, U+2029) are written as escapes (\n, \r, \t, \x1B, \u0085,
// \u202E); a byte that is not valid UTF-8 as \xNN (a lone 0x9B is a CSI to
// an 8-bit terminal); a backslash as \\, so that every escape decodes to
// one reading. Pure; thread-safe.
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
    TerminalTextWriter writer_;
  };
  Buffer buffer_;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_TERMINAL_TEXT_H_
