#include "registry/registry_sql.h"

#include <fmt/format.h>

namespace regenpath::registry::sql {

std::string ForDialect(std::string_view sql, SqlDialect dialect) {
  std::string out;
  out.reserve(sql.size() + 32);
  int parameter = 0;
  for (size_t at = 0; at < sql.size(); ++at) {
    if (sql.substr(at, 3) == "{C}") {
      if (dialect == SqlDialect::kPostgres) out += " COLLATE \"C\"";
      at += 2;
    } else if (sql[at] == '?' && dialect == SqlDialect::kPostgres) {
      out += fmt::format("${}", ++parameter);
    } else {
      out += sql[at];
    }
  }
  return out;
}

std::string Parameters(int count) {
  std::string out;
  out.reserve(2 * count);
  for (int index = 0; index < count; ++index) out += index == 0 ? "?" : ",?";
  return out;
}

std::string WithColumnsAndIn(std::string_view statement, std::string_view columns, int count) {
  std::string out(statement);
  if (size_t at = out.find("{COLUMNS}"); at != std::string::npos) out.replace(at, 9, columns);
  if (size_t at = out.find("{IN}"); at != std::string::npos) out.replace(at, 4, Parameters(count));
  return out;
}

std::string LoadDueWindowsStatement(bool with_start, bool start_inclusive, bool with_limit) {
  std::string out =
      "SELECT w.window_last, w.candidates, e.episode_key, e.option_id, e.patient, e.procedure_key FROM due_windows w "
      "JOIN due_episodes e ON e.id = w.id / 65536 WHERE w.window_last <= ? AND w.window_first <= ? AND "
      "(w.window_last >= ? OR w.any_unseen = 1)";
  // The first comparison lets the planner start the index range at the
  // start's day; the row value is the exact position.
  if (with_start) {
    out += fmt::format(" AND w.window_last >= ? AND (w.window_last, e.episode_key, e.option_id) {} (?, ?, ?)",
                       start_inclusive ? ">=" : ">");
  }
  out += " ORDER BY w.window_last, e.episode_key, e.option_id";
  if (with_limit) out += " LIMIT ?";
  return out;
}

}  // namespace regenpath::registry::sql
