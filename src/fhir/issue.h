// Issue: a problem found in input data that did not stop processing.
//
// Data problems are not failures (style rule 4): a bad element becomes an
// Issue with its location, collected and reported (as OperationOutcome in the
// service, as `issues` in an assessment), and the rest of the input is used.
#ifndef REGENPATH_FHIR_ISSUE_H_
#define REGENPATH_FHIR_ISSUE_H_

#include <string>
#include <string_view>

namespace regenpath::fhir {

enum class IssueSeverity : unsigned char { kInformation, kWarning, kError };

// "information", "warning", "error" (the OperationOutcome / assessment codes).
std::string_view IssueSeverityName(IssueSeverity severity);

struct Issue {
  IssueSeverity severity = IssueSeverity::kWarning;
  std::string message;
  // Where: a FHIR element path ("Bundle.entry[3].resource.birthDate"), a
  // "line N" for NDJSON, or empty when the whole input is concerned.
  std::string location;
};

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_ISSUE_H_
