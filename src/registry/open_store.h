// Opens the registry store a `database` setting names: a PostgreSQL
// connection string (a postgresql:// or postgres:// URI, or key=value with
// host= or dbname=) or else a SQLite file. Does not migrate.
#ifndef REGENPATH_REGISTRY_OPEN_STORE_H_
#define REGENPATH_REGISTRY_OPEN_STORE_H_

#include <memory>
#include <string>

#include "common/status.h"
#include "registry/registry_store.h"

namespace regenpath::registry {

bool IsPostgresDatabase(const std::string& database);
Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(const std::string& database);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_OPEN_STORE_H_
