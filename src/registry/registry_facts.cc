#include "registry/registry_facts.h"

#include <algorithm>
#include <tuple>

namespace regenpath::registry {

Result<int> RefreshFacts(RegistryStore& store, const InstrumentCatalog& catalog, int chunk) {
  const std::string fingerprint = FactsFingerprint(catalog);
  int refreshed = 0;
  // Each round clears the marks it read unless a write came in since; a
  // patient written to during the round comes back in a later one.
  while (true) {
    RP_ASSIGN_OR_RETURN(std::vector<StalePatient> stale, store.StalePatients(fingerprint, chunk));
    if (stale.empty()) break;
    std::vector<std::string> patients;
    patients.reserve(stale.size());
    for (const StalePatient& patient : stale) patients.push_back(patient.patient);
    RP_ASSIGN_OR_RETURN(Cohort cohort, store.LoadPatients(patients));
    std::vector<FactsRow> rows;
    rows.reserve(cohort.episodes.size());
    for (const EpisodeFacts& facts : ComputeEpisodeFacts(cohort, catalog)) rows.push_back(ToRow(facts));
    RP_RETURN_IF_ERROR(store.ReplaceFacts(stale, rows));
    refreshed += static_cast<int>(stale.size());
  }
  return refreshed;
}

Result<std::vector<EpisodeFacts>> LoadEpisodeFacts(RegistryStore& store, const InstrumentCatalog& catalog,
                                                   const std::string& option_id) {
  RP_RETURN_IF_ERROR(RefreshFacts(store, catalog));
  RP_ASSIGN_OR_RETURN(std::vector<FactsRow> rows, store.LoadFacts(option_id));
  std::vector<EpisodeFacts> facts;
  facts.reserve(rows.size());
  for (FactsRow& row : rows) {
    RP_ASSIGN_OR_RETURN(EpisodeFacts parsed, FromRow(std::move(row)));
    facts.push_back(std::move(parsed));
  }
  // By option, then episode key (the stores usually give this order already).
  auto before = [](const EpisodeFacts& a, const EpisodeFacts& b) {
    return std::tie(a.option_id, a.episode_key) < std::tie(b.option_id, b.episode_key);
  };
  if (!std::is_sorted(facts.begin(), facts.end(), before)) std::sort(facts.begin(), facts.end(), before);
  return facts;
}

}  // namespace regenpath::registry
