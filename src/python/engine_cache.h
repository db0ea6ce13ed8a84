// EngineCache: the knowledge base and its compiled Engine, loaded once per
// process and shared by every task the process runs (Dask runs many tasks,
// on several threads, in one worker process).
//
//   EngineCache cache;
//   RP_ASSIGN_OR_RETURN(EngineCache::Entry entry, cache.Get(std::nullopt));  // the embedded knowledge base
//   options.kb = entry.kb;
//   options.engine = entry.engine;
//
// A knowledge-base directory is reloaded when one of its *.yaml files (the
// files KnowledgeBase::LoadDirectory reads) appears, disappears, or changes
// size or modification time; the entry of its earlier content stays valid
// for the runs that hold it. Thread-safe: concurrent Gets of one key load it
// once (the others wait for it).
#ifndef REGENPATH_PYTHON_ENGINE_CACHE_H_
#define REGENPATH_PYTHON_ENGINE_CACHE_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "engine/engine.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::python {

class EngineCache {
 public:
  struct Entry {
    std::shared_ptr<const knowledge::KnowledgeBase> kb;
    std::shared_ptr<const engine::Engine> engine;  // kb compiled
    bool reused = false;                           // found in the cache (not loaded by this Get)
  };

  // The embedded knowledge base (no directory) or that of `directory`,
  // compiled. Fails as KnowledgeBase::LoadDirectory and Engine::Create do;
  // a failure is not cached.
  Result<Entry> Get(const std::optional<std::string>& directory);

 private:
  struct Cached {
    std::string identity;  // of the directory's files when loaded
    Entry entry;
  };

  std::mutex mutex_;
  std::map<std::string, Cached> entries_;  // GUARDED_BY(mutex_); key: "" (embedded) or the directory
};

}  // namespace regenpath::python

#endif  // REGENPATH_PYTHON_ENGINE_CACHE_H_
