#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>

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

}  // namespace regenpath::fuzz
