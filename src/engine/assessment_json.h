// The JSON form of an Assessment (regenpath assess --format json), which
// validates against shared/spec/assessment.schema.json.
#ifndef REGENPATH_ENGINE_ASSESSMENT_JSON_H_
#define REGENPATH_ENGINE_ASSESSMENT_JSON_H_

#include <string>

#include "engine/assessment.h"

namespace regenpath::engine {

// Pretty-printed when `pretty`, else one line.
std::string AssessmentToJson(const Assessment& assessment, bool pretty = true);

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_ASSESSMENT_JSON_H_
