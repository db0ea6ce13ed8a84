// RegistryConfig: where the registry's database is and the site secret of
// the pseudonyms, from a small YAML file (docs/registry.md,
// "Configuration"):
//   database: registry.sqlite          # a file path (relative: to the config file)
//   site_secret_file: site-secret      # >= 32 bytes; never logged
//   min_episodes: 20                   # optional: overrides registry-min-episodes
#ifndef REGENPATH_REGISTRY_REGISTRY_CONFIG_H_
#define REGENPATH_REGISTRY_REGISTRY_CONFIG_H_

#include <string>

#include "common/status.h"

namespace regenpath::registry {

struct RegistryConfig {
  std::string database;
  std::string site_secret_file;
  int min_episodes = 0;  // 0: the knowledge base's
};

// kInvalidInput "FILE: not a readable file" (or "FILE: cannot be read: why")
// for a file that cannot be read (common/config_text.h); "FILE:LINE:
// message" for bad YAML, a value of the wrong type or an unknown key.
Result<RegistryConfig> LoadRegistryConfig(const std::string& path);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_CONFIG_H_
