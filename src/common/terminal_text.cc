#include "common/terminal_text.h"

#include <string_view>

namespace regenpath {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool IsC0OrDel(unsigned char byte) { return (byte < 0x20 && byte != '\n' && byte != '\t') || byte == 0x7F; }
bool IsC1Second(unsigned char byte) { return byte >= 0x80 && byte <= 0x9F; }  // after a C2 lead byte

// Appends `text` made safe to `out`; `after_c2` carries a held C2 byte from
// one piece to the next (the one state both functions below share).
void AppendSafe(std::string_view text, bool& after_c2, std::string& out) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (after_c2) {
      after_c2 = false;
      if (IsC1Second(byte)) {
        out += kReplacement;
        continue;
      }
      out += static_cast<char>(0xC2);
    }
    if (byte == 0xC2) {
      after_c2 = true;
    } else if (IsC0OrDel(byte)) {
      out += kReplacement;
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string TerminalSafe(std::string text) {
  bool clean = true;
  for (size_t i = 0; i < text.size() && clean; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    clean = !IsC0OrDel(byte) && byte != 0xC2;
  }
  if (clean) return text;  // the usual case: nothing to look at twice
  std::string out;
  out.reserve(text.size());
  bool after_c2 = false;
  AppendSafe(text, after_c2, out);
  if (after_c2) out += static_cast<char>(0xC2);  // a lone lead byte at the end: not a control
  return out;
}

TerminalSafeStream::TerminalSafeStream(std::ostream& target) : std::ostream(nullptr), buffer_(target) {
  rdbuf(&buffer_);
  setf(std::ios_base::unitbuf);
}

TerminalSafeStream::~TerminalSafeStream() { buffer_.Finish(); }

TerminalSafeStream::Buffer::Buffer(std::ostream& target) : target_(target) {
  setp(area_.data(), area_.data() + area_.size());
}

bool TerminalSafeStream::Buffer::Drain() {
  if (pptr() == pbase()) return static_cast<bool>(target_);
  std::string safe;
  AppendSafe(std::string_view(pbase(), static_cast<size_t>(pptr() - pbase())), after_c2_, safe);
  setp(area_.data(), area_.data() + area_.size());
  target_.write(safe.data(), static_cast<std::streamsize>(safe.size()));
  return static_cast<bool>(target_);
}

std::streambuf::int_type TerminalSafeStream::Buffer::overflow(int_type c) {
  if (!Drain()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

int TerminalSafeStream::Buffer::sync() {
  if (!Drain()) return -1;
  target_.flush();
  return target_ ? 0 : -1;
}

void TerminalSafeStream::Buffer::Finish() {
  Drain();
  if (after_c2_) target_.put(static_cast<char>(0xC2));
  after_c2_ = false;
  target_.flush();
}

}  // namespace regenpath
