// Text for a terminal: a control character that came in with a record's,
// a knowledge base's or a user's words (JSON and YAML escapes can carry
// ESC, which starts a terminal sequence, BEL, DEL, or a C1 control) is
// written as U+FFFD; newlines and tabs are kept. For human-readable output
// only: JSON, CSV and NDJSON carry their data as it is. Thread-safe.
#ifndef REGENPATH_COMMON_TERMINAL_TEXT_H_
#define REGENPATH_COMMON_TERMINAL_TEXT_H_

#include <ostream>
#include <streambuf>
#include <string>

namespace regenpath {

// `text` with each control character but '\n' and '\t' (C0, DEL, and the
// C1 controls U+0080-U+009F, encoded C2 80-C2 9F) replaced by U+FFFD.
std::string TerminalSafe(std::string text);

// An ostream that writes to `target` what TerminalSafe would make of it,
// whatever the pieces it is written in. Flushes into `target` on flush and
// on destruction.
class TerminalSafeStream : public std::ostream {
 public:
  explicit TerminalSafeStream(std::ostream& target);
  ~TerminalSafeStream() override;

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(std::ostream& target) : target_(target) {}
    int sync() override;
    // Writes a C2 byte still held back (the text ended with it) and flushes.
    void Finish();

   protected:
    int_type overflow(int_type c) override;

   private:
    std::ostream& target_;
    bool after_c2_ = false;  // a C2 byte held back: a C1 control may follow
  };
  Buffer buffer_;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_TERMINAL_TEXT_H_
