// Text for a terminal: a control character that came in with a record's,
// a knowledge base's or a user's words (JSON and YAML escapes can carry
// ESC, which starts a terminal sequence, BEL, DEL, or a C1 control) is
// written as U+FFFD; newlines and tabs are kept. For human-readable output
// only: JSON, CSV and NDJSON carry their data as it is.
#ifndef REGENPATH_COMMON_TERMINAL_TEXT_H_
#define REGENPATH_COMMON_TERMINAL_TEXT_H_

#include <array>
#include <ostream>
#include <streambuf>
#include <string>

namespace regenpath {

// `text` with each control character but '\n' and '\t' (C0, DEL, and the
// C1 controls U+0080-U+009F, encoded C2 80-C2 9F) replaced by U+FFFD.
// Pure; thread-safe.
std::string TerminalSafe(std::string text);

// An ostream that writes to `target` what TerminalSafe would make of what
// it is given, whatever the pieces. Unit-buffered: each output operation
// reaches `target` as one write (then flushed), so messages keep their
// order with other writers of `target`; a C2 byte at the end of one is held
// until the next byte says whether it starts a C1 control (written on
// destruction at the latest). `target` must outlive the stream. One writer
// at a time, as for any ostream.
class TerminalSafeStream : public std::ostream {
 public:
  explicit TerminalSafeStream(std::ostream& target);
  ~TerminalSafeStream() override;

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(std::ostream& target);
    // Writes a C2 byte still held back (the text ended with it) and flushes.
    void Finish();

   protected:
    int_type overflow(int_type c) override;
    int sync() override;

   private:
    // Writes the put area, made safe, to target_, and empties it.
    bool Drain();
    std::ostream& target_;
    std::array<char, 1024> area_{};
    bool after_c2_ = false;  // a C2 byte held back: a C1 control may follow
  };
  Buffer buffer_;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_TERMINAL_TEXT_H_
