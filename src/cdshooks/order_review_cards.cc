#include "cdshooks/order_review_cards.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cdshooks/hook_request.h"
#include "cdshooks/text.h"

namespace regenpath::cdshooks {

namespace {

constexpr size_t kMaxListed = 8;

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string JoinText(const std::vector<std::string>& values, std::string_view separator = ", ") {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out += separator;
    out += value;
  }
  return out;
}

// The draft ServiceRequest for an orderable item (coded from the knowledge
// base's value set by the engine).
ProposedServiceRequest ProposeFor(const std::optional<engine::OrderCode>& code, std::string text, const CallInfo& call,
                                  std::string note) {
  ProposedServiceRequest request;
  if (code) request.codings.push_back(Coding{code->system, code->code, code->display});
  request.text = OneLine(text, 200);
  request.patient_id = call.patient_id;
  request.encounter_id = call.encounter_id;
  request.note = OneLine(note, 300);
  return request;
}

struct MissingCheck {
  engine::MissingDataItem item;
};

class OrderReviewer {
 public:
  OrderReviewer(const engine::Assessment& assessment, const CallInfo& call) : assessment_(assessment), call_(call) {}

  void Review(const RegenerativeOrder& order, std::vector<Card>& cards) {
    bool any = false;
    for (const engine::AssessedCondition& condition : assessment_.conditions) {
      std::vector<const engine::Recommendation*> options;
      for (const engine::Recommendation& recommendation : assessment_.recommendations) {
        if (recommendation.condition != condition.id || recommendation.category != engine::OptionCategory::kRegenerative) continue;
        if (!order.therapies.empty() && !Contains(order.therapies, recommendation.therapy)) continue;
        if (!order.targets.empty() &&
            (!recommendation.target || !Contains(order.targets, *recommendation.target))) {
          continue;
        }
        options.push_back(&recommendation);
      }
      if (options.empty()) continue;
      any = true;
      cards.push_back(ConditionCard(order, condition, options));
    }
    if (!any) cards.push_back(NoIndicationCard(order));
  }

 private:
  std::string OrderLine(const RegenerativeOrder& order) const {
    std::string line = fmt::format("**Order:** {}", EscapeMarkdown(order.label));
    if (!order.matched_codes.empty())
      line += fmt::format(" (codes {})", EscapeMarkdown(JoinText(order.matched_codes)));
    line += fmt::format(" \xE2\x80\x94 therapy: {}",
                        order.therapies.empty() ? std::string("not identified from the order's codes (every "
                                                              "regenerative therapy is reviewed)")
                                                : EscapeMarkdown(JoinText(order.therapies)));
    if (!order.targets.empty()) {
      line += fmt::format("; target from the body site: {}", EscapeMarkdown(JoinText(order.targets)));
    } else if (order.body_site_given) {
      line += "; the body site was not recognized, so the patient's conditions give the target";
    } else {
      line += "; no body site, so the patient's conditions give the target";
    }
    return line + ".\n\n";
  }

  std::string RedFlagsMarkdown(bool& unverified) const {
    if (assessment_.red_flags.empty()) return std::string();
    std::string out = "**Red flags** \xE2\x80\x94 urgent evaluation first, no elective injection:\n\n";
    for (const engine::AssessedRedFlag& flag : assessment_.red_flags) {
      out += fmt::format("- {}", EscapeMarkdown(OneLine(flag.display, 200)));
      if (!flag.data.empty()) out += " \xE2\x80\x94 " + DataText(flag.data);
      out += UnverifiedMark(flag.unverified) + "\n";
      unverified = unverified || flag.unverified;
    }
    return out + "\n";
  }

  Card NoIndicationCard(const RegenerativeOrder& order) {
    Card card;
    card.indicator = assessment_.red_flags.empty() ? "warning" : "critical";
    std::string where = order.targets.empty() ? std::string() : " (" + JoinText(order.targets) + ")";
    card.summary =
        OneLine(fmt::format("{}{}: no pain condition in the record that the knowledge base treats with it",
                            order.label, where),
                kMaxSummaryChars);
    bool unverified = false;
    std::string detail = OrderLine(order);
    detail += RedFlagsMarkdown(unverified);
    if (assessment_.conditions.empty()) {
      detail +=
          "No pain condition of the knowledge base is recorded for this patient: the record does not show "
          "the "
          "indication. Review the diagnosis before the procedure.\n\n";
    } else {
      detail += "Pain conditions in the record, and their targets:\n\n";
      for (const engine::AssessedCondition& condition : assessment_.conditions) {
        detail += fmt::format("- {} ({}): {}\n", EscapeMarkdown(OneLine(condition.display, 200)),
                              condition.targets.empty() ? std::string("no injectable target")
                                                        : EscapeMarkdown(JoinText(condition.targets)),
                              EscapeMarkdown(condition.stage.title));
      }
      detail +=
          "\nNone of them has a regenerative option of this therapy at this target in the knowledge base, so "
          "there is no evidence review, contraindication check or hold plan for this order.\n\n";
    }
    if (unverified) detail += UnverifiedLegend() + "\n";
    card.detail = detail;
    card.source = MakeSource(assessment_, "order-safety-review", "Regenerative injection safety review");
    if (card.indicator == "critical") AddRemoval(order, card);
    card.override_reasons = OverrideReasons(true);
    if (!card.suggestions.empty()) card.selection_behavior = "any";
    return card;
  }

