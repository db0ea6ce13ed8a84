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

void Assessor::AddNextSteps(const knowledge::Option& option, const AssessedCondition& assessed,
                            const Recommendation& recommendation, Assessment& out) {
  // The red-flag step stands for this option (urgent evaluation): not twice.
  if (!out.red_flags.empty() && recommendation.id == kb_.pathway().red_flag_step.option) return;
  // Chronic pain: in the guideline's order (option `chronic_after`): a next
  // step only once one of the earlier options was tried for this condition.
  if (assessed.chronic == true && !option.chronic_after.empty()) {
    const bool earlier_tried = std::any_of(
        out.recommendations.begin(), out.recommendations.end(), [&](const Recommendation& earlier) {
          return earlier.condition == assessed.id && earlier.done == true && Contains(option.chronic_after, earlier.id);
        });
    if (!earlier_tried) return;
  }
  const std::string category(ToString(recommendation.category));
  const std::string status(ToString(recommendation.status));
  for (const knowledge::NextStepRule& rule : kb_.next_step_rules()) {
    if (!Contains(rule.categories, category)) continue;
    if (!rule.stage.empty() && assessed.stage.id != rule.stage) continue;
    if (rule.not_done && recommendation.done == true) continue;
    if (!rule.status.empty() && !Contains(rule.status, status)) continue;
    if (Contains(rule.status_not, status)) continue;
    if (rule.criteria_met && (recommendation.rationale.empty() ||
                              std::any_of(recommendation.rationale.begin(), recommendation.rationale.end(),
                                          [](const Criterion& criterion) { return criterion.met != true; }))) {
      continue;
    }
    if (rule.no_unmet_criteria &&
        std::any_of(recommendation.rationale.begin(), recommendation.rationale.end(),
                    [](const Criterion& criterion) { return criterion.met != true; })) {
      continue;
    }
    out.next_steps.push_back(NextStep{
        rule.kind,
        FillTemplate(rule.text, {{"option", recommendation.display}, {"status", status}}),
        assessed.id, recommendation.id, OrderOf(rule.kind, recommendation.display, recommendation.order_code)});
    return;
  }
}

std::optional<StepOrder> Assessor::OrderOf(const std::string& kind, const std::string& display,
                                           const std::optional<OrderCode>& code) {
  if (code) return StepOrder{code, std::nullopt, display, "", false};
  const knowledge::ReferralOrder& referral = kb_.pathway().referral_order;
  if (!Contains(referral.kinds, kind)) return std::nullopt;
  const knowledge::ValueSet* category = kb_.FindValueSet(referral.category);
  if (category == nullptr || category->concepts.empty()) return std::nullopt;
  const knowledge::Concept& first = category->concepts.front();
  StepOrder order{std::nullopt, OrderCode{first.system, first.code, first.display},
                  FillTemplate(referral.text, {{"option", display}}), FillTemplate(referral.label, {{"option", display}}),
                  first.confidence == knowledge::Confidence::kU};
  if (order.unverified) {
    NoteUnverified(fmt::format("referral order category {} {} ({}): the fact sheet gives no referral code",
                               first.code, first.display, category->id));
  }
  return order;
}

void Assessor::AddPatientNextSteps(Assessment& out) {
  const knowledge::PathwaySettings& pathway = kb_.pathway();
  if (!out.red_flags.empty()) {
    // Each red flag with the record's wording, code and date.
    std::string flags;
    for (const AssessedRedFlag& flag : out.red_flags) {
      if (!flags.empty()) flags += "; ";
      flags += flag.display;
      std::string recorded;
      for (const Datum& datum : flag.data) {
        recorded += recorded.empty() ? "" : "; ";
        recorded += datum.reference + " " + datum.display;
        auto code = red_flag_codes_.find(datum.reference);
        if (code != red_flag_codes_.end()) recorded += " [" + code->second + "]";
        if (datum.date) recorded += ", " + datum.date->substr(0, 10);
      }
      if (!recorded.empty()) flags += " (" + recorded + ")";
    }
    NextStep step{pathway.red_flag_step.kind, FillTemplate(pathway.red_flag_step.text, {{"red_flags", flags}}), "",
                  pathway.red_flag_step.option, std::nullopt};
    if (const knowledge::Option* option = kb_.FindOption(pathway.red_flag_step.option)) {
      std::optional<OrderCode> code;
      for (const Recommendation& recommendation : out.recommendations) {
        if (recommendation.id == option->id && recommendation.order_code) code = recommendation.order_code;
      }
      step.order = OrderOf(step.kind, option->display, code);
    }
    if (pathway.red_flag_step.only) {
      out.next_steps.assign(1, std::move(step));
      return;
    }
    out.next_steps.insert(out.next_steps.begin(), std::move(step));
  }
  for (const MissingDataItem& item : missing_) {
    auto own = missing_steps_.find(item.id);
    std::string text = own == missing_steps_.end()
                           ? FillTemplate(pathway.missing_data_step.text, {{"missing", item.display}})
                           : own->second;
    out.next_steps.push_back(NextStep{pathway.missing_data_step.kind, std::move(text), "", "", std::nullopt});
  }
  // Safety, then diagnostics, then treatment (pathway.yaml next_step_order).
  if (!pathway.next_step_order.empty()) {
    auto rank = [&](const NextStep& step) {
      auto at = std::find(pathway.next_step_order.begin(), pathway.next_step_order.end(), step.kind);
      return static_cast<size_t>(at - pathway.next_step_order.begin());
    };
    std::stable_sort(out.next_steps.begin(), out.next_steps.end(),
                     [&](const NextStep& a, const NextStep& b) { return rank(a) < rank(b); });
  }
}

}  // namespace regenpath::engine
