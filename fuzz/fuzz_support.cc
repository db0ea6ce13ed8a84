#include "fuzz_support.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fhir/document.h"
#include "fhir/issue.h"

// UBSan only reports by default; a fuzzer must stop on the first report so
// that the input is saved. ASan: report leaks, and stop at the first error.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
extern "C" const char* __asan_default_options() { return "detect_leaks=1:abort_on_error=1"; }

namespace regenpath::fuzz {

void ContractViolation(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "CONTRACT VIOLATION: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::string_view WithoutBom(std::string_view input) {
  return input.substr(0, 3) == "\xEF\xBB\xBF" ? input.substr(3) : input;
}

bool IsUtf8(std::string_view text) {
  size_t index = 0;
  while (index < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[index]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || index + length > text.size()) return false;
    uint32_t code_point = length == 1 ? lead : lead & (0xFF >> (length + 1));
    for (size_t offset = 1; offset < length; ++offset) {
      unsigned char next = static_cast<unsigned char>(text[index + offset]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    index += length;
  }
  return true;
}

namespace {

// A strict RFC 8259 recognizer, without recursion (any depth) and without
// limits on numbers (1E400 is JSON, though no double holds it).
class JsonRecognizer {
 public:
  explicit JsonRecognizer(std::string_view text) : text_(text) {}

  bool Run() {
    // Open containers: '{' or '['.
    std::vector<char> open;
    bool expect_value = true;  // else: after a value, expect ',' or a close
    while (true) {
      SkipSpace();
      if (expect_value) {
        if (At('{') || At('[')) {
          char bracket = text_[pos_++];
          SkipSpace();
          if (At(bracket == '{' ? '}' : ']')) {
            ++pos_;
            expect_value = false;
          } else {
            open.push_back(bracket);
            if (bracket == '{' && !Key()) return false;
          }
          continue;
        }
        if (!Scalar()) return false;
        expect_value = false;
        continue;
      }
      if (open.empty()) return pos_ == text_.size();
      if (At(',')) {
        ++pos_;
        if (open.back() == '{' && !Key()) return false;
        expect_value = true;
      } else if (At(open.back() == '{' ? '}' : ']')) {
        ++pos_;
        open.pop_back();
      } else {
        return false;
      }
    }
  }

 private:
  bool At(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool Digit() const { return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  // A string, blanks and a colon.
  bool Key() {
    SkipSpace();
    if (!String()) return false;
    SkipSpace();
    if (!At(':')) return false;
    ++pos_;
    return true;
  }
  bool String() {
    if (!At('"')) return false;
    ++pos_;
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (pos_ >= text_.size()) return false;
      char escape = text_[pos_++];
      if (escape == 'u') {
        for (int k = 0; k < 4; ++k, ++pos_) {
          if (pos_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_]))) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(escape) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool Scalar() {
    if (At('"')) return String();
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return true;
      }
    }
    if (At('-')) ++pos_;
    if (At('0')) {
      ++pos_;
    } else if (Digit()) {
      while (Digit()) ++pos_;
    } else {
      return false;
    }
    if (At('.')) {
      ++pos_;
      if (!Digit()) return false;
      while (Digit()) ++pos_;
    }
    if (At('e') || At('E')) {
      ++pos_;
      if (At('+') || At('-')) ++pos_;
      if (!Digit()) return false;
      while (Digit()) ++pos_;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool IsJson(std::string_view input) { return IsUtf8(input) && JsonRecognizer(input).Run(); }

size_t FirstNonJsonLine(std::string_view input, const std::set<size_t>& skipped) {
  size_t start = 0;
  size_t number = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(start, end - start);
    ++number;
    if (line.find_first_not_of(" \t\r") != std::string_view::npos && !skipped.contains(number) &&
        !IsJson(line)) {
      return number;
    }
    start = end + 1;
  }
  return 0;
}

std::set<size_t> SkippedLines(const fhir::Document& document) {
  std::set<size_t> skipped;
  for (const fhir::Issue& issue : document.issues()) {
    std::string_view location = issue.location;
    if (location.starts_with("line ") && location.size() > 5 && location.size() < 15 &&
        location.find_first_not_of("0123456789", 5) == std::string_view::npos) {
      skipped.insert(std::stoul(std::string(location.substr(5))));
    }
  }
  return skipped;
}

}  // namespace regenpath::fuzz
