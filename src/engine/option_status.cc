// An option's status from the pathway's status rules (pathway.yaml
// `status_rules`; Assessor, see assessor.h).
#include <fmt/format.h>

#include <algorithm>

#include "engine/assessor.h"

namespace regenpath::engine {

namespace {

using knowledge::Confidence;
using knowledge::StatusRule;

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// True iff `items` holds "therapy:<therapy>".
bool ContainsTherapy(const std::vector<std::string>& items, std::string_view therapy) {
  constexpr std::string_view kPrefix = "therapy:";
  return std::any_of(items.begin(), items.end(), [&](const std::string& item) {
    return item.size() == kPrefix.size() + therapy.size() && item.starts_with(kPrefix) && item.ends_with(therapy);
  });
}

}  // namespace

void Assessor::DecideStatus(const knowledge::Option& option, const AssessedCondition& assessed,
                            Recommendation& recommendation) {
  const bool injection = option.procedure && !option.procedure->bleeding_risk.empty();
  // Contraindications are looked for where a status rule reads them.
  if (tables_.contraindication_categories.count(option.category) > 0) {
    for (const knowledge::Contraindication& item : kb_.contraindications()) {
      if (!item.applies_to.empty() && !Contains(item.applies_to, option.therapy)) continue;
      if (!item.applies_to_targets.empty() && !Contains(item.applies_to_targets, option.target)) continue;
      Refs refs;
      Data data;
      const auto& patient_contraindications = PatientContraindications();
      auto patient = patient_contraindications.find(item.id);
      if (patient != patient_contraindications.end()) {
        refs = patient->second.first;
        data = patient->second.second;
      } else {
        const knowledge::Definition* definition = kb_.FindDefinition(item.definition);
        if (definition == nullptr || definition->scope != knowledge::DefinitionScope::kCondition) continue;
        if (Truth(evaluator_.InCondition(*definition), false) != true) continue;
        std::vector<size_t> seen;
        EvidenceOf(*definition, true, refs, data, seen);
      }
      FoundContraindication found{item.id,
                                  item.kind == knowledge::ContraindicationKind::kAbsolute ? ContraindicationKind::kAbsolute
                                                                                          : ContraindicationKind::kRelative,
                                  item.display, std::move(refs), std::move(data), item.confidence == Confidence::kU};
      if (found.unverified) NoteUnverified(fmt::format("contraindication '{}'", item.display));
      recommendation.contraindications.push_back(std::move(found));
    }
  }

  std::string status = option.base_status;  // a word of the status ladder until parsed below
  std::string reason = option.status_rationale;
  for (const StatusRule& rule : kb_.status_rules()) {
    const bool applies = Contains(rule.applies_to, option.category) || (injection && Contains(rule.applies_to, "injection")) ||
                         ContainsTherapy(rule.applies_to, option.therapy);
    if (!applies) continue;
    bool holds = false;
    switch (rule.when) {
      case StatusRule::When::kContraindication:
        holds = std::any_of(recommendation.contraindications.begin(), recommendation.contraindications.end(),
                            [&](const FoundContraindication& found) { return ToString(found.kind) == rule.when_value; });
        break;
      case StatusRule::When::kCriterion: {
        // A patient-level criterion (its value does not depend on the condition).
        holds = EvaluateCriterion(rule.when_value, *current_condition_).met == true;
        break;
      }
      case StatusRule::When::kStage:
        holds = assessed.stage.id == rule.when_value;
        break;
      case StatusRule::When::kStageNot:
        holds = assessed.stage.id != rule.when_value;
        break;
    }
    if (!holds) continue;
    if (rule.status == "lower") {
      const std::vector<std::string>& ladder = kb_.pathway().status_ladder;
      auto at = std::find(ladder.begin(), ladder.end(), status);
      status = at == ladder.end() || at + 1 == ladder.end() ? ladder.back() : *(at + 1);
    } else {
      status = rule.status;
    }
    reason = FillTemplate(rule.reason, {{"stage", assessed.stage.display}, {"rationale", option.status_rationale}});
    break;
  }
  recommendation.status = ParseRecommendationStatus(status).value_or(RecommendationStatus::kNotRecommended);
  recommendation.status_reason = std::move(reason);
}

}  // namespace regenpath::engine
