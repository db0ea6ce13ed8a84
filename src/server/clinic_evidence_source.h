// ClinicEvidenceSource: fills Recommendation::clinic_evidence of an
// Assessment from the outcomes registry after the engine ran (the engine
// never reads the registry). Used by `regenpath assess --registry` and by
// the CDS service of `regenpath serve`. An option gets the clinic's result
// only when the registry holds at least `min_episodes` of its episodes and a
// responder rate exists (registry::ClinicEvidenceFor), and never from
// synthetic (demo) data: a demo cohort is not the clinic's result.
//
// Results are cached per option for `ttl_seconds` (0: no cache), so a CDS
// call does not read the registry once per option; a write to the registry
// shows in the cards at the latest after the ttl. Thread-safe.
#ifndef REGENPATH_SERVER_CLINIC_EVIDENCE_SOURCE_H_
#define REGENPATH_SERVER_CLINIC_EVIDENCE_SOURCE_H_

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "engine/assessment.h"
#include "registry/clinic_evidence.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_store.h"

namespace regenpath::server {

class ClinicEvidenceSource {
 public:
  // `store` and `catalog` must outlive the source. `min_episodes` 0: the
  // knowledge base's registry-min-episodes.
  ClinicEvidenceSource(registry::RegistryStore* store, const registry::InstrumentCatalog* catalog, int min_episodes,
                       int ttl_seconds);

  // Sets clinic_evidence on every regenerative recommendation the registry
  // has enough (real) episodes of, as of `today` (YYYY-MM-DD). Returns the
  // first registry error; the recommendations filled before it keep theirs.
  Status Attach(engine::Assessment& assessment, const std::string& today);

 private:
  Result<std::optional<engine::ClinicEvidence>> ForOption(const std::string& option_id, const std::string& today);

  registry::RegistryStore* store_;
  const registry::InstrumentCatalog* catalog_;
  int min_episodes_;
  std::chrono::seconds ttl_;
  struct Cached {
    std::optional<engine::ClinicEvidence> evidence;
    std::string today;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_CLINIC_EVIDENCE_SOURCE_H_
