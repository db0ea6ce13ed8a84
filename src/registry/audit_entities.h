// The audit trail's rows (FHIR AuditEvent-like: who, when, what). A write
// records one row per action (create | update) and entity type for up to
// kAuditEntitiesPerRow entities, as one AuditEvent lists several entities:
// `entity` is a JSON array of the registry keys written (never an
// identifier of the patient) and `entity_count` their number. Queryable in
// SQL: SQLite `json_each(entity)`, PostgreSQL
// `jsonb_array_elements_text(entity::jsonb)` (docs/registry.md, "Audit").
#ifndef REGENPATH_REGISTRY_AUDIT_ENTITIES_H_
#define REGENPATH_REGISTRY_AUDIT_ENTITIES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regenpath::registry {

inline constexpr int kAuditEntitiesPerRow = 1000;

// One audit row to insert (recorded, actor and outcome come from the write).
struct AuditEntry {
  std::string action;
  std::string entity_type;
  std::string entity;  // JSON array of keys
  int entity_count = 0;
};

// `key` alone, as an audit row's `entity` (["key"]).
std::string AuditEntityOf(std::string_view key);

// Collects the keys of one write into audit rows.
class AuditEntities {
 public:
  // Adds `key` to the open row of (action, type); returns that row when it
  // is full (kAuditEntitiesPerRow keys).
  std::optional<AuditEntry> Add(std::string_view action, std::string_view type, std::string_view key);
  // The rows still open, in the order they were opened; none stay open.
  std::vector<AuditEntry> Flush();

 private:
  std::vector<AuditEntry> open_;
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_AUDIT_ENTITIES_H_
