#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>

#include <simdjson.h>

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

bool IsJsonOrNdjson(std::string_view input) {
  static simdjson::dom::parser* parser = new simdjson::dom::parser();
  simdjson::dom::element element;
  if (!parser->parse(simdjson::padded_string(input)).get(element)) return true;
  bool any = false;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      if (parser->parse(simdjson::padded_string(line)).get(element)) return false;
      any = true;
    }
    start = end + 1;
  }
  return any;
}

}  // namespace regenpath::fuzz
