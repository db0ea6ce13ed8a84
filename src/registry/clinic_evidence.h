// The clinic's own real-world evidence for one option (therapy x target),
// for the assessment and the CDS cards to show next to the published
// evidence, marked observational: "this clinic: 42 episodes, NRS responders
// at 26 weeks 48 % (95 % CI 34–62 %)". The lead wires it into the
// Assessment; this module does not touch the engine.
#ifndef REGENPATH_REGISTRY_CLINIC_EVIDENCE_H_
#define REGENPATH_REGISTRY_CLINIC_EVIDENCE_H_

#include <optional>
#include <string>

#include "common/status.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_store.h"
#include "registry/statistics.h"

namespace regenpath::registry {

struct ClinicEvidence {
  std::string option_id;
  int episodes = 0;              // episodes of the option in the registry
  int min_episodes = 0;          // the threshold applied
  bool shown = false;            // episodes >= min_episodes and a responder rate exists
  std::string instrument;        // the option's first follow-up instrument with an MCID
  double weeks = 0;              // the timepoint
  Proportion responders;         // MCID responders among episodes with paired scores, Wilson 95 % CI
  int lost_to_follow_up = 0;     // due at the timepoint without a score
  bool observational = true;     // always
  bool synthetic = false;        // demo data: never to be shown as the clinic's result
  std::string summary;           // one line, as above; empty when not shown
};

// Reads the option's episodes from `store` and summarizes them as of `today`.
// `min_episodes`: 0 takes the knowledge base's registry-min-episodes;
// `weeks`: 0 takes registry-evidence-timepoint. kInvalidArgument for an
// unknown option or a bad date; the store's error when it cannot be read.
// Thread-safe if the store is.
Result<ClinicEvidence> ClinicEvidenceFor(RegistryStore& store, const InstrumentCatalog& catalog,
                                         const std::string& option_id, int min_episodes, const std::string& today,
                                         double weeks = 0);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_CLINIC_EVIDENCE_H_
