// Renderers of a CohortReport: JSON (the HTTP API and `--format json`),
// text (a terminal) and CSV (one row per figure, for statisticians). Every
// rendering states that the figures are observational and, for a demo
// cohort, synthetic. Pure functions; thread-safe.
#ifndef REGENPATH_REGISTRY_REPORT_FORMAT_H_
#define REGENPATH_REGISTRY_REPORT_FORMAT_H_

#include <string>

#include "registry/cohort_report.h"

namespace regenpath::registry {

std::string CohortReportJson(const CohortReport& report);
// Text for a terminal (common/terminal_text.h).
std::string CohortReportText(const CohortReport& report);
// Text fields through common/csv_field.h (RFC 4180, formula guard). Columns:
// option,group,synthetic,section,instrument,time,measure,n,value,lower,upper; `time` is the timepoint in
// weeks for outcomes, days for survival steps (whose `measure` is the endpoint and `n` the number at risk).
std::string CohortReportCsv(const CohortReport& report);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REPORT_FORMAT_H_
