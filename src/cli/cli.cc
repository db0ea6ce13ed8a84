// The only file that includes CLI11 (a heavy header): argument parsing and
// dispatch to the subcommands.
#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>

#include "cli/assess_command.h"
#include "cli/exit_codes.h"
#include "cli/fhirpath_command.h"
#include "cli/kb_export_command.h"
#include "cli/serve_command.h"

namespace regenpath::cli {

namespace {

// The first word of argv that should name a subcommand of `app` (or of the
// subcommand it names, and so on) but names none; nullopt when all do, or
// when an option comes first (CLI11 then reports what is wrong).
std::optional<std::string> UnknownSubcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  for (int index = 1; index < argc; ++index) {
    std::string word = argv[index];
    std::vector<CLI::App*> children = level->get_subcommands([](CLI::App*) { return true; });
    if (children.empty()) return std::nullopt;
    if (word.empty() || word.front() == '-') return std::nullopt;
    auto next = std::find_if(children.begin(), children.end(),
                             [&](CLI::App* child) { return child->check_name(word); });
    if (next == children.end()) return word;
    level = *next;
  }
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"regenpath: clinical decision support for regenerative medicine in pain management"};
  app.name("regenpath");
  app.require_subcommand(1);

  FhirpathOptions fhirpath;
  CLI::App* fhirpath_command =
      app.add_subcommand("fhirpath", "Evaluate one FHIRPath expression against each input resource");
  fhirpath_command->add_flag("--typed", fhirpath.typed,
                             "Print [{\"type\": ..., \"value\": ...}] as the official test suite writes outputs");
  fhirpath_command->add_option("--env", fhirpath.env, "A variable for the expression: NAME=JSON (repeatable)")
      ->allow_extra_args(false);
  fhirpath_command->add_option("--now", fhirpath.now, "Fix now()/today(): YYYY-MM-DD or a FHIR dateTime");
  fhirpath_command->add_flag("--lenient", fhirpath.lenient,
                             "Do not check element names against each input's resource type");
  fhirpath_command->add_flag("--strict", fhirpath.strict,
                             "Also reject order-dependent functions on unordered collections (children().first())");
  fhirpath_command->add_option("EXPRESSION", fhirpath.expression, "The FHIRPath expression")->required();
  fhirpath_command->add_option("FILE", fhirpath.files, "Input resources (JSON, Bundle or NDJSON); none: stdin");

  AssessOptions assess;
  CLI::App* assess_command =
      app.add_subcommand("assess", "Evaluate the knowledge base against one patient's record and explain it");
  assess_command->add_option("--now", assess.now, "\"Today\" for the assessment: YYYY-MM-DD or a FHIR dateTime");
  assess_command->add_option("--format", assess.format, "json or text (default: text on a terminal, else json)")
      ->check(CLI::IsMember({"json", "text"}));
  assess_command->add_option("--kb", assess.kb_dir, "Load this knowledge-base directory instead of the built-in one");
  assess_command->add_option("FILE", assess.file, "A FHIR R4 Bundle or NDJSON of one patient; - for stdin")->required();

  KbOptions kb;
  CLI::App* kb_command = app.add_subcommand("kb", "Check, export or try out the knowledge base");
  kb_command->require_subcommand(1);
  CLI::App* kb_check = kb_command->add_subcommand("check", "Load the knowledge base and report every problem");
  kb_check->add_option("--kb", kb.kb_dir, "A knowledge-base directory (default: the built-in one)");
  CLI::App* kb_export = kb_command->add_subcommand(
      "export", "Write the knowledge base as FHIR R4 PlanDefinition, ActivityDefinition, Library and ValueSet files");
  kb_export->add_option("--fhir", kb.fhir_dir, "Output directory, created if absent: one ResourceType-id.json per resource")
      ->required();
  kb_export->add_option("--kb", kb.kb_dir, "A knowledge-base directory (default: the built-in one)");
  CLI::App* kb_eval =
      kb_command->add_subcommand("eval", "Print one definition's value on a record (for knowledge-base authors)");
  kb_eval->add_option("--kb", kb.kb_dir, "A knowledge-base directory (default: the built-in one)");
  kb_eval->add_option("--now", kb.now, "\"Today\": YYYY-MM-DD or a FHIR dateTime");
  kb_eval->add_option("--condition", kb.condition, "For a condition-scoped definition: the condition id");
  kb_eval->add_option("DEFINITION", kb.definition, "The definition id")->required();
  kb_eval->add_option("FILE", kb.file, "A FHIR R4 Bundle or NDJSON; - for stdin")->required();

  ServeOptions serve;
  CLI::App* serve_command = app.add_subcommand("serve", "Serve CDS Hooks over HTTP(S) (see docs/server.md)");
  serve_command->add_option("--host", serve.host, "Address to bind (default 127.0.0.1)");
  serve_command->add_option("--port", serve.port, "Port to bind (default 8080; 0: any free port)");
  serve_command->add_option("--config", serve.config_file, "A YAML configuration file (docs/server.md)");
  serve_command->add_flag("--insecure-dev", serve.insecure_dev,
                          "No authentication, for local demos; refuses any host but loopback");

  // CLI11 honours --help before it notices an unknown subcommand: name it
  // first (a typo must not print the general help and exit 0).
  if (std::optional<std::string> unknown = UnknownSubcommand(app, argc, argv)) {
    std::cerr << "regenpath: unknown subcommand '" << *unknown << "' (see regenpath --help)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (fhirpath_command->parsed()) return RunFhirpath(fhirpath, std::cout, std::cerr);
  if (assess_command->parsed()) return RunAssess(assess, std::cout, std::cerr);
  if (kb_check->parsed()) return RunKbCheck(kb, std::cout, std::cerr);
  if (kb_eval->parsed()) return RunKbEval(kb, std::cout, std::cerr);
  if (kb_export->parsed()) return RunKbExport(kb, std::cout, std::cerr);
  if (serve_command->parsed()) return RunServe(serve, std::cerr);
  return kExitUsage;
}

}  // namespace regenpath::cli
