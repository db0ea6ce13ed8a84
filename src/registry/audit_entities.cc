#include "registry/audit_entities.h"

#include "common/json_string.h"

namespace regenpath::registry {

std::string AuditEntityOf(std::string_view key) {
  std::string out = "[";
  AppendJsonString(key, out);
  out += ']';
  return out;
}

std::optional<AuditEntry> AuditEntities::Add(std::string_view action, std::string_view type, std::string_view key) {
  size_t at = 0;
  while (at < open_.size() && (open_[at].action != action || open_[at].entity_type != type)) ++at;
  if (at == open_.size()) open_.push_back(AuditEntry{std::string(action), std::string(type), "[", 0});
  AuditEntry& entry = open_[at];
  if (entry.entity_count > 0) entry.entity += ',';
  AppendJsonString(key, entry.entity);
  if (++entry.entity_count < kAuditEntitiesPerRow) return std::nullopt;
  AuditEntry full = std::move(entry);
  full.entity += ']';
  open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(at));
  return full;
}

std::vector<AuditEntry> AuditEntities::Flush() {
  std::vector<AuditEntry> rows = std::move(open_);
  open_.clear();
  for (AuditEntry& row : rows) row.entity += ']';
  return rows;
}

}  // namespace regenpath::registry
