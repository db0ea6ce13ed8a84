// SameJsonValue: whether two JSON texts hold the same value, as two copies
// of one FHIR resource are compared (are they one resource, or does the
// record disagree with itself?).
#ifndef REGENPATH_FHIR_JSON_EQUAL_H_
#define REGENPATH_FHIR_JSON_EQUAL_H_

#include <string_view>

namespace regenpath::fhir {

// True iff `a` and `b` are the same JSON value: objects member by member
// whatever their order, arrays item by item in order, strings as decoded
// (`\u00e9` is `é`), numbers by value within their kind (1 and 1.0 differ),
// whitespace aside. Text that is not JSON (or that simdjson's DOM refuses,
// a number beyond a double) is the same only byte for byte. Thread-safe.
bool SameJsonValue(std::string_view a, std::string_view b);

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_JSON_EQUAL_H_
