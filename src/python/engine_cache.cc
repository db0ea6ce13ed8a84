#include "python/engine_cache.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace regenpath::python {

namespace {

namespace fs = std::filesystem;

// Name, size and modification time of the directory's *.yaml files, sorted:
// it changes when a file LoadDirectory would read changes. Empty when the
// directory cannot be listed (LoadDirectory then reports why).
std::string DirectoryIdentity(const std::string& directory) {
  std::error_code error;
  std::vector<std::string> files;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= 5 || !name.ends_with(".yaml")) continue;
    std::error_code stat_error;
    const uintmax_t size = fs::file_size(it->path(), stat_error);
    const auto mtime = fs::last_write_time(it->path(), stat_error).time_since_epoch().count();
    files.push_back(fmt::format("{}\t{}\t{}\n", name, stat_error ? 0 : size, stat_error ? 0 : mtime));
  }
  if (error) return "";
  std::sort(files.begin(), files.end());
  std::string identity;
  for (const std::string& file : files) identity += file;
  return identity;
}

}  // namespace

Result<EngineCache::Entry> EngineCache::Get(const std::optional<std::string>& directory) {
  const std::string key = directory.value_or("");
  const std::string identity = directory.has_value() ? DirectoryIdentity(*directory) : "embedded";
  // Held while loading: a second task wanting the same knowledge base waits
  // for the first to load it rather than loading it again (the load takes
  // milliseconds; tasks run for seconds).
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(key);
  if (found != entries_.end() && !identity.empty() && found->second.identity == identity) {
    Entry entry = found->second.entry;
    entry.reused = true;
    return entry;
  }
  Entry entry;
  if (directory.has_value()) {
    RP_ASSIGN_OR_RETURN(entry.kb, knowledge::KnowledgeBase::LoadDirectory(*directory));
  } else {
    entry.kb = knowledge::KnowledgeBase::Embedded();
  }
  RP_ASSIGN_OR_RETURN(engine::Engine engine, engine::Engine::Create(entry.kb));
  entry.engine = std::make_shared<const engine::Engine>(std::move(engine));
  if (!identity.empty()) entries_[key] = Cached{identity, entry};
  return entry;
}

}  // namespace regenpath::python
