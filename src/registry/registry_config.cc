// yaml-cpp is also used here (besides instrument_catalog.cc); its exceptions
// end in this file.
#include "registry/registry_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "common/config_text.h"

namespace regenpath::registry {

Result<RegistryConfig> LoadRegistryConfig(const std::string& path) {
  RegistryConfig config;
  RP_ASSIGN_OR_RETURN(const std::string text, ReadConfigText(path));
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Fail(InvalidInput(fmt::format("{}: the registry configuration must be a mapping", path)));
    std::filesystem::path base = std::filesystem::path(path).parent_path();
    auto resolve = [&](const std::string& value) {
      std::filesystem::path file(value);
      return file.is_absolute() ? value : (base / file).string();
    };
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>();
      if (key == "database") {
        std::string database = entry.second.as<std::string>();
        bool postgres = database.starts_with("postgres") || database.find('=') != std::string::npos;
        config.database = postgres ? database : resolve(database);
      } else if (key == "site_secret_file") {
        config.site_secret_file = resolve(entry.second.as<std::string>());
      } else if (key == "min_episodes") {
        config.min_episodes = entry.second.as<int>();
        if (config.min_episodes < 1) {
          return Fail(InvalidInput(fmt::format("{}:{}: min_episodes must be at least 1", path, entry.first.Mark().line + 1)));
        }
      } else {
        return Fail(InvalidInput(fmt::format("{}:{}: unknown key '{}'", path, entry.first.Mark().line + 1, key)));
      }
    }
  } catch (const YAML::Exception& error) {
    // Bad YAML, or a value of the wrong type: named with its line.
    if (error.mark.is_null()) return Fail(InvalidInput(fmt::format("{}: {}", path, error.msg)));
    return Fail(InvalidInput(fmt::format("{}:{}: {}", path, error.mark.line + 1, error.msg)));
  }
  return config;
}

}  // namespace regenpath::registry
