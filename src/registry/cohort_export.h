// Export of the registry's cohort: FHIR R4 (NDJSON, or one collection
// Bundle) and CSV for statisticians. Patients appear only as their
// pseudonym (identifier system kPseudonymSystem); synthetic rows carry the
// meta tag "synthetic" (fhir_codes::kSyntheticTagSystem). Pure functions.
#ifndef REGENPATH_REGISTRY_COHORT_EXPORT_H_
#define REGENPATH_REGISTRY_COHORT_EXPORT_H_

#include <string>
#include <string_view>

#include "registry/registry_records.h"

namespace regenpath::registry {

inline constexpr std::string_view kPseudonymSystem = "http://regenpath.org/fhir/NamingSystem/registry-pseudonym";

// One resource a line: Procedure, Observation, AdverseEvent.
std::string CohortNdjson(const Cohort& cohort);
// The same resources as a collection Bundle.
std::string CohortBundle(const Cohort& cohort);
// One row per score, with its episode's attributes (an episode's row per
// score of its patient from baseline on):
// patient,episode,option,therapy,target,condition,side,start_date,kb_version,feedback,synthetic,instrument,date,day,value
// where `day` counts from the episode's first procedure. Text fields through
// common/csv_field.h (RFC 4180, formula guard).
std::string CohortCsv(const Cohort& cohort);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_COHORT_EXPORT_H_
