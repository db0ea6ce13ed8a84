#include "registry/open_store.h"

#include "registry/postgres_registry_store.h"
#include "registry/sqlite_registry_store.h"

namespace regenpath::registry {

bool IsPostgresDatabase(const std::string& database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://") ||
         database.find("dbname=") != std::string::npos || database.find("host=") != std::string::npos;
}

Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(const std::string& database) {
  if (IsPostgresDatabase(database)) {
    RP_ASSIGN_OR_RETURN(std::unique_ptr<PostgresRegistryStore> store, PostgresRegistryStore::Open(database));
    return std::unique_ptr<RegistryStore>(std::move(store));
  }
  RP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteRegistryStore> store, SqliteRegistryStore::Open(database));
  return std::unique_ptr<RegistryStore>(std::move(store));
}

}  // namespace regenpath::registry
