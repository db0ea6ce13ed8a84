#include "common/terminal_text.h"

#include <string_view>

namespace regenpath {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool IsC0OrDel(unsigned char byte) { return (byte < 0x20 && byte != '\n' && byte != '\t') || byte == 0x7F; }
bool IsC1Second(unsigned char byte) { return byte >= 0x80 && byte <= 0x9F; }  // after a C2 lead byte

}  // namespace

std::string TerminalSafe(std::string text) {
  // The control's length in bytes at `i`, or 0.
  auto control_at = [&](size_t i) -> size_t {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (IsC0OrDel(byte)) return 1;
    if (byte == 0xC2 && i + 1 < text.size() && IsC1Second(static_cast<unsigned char>(text[i + 1]))) return 2;
    return 0;
  };
  size_t i = 0;
  while (i < text.size() && control_at(i) == 0) ++i;
  if (i == text.size()) return text;  // the usual case: nothing to replace
  std::string out = text.substr(0, i);
  while (i < text.size()) {
    if (const size_t length = control_at(i); length > 0) {
      out += kReplacement;
      i += length;
    } else {
      out += text[i++];
    }
  }
  return out;
}

TerminalSafeStream::TerminalSafeStream(std::ostream& target) : std::ostream(nullptr), buffer_(target) {
  rdbuf(&buffer_);
}

TerminalSafeStream::~TerminalSafeStream() { buffer_.Finish(); }

void TerminalSafeStream::Buffer::Finish() {
  if (after_c2_) target_.put(static_cast<char>(0xC2));
  after_c2_ = false;
  target_.flush();
}

std::streambuf::int_type TerminalSafeStream::Buffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  const auto byte = static_cast<unsigned char>(traits_type::to_char_type(c));
  if (after_c2_) {
    after_c2_ = false;
    if (IsC1Second(byte)) {
      target_ << kReplacement;
      return c;
    }
    target_.put(static_cast<char>(0xC2));
  }
  if (byte == 0xC2) {
    after_c2_ = true;
  } else if (IsC0OrDel(byte)) {
    target_ << kReplacement;
  } else {
    target_.put(static_cast<char>(byte));
  }
  return target_ ? c : traits_type::eof();
}

int TerminalSafeStream::Buffer::sync() {
  // (A held C2 waits for its next byte: a flush between the two bytes of
  // one character must not split the decision.)
  target_.flush();
  return target_ ? 0 : -1;
}

}  // namespace regenpath
