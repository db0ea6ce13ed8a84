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
#include "cli/registry_command.h"
#include "cli/screen_command.h"
#include "cli/serve_command.h"
#include "common/terminal_text.h"
#include "screen/screener.h"

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
    if (next == children.end()) {
      // A command that takes positional arguments (`screen DIR`) reads the
      // word as one of them.
      const bool takes_positionals =
          !level->get_options([](const CLI::Option* option) { return option->get_positional(); }).empty();
      return takes_positionals ? std::nullopt : std::optional<std::string>(word);
    }
    level = *next;
  }
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv) {
  // Messages quote records', knowledge bases' and users' words: they reach
  // the terminal without control characters (common/terminal_text.h).
  // (`screen`'s progress bar writes its terminal sequences to stderr
  // itself; `serve` logs through spdlog.)
  TerminalSafeStream err(std::cerr);
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
  assess_command->add_option("--patient", assess.patient,
                             "The Patient id to assess when the record holds several (their other data is left out)");
  assess_command->add_option("--registry", assess.registry,
                             "The outcomes registry (SQLite file or PostgreSQL conninfo): show the clinic's own "
                             "results next to the published evidence");
  assess_command->add_option("--procedure-date", assess.procedure_date,
                             "Planned procedure date YYYY-MM-DD: hold stop/restart dates and follow-up dates");
  assess_command->add_option("FILE", assess.file, "A FHIR R4 Bundle or NDJSON of one patient; - for stdin")->required();

  KbOptions kb;
  CLI::App* kb_command = app.add_subcommand("kb", "Check, export or try out the knowledge base");
  kb_command->require_subcommand(1);
  CLI::App* kb_check = kb_command->add_subcommand("check", "Load the knowledge base and report every problem");
  kb_check->add_option("--kb", kb.kb_dir, "A knowledge-base directory (default: the built-in one)");
  CLI::App* kb_export = kb_command->add_subcommand("export",
                                                   "Write the knowledge base as FHIR R4 PlanDefinition, "
                                                   "ActivityDefinition, Library, ValueSet and Measure files");
  kb_export->add_option("--fhir", kb.fhir_dir, "Output directory, created if absent: one ResourceType-id.json per resource")
      ->required();
  kb_export->add_option("--kb", kb.kb_dir, "A knowledge-base directory (default: the built-in one)");
  CLI::App* kb_eval =
      kb_command->add_subcommand("eval", "Print one definition's value on a record (for knowledge-base authors)");
  kb_eval->add_option("--kb", kb.kb_dir, "A knowledge-base directory (default: the built-in one)");
  kb_eval->add_option("--now", kb.now, "\"Today\": YYYY-MM-DD or a FHIR dateTime");
  kb_eval->add_option("--condition", kb.condition, "For a condition-scoped definition: the condition id");
  kb_eval->add_option("--patient", kb.patient, "The Patient id when the record holds several");
  kb_eval->add_option("DEFINITION", kb.definition, "The definition id")->required();
  kb_eval->add_option("FILE", kb.file, "A FHIR R4 Bundle or NDJSON; - for stdin")->required();

  ScreenCommandOptions screen;
  CLI::App* screen_command = app.add_subcommand(
      "screen", "Assess every patient of a FHIR Bulk Data export (see docs/screening.md)");
  screen_command->require_subcommand(0, 1);
  screen_command->add_option("--now", screen.now, "\"Today\" for every assessment: YYYY-MM-DD or a FHIR dateTime");
  screen_command->add_option("--jobs", screen.jobs, "Threads (default, or 0: every core)")
      ->check(CLI::Range(size_t{0}, screen::kMaximumJobs));
  screen_command->add_option("--memory", screen.memory,
                             "Memory budget, e.g. 512M, 2G (default 512M, at least 16M)");
  screen_command->add_option("--shard", screen.shard, "I/N: only the patients whose id hash falls in shard I of N");
  screen_command->add_option("--output", screen.output_dir, "Output directory, created if absent");
  screen_command->add_option("--kb", screen.kb_dir, "Load this knowledge-base directory instead of the built-in one");
  screen_command->add_option("--fhir-server", screen.fhir_server,
                             "Run a Bulk Data $export at this URL (base, base/Patient or base/Group/ID) and screen "
                             "its output");
  screen_command->add_option("--bearer-token-file", screen.bearer_token_file,
                             "A file holding the bearer token for --fhir-server");
  screen_command->add_option("--smart-client-id", screen.smart_client_id,
                             "SMART Backend Services: the client id registered with --fhir-server's authorization server");
  screen_command->add_option("--smart-key-file", screen.smart_key_file,
                             "SMART Backend Services: the client's PEM private key (RSA: RS384; EC P-384: ES384)");
  screen_command->add_option("--smart-key-id", screen.smart_key_id,
                             "SMART Backend Services: the key's kid in the client's JWK Set");
  screen_command->add_option("--smart-token-endpoint", screen.smart_token_endpoint,
                             "SMART Backend Services: the token endpoint (default: from .well-known/smart-configuration)");
  screen_command->add_option(
      "--download-dir", screen.download_dir,
      "Where --fhir-server's files go (default OUTPUT/bulk-download; a rerun after a failed run "
      "resumes the same request's download)");
  screen_command->add_option("INPUT", screen.inputs, "Bulk Data output directories or NDJSON files (.ndjson, .ndjson.gz)");
  ScreenCommandOptions merge;
  CLI::App* merge_command =
      screen_command->add_subcommand("merge", "Combine the outputs of the shards of one screening run");
  merge_command->add_option("--output", merge.output_dir, "Output directory, created if absent")->required();
  merge_command->add_option("SHARD_DIR", merge.inputs, "The --output directories of shards 0..N-1")->required();
  ScreenCommandOptions map;
  CLI::App* map_command = screen_command->add_subcommand(
      "map", "A shuffle's map task: route a share of the inputs into per-shard files (docs/screening.md)");
  map_command->add_option("--map", map.map, "I/K: this is map task I of K")->required();
  map_command->add_option("--shards", map.shards, "How many shards (reduce tasks) the run has")->required();
  map_command->add_option("--shuffle-dir", map.shuffle_dir, "The run's shuffle directory (shared storage)")->required();
  map_command->add_option("--jobs", map.jobs, "Threads (default, or 0: every core)")
      ->check(CLI::Range(size_t{0}, screen::kMaximumJobs));
  map_command->add_option("--memory", map.memory,
                          "The reduce tasks' memory budget, e.g. 512M (default 512M, at least 16M)");
  map_command->add_option("--kb", map.kb_dir,
                          "The knowledge base the reduce tasks use (default the built-in one): resources it passes "
                          "over go to them as skeletons");
  map_command->add_option("INPUT", map.inputs, "Bulk Data output directories or NDJSON files")->required();
  ScreenCommandOptions reduce;
  CLI::App* reduce_command = screen_command->add_subcommand(
      "reduce", "A shuffle's reduce task: screen one shard from the map tasks' files (docs/screening.md)");
  reduce_command->add_option("--shard", reduce.shard, "I/N: this is the reduce task of shard I of N")->required();
  reduce_command->add_option("--maps", reduce.maps, "How many map tasks the run has")->required();
  reduce_command->add_option("--shuffle-dir", reduce.shuffle_dir, "The run's shuffle directory")->required();
  reduce_command->add_option("--output", reduce.output_dir, "This shard's output directory")->required();
  reduce_command->add_option("--now", reduce.now, "\"Today\" for every assessment: YYYY-MM-DD or a FHIR dateTime");
  reduce_command->add_option("--jobs", reduce.jobs, "Threads (default, or 0: every core)")
      ->check(CLI::Range(size_t{0}, screen::kMaximumJobs));
  reduce_command->add_option("--memory", reduce.memory,
                             "Memory budget, e.g. 512M, 2G (default 512M, at least 16M)");
  reduce_command->add_option("--kb", reduce.kb_dir, "Load this knowledge-base directory instead of the built-in one");

  ServeOptions serve;
  CLI::App* serve_command = app.add_subcommand("serve", "Serve CDS Hooks over HTTP(S) (see docs/server.md)");
  serve_command->add_option("--host", serve.host, "Address to bind (default 127.0.0.1)");
  serve_command->add_option("--port", serve.port, "Port to bind (default 8080; 0: any free port)");
  serve_command->add_option("--config", serve.config_file, "A YAML configuration file (docs/server.md)");
  serve_command->add_flag("--insecure-dev", serve.insecure_dev,
                          "No authentication, for local demos; refuses any host but loopback");
  serve_command->add_option("--web-root", serve.web_root, "The web app's static files (default: the source tree's web/)");

  RegistryOptions registry;
  CLI::App* registry_command = app.add_subcommand("registry", "The outcomes registry (docs/registry.md)");
  registry_command->require_subcommand(1);
  registry_command->add_option("--config", registry.config_file, "Registry YAML: database, site_secret_file, min_episodes");
  registry_command->add_option("--database", registry.database, "SQLite database file (default regenpath-data/registry.sqlite)");
  registry_command->add_option("--site-secret-file", registry.site_secret_file, "Secret (>= 32 bytes) keying the patient pseudonyms");
  registry_command->add_option("--now", registry.now, "\"Today\" (YYYY-MM-DD); default: the system's UTC date");
  registry_command->fallthrough();
  CLI::App* registry_import = registry_command->add_subcommand("import", "Import FHIR R4 Bundles (batch, transaction), NDJSON or the registry CSV");
  registry_import->add_option("FILE", registry.files, "Bundle JSON, NDJSON (*.ndjson) or the registry CSV (*.csv) files")->required();
  CLI::App* registry_report = registry_command->add_subcommand("report", "Outcomes per option: change, responders, adverse events, survival");
  registry_report->add_option("--format", registry.format, "text, json or csv");
  registry_report->add_option("--option", registry.option, "One knowledge-base option id (default: every option)");
  registry_report->add_option("--group-by", registry.group_by, "none, condition, kb-version, prp-leukocytes, image-guidance, feedback");
  CLI::App* registry_due = registry_command->add_subcommand("due", "The follow-up worklist: who is due or overdue for what");
  registry_due->add_option("--format", registry.format, "text, json or csv");
  registry_due->add_option("--page-size", registry.page_size, "Items per page (default: every item)")
      ->check(CLI::PositiveNumber);
  registry_due->add_option("--cursor", registry.cursor, "Start after the page whose 'next' this is");
  CLI::App* registry_export = registry_command->add_subcommand("export", "The cohort as FHIR (NDJSON or a Bundle) or CSV");
  registry_export->add_option("--format", registry.format, "ndjson (default), bundle or csv");
  CLI::App* registry_demo = registry_command->add_subcommand("demo", "Write a seeded SYNTHETIC cohort (never into a database with real data)");
  registry_demo->add_option("--episodes", registry.episodes, "Number of synthetic episodes (default 300)");
  registry_demo->add_option("--seed", registry.seed, "Random seed (default 20261205)");
  CLI::App* registry_migrate = registry_command->add_subcommand("migrate", "Create or upgrade the registry's schema");

  // CLI11 honours --help before it notices an unknown subcommand: name it
  // first (a typo must not print the general help and exit 0).
  if (std::optional<std::string> unknown = UnknownSubcommand(app, argc, argv)) {
    err << "regenpath: unknown subcommand '" << *unknown << "' (see regenpath --help)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error, std::cout, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (fhirpath_command->parsed()) return RunFhirpath(fhirpath, std::cout, err);
  if (assess_command->parsed()) return RunAssess(assess, std::cout, err);
  if (kb_check->parsed()) return RunKbCheck(kb, std::cout, err);
  if (kb_eval->parsed()) return RunKbEval(kb, std::cout, err);
  if (kb_export->parsed()) return RunKbExport(kb, std::cout, err);
  if (merge_command->parsed()) return RunScreenMerge(merge, err);
  if (map_command->parsed()) return RunScreenMap(map, err);
  if (reduce_command->parsed()) return RunScreenReduce(reduce, err);
  if (screen_command->parsed()) return RunScreen(screen, err);
  if (serve_command->parsed()) return RunServe(serve, err);
  for (CLI::App* action : {registry_import, registry_report, registry_due, registry_export, registry_demo, registry_migrate}) {
    if (action->parsed()) {
      registry.action = action->get_name();
      return RunRegistry(registry, std::cout, err);
    }
  }
  return kExitUsage;
}

}  // namespace regenpath::cli
