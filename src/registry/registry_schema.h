// The registry's SQL schema as versioned migrations, shared by the SQLite and
// (future) PostgreSQL stores: plain SQL both accept (TEXT, INTEGER, REAL,
// ON CONFLICT upserts). A migration is never edited once released; a change
// is a new migration with the next version.
#ifndef REGENPATH_REGISTRY_REGISTRY_SCHEMA_H_
#define REGENPATH_REGISTRY_REGISTRY_SCHEMA_H_

#include <span>

namespace regenpath::registry {

struct Migration {
  int version;
  const char* description;
  const char* sql;  // one or more statements separated by ';'
};

// Every migration, in version order (1, 2, ...).
std::span<const Migration> RegistryMigrations();

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_SCHEMA_H_
