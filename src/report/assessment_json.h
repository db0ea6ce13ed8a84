// The JSON form of an Assessment (regenpath assess --format json), which
// validates against shared/spec/assessment.schema.json.
#ifndef REGENPATH_REPORT_ASSESSMENT_JSON_H_
#define REGENPATH_REPORT_ASSESSMENT_JSON_H_

#include <string>

#include "engine/assessment.h"

namespace regenpath::report {

// Pretty-printed when `pretty`, else one line.
std::string AssessmentToJson(const engine::Assessment& assessment, bool pretty = true);

}  // namespace regenpath::report

#endif  // REGENPATH_REPORT_ASSESSMENT_JSON_H_
