// Keeps the stores' report facts (episode_facts.h) up to date and reads
// them: reports and the clinic's evidence go through LoadCohortReport()
// (facts streamed, never held), the worklist through LoadWorklist(), and
// whoever needs the facts themselves through LoadEpisodeFacts(); each first
// refreshes the patients that writes have marked stale (and every patient
// when the knowledge base changed).
// Thread-safe if the store is; two processes refreshing at once both write
// correct facts (the later transaction wins, and a stale mark is cleared
// only if no write came in since it was read).
#ifndef REGENPATH_REGISTRY_REGISTRY_FACTS_H_
#define REGENPATH_REGISTRY_REGISTRY_FACTS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/cohort_report.h"
#include "registry/episode_facts.h"
#include "registry/followup_worklist.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_store.h"

namespace regenpath::registry {

// Recomputes the facts of every stale patient, in transactions of up to
// `chunk` patients (1–10,000; their rows are read 500 patients at a time). Returns
// how many patients were refreshed.
Result<int> RefreshFacts(RegistryStore& store, const InstrumentCatalog& catalog, int chunk = 10000);

// What WriteContext::facts needs to let a write store the facts of the
// patients it creates in its own transaction (computed from the batch, with
// `catalog`, which must outlive it), so that a bulk import of new patients
// does not re-read its rows in RefreshFacts().
std::shared_ptr<const FactsComputer> FactsOfNewPatients(const InstrumentCatalog& catalog);

// RefreshFacts(), then the facts of `option_id`'s episodes (every option
// when empty), ordered by option, then episode key.
Result<std::vector<EpisodeFacts>> LoadEpisodeFacts(RegistryStore& store, const InstrumentCatalog& catalog,
                                                   const std::string& option_id);

// RefreshFacts(), then calls `visit` with the facts of each of `option_id`'s
// episodes (every option when empty), read as `scan` says (by default
// ordered by option, then episode key, with their group values: see
// FactsScan), decoded one by one into the same EpisodeFacts (valid during
// the call only): nothing is held per episode. Stops at the first error of
// `visit`, the store or the decoding. The store is locked during the walk:
// `visit` must not call it.
Status ForEachEpisodeFacts(RegistryStore& store, const InstrumentCatalog& catalog, const std::string& option_id,
                           const std::function<Status(const EpisodeFacts&)>& visit, const FactsScan& scan = {});

// The cohort report (cohort_report.h) of `option_id` (every option when
// empty) from the stored facts, as of `today`, of the episodes whose start
// day lies in [from, to] when given (an episode without a start day is then
// left out). The same report as BuildCohortReportFromFacts() on
// LoadEpisodeFacts(), without holding the episodes: the store's rows are
// read with RegistryStore::ScanFacts() in whatever order the database gives
// them (the builder's result does not depend on it), without their group
// values when ungrouped. What the CLI, the server and the clinic's evidence
// use. kInvalidArgument for a bad date or unknown option (before the store
// is read); else the store's error (nothing is returned of a read that
// failed mid-way).
Result<CohortReport> LoadCohortReport(RegistryStore& store, const InstrumentCatalog& catalog,
                                      const std::string& option_id, GroupBy group_by, const std::string& today,
                                      std::optional<int> from = std::nullopt, std::optional<int> to = std::nullopt);

// The follow-up worklist of `today` (YYYY-MM-DD) from the stored worklist
// candidates (RefreshFacts() first): the page of `page_size` items (0: every
// item, one page) after `cursor` (empty: from the start; else the `next` of
// an earlier page). Items and order are those of FollowUpWorklist() on all
// rows. kInvalidArgument for a bad date, page size or cursor.
Result<WorklistPage> LoadWorklist(RegistryStore& store, const InstrumentCatalog& catalog, const std::string& today,
                                  int page_size, const std::string& cursor);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_FACTS_H_
