// The only file that includes CLI11 (a heavy header): argument parsing and
// dispatch to the subcommands.
#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/exit_codes.h"
#include "cli/fhirpath_command.h"

namespace regenpath::cli {

int Main(int argc, char** argv) {
  CLI::App app{"regenpath: clinical decision support for regenerative medicine in pain management"};
  app.name("regenpath");
  app.require_subcommand(1);

  FhirpathOptions fhirpath;
  CLI::App* fhirpath_command =
      app.add_subcommand("fhirpath", "Evaluate one FHIRPath expression against each input resource");
  fhirpath_command->add_flag("--typed", fhirpath.typed,
                             "Print [{\"type\": ..., \"value\": ...}] as the official test suite writes outputs");
  fhirpath_command->add_option("--env", fhirpath.env, "A variable for the expression: NAME=JSON (repeatable)");
  fhirpath_command->add_option("--now", fhirpath.now, "Fix now()/today(): YYYY-MM-DD or a FHIR dateTime");
  fhirpath_command->add_flag("--lenient", fhirpath.lenient,
                             "Do not check element names against each input's resource type");
  fhirpath_command->add_flag("--strict", fhirpath.strict,
                             "Also reject order-dependent functions on unordered collections (children().first())");
  fhirpath_command->add_option("EXPRESSION", fhirpath.expression, "The FHIRPath expression")->required();
  fhirpath_command->add_option("FILE", fhirpath.files, "Input resources (JSON, Bundle or NDJSON); none: stdin");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (fhirpath_command->parsed()) return RunFhirpath(fhirpath, std::cout, std::cerr);
  return kExitUsage;
}

}  // namespace regenpath::cli
