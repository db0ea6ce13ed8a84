#include "common/terminal_text.h"

#include <fmt/format.h>

#include <string_view>

#include "common/utf8.h"

namespace regenpath {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// What a run of held bytes (a lead byte and what followed it) turned out
// to be.
enum class Held { kControl, kText, kOpen };

// C2 80-9F are the C1 controls; E2 80 AA-AE and E2 81 A6-A9 the
// bidirectional embeddings, overrides and isolates (U+202A-U+202E,
// U+2066-U+2069), which reorder what a reader sees ("Trojan Source").
Held Classify(std::string_view held) {
  const auto at = [&](size_t i) { return static_cast<unsigned char>(held[i]); };
  if (at(0) == 0xC2) {
    if (held.size() < 2) return Held::kOpen;
    return at(1) >= 0x80 && at(1) <= 0x9F ? Held::kControl : Held::kText;
  }
  // 0xE2
  if (held.size() < 2) return Held::kOpen;
  if (at(1) != 0x80 && at(1) != 0x81) return Held::kText;
  if (held.size() < 3) return Held::kOpen;
  const bool bidi = at(1) == 0x80 ? (at(2) >= 0xAA && at(2) <= 0xAE) : (at(2) >= 0xA6 && at(2) <= 0xA9);
  return bidi ? Held::kControl : Held::kText;
}

bool StartsHeld(unsigned char byte) { return byte == 0xC2 || byte == 0xE2; }

// The code point of a one-, two- or three-byte UTF-8 sequence.
uint32_t CodePoint(std::string_view bytes) {
  const auto at = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  if (bytes.size() == 1) return at(0);
  if (bytes.size() == 2) return ((at(0) & 0x1F) << 6) | (at(1) & 0x3F);
  return ((at(0) & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F);
}

bool IsC0OrDel(unsigned char byte) { return (byte < 0x20 && byte != '\n' && byte != '\t') || byte == 0x7F; }

}  // namespace

bool IsBidiOverride(uint32_t code) {
  return (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069);
}

void TerminalTextWriter::Append(std::string_view text, std::string& out) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (held_size_ > 0) {
      held_[held_size_++] = c;
      const std::string_view held(held_.data(), held_size_);
      const Held kind = Classify(held);
      if (kind == Held::kOpen) continue;
      held_size_ = 0;
      if (kind == Held::kControl) {
        out += kReplacement;
        continue;
      }
      // Text: the bytes before this one stand; this one starts afresh.
      out.append(held.data(), held.size() - 1);
    }
    if (StartsHeld(byte)) {
      held_[held_size_++] = c;
    } else if (IsC0OrDel(byte)) {
      out += kReplacement;
    } else {
      out += c;
    }
  }
}

void TerminalTextWriter::Finish(std::string& out) {
  out.append(held_.data(), held_size_);  // a sequence cut short is no control
  held_size_ = 0;
}

std::string TerminalSafe(std::string text) {
  if (!FirstTerminalControl(text)) return text;  // the usual case: nothing to replace
  std::string out;
  out.reserve(text.size());
  TerminalTextWriter writer;
  writer.Append(text, out);
  writer.Finish(out);
  return out;
}

std::optional<uint32_t> FirstTerminalControl(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (IsC0OrDel(byte)) return byte;
    if (!StartsHeld(byte)) continue;
    for (size_t size = 2; size <= 3 && i + size <= text.size(); ++size) {
      const Held kind = Classify(text.substr(i, size));
      if (kind == Held::kControl) return CodePoint(text.substr(i, size));
      if (kind == Held::kText) break;
    }
  }
  return std::nullopt;
}

std::string LogSafe(std::string text) {
  bool clean = true;
  for (size_t i = 0; i < text.size() && clean; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    clean = byte >= 0x20 && byte < 0x7F && byte != '\\';
  }
  if (clean) return text;  // printable ASCII: the usual case
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte == '\n') {
        out += "\\n";
      } else if (byte == '\r') {
        out += "\\r";
      } else if (byte == '\t') {
        out += "\\t";
      } else if (byte == '\\') {
        out += "\\\\";
      } else if (byte < 0x20 || byte == 0x7F) {
        out += fmt::format("\\x{:02X}", byte);
      } else {
        out += text[i];
      }
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out += fmt::format("\\x{:02X}", byte);
      ++i;
      continue;
    }
    const std::string_view sequence = std::string_view(text).substr(i, length);
    const uint32_t code = length <= 3 ? CodePoint(sequence) : 0x10000;
    if (code <= 0x9F || IsBidiOverride(code) || code == 0x2028 || code == 0x2029) {
      out += fmt::format("\\u{:04X}", code);
    } else {
      out += sequence;
    }
    i += length;
  }
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
  writer_.Append(std::string_view(pbase(), static_cast<size_t>(pptr() - pbase())), safe);
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
  std::string rest;
  writer_.Finish(rest);
  target_.write(rest.data(), static_cast<std::streamsize>(rest.size()));
  target_.flush();
}

}  // namespace regenpath
