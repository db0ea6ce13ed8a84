#include "server/registry_parts.h"

#include <filesystem>

#include "registry/postgres_registry_store.h"
#include "registry/registry_config.h"
#include "registry/sqlite_registry_store.h"

namespace regenpath::server {

Result<RegistryParts> OpenRegistryParts(const ServerConfig& config, const std::string& now) {
  RegistryParts parts;
  registry::RegistryConfig registry_config;
  if (!config.registry_config.empty()) {
    RP_ASSIGN_OR_RETURN(registry_config, registry::LoadRegistryConfig(config.registry_config));
  }
  if (registry_config.database.empty()) {
    registry_config.database = (std::filesystem::path(config.data_dir) / "registry.sqlite").string();
  }
  const std::string& database = registry_config.database;
  if (database.starts_with("postgres") || database.find('=') != std::string::npos) {
    RP_ASSIGN_OR_RETURN(parts.store, registry::PostgresRegistryStore::Open(database));
  } else {
    RP_ASSIGN_OR_RETURN(parts.store, registry::SqliteRegistryStore::Open(database));
  }
  RP_RETURN_IF_ERROR(parts.store->Migrate(registry::WriteContext{"regenpath-serve", now}));
  RP_ASSIGN_OR_RETURN(parts.catalog, registry::InstrumentCatalog::Embedded());
  if (!registry_config.site_secret_file.empty()) {
    RP_ASSIGN_OR_RETURN(registry::Pseudonymizer pseudonymizer,
                        registry::Pseudonymizer::FromFile(registry_config.site_secret_file));
    parts.pseudonymizer.emplace(std::move(pseudonymizer));
  }
  parts.min_episodes = registry_config.min_episodes;
  return parts;
}

}  // namespace regenpath::server
