#include "cdshooks/patient_view_cards.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cdshooks/card_common.h"
#include "cdshooks/text.h"

namespace regenpath::cdshooks {

namespace {

constexpr size_t kMaxNextSteps = 8;

int StatusRank(std::string_view status) {
  if (status == "recommended") return 0;
  if (status == "consider") return 1;
  if (status == "not-recommended") return 2;
  return 3;  // contraindicated
}

std::string JoinDisplays(const std::vector<engine::AssessedRedFlag>& flags) {
  std::string out;
  for (const engine::AssessedRedFlag& flag : flags) {
    if (!out.empty()) out += ", ";
    out += flag.display;
  }
  return out;
}

Card RedFlagCard(const engine::Assessment& assessment, const knowledge::KnowledgeBase& kb) {
  Card card;
  card.indicator = "critical";
  card.summary = OneLine(fmt::format("Red flag: {} \xE2\x80\x94 urgent evaluation, no elective injection",
                                     JoinDisplays(assessment.red_flags)),
                         kMaxSummaryChars);
  Citations citations(kb);
  bool any_unverified = false;
  std::string detail =
      "**Red flags** \xE2\x80\x94 urgent evaluation comes first; no elective injection "
      "(regenerative or diagnostic) until they are resolved.\n\n";
  for (const engine::AssessedRedFlag& flag : assessment.red_flags) {
    detail += fmt::format("- {}", EscapeMarkdown(OneLine(flag.display, 200)));
    if (!flag.evidence.empty()) detail += " \xE2\x80\x94 " + RefsText(flag.evidence);
    detail += UnverifiedMark(flag.unverified);
    detail += '\n';
    any_unverified = any_unverified || flag.unverified;
    for (const knowledge::RedFlag& known : kb.red_flags()) {
      if (known.id != flag.id) continue;
      for (const std::string& source : known.sources) citations.Add(source);
    }
  }
  std::string conditions;
  for (const engine::AssessedCondition& condition : assessment.conditions) {
    if (!conditions.empty()) conditions += ", ";
    conditions += EscapeMarkdown(OneLine(condition.display, 100));
  }
  detail += fmt::format("\nPain conditions affected: {}.\n", conditions);
  for (const engine::NextStep& step : assessment.next_steps) {
    if (step.kind == "referral" && step.condition.empty()) {
      detail += fmt::format("\n**Next step:** {}\n", EscapeMarkdown(OneLine(step.display, 300)));
      break;
    }
  }
  std::string sources = citations.Markdown();
  if (!sources.empty()) detail += "\n" + sources;
  if (any_unverified) detail += "\n" + UnverifiedLegend() + "\n";
  card.detail = detail;
  card.source = MakeSource(kb, "red-flags", "Red flags");
  card.override_reasons = OverrideReasons(false);
  card.links = citations.Links();
  return card;
}

// The missing-data items that would settle this condition's unknown
// criteria, or that its regenerative options still need.
std::vector<engine::MissingDataItem> MissingFor(
    const engine::AssessedCondition& condition,
    const std::vector<const engine::Recommendation*>& regenerative, const engine::Assessment& assessment,
    const knowledge::KnowledgeBase& kb) {
  const knowledge::Condition* known = kb.FindCondition(condition.id);
  std::set<std::string> ids;
  auto note_definition = [&](const std::string& definition_id) {
    const knowledge::Definition* definition = kb.FindDefinition(definition_id);
    if (definition != nullptr && definition->missing_data) ids.insert(definition->missing_data->id);
  };
  auto note_unknown = [&](const std::vector<engine::Criterion>& criteria) {
    for (const engine::Criterion& criterion : criteria) {
      if (criterion.met) continue;
      std::string definition_id = criterion.id;
      if (known != nullptr && criterion.id == "conventional-trial") definition_id = known->conventional_trial;
      if (known != nullptr && criterion.id == "diagnostics-done") definition_id = known->diagnostics_done;
      note_definition(definition_id);
    }
  };
  note_unknown(condition.criteria);
  for (const engine::Recommendation* option : regenerative) {
    note_unknown(option->rationale);
    if (option->procedure && (option->status == "consider" || option->status == "recommended")) {
      for (const std::string& check : option->procedure->pre_checks) note_definition(check);
    }
  }
  std::vector<engine::MissingDataItem> items;
  for (const engine::MissingDataItem& item : assessment.missing_data) {
    if (ids.count(item.id) > 0) items.push_back(item);
  }
  return items;
}

std::string Summary(const engine::AssessedCondition& condition,
                    const std::vector<const engine::Recommendation*>& regenerative) {
  const std::string& stage = condition.stage;
  std::string text;
  if (stage == "urgent-referral") {
    text = "red flag \xE2\x80\x94 urgent evaluation, no elective injection";
  } else if (stage == "oncology-integrative") {
    text = "cancer-related pain \xE2\x80\x94 integrative oncology care, no regenerative injection";
  } else if (stage == "conventional-care") {
    text = "first-line conventional care comes first";
  } else if (stage == "diagnostic-evaluation") {
    text = "diagnostic evaluation before any injection";
  } else if (stage == "regenerative-candidate") {
    const auto open =
        std::count_if(regenerative.begin(), regenerative.end(), [](const engine::Recommendation* r) {
          return r->status == "recommended" || r->status == "consider";
        });
    text = open > 0 ? fmt::format("regenerative candidate \xE2\x80\x94 {} option{} to discuss", open,
                                  open > 1 ? "s" : "")
                    : std::string("regenerative candidate \xE2\x80\x94 no regenerative option advised");
  } else {
    text = StageTitle(stage);
  }
  const bool contraindicated =
      std::any_of(regenerative.begin(), regenerative.end(),
                  [](const engine::Recommendation* r) { return r->status == "contraindicated"; });
  if (contraindicated) text += "; contraindication found";
  return OneLine(fmt::format("{}: {}", condition.display, text), kMaxSummaryChars);
}

Card ConditionCard(const engine::AssessedCondition& condition, const engine::Assessment& assessment,
                   const knowledge::KnowledgeBase& kb) {
  std::vector<const engine::Recommendation*> regenerative;
  for (const engine::Recommendation& recommendation : assessment.recommendations) {
    if (recommendation.condition == condition.id && recommendation.category == "regenerative") {
      regenerative.push_back(&recommendation);
    }
  }
  std::stable_sort(regenerative.begin(), regenerative.end(),
                   [](const engine::Recommendation* a, const engine::Recommendation* b) {
                     return StatusRank(a->status) < StatusRank(b->status);
                   });
  const bool contraindicated =
      std::any_of(regenerative.begin(), regenerative.end(),
                  [](const engine::Recommendation* r) { return r->status == "contraindicated"; });

  Card card;
  card.indicator =
      condition.stage == "urgent-referral" || condition.stage == "oncology-integrative" || contraindicated
          ? "warning"
          : "info";
  card.summary = Summary(condition, regenerative);

  Citations citations(kb);
  if (const knowledge::Condition* known = kb.FindCondition(condition.id)) {
    for (const std::string& source : known->sources) citations.Add(source);
  }
  bool unverified = false;
  for (const engine::Criterion& criterion : condition.criteria)
    unverified = unverified || criterion.unverified;

  std::string detail =
      fmt::format("**{} \xE2\x80\x94 {}**\n\n", EscapeMarkdown(OneLine(condition.display, 200)),
                  StageTitle(condition.stage));
  if (!condition.stage_reason.empty()) {
    detail += fmt::format("Why: {}.\n\n", EscapeMarkdown(OneLine(condition.stage_reason, 400)));
  }
  if (!condition.evidence.empty()) detail += fmt::format("Recorded as: {}\n\n", RefsText(condition.evidence));
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
      std::string rationale = StatusRationale(*option);
      if (!rationale.empty()) detail += ": " + EscapeMarkdown(OneLine(rationale, 400));
      detail += '\n';
      for (const engine::FoundContraindication& found : option->contraindications) {
        detail += fmt::format("  - Contraindication ({}): {}", found.kind,
                              EscapeMarkdown(OneLine(found.display, 200)));
        if (!found.evidence.empty()) detail += " \xE2\x80\x94 " + RefsText(found.evidence, 3);
        detail += UnverifiedMark(found.unverified) + "\n";
        unverified = unverified || found.unverified;
      }
      if (option->procedure && (option->status == "consider" || option->status == "recommended")) {
        const engine::ProcedurePlan& plan = *option->procedure;
        std::string holds = HoldsText(plan);
        citations.AddHoldSources(plan);
        if (!holds.empty()) {
          detail += fmt::format("  - Medication holds ({} bleeding risk): {}\n",
                                EscapeMarkdown(plan.bleeding_risk), holds);
        }
        for (const engine::MedicationHoldResult& hold : plan.medication_holds)
          unverified = unverified || hold.unverified;
        std::string guidance = ImageGuidanceText(plan);
        if (!guidance.empty()) detail += fmt::format("  - Image guidance: {}\n", guidance);
      }
    }
    detail += '\n';
  }

  std::vector<engine::MissingDataItem> missing = MissingFor(condition, regenerative, assessment, kb);
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
  card.source = MakeSource(kb, "pathway-stage", "Care-pathway stage");
  card.override_reasons = OverrideReasons(false);
  card.links = citations.Links();
  return card;
}

}  // namespace

std::vector<Card> BuildPatientViewCards(const engine::Assessment& assessment,
                                        const knowledge::KnowledgeBase& kb) {
  std::vector<Card> cards;
  if (assessment.conditions.empty()) return cards;
  if (!assessment.red_flags.empty()) cards.push_back(RedFlagCard(assessment, kb));
  std::vector<Card> conditions;
  for (const engine::AssessedCondition& condition : assessment.conditions) {
    conditions.push_back(ConditionCard(condition, assessment, kb));
  }
  std::stable_sort(conditions.begin(), conditions.end(), [](const Card& a, const Card& b) {
    return IndicatorRank(a.indicator) > IndicatorRank(b.indicator);
  });
  for (Card& card : conditions) cards.push_back(std::move(card));
  return cards;
}

}  // namespace regenpath::cdshooks
