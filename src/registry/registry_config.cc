// yaml-cpp is also used here (besides instrument_catalog.cc); its exceptions
// end in this file.
#include "registry/registry_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/line_breaks.h"

namespace regenpath::registry {

Result<RegistryConfig> LoadRegistryConfig(const std::string& path) {
  RegistryConfig config;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Fail(InvalidInput(fmt::format("{}: not a readable file", path)));
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(InvalidInput(fmt::format("{}: not a readable file", path)));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    YAML::Node root = YAML::Load(LoneCrAsLf(std::move(text)));
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
    return Fail(InvalidInput(fmt::format("{}: {}", path, error.what())));
  } catch (const std::ios_base::failure& error) {  // a read error (EIO) past the open
    return Fail(InvalidInput(fmt::format("{}: cannot be read: {}", path, error.what())));
  }
  return config;
}

}  // namespace regenpath::registry
