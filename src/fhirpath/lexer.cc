#include "fhirpath/lexer.h"

#include <fmt/format.h>

#include "common/utf8.h"

namespace regenpath::fhirpath {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || IsDigit(c); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      RP_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (pos_ >= text_.size()) break;
      RP_ASSIGN_OR_RETURN(Token token, Next());
      tokens.push_back(std::move(token));
    }
    tokens.push_back(Token{TokenKind::kEnd, "", text_.size()});
    return tokens;
  }

 private:
  Status Error(size_t offset, std::string_view what) const {
    return InvalidArgument(fmt::format("syntax error at {}: {}", DescribePosition(text_, offset), what));
  }

  char Peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '/' && Peek(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      } else if (c == '/' && Peek(1) == '*') {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return Error(pos_, "comment is not closed with */");
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return Status();
  }

  // Reads a quoted run ending with `quote`, unescaping; pos_ is at the opening quote.
  Result<std::string> Quoted(char quote, std::string_view what) {
    size_t start = pos_;
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) return Fail(Error(start, fmt::format("{} is not closed", what)));
      char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      char escaped = Peek(1);
      switch (escaped) {
        case '\'':
        case '"':
        case '`':
        case '\\':
        case '/':
          out += escaped;
          pos_ += 2;
          break;
        case 'f':
          out += '\f';
          pos_ += 2;
          break;
        case 'n':
          out += '\n';
          pos_ += 2;
          break;
        case 'r':
          out += '\r';
          pos_ += 2;
          break;
        case 't':
          out += '\t';
          pos_ += 2;
          break;
        case 'u': {
          RP_ASSIGN_OR_RETURN(uint32_t code_point, Hex4(pos_ + 2));
          pos_ += 6;
          if (code_point >= 0xD800 && code_point <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
            RP_ASSIGN_OR_RETURN(uint32_t low, Hex4(pos_ + 2));
            if (low >= 0xDC00 && low <= 0xDFFF) {
              code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
              pos_ += 6;
            }
          }
          if (code_point >= 0xD800 && code_point <= 0xDFFF) return Fail(Error(pos_, "unpaired surrogate in \\u escape"));
          AppendUtf8(out, code_point);
          break;
        }
        default:
          return Fail(Error(pos_, fmt::format("unknown escape \\{}", escaped == '\0' ? ' ' : escaped)));
      }
    }
  }

  Result<uint32_t> Hex4(size_t at) const {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) {
      int digit = at + i < text_.size() ? HexValue(text_[at + i]) : -1;
      if (digit < 0) return Fail(Error(at, "\\u needs four hexadecimal digits"));
      value = value * 16 + static_cast<uint32_t>(digit);
    }
    return value;
  }

  size_t CountDigits(size_t at) const {
    size_t n = 0;
    while (at + n < text_.size() && IsDigit(text_[at + n])) ++n;
    return n;
  }

  // Scans hh(:mm(:ss(.f+)?)?)? at pos_; returns false if no hh.
  bool ScanTime() {
    if (CountDigits(pos_) < 2) return false;
    pos_ += 2;
    if (Peek() == ':' && CountDigits(pos_ + 1) >= 2) {
      pos_ += 3;
      if (Peek() == ':' && CountDigits(pos_ + 1) >= 2) {
        pos_ += 3;
        if (Peek() == '.' && CountDigits(pos_ + 1) >= 1) pos_ += 1 + CountDigits(pos_ + 1);
      }
    }
    return true;
  }

  Result<Token> DateTimeLiteral(size_t start) {
    ++pos_;  // '@'
    if (Peek() == 'T') {
      ++pos_;
      size_t time_start = pos_;
      if (!ScanTime()) return Fail(Error(start, "a time literal needs @Thh[:mm[:ss[.fff]]]"));
      return Token{TokenKind::kTime, std::string(text_.substr(time_start, pos_ - time_start)), start};
    }
    size_t body = pos_;
    if (CountDigits(pos_) < 4) return Fail(Error(start, "a date literal needs @YYYY[-MM[-DD]]"));
    pos_ += 4;
    if (Peek() == '-' && CountDigits(pos_ + 1) >= 2) {
      pos_ += 3;
      if (Peek() == '-' && CountDigits(pos_ + 1) >= 2) pos_ += 3;
    }
    if (Peek() != 'T') return Token{TokenKind::kDate, std::string(text_.substr(body, pos_ - body)), start};
    ++pos_;
    if (ScanTime()) {
      if (Peek() == 'Z') {
        ++pos_;
      } else if ((Peek() == '+' || Peek() == '-') && CountDigits(pos_ + 1) >= 2 && Peek(3) == ':' &&
                 CountDigits(pos_ + 4) >= 2) {
        pos_ += 6;
      }
    }
    return Token{TokenKind::kDateTime, std::string(text_.substr(body, pos_ - body)), start};
  }

  Result<Token> Next() {
    size_t start = pos_;
    char c = text_[pos_];
    if (IsIdentifierStart(c)) {
      while (pos_ < text_.size() && IsIdentifierPart(text_[pos_])) ++pos_;
      return Token{TokenKind::kIdentifier, std::string(text_.substr(start, pos_ - start)), start};
    }
    if (IsDigit(c)) {
      pos_ += CountDigits(pos_);
      TokenKind kind = TokenKind::kInteger;
      if (Peek() == '.' && IsDigit(Peek(1))) {
        ++pos_;
        pos_ += CountDigits(pos_);
        kind = TokenKind::kDecimal;
      }
      std::string digits(text_.substr(start, pos_ - start));
      if (kind == TokenKind::kInteger && Peek() == 'L' && !IsIdentifierPart(Peek(1))) {
        ++pos_;
        return Token{TokenKind::kLong, digits, start};
      }
      return Token{kind, digits, start};
    }
    switch (c) {
      case '\'': {
        RP_ASSIGN_OR_RETURN(std::string text, Quoted('\'', "string"));
        return Token{TokenKind::kString, std::move(text), start};
      }
      case '`': {
        RP_ASSIGN_OR_RETURN(std::string text, Quoted('`', "delimited identifier"));
        return Token{TokenKind::kDelimitedIdentifier, std::move(text), start};
      }
      case '@':
        return DateTimeLiteral(start);
      case '$': {
        ++pos_;
        size_t name = pos_;
        while (pos_ < text_.size() && IsIdentifierPart(text_[pos_])) ++pos_;
        std::string_view word = text_.substr(name, pos_ - name);
        if (word != "this" && word != "index" && word != "total") {
          return Fail(Error(start, "expected $this, $index or $total"));
        }
        return Token{TokenKind::kSpecial, std::string(word), start};
      }
      case '!':
        if (Peek(1) == '=' || Peek(1) == '~') {
          pos_ += 2;
          return Token{TokenKind::kPunct, std::string(text_.substr(start, 2)), start};
        }
        return Fail(Error(start, "'!' must be followed by = or ~"));
      case '<':
      case '>':
        if (Peek(1) == '=') {
          pos_ += 2;
          return Token{TokenKind::kPunct, std::string(text_.substr(start, 2)), start};
        }
        ++pos_;
        return Token{TokenKind::kPunct, std::string(1, c), start};
      case '.':
      case '[':
      case ']':
      case '(':
      case ')':
      case '{':
      case '}':
      case ',':
      case ':':
      case '%':
      case '+':
      case '-':
      case '*':
      case '/':
      case '&':
      case '|':
      case '=':
      case '~':
        ++pos_;
        return Token{TokenKind::kPunct, std::string(1, c), start};
      default:
        break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      return Fail(Error(start, fmt::format("unexpected character (byte 0x{:02X})", static_cast<unsigned char>(c))));
    }
    return Fail(Error(start, fmt::format("unexpected character '{}'", c)));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view expression) {
  if (std::optional<size_t> bad = FirstInvalidUtf8(expression)) {
    return Fail(InvalidArgument(
        fmt::format("syntax error at {}: the expression is not valid UTF-8", DescribePosition(expression, *bad))));
  }
  return Lexer(expression).Run();
}

std::string DescribePosition(std::string_view expression, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < expression.size(); ++i) {
    if (expression[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
}

}  // namespace regenpath::fhirpath
