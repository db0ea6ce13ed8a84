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

std::string LoadDueStatement(bool with_cursor, bool with_limit) {
  std::string out = std::string("SELECT ") + kDueColumns +
                    " FROM due_items WHERE window_last <= ? AND window_first <= ? AND (window_last >= ? OR seen_later = 0)";
  if (with_cursor) out += " AND (window_last, episode_key, option_id, instrument) > (?, ?, ?, ?)";
  out += " ORDER BY window_last, episode_key, option_id, instrument";
  if (with_limit) out += " LIMIT ?";
  return out;
}

}  // namespace regenpath::registry::sql
