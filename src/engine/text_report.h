// The text form of an Assessment: what a clinician reads in a minute (stage
// and why, red flags first, options with status and evidence side by side,
// procedure plan and holds, monitoring and follow-up, cost, sources).
#ifndef REGENPATH_ENGINE_TEXT_REPORT_H_
#define REGENPATH_ENGINE_TEXT_REPORT_H_

#include <string>

#include "engine/assessment.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

// `kb` supplies the full references of the cited sources.
std::string AssessmentToText(const Assessment& assessment, const knowledge::KnowledgeBase& kb);

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_TEXT_REPORT_H_
