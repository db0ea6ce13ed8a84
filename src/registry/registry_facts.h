// Keeps the stores' report facts (episode_facts.h) up to date and reads
// them: every report, the worklist and the clinic's evidence go through
// LoadEpisodeFacts(), which first refreshes the patients that writes have
// marked stale (and every patient when the knowledge base changed).
// Thread-safe if the store is; two processes refreshing at once both write
// correct facts (the later transaction wins, and a stale mark is cleared
// only if no write came in since it was read).
#ifndef REGENPATH_REGISTRY_REGISTRY_FACTS_H_
#define REGENPATH_REGISTRY_REGISTRY_FACTS_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "registry/episode_facts.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_store.h"

namespace regenpath::registry {

// Recomputes the facts of every stale patient, in transactions of
// `chunk` patients. Returns how many patients were refreshed.
Result<int> RefreshFacts(RegistryStore& store, const InstrumentCatalog& catalog, int chunk = 500);

// RefreshFacts(), then the facts of `option_id`'s episodes (every option
// when empty), ordered by option, then episode key.
Result<std::vector<EpisodeFacts>> LoadEpisodeFacts(RegistryStore& store, const InstrumentCatalog& catalog,
                                                   const std::string& option_id);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_FACTS_H_
