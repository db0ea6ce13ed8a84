// `regenpath fhirpath`: evaluates one FHIRPath expression over input files
// (contract: shared/spec/cli.md).
#ifndef REGENPATH_CLI_FHIRPATH_COMMAND_H_
#define REGENPATH_CLI_FHIRPATH_COMMAND_H_

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace regenpath::cli {

struct FhirpathOptions {
  std::string expression;
  std::vector<std::string> files;  // empty: one resource from stdin
  bool typed = false;
  std::vector<std::string> env;  // NAME=JSON
  // "Now" for now()/today(): YYYY-MM-DD or a FHIR dateTime; default system clock.
  std::optional<std::string> now;
  // The expression is checked against each input's resource type (an element
  // the type does not have is a semantic error, exit 3). `lenient` turns the
  // check off; `strict` adds the check of order-dependent functions on
  // unordered collections.
  bool lenient = false;
  bool strict = false;
};

// Runs the command; writes results to `out` and one-line errors to `err`.
// Returns the exit code: 0, 3 (bad input or expression), 4 (evaluation error).
int RunFhirpath(const FhirpathOptions& options, std::ostream& out, std::ostream& err);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_FHIRPATH_COMMAND_H_
