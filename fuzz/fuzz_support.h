// Shared helpers for the libFuzzer targets in this folder.
#ifndef REGENPATH_FUZZ_FUZZ_SUPPORT_H_
#define REGENPATH_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <set>
#include <string_view>

namespace regenpath::fhir {
class Document;
}  // namespace regenpath::fhir

namespace regenpath::fuzz {

// Reports a broken contract (an invariant the library promises) and aborts,
// so that libFuzzer saves the input as a crash. Never used for input the
// library is allowed to reject.
[[noreturn]] void ContractViolation(std::string_view what, std::string_view detail);

// `input` without a leading UTF-8 byte-order mark (the parser accepts one).
std::string_view WithoutBom(std::string_view input);

// True iff `text` is well-formed UTF-8 (no overlongs, surrogates or values
// past U+10FFFF). Written here, not taken from src/, to check it.
bool IsUtf8(std::string_view text);

// True iff `input` is one JSON value (RFC 8259, UTF-8, blanks around it).
// Numbers have no range limit: 1E400 is valid JSON, and FHIR decimals keep
// their text, so the parser accepts it (simdjson's DOM parser would not).
bool IsJson(std::string_view input);

// The number (1-based) of the first non-blank line of `input` that is not one
// valid JSON value, skipping the line numbers in `skipped`; 0 if none.
size_t FirstNonJsonLine(std::string_view input, const std::set<size_t>& skipped);

// The NDJSON lines a parse skipped (each has an issue located "line N").
std::set<size_t> SkippedLines(const fhir::Document& document);

}  // namespace regenpath::fuzz

#define FUZZ_CHECK(condition, detail)                                             \
  do {                                                                            \
    if (!(condition)) ::regenpath::fuzz::ContractViolation(#condition, (detail)); \
  } while (false)

#endif  // REGENPATH_FUZZ_FUZZ_SUPPORT_H_
