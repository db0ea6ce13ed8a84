// `regenpath kb export --fhir OUTDIR [--kb DIR]` (contract: shared/spec/cli.md).
#ifndef REGENPATH_CLI_KB_EXPORT_COMMAND_H_
#define REGENPATH_CLI_KB_EXPORT_COMMAND_H_

#include <iosfwd>

#include "cli/assess_command.h"

namespace regenpath::cli {

// Writes the knowledge base (options.kb_dir, default the built-in one) as FHIR
// R4 resources into options.fhir_dir, one "<ResourceType>-<id>.json" per
// resource (knowledge/fhir_export.h), and prints a one-line summary on `out`.
//
// The files are written into a fresh hidden directory first (beside OUTDIR
// when it does not exist, inside it when it does) and only then renamed into
// place, so a failure leaves OUTDIR as it was. OUTDIR is created when absent;
// its parent must exist. Files of an existing OUTDIR with the same names are
// replaced; other files are left in place (a warning names earlier exported
// resources that this export no longer has).
//
// Returns 0; 2 when OUTDIR is missing, is not a directory, its parent does not
// exist, or it cannot be written; 3 when the knowledge base cannot be read or
// has problems (listed by `regenpath kb check`).
int RunKbExport(const KbOptions& options, std::ostream& out, std::ostream& err);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_KB_EXPORT_COMMAND_H_
