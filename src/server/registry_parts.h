// RegistryParts: what `regenpath serve` needs for the registry routes,
// opened from the server's configuration: the store (SQLite under data_dir
// by default, or the database of `registry_config`), migrated to the
// current schema; the instrument catalog; the pseudonymizer when a site
// secret is configured.
#ifndef REGENPATH_SERVER_REGISTRY_PARTS_H_
#define REGENPATH_SERVER_REGISTRY_PARTS_H_

#include <memory>
#include <optional>

#include "common/status.h"
#include "registry/instrument_catalog.h"
#include "registry/pseudonymizer.h"
#include "registry/registry_store.h"
#include "server/server_config.h"

namespace regenpath::server {

struct RegistryParts {
  std::unique_ptr<registry::RegistryStore> store;
  std::shared_ptr<const registry::InstrumentCatalog> catalog;
  std::optional<registry::Pseudonymizer> pseudonymizer;
  int min_episodes = 0;
};

// Failures name what failed: kInvalidInput for the registry config or the
// secret file, kUnavailable for the database.
Result<RegistryParts> OpenRegistryParts(const ServerConfig& config, const std::string& now);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_REGISTRY_PARTS_H_
