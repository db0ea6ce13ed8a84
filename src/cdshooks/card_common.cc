#include "cdshooks/card_common.h"

#include <fmt/format.h>

#include <algorithm>

#include "cdshooks/text.h"
#include "cdshooks/uuid.h"

namespace regenpath::cdshooks {

namespace {

std::string FormatNumber(double value) { return fmt::format("{:g}", value); }

}  // namespace

int IndicatorRank(std::string_view indicator) {
  if (indicator == "critical") return 2;
  if (indicator == "warning") return 1;
  return 0;
}

std::string_view MoreUrgent(std::string_view a, std::string_view b) {
  return IndicatorRank(a) >= IndicatorRank(b) ? a : b;
}

std::string StatusText(engine::RecommendationStatus status) {
  if (status == engine::RecommendationStatus::kNotRecommended) return "not recommended";
  return std::string(engine::ToString(status));
}

CardSource MakeSource(const engine::Assessment& assessment, std::string_view topic_code,
                      std::string_view topic_display) {
  CardSource source;
  source.label = OneLine(fmt::format("regenpath {} {}", assessment.kb_name, assessment.kb_version), 120);
  source.topic = Coding{std::string(kTopicSystem), std::string(topic_code), std::string(topic_display)};
  return source;
}

std::vector<Coding> OverrideReasons(bool order_review) {
  const std::string system(kOverrideReasonSystem);
  if (order_review) {
    return {
        {system, "benefit-outweighs-risk", "Benefit outweighs the risk for this patient (documented)"},
        {system, "shared-decision", "Shared decision with the informed patient"},
        {system, "record-out-of-date", "The record is out of date: the finding is resolved or absent"},
        {system, "done-elsewhere", "Evaluation or conventional care already done elsewhere"},
        {system, "holds-arranged", "Medication holds and pre-procedure checks are arranged"},
    };
  }
  return {
      {system, "record-out-of-date", "The record is out of date: the finding is resolved or absent"},
      {system, "done-elsewhere", "Evaluation or conventional care already done elsewhere"},
      {system, "not-relevant-now", "Not relevant to this visit"},
      {system, "clinical-judgement", "Clinical judgement differs (documented)"},
  };
}

std::string UnverifiedMark(bool unverified) { return unverified ? " \xE2\x9A\xA0 *unverified*" : ""; }

std::string UnverifiedLegend() {
  return "\xE2\x9A\xA0 *unverified*: the fact rests on a knowledge-base entry not yet verified in its source "
         "(confidence U).";
}

std::string RefsText(const engine::Refs& refs, size_t max) {
  std::string text;
  for (size_t index = 0; index < refs.size() && index < max; ++index) {
    if (!text.empty()) text += ", ";
    text += EscapeMarkdown(OneLine(refs[index], 100));
  }
  if (refs.size() > max) text += fmt::format(" (+{} more)", refs.size() - max);
  return text;
}

std::string DatumText(const engine::Datum& datum) {
  std::string text = EscapeMarkdown(OneLine(datum.display, 120));
  if (datum.value && !datum.value->empty()) text += ": " + EscapeMarkdown(OneLine(*datum.value, 60));
  if (datum.date) text += ", " + EscapeMarkdown(datum.date->substr(0, 10));
  return text + " (" + EscapeMarkdown(OneLine(datum.reference, 100)) + ")";
}

std::string DataText(const engine::Data& data, size_t max) {
  std::string text;
  for (size_t index = 0; index < data.size() && index < max; ++index) {
    if (!text.empty()) text += "; ";
    text += DatumText(data[index]);
  }
  if (data.size() > max) text += fmt::format(" (+{} more)", data.size() - max);
  return text;
}

std::string CriteriaMarkdown(const std::vector<engine::Criterion>& criteria) {
  std::string out;
  for (const engine::Criterion& criterion : criteria) {
    if (criterion.display.empty()) continue;
    std::string_view state = !criterion.met ? "Unknown (data missing)" : *criterion.met ? "Met" : "Not met";
    out += fmt::format("- {}: {}", state, EscapeMarkdown(OneLine(criterion.display, 300)));
    if (!criterion.data.empty()) {
      out += " \xE2\x80\x94 " + DataText(criterion.data);
    } else if (!criterion.looked_for.empty() && criterion.met != true) {
      out += " \xE2\x80\x94 none found (looked for: " + EscapeMarkdown(OneLine(criterion.looked_for, 300)) + ")";
    }
    out += UnverifiedMark(criterion.unverified);
    out += '\n';
    for (const std::string& issue : criterion.issues) {
      out += fmt::format("  - Data issue: {}\n", EscapeMarkdown(OneLine(issue, 300)));
    }
  }
  return out;
}

void Citations::Add(const std::string& id) {
  if (!id.empty() && seen_.insert(id).second) ids_.push_back(id);
}

void Citations::AddHoldSources(const engine::ProcedurePlan& plan) {
  for (const engine::MedicationHoldResult& hold : plan.medication_holds) {
    for (const std::string& source : hold.sources) Add(source);
  }
}

std::string Citations::Markdown() const {
  std::string out;
  for (const std::string& id : ids_) {
    const engine::SourceInfo* citation = assessment_.FindSource(id);
    if (citation == nullptr) continue;
    out += fmt::format("- {}: {}{}\n", EscapeMarkdown(id), EscapeMarkdown(OneLine(citation->reference, 400)),
                       UnverifiedMark(citation->unverified));
  }
  return out.empty() ? out : "**Sources**\n\n" + out;
}

std::vector<Link> Citations::Links(size_t max) const {
  std::vector<Link> links;
  for (const std::string& id : ids_) {
    if (links.size() >= max) break;
    const engine::SourceInfo* citation = assessment_.FindSource(id);
    if (citation == nullptr) continue;
    std::string url;
    if (IsAbsoluteHttpUrl(citation->url)) {
      url = citation->url;
    } else if (!citation->doi.empty()) {
      url = "https://doi.org/" + EncodeUrlText(citation->doi);
      if (!IsAbsoluteHttpUrl(url)) url.clear();
    }
    if (url.empty()) continue;
    std::string label = OneLine(citation->reference.empty() ? id : citation->reference, 80);
    links.push_back(Link{label.empty() ? id : label, url, "absolute"});
  }
  return links;
}

std::string EvidenceTable(const std::vector<const engine::Recommendation*>& options, Citations& citations) {
  if (options.empty()) return std::string();
  std::string out = "| Option | Status | For | Against | Neutral |\n|---|---|---|---|---|\n";
  for (const engine::Recommendation* option : options) {
    std::string columns[3];
    for (const engine::EvidenceStatement& evidence : option->evidence) {
      citations.Add(evidence.source);
      const int column = evidence.direction == engine::EvidenceDirection::kFor       ? 0
                         : evidence.direction == engine::EvidenceDirection::kAgainst ? 1
                                                                                     : 2;
      std::string& cell = columns[column];
      if (!cell.empty()) cell += "; ";
      cell += EscapeMarkdown(evidence.source);
      if (!evidence.level.empty()) cell += " (" + EscapeMarkdown(OneLine(evidence.level, 60)) + ")";
      cell += UnverifiedMark(evidence.confidence == "U");
    }
    for (std::string& cell : columns) {
      if (cell.empty()) cell = "\xE2\x80\x94";
    }
    out += fmt::format("| {} | {} | {} | {} | {} |\n", EscapeMarkdown(OneLine(option->display, 120)),
                       StatusText(option->status), columns[0], columns[1], columns[2]);
  }
  return out;
}

std::string HoldsText(const engine::ProcedurePlan& plan) {
  std::string out;
  for (const engine::MedicationHoldResult& hold : plan.medication_holds) {
    if (!out.empty()) out += "; ";
    std::string when = hold.hold_days_before
                           ? (*hold.hold_days_before > 0
                                  ? fmt::format("stop {} day(s) before", FormatNumber(*hold.hold_days_before))
                                  : std::string("no hold before"))
                           : std::string("hold decided with the prescriber (shared decision)");
    out += fmt::format("{}: {}", EscapeMarkdown(hold.medication), when);
    if (hold.restart_hours_after)
      out += fmt::format(", restart {} h after", FormatNumber(*hold.restart_hours_after));
    if (!hold.note.empty()) out += " (" + EscapeMarkdown(OneLine(hold.note, 200)) + ")";
    if (!hold.data.empty()) out += " — " + DataText(hold.data, 2);
    if (hold.check) {
      out += fmt::format("; check {}: {}", EscapeMarkdown(OneLine(hold.check->display, 200)),
                         hold.check->met == true && !hold.check->data.empty() ? DatumText(hold.check->data.front())
                                                                              : std::string("MISSING"));
    }
    out += UnverifiedMark(hold.unverified);
  }
  return out;
}

std::string ImageGuidanceText(const engine::ProcedurePlan& plan) {
  std::string out;
  for (const std::string& guidance : plan.image_guidance) {
    if (!out.empty()) out += ", ";
    out += EscapeMarkdown(guidance);
  }
  return out;
}

void AssignIdentifiers(std::vector<Card>& cards, const CallInfo& call) {
  for (size_t index = 0; index < cards.size(); ++index) {
    Card& card = cards[index];
    const std::string name = fmt::format("{}\n{}\n{}\ncard {}\n{}\n{}", call.service_id, call.hook_instance,
                                         call.patient_id, index, card.summary, card.detail);
    card.uuid = NameBasedUuid(name);
    for (size_t suggestion = 0; suggestion < card.suggestions.size(); ++suggestion) {
      card.suggestions[suggestion].uuid = NameBasedUuid(
          fmt::format("{}\nsuggestion {}\n{}", card.uuid, suggestion, card.suggestions[suggestion].label));
    }
  }
}

}  // namespace regenpath::cdshooks