  void AddRemoval(const RegenerativeOrder& order, Card& card) const {
    if (order.order == nullptr || !IsFhirId(order.order->id)) return;
    Suggestion remove;
    remove.label = OneLine(fmt::format("Remove the draft order: {}", order.label), 120);
    remove.is_recommended = true;
    Action action;
    action.type = "delete";
    action.description = OneLine(fmt::format("Remove the draft {} ({}) from this order session",
                                             order.order->resource_type, order.label),
                                 200);
    action.resource_id = order.order->resource_type + "/" + order.order->id;
    remove.actions.push_back(std::move(action));
    card.suggestions.push_back(std::move(remove));
  }

  Card ConditionCard(const RegenerativeOrder& order, const engine::AssessedCondition& condition,
                     const std::vector<const engine::Recommendation*>& options) {
    Citations citations(assessment_);
    bool unverified = false;
    const bool red_flag = !assessment_.red_flags.empty();
    const bool candidate = condition.stage.offers_regenerative;

    const engine::FoundContraindication* absolute = nullptr;
    const engine::FoundContraindication* relative = nullptr;
    bool contraindicated = false;
    bool not_recommended = false;
    bool holds = false;
    for (const engine::Recommendation* option : options) {
      contraindicated = contraindicated || option->status == engine::RecommendationStatus::kContraindicated;
      not_recommended = not_recommended || option->status == engine::RecommendationStatus::kNotRecommended;
      holds = holds || (option->procedure && !option->procedure->medication_holds.empty());
      for (const engine::FoundContraindication& found : option->contraindications) {
        if (found.kind == engine::ContraindicationKind::kAbsolute && absolute == nullptr) absolute = &found;
        if (found.kind == engine::ContraindicationKind::kRelative && relative == nullptr) relative = &found;
      }
    }
    // Pre-procedure checks of the options, and the missing ones.
    std::vector<MissingCheck> missing_checks;
    std::string checks_text;
    std::set<std::string> checks_seen;
    for (const engine::Recommendation* option : options) {
      for (const engine::Criterion& check : option->pre_checks) {
        if (!checks_seen.insert(check.id).second) continue;
        if (check.met == true) {
          checks_text += fmt::format("- Recorded: {} \xE2\x80\x94 {}\n", EscapeMarkdown(OneLine(check.display, 200)),
                                     DataText(check.data, 2));
        } else {
          checks_text += fmt::format("- Missing: {}\n", EscapeMarkdown(OneLine(check.display, 200)));
          if (check.missing) missing_checks.push_back({*check.missing});
        }
      }
    }

    Card card;
    if (red_flag || contraindicated) {
      card.indicator = "critical";
    } else if (!candidate || relative != nullptr || not_recommended || !missing_checks.empty() || holds) {
      card.indicator = "warning";
    } else {
      card.indicator = "info";
    }

    // Summary: the option and the most important finding.
    std::string subject = options.size() == 1 ? options.front()->display
                                              : fmt::format("{} ({})", order.label, condition.display);
    std::string headline;
    if (red_flag) {
      headline = fmt::format("red flag ({}) \xE2\x80\x94 urgent evaluation, no elective injection",
                             assessment_.red_flags.front().display);
    } else if (absolute != nullptr) {
      headline = "contraindicated \xE2\x80\x94 " + absolute->display;
    } else if (!candidate) {
      headline = condition.stage.order_headline;
    } else if (relative != nullptr) {
      headline = "caution \xE2\x80\x94 " + relative->display;
    } else if (!missing_checks.empty()) {
      // The title names the test briefly; the missing-data text may be long.
      const std::string& what = missing_checks.front().item.title;
      headline = "pre-procedure check missing \xE2\x80\x94 " + what.substr(0, what.find(" ("));
    } else if (not_recommended) {
      headline = "not recommended by the evidence review";
    } else if (holds) {
      headline = "medication holds to arrange before the procedure";
    } else {
      headline = fmt::format("no contraindication found ({})", StatusText(options.front()->status));
    }
    card.summary = OneLine(fmt::format("{}: {}", subject, headline), kMaxSummaryChars);

    std::string detail = OrderLine(order);
    // The short why starts with the stage's title and names the deciding data.
    if (!condition.why.empty()) {
      detail += fmt::format("**Condition:** {} \xE2\x80\x94 {}", EscapeMarkdown(OneLine(condition.display, 200)),
                            EscapeMarkdown(OneLine(condition.why, 600)));
    } else {
      detail += fmt::format("**Condition:** {} \xE2\x80\x94 {}",
                            EscapeMarkdown(OneLine(condition.display, 200)), EscapeMarkdown(condition.stage.title));
      if (!condition.stage_reason.empty())
        detail += fmt::format(" ({})", EscapeMarkdown(OneLine(condition.stage_reason, 300)));
    }
    detail += ".\n\n";
    detail += RedFlagsMarkdown(unverified);

    std::string contraindications;
    for (const engine::Recommendation* option : options) {
      for (const engine::FoundContraindication& found : option->contraindications) {
        contraindications += fmt::format("- {} ({}, {})", EscapeMarkdown(OneLine(found.display, 200)),
                                         engine::ToString(found.kind), EscapeMarkdown(option->display));
        if (!found.data.empty()) contraindications += " \xE2\x80\x94 " + DataText(found.data, 2);
        contraindications += UnverifiedMark(found.unverified) + "\n";
        unverified = unverified || found.unverified;
      }
    }
    if (!contraindications.empty()) detail += "**Contraindications**\n\n" + contraindications + "\n";

    // What the stage still needs: the criteria that decided the stage, where
    // not met or unknown, and the condition's next steps that come first.
    std::vector<engine::Criterion> open;
    for (const engine::Criterion& criterion : condition.criteria) {
      if (criterion.met != true && criterion.decides_stage) open.push_back(criterion);
    }
    std::vector<const engine::Recommendation*> missing_diagnostics;
    if (!candidate) {
      std::string criteria = CriteriaMarkdown(open);
      if (!criteria.empty())
        detail += "**Why not yet: stage criteria not met or unknown**\n\n" + criteria + "\n";
      // The condition's next steps that are conventional care or diagnostic
      // evaluation not yet in the record.
      for (engine::OptionCategory category : {engine::OptionCategory::kConventional, engine::OptionCategory::kDiagnostic}) {
        std::string list;
        size_t listed = 0;
        size_t total = 0;
        for (const engine::NextStep& step : assessment_.next_steps) {
          if (step.condition != condition.id || step.option.empty()) continue;
          const engine::Recommendation* recommendation = FindOption(condition.id, step.option);
          if (recommendation == nullptr || recommendation->category != category) continue;
          ++total;
          if (category == engine::OptionCategory::kDiagnostic) missing_diagnostics.push_back(recommendation);
          if (listed >= kMaxListed) continue;
          ++listed;
          list += fmt::format("- {} ({})\n", EscapeMarkdown(OneLine(recommendation->display, 200)),
                              StatusText(recommendation->status));
        }
        if (total > listed) list += fmt::format("- (+{} more)\n", total - listed);
        if (list.empty()) continue;
        detail += category == engine::OptionCategory::kDiagnostic ? "**Diagnostic evaluation not yet in the record**\n\n"
                                           : "**First-line conventional care not yet documented**\n\n";
        detail += list + "\n";
      }
    }

    detail += "**Knowledge-base status**\n\n";
    for (const engine::Recommendation* option : options) {
      detail +=
          fmt::format("- {}: {}", EscapeMarkdown(OneLine(option->display, 120)), StatusText(option->status));
      if (!option->status_reason.empty()) {
        detail += " \xE2\x80\x94 " + EscapeMarkdown(OneLine(option->status_reason, 400));
      }
      detail += '\n';
    }
    detail += '\n';
    if (!checks_text.empty()) detail += "**Pre-procedure checks**\n\n" + checks_text + "\n";

    for (const engine::Recommendation* option : options) {
      if (!option->procedure) continue;
      const engine::ProcedurePlan& plan = *option->procedure;
      std::string procedure;
      if (plan.bleeding_risk) {
        procedure +=
            fmt::format("- Bleeding-risk category (ASRA 2018): {}", EscapeMarkdown(engine::ToString(*plan.bleeding_risk)));
        if (!plan.bleeding_risk_note.empty())
          procedure += " \xE2\x80\x94 " + EscapeMarkdown(OneLine(plan.bleeding_risk_note, 300));
        procedure += '\n';
      }
      std::string hold_text = HoldsText(plan);
      if (!hold_text.empty()) procedure += "- Medication holds: " + hold_text + "\n";
      citations.AddHoldSources(plan);
      for (const engine::MedicationHoldResult& hold : plan.medication_holds)
        unverified = unverified || hold.unverified;
      std::string guidance = ImageGuidanceText(plan);
      if (!guidance.empty()) procedure += "- Image guidance: " + guidance + "\n";
      if (!plan.protocol.empty())
        procedure += "- Protocol: " + EscapeMarkdown(OneLine(plan.protocol, 300)) + "\n";
      if (!procedure.empty()) {
        detail += fmt::format("**Procedure plan: {}**\n\n{}\n", EscapeMarkdown(OneLine(option->display, 120)),
                              procedure);
      }
    }
    for (const engine::Recommendation* option : options) {
      for (const engine::EvidenceStatement& evidence : option->evidence)
        unverified = unverified || evidence.confidence == "U";
    }
    detail += "**Evidence** \xE2\x80\x94 every source side by side, negative ones included\n\n";
    detail += EvidenceTable(options, citations) + "\n";
    std::string sources = citations.Markdown();
    if (!sources.empty()) detail += sources + "\n";
    if (unverified) detail += UnverifiedLegend() + "\n";
    card.detail = detail;
    card.source = MakeSource(assessment_, "order-safety-review", "Regenerative injection safety review");

    // Suggestions: the missing checks and diagnostics as draft orders.
    std::set<std::string> proposed;
    for (const MissingCheck& check : missing_checks) {
      if (!check.item.order_code || !proposed.insert(check.item.id).second) continue;
      const std::string& title = check.item.title;
      Suggestion suggestion;
      suggestion.label = OneLine("Order " + title, 120);
      Action action;
      action.type = "create";
      action.description = OneLine(fmt::format("Create a draft order for {} (pre-procedure check before {})",
                                               title, options.front()->display),
                                   300);
      action.resource.push_back(ProposeFor(
          check.item.order_code, title, call_,
          fmt::format("Pre-procedure check before {} (regenpath order review)", options.front()->display)));
      suggestion.actions.push_back(std::move(action));
      card.suggestions.push_back(std::move(suggestion));
    }
    for (const engine::Recommendation* diagnostic : missing_diagnostics) {
      if (!proposed.insert(diagnostic->id).second) continue;
      Suggestion suggestion;
      suggestion.label = OneLine("Order " + diagnostic->display, 120);
      Action action;
      action.type = "create";
      action.description = OneLine(fmt::format("Create a draft order for {} (diagnostic evaluation of {})",
                                               diagnostic->display, condition.display),
                                   300);
      action.resource.push_back(
          ProposeFor(diagnostic->order_code, diagnostic->display, call_,
                     fmt::format("Diagnostic evaluation of {} before a regenerative injection "
                                 "(regenpath order review)",
                                 condition.display)));
      suggestion.actions.push_back(std::move(action));
      card.suggestions.push_back(std::move(suggestion));
    }
    if (card.indicator == "critical") AddRemoval(order, card);
    if (!card.suggestions.empty()) card.selection_behavior = "any";
    card.override_reasons = OverrideReasons(true);
    card.links = citations.Links();
    return card;
  }

  const engine::Recommendation* FindOption(const std::string& condition, const std::string& id) const {
    for (const engine::Recommendation& recommendation : assessment_.recommendations) {
      if (recommendation.condition == condition && recommendation.id == id) return &recommendation;
    }
    return nullptr;
  }

  const engine::Assessment& assessment_;
  const CallInfo& call_;
};

}  // namespace

std::vector<Card> BuildOrderReviewCards(const std::vector<RegenerativeOrder>& orders,
                                        const engine::Assessment& assessment, const CallInfo& call) {
  std::vector<Card> cards;
  OrderReviewer reviewer(assessment, call);
  for (const RegenerativeOrder& order : orders) reviewer.Review(order, cards);
  std::stable_sort(cards.begin(), cards.end(), [](const Card& a, const Card& b) {
    return IndicatorRank(a.indicator) > IndicatorRank(b.indicator);
  });
  return cards;
}

}  // namespace regenpath::cdshooks
