#include "cdshooks/patient_view_cards.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cdshooks/card_common.h"
#include "cdshooks/text.h"

namespace regenpath::cdshooks {

namespace {

constexpr size_t kMaxNextSteps = 8;

int StatusRank(engine::RecommendationStatus status) {
  switch (status) {
    case engine::RecommendationStatus::kRecommended:
      return 0;
    case engine::RecommendationStatus::kConsider:
      return 1;
    case engine::RecommendationStatus::kNotRecommended:
      return 2;
    case engine::RecommendationStatus::kContraindicated:
      return 3;
  }
  return 3;
}

std::string JoinDisplays(const std::vector<engine::AssessedRedFlag>& flags) {
  std::string out;
  for (const engine::AssessedRedFlag& flag : flags) {
    if (!out.empty()) out += ", ";
    out += flag.display;
  }
  return out;
}

// The patient's id ("abc" of "Patient/abc"), or "" when unknown.
std::string PatientId(const engine::Assessment& assessment) {
  const std::string prefix = "Patient/";
  return assessment.patient_reference.starts_with(prefix) ? assessment.patient_reference.substr(prefix.size()) : "";
}

// A suggestion creating the draft ServiceRequest of a next step's order.
Suggestion OrderSuggestion(const engine::StepOrder& order, const std::string& patient_id, std::string note) {
  ProposedServiceRequest request;
  if (order.category) {
    request.category.push_back(Coding{order.category->system, order.category->code, order.category->display});
  }
  if (order.code) request.codings.push_back(Coding{order.code->system, order.code->code, order.code->display});
  request.text = OneLine(order.text, 200);
  request.patient_id = patient_id;
  request.note = std::move(note);
  Action action;
  action.type = "create";
  action.description = OneLine(fmt::format("Create a draft order: {}", order.text), 200);
  action.resource.push_back(std::move(request));
  Suggestion suggestion;
  suggestion.label = OneLine(order.label.empty() ? fmt::format("Order {}", order.text) : order.label, 80);
  suggestion.actions.push_back(std::move(action));
  return suggestion;
}

Card RedFlagCard(const engine::Assessment& assessment) {
  Card card;
  card.indicator = "critical";
  card.summary = OneLine(fmt::format("Red flag: {} \xE2\x80\x94 urgent evaluation, no elective injection",
                                     JoinDisplays(assessment.red_flags)),
                         kMaxSummaryChars);
  Citations citations(assessment);
  bool any_unverified = false;
  std::string detail =
      "**Red flags** \xE2\x80\x94 urgent evaluation comes first; no elective injection "
      "(regenerative or diagnostic) until they are resolved.\n\n";
  for (const engine::AssessedRedFlag& flag : assessment.red_flags) {
    detail += fmt::format("- {}", EscapeMarkdown(OneLine(flag.display, 200)));
    if (!flag.data.empty()) detail += " \xE2\x80\x94 " + DataText(flag.data);
    detail += UnverifiedMark(flag.unverified);
    detail += '\n';
    any_unverified = any_unverified || flag.unverified;
    for (const std::string& source : flag.sources) citations.Add(source);
  }
  std::string conditions;
  for (const engine::AssessedCondition& condition : assessment.conditions) {
    if (!conditions.empty()) conditions += ", ";
    conditions += EscapeMarkdown(OneLine(condition.display, 100));
  }
  detail += fmt::format("\nPain conditions affected: {}.\n", conditions);
  const std::string patient_id = PatientId(assessment);
  for (const engine::NextStep& step : assessment.next_steps) {
    if (step.kind == "referral" && step.condition.empty()) {
      detail += fmt::format("\n**Next step:** {}\n", EscapeMarkdown(OneLine(step.display, 300)));
      // The urgent evaluation as a draft referral, the red flags in its note.
      if (step.order && !patient_id.empty()) {
        card.suggestions.push_back(OrderSuggestion(*step.order, patient_id, OneLine(step.display, 300)));
        card.selection_behavior = "any";
      }
      break;
    }
  }
  std::string sources = citations.Markdown();
  if (!sources.empty()) detail += "\n" + sources;
  if (any_unverified) detail += "\n" + UnverifiedLegend() + "\n";
  card.detail = detail;
  card.source = MakeSource(assessment, "red-flags", "Red flags");
  card.override_reasons = OverrideReasons(false);
  card.links = citations.Links();
  return card;
}

std::string Summary(const engine::AssessedCondition& condition,
                    const std::vector<const engine::Recommendation*>& regenerative) {
  std::string text = condition.headline.empty() ? condition.stage.title : condition.headline;
  const bool contraindicated =
      std::any_of(regenerative.begin(), regenerative.end(),
                  [](const engine::Recommendation* r) { return r->status == engine::RecommendationStatus::kContraindicated; });
  if (contraindicated) text += "; contraindication found";
  return OneLine(fmt::format("{}: {}", condition.display, text), kMaxSummaryChars);
}

// The card of a patient who has died: no stage, no option, no next step;
// the assessment's warnings and errors listed, at most five (a date of
// death after the assessment instant among them: the record may be wrong).
Card DeceasedCard(const engine::Assessment& assessment) {
  Card card;
  card.indicator = "info";
  card.summary = OneLine("The record says the patient has died: no pain-pathway guidance", kMaxSummaryChars);
  card.detail = fmt::format("**{}**\n\n{}\n", EscapeMarkdown(assessment.stage.title),
                            EscapeMarkdown(OneLine(assessment.stage_reason, 400)));
  constexpr size_t kMaxListed = 5;
  size_t listed = 0;
  for (const engine::AssessmentIssue& issue : assessment.issues) {
    if (issue.severity == "information") continue;
    if (listed == 0) card.detail += "\nIn the record:\n";
    if (listed++ == kMaxListed) {
      card.detail += "- ...\n";
      break;
    }
    card.detail += fmt::format("- {}\n", EscapeMarkdown(OneLine(issue.message, 300)));
  }
  card.source = MakeSource(assessment, "pathway-stage", "Care-pathway stage");
  card.override_reasons = OverrideReasons(false);
  return card;
}

Card ConditionCard(const engine::AssessedCondition& condition, const engine::Assessment& assessment) {
  std::vector<const engine::Recommendation*> regenerative;
  for (const engine::Recommendation& recommendation : assessment.recommendations) {
    if (recommendation.condition == condition.id && recommendation.category == engine::OptionCategory::kRegenerative) {
      regenerative.push_back(&recommendation);
    }
  }
  std::stable_sort(regenerative.begin(), regenerative.end(),
                   [](const engine::Recommendation* a, const engine::Recommendation* b) {
                     return StatusRank(a->status) < StatusRank(b->status);
                   });
  const bool contraindicated =
      std::any_of(regenerative.begin(), regenerative.end(),
                  [](const engine::Recommendation* r) { return r->status == engine::RecommendationStatus::kContraindicated; });

  Card card;
  card.indicator = std::string(MoreUrgent(condition.stage.indicator, contraindicated ? "warning" : "info"));
  card.summary = Summary(condition, regenerative);

  Citations citations(assessment);
  for (const std::string& source : condition.sources) citations.Add(source);
  bool unverified = false;
  for (const engine::Criterion& criterion : condition.criteria)
    unverified = unverified || criterion.unverified;

  std::string detail =
      fmt::format("**{} \xE2\x80\x94 {}**\n\n", EscapeMarkdown(OneLine(condition.display, 200)),
                  EscapeMarkdown(condition.stage.title));
  // The short why (the deciding data in the knowledge base's words), else the
  // full stage reason.
  const std::string& why = condition.why.empty() ? condition.stage_reason : condition.why;
  if (!why.empty()) detail += fmt::format("Why: {}.\n\n", EscapeMarkdown(OneLine(why, 600)));
  if (!condition.data.empty()) detail += fmt::format("Recorded as: {}\n\n", DataText(condition.data));
  std::string criteria = CriteriaMarkdown(condition.criteria);
  if (!criteria.empty()) detail += "**Criteria**\n\n" + criteria + "\n";

  std::string steps;
  size_t shown = 0;
  size_t total = 0;
  for (const engine::NextStep& step : assessment.next_steps) {
    if (step.condition != condition.id) continue;
    ++total;
    if (shown >= kMaxNextSteps) continue;
    ++shown;
    steps += fmt::format("- {}\n", EscapeMarkdown(OneLine(step.display, 300)));
  }
  if (total > shown) steps += fmt::format("- (+{} more)\n", total - shown);
  if (!steps.empty()) detail += "**Next steps**\n\n" + steps + "\n";

  // Each next step that is an order (imaging, a diagnostic block: coded from
  // the knowledge base; a referral: its category and words) is offered as a
  // suggestion creating a draft ServiceRequest, the one-click action of CDS
  // Hooks.
  const std::string patient_id = PatientId(assessment);
  for (const engine::NextStep& step : assessment.next_steps) {
    if (step.condition != condition.id || !step.order || patient_id.empty()) continue;
    card.suggestions.push_back(
        OrderSuggestion(*step.order, patient_id, OneLine(fmt::format("{} — {}", condition.display, why), 300)));
  }
  if (!card.suggestions.empty()) card.selection_behavior = "any";

  if (!regenerative.empty()) {
    detail +=
        "**Regenerative options** \xE2\x80\x94 status and every source's evidence side by side, negative "
        "sources included\n\n";
    detail += EvidenceTable(regenerative, citations) + "\n";
    for (const engine::Recommendation* option : regenerative) {
      for (const engine::EvidenceStatement& evidence : option->evidence) {
        unverified = unverified || evidence.confidence == "U";
      }
      detail += fmt::format("- **{}** ({})", EscapeMarkdown(OneLine(option->display, 120)),
                            StatusText(option->status));
      if (!option->status_reason.empty()) detail += ": " + EscapeMarkdown(OneLine(option->status_reason, 400));
      detail += '\n';
      if (option->clinic_evidence) {
        detail += fmt::format("  - {}\n", EscapeMarkdown(OneLine(option->clinic_evidence->summary, 400)));
      }
      for (const engine::FoundContraindication& found : option->contraindications) {
        detail += fmt::format("  - Contraindication ({}): {}", engine::ToString(found.kind),
                              EscapeMarkdown(OneLine(found.display, 200)));
        if (!found.data.empty()) detail += " \xE2\x80\x94 " + DataText(found.data, 2);
        detail += UnverifiedMark(found.unverified) + "\n";
        unverified = unverified || found.unverified;
      }
      if (option->procedure && engine::IsOpen(option->status)) {
        const engine::ProcedurePlan& plan = *option->procedure;
        std::string holds = HoldsText(plan);
        citations.AddHoldSources(plan);
        if (!holds.empty()) {
          detail += fmt::format("  - Medication holds ({} bleeding risk): {}\n",
                                EscapeMarkdown(plan.bleeding_risk ? engine::ToString(*plan.bleeding_risk) : ""), holds);
        }
        for (const engine::MedicationHoldResult& hold : plan.medication_holds)
          unverified = unverified || hold.unverified;
        std::string guidance = ImageGuidanceText(plan);
        if (!guidance.empty()) detail += fmt::format("  - Image guidance: {}\n", guidance);
      }
      // Follow-up baselines before the procedure, as the engine judged them.
      if (option->follow_up && engine::IsOpen(option->status)) {
        std::string baselines;
        for (const engine::FollowUpInstrument& instrument : option->follow_up->instruments) {
          if (instrument.baseline_status == engine::BaselineStatus::kNotLookedFor) continue;
          if (!baselines.empty()) baselines += "; ";
          baselines += EscapeMarkdown(instrument.id);
          if (instrument.baseline) baselines += " " + DatumText(*instrument.baseline);
          if (!instrument.baseline_flag.empty()) baselines += " \xE2\x80\x94 " + EscapeMarkdown(instrument.baseline_flag);
        }
        if (!baselines.empty()) detail += fmt::format("  - Baseline before the procedure: {}\n", baselines);
      }
    }
    detail += '\n';
  }

  const std::vector<engine::MissingDataItem>& missing = condition.missing_data;
  if (!missing.empty()) {
    detail += "**Missing data**\n\n";
    for (const engine::MissingDataItem& item : missing) {
      detail += fmt::format("- {}\n", EscapeMarkdown(OneLine(item.display, 300)));
    }
    detail += '\n';
  }
  std::string sources = citations.Markdown();
  if (!sources.empty()) detail += sources + "\n";
  if (unverified) detail += UnverifiedLegend() + "\n";
  card.detail = detail;
  card.source = MakeSource(assessment, "pathway-stage", "Care-pathway stage");
  card.override_reasons = OverrideReasons(false);
  card.links = citations.Links();
  return card;
}

}  // namespace

std::vector<Card> BuildPatientViewCards(const engine::Assessment& assessment, const std::string& smart_launch_url) {
  std::vector<Card> cards;
  if (assessment.deceased == true) {
    cards.push_back(DeceasedCard(assessment));
    return cards;
  }
  if (assessment.conditions.empty()) return cards;
  if (!assessment.red_flags.empty()) cards.push_back(RedFlagCard(assessment));
  std::vector<Card> conditions;
  for (const engine::AssessedCondition& condition : assessment.conditions) {
    conditions.push_back(ConditionCard(condition, assessment));
    if (!smart_launch_url.empty()) {
      conditions.back().links.push_back(
          Link{"Open the full assessment (regenpath)", smart_launch_url, "smart", condition.id});
    }
  }
  std::stable_sort(conditions.begin(), conditions.end(), [](const Card& a, const Card& b) {
    return IndicatorRank(a.indicator) > IndicatorRank(b.indicator);
  });
  for (Card& card : conditions) cards.push_back(std::move(card));
  return cards;
}

}  // namespace regenpath::cdshooks
