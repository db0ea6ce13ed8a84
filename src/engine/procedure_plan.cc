// The procedure plan of an option: image guidance, the bleeding-risk category
// (moved along the pathway's ladder for a patient at higher bleeding risk),
// medication holds from the patient's actual drugs, pre-procedure checks with
// their values (Assessor, see assessor.h).
#include <fmt/format.h>

#include <algorithm>

#include "engine/assessor.h"

namespace regenpath::engine {

namespace {

using knowledge::Confidence;

}  // namespace

ProcedurePlan Assessor::PlanProcedure(const knowledge::Option& option, Recommendation& recommendation) {
  ProcedurePlan plan;
  plan.monitoring = option.monitoring;
  if (!option.procedure) return plan;
  const knowledge::Procedure& procedure = *option.procedure;
  plan.image_guidance = procedure.image_guidance;
  plan.bleeding_risk = ParseBleedingRisk(procedure.bleeding_risk);
  plan.bleeding_risk_note = procedure.bleeding_risk_note;
  plan.protocol = procedure.protocol;
  plan.pre_checks = procedure.pre_checks;
  if (!procedure.bleeding_risk.empty() && EscalatesBleedingRisk()) {
    // ASRA 2018: a patient at higher bleeding risk moves up the ladder.
    const std::vector<std::string>& ladder = kb_.pathway().bleeding_risk_ladder;
    auto at = std::find(ladder.begin(), ladder.end(), procedure.bleeding_risk);
    if (at != ladder.end() && at + 1 != ladder.end()) {
      const int steps = kb_.bleeding_risk_escalation()->steps;
      const auto last = static_cast<long>(ladder.size()) - 1;
      const auto moved = std::min<long>(at - ladder.begin() + steps, last);
      plan.bleeding_risk = ParseBleedingRisk(ladder[static_cast<size_t>(moved)]);
      std::string note = fmt::format("moved up from {}: {}", procedure.bleeding_risk,
                                     kb_.bleeding_risk_escalation()->display);
      plan.bleeding_risk_note = plan.bleeding_risk_note.empty() ? note : plan.bleeding_risk_note + "; " + note;
    }
  }
  if (plan.bleeding_risk && recommendation.status != RecommendationStatus::kContraindicated) {
    plan.medication_holds = HoldsFor(procedure, std::string(ToString(*plan.bleeding_risk)));
  }
  if (!procedure.protocol.empty() && procedure.protocol_confidence == Confidence::kU) {
    NoteUnverified(fmt::format("protocol of {}", option.id));
  }
  if (!procedure.bleeding_risk.empty() && procedure.bleeding_risk_confidence == Confidence::kU) {
    NoteUnverified(fmt::format("bleeding-risk category of {}", option.id));
  }
  CheckPreProcedure(procedure, recommendation);
  return plan;
}

void Assessor::CheckPreProcedure(const knowledge::Procedure& procedure, Recommendation& recommendation) {
  for (const std::string& check : procedure.pre_checks) {
    const knowledge::Definition* definition = kb_.FindDefinition(check);
    if (definition == nullptr) continue;
    // A pre-check is present when its definition finds the data; its value
    // and date are in the data (the latest platelet count, ...).
    // (Cached per condition: every option of a condition checks the same data.)
    key_.assign("pre-check ").append(check);
    auto cached = criteria_cache_.find(key_);
    if (cached == criteria_cache_.end()) cached = criteria_cache_.emplace(key_, FromDefinition(check, *definition)).first;
    Criterion result = cached->second;
    result.met = !evaluator_.InCondition(*definition).empty();
    if (definition->missing_data) {
      result.display = definition->missing_data->display;
      if (*result.met) {
        result.missing.reset();
      } else {
        result.missing = MissingItem(*definition->missing_data);
      }
    }
    if (!*result.met && result.missing && IsOpen(recommendation.status)) AddMissing(*result.missing);
    recommendation.pre_checks.push_back(std::move(result));
  }
}

std::vector<MedicationHoldResult> Assessor::HoldsFor(const knowledge::Procedure& procedure,
                                                     const std::string& bleeding_risk) {
  std::vector<MedicationHoldResult> holds;
  for (const CurrentMedication& current : CurrentMedications()) {
    const knowledge::MedicationHold& hold = *current.hold;
    MedicationHoldResult result;
    result.medication = hold.medication;
    result.evidence = current.evidence;
    result.data = current.data;
    result.sources = hold.sources;
    result.unverified = hold.confidence == Confidence::kU;
    // The patient's context (medication-holds.yaml `contexts`): the first
    // whose definition finds data replaces the holds it lists, and its
    // indication joins the hold's data.
    const knowledge::MedicationHold::Context* applied = nullptr;
    for (const knowledge::MedicationHold::Context& context : hold.contexts) {
      const knowledge::Definition* definition = kb_.FindDefinition(context.when);
      if (definition == nullptr || Truth(evaluator_.Patient(*definition), false) != true) continue;
      applied = &context;
      std::vector<size_t> seen;
      EvidenceOf(*definition, true, result.evidence, result.data, seen);
      for (const std::string& source : context.sources) {
        if (std::find(result.sources.begin(), result.sources.end(), source) == result.sources.end()) {
          result.sources.push_back(source);
        }
      }
      if (context.confidence == Confidence::kU) {
        result.unverified = true;
        NoteUnverified(fmt::format("hold context '{}' of {}", context.when, hold.medication));
      }
      break;
    }
    // The hold of a category: the context's, else the drug's own.
    auto hold_of = [&](const std::string& name) -> const knowledge::Hold* {
      if (applied != nullptr) {
        auto found = applied->holds.find(name);
        if (found != applied->holds.end()) return &found->second;
      }
      auto found = hold.holds.find(name);
      return found != hold.holds.end() ? &found->second : nullptr;
    };
    const std::string warning = applied != nullptr ? applied->warning : std::string();
    const knowledge::Hold* category = hold_of(bleeding_risk);
    std::string note;
    if (category != nullptr) {
      result.hold_days_before = category->days;
      note = category->note;
    } else {
      note = fmt::format("no hold listed for a {}-risk procedure", bleeding_risk);
    }
    // An extra hold category the option asks for (PRP: platelet function),
    // merged by the rule of medication-holds.yaml `hold_merge`.
    if (procedure.platelet_function_holds) {
      const knowledge::HoldMerge& merge = kb_.hold_merge();
      if (const knowledge::Hold* extra = hold_of(merge.category)) {
        if (extra->days) {
          if (!result.hold_days_before || *result.hold_days_before < *extra->days) result.hold_days_before = extra->days;
        } else if (merge.shared_decision_replaces_no_hold && result.hold_days_before == 0) {
          result.hold_days_before = std::nullopt;
        }
        note = note.empty() ? extra->note : note + "; " + extra->note;
      }
    }
    if (!warning.empty()) note = note.empty() ? warning : note + "; " + warning;
    result.restart_hours_after = hold.restart_hours;
    if (!hold.restart_note.empty()) note = note.empty() ? hold.restart_note : note + "; restart: " + hold.restart_note;
    if (result.unverified) {
      note = note.empty() ? "unverified" : note + " (unverified)";
      NoteUnverified(fmt::format("hold times for {}", hold.medication));
    }
    result.note = note;
    // What the hold asks to check before the procedure (warfarin: a normal
    // INR), shown with its value and date, or as missing.
    if (const knowledge::Definition* check = hold.check.empty() ? nullptr : kb_.FindDefinition(hold.check)) {
      Criterion found = FromDefinition(hold.check, *check);
      found.met = !evaluator_.InCondition(hold.check).empty();
      if (check->missing_data) {
        found.display = check->missing_data->display;
        if (*found.met) {
          found.missing.reset();
        } else {
          found.missing = MissingItem(*check->missing_data);
        }
      }
      result.check = std::move(found);
    }
    holds.push_back(std::move(result));
  }
  return holds;
}

}  // namespace regenpath::engine
