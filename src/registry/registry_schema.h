// The registry's SQL schema as versioned migrations, shared by the SQLite and
// (future) PostgreSQL stores: plain SQL both accept (TEXT, INTEGER, REAL,
// ON CONFLICT upserts). A migration is never edited once released; a change
// is a new migration with the next version.
#ifndef REGENPATH_REGISTRY_REGISTRY_SCHEMA_H_
#define REGENPATH_REGISTRY_REGISTRY_SCHEMA_H_

#include <span>
#include <string>

namespace regenpath::registry {

struct Migration {
  int version;
  const char* description;
  const char* sql;  // one or more statements separated by ';'
};

// Every migration, in version order (1, 2, ...). Its SQL holds
// placeholders that MigrationSql() fills per database.
std::span<const Migration> RegistryMigrations();

enum class SqlDialect { kSqlite, kPostgres };
// `migration.sql` for `dialect`: {DOUBLE} is REAL (SQLite) or DOUBLE
// PRECISION; {BLOB} BLOB or BYTEA; {WITHOUT_ROWID} a clustered table
// (SQLite's WITHOUT ROWID; nothing for PostgreSQL); {AUTO_ID} an
// auto-numbered primary key; {INTEGER_KEY} a 64-bit integer primary key
// given by the writer (SQLite's rowid).
std::string MigrationSql(const Migration& migration, SqlDialect dialect);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_SCHEMA_H_
