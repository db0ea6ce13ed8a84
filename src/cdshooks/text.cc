#include "cdshooks/text.h"

#include <cstdint>

#include "common/utf8.h"

namespace regenpath::cdshooks {

namespace {

// The length of the UTF-8 sequence at `pos` (1 for an invalid byte, with
// `valid` false).
size_t DecodeOne(std::string_view text, size_t pos, bool& valid) {
  const size_t length = Utf8SequenceLength(text, pos);
  valid = length != 0;
  return valid ? length : 1;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// The ASCII characters markdown gives a meaning to, written with a backslash
// before them; '<', '>' and '&' become HTML entities instead.
constexpr std::string_view kMarkdownEscaped = "\\`*_[]|~#!(){}";

// A printable ASCII byte that markdown text keeps as it is.
bool IsPlainMarkdownByte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte < 0x20 || byte >= 0x7f) return false;
  return c != '<' && c != '>' && c != '&' && kMarkdownEscaped.find(c) == std::string_view::npos;
}

// True when OneLine would return `text` unchanged: printable ASCII, words
// separated by single spaces, no space at either end, at most `max_chars`.
bool IsAlreadyOneLine(std::string_view text, size_t max_chars) {
  if (text.size() > max_chars) return false;
  if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) return false;
  char previous = 0;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || (c == ' ' && previous == ' ')) return false;
    previous = c;
  }
  return true;
}

}  // namespace

std::string EscapeMarkdown(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t pos = 0; pos < text.size();) {
    // Runs of plain ASCII (most of any text) are copied as they are.
    const size_t run_start = pos;
    while (pos < text.size() && IsPlainMarkdownByte(text[pos])) ++pos;
    out.append(text.substr(run_start, pos - run_start));
    if (pos == text.size()) break;
    bool valid = false;
    size_t length = DecodeOne(text, pos, valid);
    if (!valid) {
      out += kReplacement;
      pos += length;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(pos, length));
      pos += length;
      continue;
    }
    const char c = text[pos++];
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        if (kMarkdownEscaped.find(c) != std::string_view::npos) {
          out.push_back('\\');
          out.push_back(c);
        } else {
          out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
        }
    }
  }
  return out;
}

size_t CountChars(std::string_view text) {
  size_t count = 0;
  for (size_t pos = 0; pos < text.size(); ++count) {
    bool valid = false;
    pos += DecodeOne(text, pos, valid);
  }
  return count;
}

std::string OneLine(std::string_view text, size_t max_chars) {
  if (IsAlreadyOneLine(text, max_chars)) return std::string(text);
  // First: valid UTF-8, one line, single spaces.
  std::string line;
  line.reserve(text.size());
  bool pending_space = false;
  for (size_t pos = 0; pos < text.size();) {
    bool valid = false;
    size_t length = DecodeOne(text, pos, valid);
    if (valid && length == 1) {
      const auto c = static_cast<unsigned char>(text[pos]);
      if (c <= 0x20 || c == 0x7f) {
        pending_space = !line.empty();
        ++pos;
        continue;
      }
    }
    if (pending_space) line.push_back(' ');
    pending_space = false;
    if (valid) {
      line.append(text.substr(pos, length));
    } else {
      line += kReplacement;
    }
    pos += length;
  }
  if (CountChars(line) <= max_chars) return line;
  if (max_chars == 0) return std::string();
  // Cut to max_chars - 1 characters, back to the last space if it is not too
  // far, then add the ellipsis.
  size_t keep_bytes = 0;
  for (size_t count = 0; count + 1 < max_chars && keep_bytes < line.size(); ++count) {
    bool valid = false;
    keep_bytes += DecodeOne(line, keep_bytes, valid);
  }
  std::string cut = line.substr(0, keep_bytes);
  size_t space = cut.rfind(' ');
  if (space != std::string::npos && space > cut.size() / 2) cut.resize(space);
  while (!cut.empty() && (cut.back() == ' ' || cut.back() == ',' || cut.back() == ';' || cut.back() == ':')) {
    cut.pop_back();
  }
  return cut + "\xE2\x80\xA6";
}

bool IsAbsoluteHttpUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?' ||
      rest.front() == '#') {
    return false;
  }
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '`' ||
        c == '{' || c == '}' || c == '|' || c == '^') {
      return false;
    }
  }
  return true;
}

std::string EncodeUrlText(std::string_view text) {
  static constexpr std::string_view kAllowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (kAllowed.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

}  // namespace regenpath::cdshooks
