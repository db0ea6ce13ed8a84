// `regenpath assess` and `regenpath kb ...` (contract: shared/spec/cli.md).
#ifndef REGENPATH_CLI_ASSESS_COMMAND_H_
#define REGENPATH_CLI_ASSESS_COMMAND_H_

#include <iosfwd>
#include <optional>
#include <string>

namespace regenpath::cli {

struct AssessOptions {
  std::string file;                   // "-" for stdin
  std::optional<std::string> now;     // YYYY-MM-DD or a FHIR dateTime; default: the system date
  std::optional<std::string> format;  // json | text; default: text on a terminal, json otherwise
  std::optional<std::string> kb_dir;  // default: the built-in knowledge base
  std::optional<std::string> patient;  // the Patient id when the record holds several
  // The outcomes registry (a SQLite file or a PostgreSQL connection string):
  // regenerative options it holds enough real episodes of show the clinic's
  // own result next to the published evidence (docs/registry.md).
  std::optional<std::string> registry;
  // The planned procedure date (YYYY-MM-DD): holds get stop/restart dates and
  // follow-up schedules calendar dates.
  std::optional<std::string> procedure_date;
};

// Returns the exit code: 0, 2 (usage), 3 (unreadable or invalid input or
// knowledge base). A registry that cannot be read is a warning on `err`: the
// assessment is printed without the clinic's evidence.
int RunAssess(const AssessOptions& options, std::ostream& out, std::ostream& err);

struct KbOptions {
  std::optional<std::string> kb_dir;
  // eval: a definition on a record, for knowledge-base authors.
  std::string definition;
  std::string file;
  std::optional<std::string> condition;
  std::optional<std::string> now;
  std::optional<std::string> patient;  // kb eval: the Patient id when the record holds several
  // export --fhir
  std::string fhir_dir;
};

// Lists every problem of the knowledge base, "file:line: message"; 0 when none, 3 otherwise.
int RunKbCheck(const KbOptions& options, std::ostream& out, std::ostream& err);
// Prints the JSON value of a definition evaluated on a record.
int RunKbEval(const KbOptions& options, std::ostream& out, std::ostream& err);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_ASSESS_COMMAND_H_
