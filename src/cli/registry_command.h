// `regenpath registry import|report|due|export|demo|migrate`: the outcomes
// registry from the command line (src/registry/, docs/registry.md).
#ifndef REGENPATH_CLI_REGISTRY_COMMAND_H_
#define REGENPATH_CLI_REGISTRY_COMMAND_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace regenpath::cli {

struct RegistryOptions {
  std::string action;  // import | report | due | export | demo | migrate
  std::optional<std::string> config_file;       // registry YAML (database, site_secret_file, min_episodes)
  std::optional<std::string> database;          // SQLite file, or a PostgreSQL conninfo / postgresql:// URI; overrides the config's
  std::optional<std::string> site_secret_file;  // overrides the config's
  std::optional<std::string> now;               // "today" (YYYY-MM-DD); default: the system's UTC date
  std::optional<std::string> format;            // report/due: text | json | csv; export: ndjson | bundle | csv
  std::string option;                           // report: one option id (default: all)
  std::string group_by = "none";                // report
  int page_size = 0;                            // due: items per page (0: every item)
  std::string cursor;                           // due: the `next` of an earlier page
  int episodes = 300;                           // demo
  uint64_t seed = 20261205;                     // demo
  std::vector<std::string> files;               // import
  std::string actor;                            // audit subject; default "cli:<$USER>"
};

// Exit codes: 0 success; 2 usage (bad option, no site secret for import);
// 3 unreadable or invalid input — for import, any rejected resource (each
// reported on `err` as "FILE: LOCATION: message"; the good entries of a
// batch are stored all the same) or a file that is not FHIR JSON / NDJSON;
// 4 the database failed (unreachable, not migrated, demo mixed with real).
int RunRegistry(const RegistryOptions& options, std::ostream& out, std::ostream& err);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_REGISTRY_COMMAND_H_
