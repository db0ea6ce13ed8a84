// The text form of an Assessment: what a clinician reads in a minute (the
// patient's vital status first, stage and why with the dated data behind
// every criterion, red flags first, options with status and evidence side by
// side, pre-procedure checks with their values, holds, monitoring and
// follow-up, cost, sources).
//
// A view: it reads only the Assessment (no knowledge base, no evaluator).
// Safe to print on a terminal (common/terminal_text.h: a control character
// that came in with the record's or the knowledge base's words is written
// as U+FFFD; newlines and tabs are kept).
#ifndef REGENPATH_REPORT_TEXT_REPORT_H_
#define REGENPATH_REPORT_TEXT_REPORT_H_

#include <string>

#include "engine/assessment.h"

namespace regenpath::report {

std::string AssessmentToText(const engine::Assessment& assessment);

}  // namespace regenpath::report

#endif  // REGENPATH_REPORT_TEXT_REPORT_H_
