// Next steps from the pathway's next-step rules (pathway.yaml
// `next_step_rules`, and the patient-level steps of `pathway`; Assessor, see
// assessor.h).
#include <fmt/format.h>

#include <algorithm>

#include "engine/assessor.h"

namespace regenpath::engine {

namespace {

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

void Assessor::AddNextSteps(const AssessedCondition& assessed, const Recommendation& recommendation,
                            Assessment& out) {
  for (const knowledge::NextStepRule& rule : kb_.next_step_rules()) {
    const std::string category(ToString(recommendation.category));
    const std::string status(ToString(recommendation.status));
    if (!Contains(rule.categories, category)) continue;
    if (!rule.stage.empty() && assessed.stage.id != rule.stage) continue;
    if (rule.not_done && recommendation.done == true) continue;
    if (!rule.status.empty() && !Contains(rule.status, status)) continue;
    if (Contains(rule.status_not, status)) continue;
    out.next_steps.push_back(NextStep{
        rule.kind,
        FillTemplate(rule.text, {{"option", recommendation.display}, {"status", status}}),
        assessed.id, recommendation.id});
    return;
  }
}

void Assessor::AddPatientNextSteps(Assessment& out) {
  const knowledge::PathwaySettings& pathway = kb_.pathway();
  if (!out.red_flags.empty()) {
    std::string flags;
    for (const AssessedRedFlag& flag : out.red_flags) {
      if (!flags.empty()) flags += "; ";
      flags += flag.display;
    }
    out.next_steps.insert(out.next_steps.begin(),
                          NextStep{pathway.red_flag_step.kind,
                                   FillTemplate(pathway.red_flag_step.text, {{"red_flags", flags}}), "", ""});
  }
  for (const MissingDataItem& item : missing_) {
    out.next_steps.push_back(NextStep{pathway.missing_data_step.kind,
                                      FillTemplate(pathway.missing_data_step.text, {{"missing", item.display}}), "", ""});
  }
}

}  // namespace regenpath::engine
