// Lexer: splits a FHIRPath expression into tokens (grammar: fhirpath.g4).
//
// Keywords (and, div, true, ...) come out as kIdentifier tokens; the parser
// decides what they mean where they stand. Strings and delimited identifiers
// are returned unescaped.
#ifndef REGENPATH_FHIRPATH_LEXER_H_
#define REGENPATH_FHIRPATH_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace regenpath::fhirpath {

enum class TokenKind : unsigned char {
  kEnd,
  kIdentifier,           // name, and keywords such as `and`, `true`, `is`
  kDelimitedIdentifier,  // `name with spaces` (text unescaped)
  kString,               // 'text' (text unescaped)
  kInteger,              // 12
  kDecimal,              // 12.5
  kLong,                 // 12L (text without the L)
  kDate,                 // @2014-01-25 (text without @)
  kDateTime,             // @2014-01-25T14:30 (text without @)
  kTime,                 // @T14:30 (text without @T)
  kSpecial,              // $this, $index, $total (text without $)
  kPunct,                // . [ ] ( ) { } , : % + - * / & | = ~ != !~ < <= > >=
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  size_t offset = 0;  // byte offset of the token in the expression
};

// Tokenizes `expression`. Fails with the position (line:column) of the first
// character that cannot start or continue a token, an unterminated string,
// comment or delimited identifier, or a bad escape.
Result<std::vector<Token>> Tokenize(std::string_view expression);

// "line L, column C" (1-based) of byte `offset` in `expression`.
std::string DescribePosition(std::string_view expression, size_t offset);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_LEXER_H_
