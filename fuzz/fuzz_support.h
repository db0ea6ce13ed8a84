// Shared helpers for the libFuzzer targets in this folder.
#ifndef REGENPATH_FUZZ_FUZZ_SUPPORT_H_
#define REGENPATH_FUZZ_FUZZ_SUPPORT_H_

#include <string_view>

namespace regenpath::fuzz {

// Reports a broken contract (an invariant the library promises) and aborts,
// so that libFuzzer saves the input as a crash. Never used for input the
// library is allowed to reject.
[[noreturn]] void ContractViolation(std::string_view what, std::string_view detail);

// True iff `input` is one valid JSON value, or lines that each are (NDJSON;
// blank lines allowed, at least one line), by simdjson's DOM parser, which
// validates fully.
bool IsJsonOrNdjson(std::string_view input);

}  // namespace regenpath::fuzz

#define FUZZ_CHECK(condition, detail)                                              \
  do {                                                                             \
    if (!(condition)) ::regenpath::fuzz::ContractViolation(#condition, (detail)); \
  } while (false)

#endif  // REGENPATH_FUZZ_FUZZ_SUPPORT_H_
