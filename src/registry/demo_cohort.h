// A seeded synthetic cohort for demos, the future web UI and the benchmark:
// every row is marked synthetic (and the store refuses to mix it with real
// data). The numbers are invented to look plausible, not taken from any
// study: they say nothing about any therapy. Deterministic for a seed.
#ifndef REGENPATH_REGISTRY_DEMO_COHORT_H_
#define REGENPATH_REGISTRY_DEMO_COHORT_H_

#include <cstdint>
#include <string>

#include "common/status.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_records.h"

namespace regenpath::registry {

struct DemoOptions {
  int episodes = 300;
  uint64_t seed = 20261205;
  std::string today;  // "YYYY-MM-DD": episodes start in the two years before it
};

// kInvalidArgument for a bad date or a negative count.
Result<WriteBatch> GenerateDemoCohort(const InstrumentCatalog& catalog, const DemoOptions& options);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_DEMO_COHORT_H_
