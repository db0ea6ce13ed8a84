#include "engine/text_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace regenpath::engine {

namespace {

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

std::string RefList(const std::vector<std::string>& refs) {
  if (refs.empty()) return std::string();
  std::vector<std::string> shown(refs.begin(), refs.begin() + std::min<size_t>(refs.size(), 3));
  std::string text = " [" + Join(shown, ", ");
  if (refs.size() > 3) text += fmt::format(", +{}", refs.size() - 3);
  return text + "]";
}

std::string Mark(const std::optional<bool>& met) {
  if (!met) return "?";
  return *met ? "+" : "-";
}

std::string Number(double value) {
  if (value == static_cast<double>(static_cast<long long>(value))) return std::to_string(static_cast<long long>(value));
  return fmt::format("{}", value);
}

std::string StageText(std::string_view stage) {
  if (stage == "urgent-referral") return "URGENT REFERRAL";
  if (stage == "oncology-integrative") return "INTEGRATIVE ONCOLOGY";
  if (stage == "conventional-care") return "CONVENTIONAL FIRST-LINE CARE";
  if (stage == "diagnostic-evaluation") return "DIAGNOSTIC EVALUATION";
  if (stage == "regenerative-candidate") return "REGENERATIVE CANDIDATE";
  return "NOT APPLICABLE (no pain condition in scope)";
}

}  // namespace

std::string AssessmentToText(const Assessment& assessment, const knowledge::KnowledgeBase& kb) {
  std::string out;
  std::string who = assessment.patient_reference;
  std::vector<std::string> facts;
  if (assessment.sex) facts.push_back(*assessment.sex);
  if (assessment.age) facts.push_back(fmt::format("{} y", *assessment.age));
  if (!facts.empty()) who += " (" + Join(facts, ", ") + ")";
  out += fmt::format("regenpath assessment of {} as of {}\n", who, assessment.evaluated_at);
  out += fmt::format("Knowledge base {} {}. Decision support for a clinician: check every criterion and source.\n\n",
                     assessment.kb_name, assessment.kb_version);
  out += fmt::format("STAGE: {}\n", StageText(assessment.stage));

  if (!assessment.red_flags.empty()) {
    out += "\nRED FLAGS: urgent evaluation, no elective injection\n";
    for (const AssessedRedFlag& flag : assessment.red_flags) {
      out += fmt::format("  !! {}{}{}\n", flag.display, flag.unverified ? " (unverified criterion)" : "",
                         RefList(flag.evidence));
    }
  }

  std::set<std::string> cited;
  for (const AssessedCondition& condition : assessment.conditions) {
    out += fmt::format("\n== {}: {}{}\n", condition.display, StageText(condition.stage), RefList(condition.evidence));
    for (const Criterion& criterion : condition.criteria) {
      out += fmt::format("   {} {}{}{}\n", Mark(criterion.met), criterion.display,
                         criterion.unverified ? " (unverified threshold)" : "", RefList(criterion.evidence));
    }
    // Conventional care and diagnostics in one line per status (a clinician
    // scans them); the rest, regenerative options above all, in full.
    for (std::string_view category : {"conventional", "diagnostic"}) {
      std::map<std::string, std::vector<std::string>> by_status;
      for (const Recommendation& item : assessment.recommendations) {
        if (item.condition != condition.id || item.category != category) continue;
        bool done = std::any_of(item.rationale.begin(), item.rationale.end(),
                                [](const Criterion& criterion) { return criterion.id == "done" && criterion.met == true; });
        by_status[item.status].push_back(item.display + (done ? " (done)" : ""));
        for (const EvidenceStatement& evidence : item.evidence) cited.insert(evidence.source);
      }
      if (by_status.empty()) continue;
      out += fmt::format("  {}:\n", category == "conventional" ? "Conventional care" : "Diagnostic evaluation");
      for (std::string_view status : {"recommended", "consider", "not-recommended", "contraindicated"}) {
        auto found = by_status.find(std::string(status));
        if (found == by_status.end()) continue;
        out += fmt::format("    {:<16} {}\n", Upper(std::string(status)), Join(found->second, "; "));
      }
    }
    for (const Recommendation& item : assessment.recommendations) {
      if (item.condition != condition.id || item.category == "conventional" || item.category == "diagnostic") continue;
      out += fmt::format("  {:<16} {} [{}]\n", Upper(item.status), item.display, item.category);
      if (!item.rationale.empty() && !item.rationale.front().display.empty()) {
        out += fmt::format("      why: {}\n", item.rationale.front().display);
      }
      for (const FoundContraindication& found : item.contraindications) {
        out += fmt::format("      {} contraindication: {}{}{}\n", found.kind, found.display,
                           found.unverified ? " (unverified)" : "", RefList(found.evidence));
      }
      if (!item.evidence.empty()) {
        std::vector<std::string> sides;
        for (const EvidenceStatement& evidence : item.evidence) {
          cited.insert(evidence.source);
          sides.push_back(fmt::format("{} {}{} ({}{})", evidence.source, evidence.direction,
                                      evidence.level.empty() ? "" : ", " + evidence.level, evidence.confidence,
                                      evidence.confidence == "U" ? " unverified" : ""));
        }
        out += fmt::format("      evidence: {}\n", Join(sides, " | "));
      }
      if (item.procedure && (item.status == "consider" || item.status == "recommended")) {
        const ProcedurePlan& plan = *item.procedure;
        if (!plan.image_guidance.empty()) {
          out += fmt::format("      procedure: {} guidance; {} bleeding risk{}\n", Join(plan.image_guidance, " or "),
                             plan.bleeding_risk.empty() ? "no" : plan.bleeding_risk,
                             plan.bleeding_risk_note.empty() ? "" : " (" + plan.bleeding_risk_note + ")");
        }
        if (!plan.protocol.empty()) out += fmt::format("      protocol: {}\n", plan.protocol);
        for (const MedicationHoldResult& hold : plan.medication_holds) {
          std::string before = hold.hold_days_before ? "hold " + Number(*hold.hold_days_before) + " days before"
                                                     : "shared decision on holding";
          std::string after = hold.restart_hours_after ? ", restart " + Number(*hold.restart_hours_after) + " h after" : "";
          out += fmt::format("      hold {}: {}{}{}{}\n", hold.medication, before, after,
                             hold.note.empty() ? "" : " — " + hold.note, RefList(hold.evidence));
        }
        if (!plan.monitoring.empty()) out += fmt::format("      monitor: {}\n", Join(plan.monitoring, ", "));
      }
      if (item.follow_up && (item.status == "consider" || item.status == "recommended")) {
        std::vector<std::string> instruments;
        for (const FollowUpInstrument& instrument : item.follow_up->instruments) {
          instruments.push_back(instrument.mcid.empty() ? instrument.id : instrument.id + " (MCID " + instrument.mcid + ")");
        }
        std::vector<std::string> weeks;
        for (double week : item.follow_up->schedule_weeks) weeks.push_back(Number(week));
        out += fmt::format("      follow-up: {} at week {}\n", Join(instruments, ", "), Join(weeks, ", "));
      }
      if (item.cost && item.category == "regenerative") {
        std::string range;
        if (item.cost->usd_low && item.cost->usd_high) {
          range = fmt::format("${}–{}", Number(*item.cost->usd_low), Number(*item.cost->usd_high));
        } else if (item.cost->usd_low) {
          range = fmt::format("from ${}", Number(*item.cost->usd_low));
        }
        if (!range.empty() && !item.cost->per.empty()) range += " per " + item.cost->per;
        out += fmt::format("      cost: {}{}{}{}{}\n", range, range.empty() ? "" : "; ",
                           item.cost->coverage,
                           item.cost->billing_codes.empty() ? "" : " (" + Join(item.cost->billing_codes, ", ") + ")",
                           item.cost->unverified ? " (unverified)" : "");
      }
    }
  }

  if (!assessment.next_steps.empty()) {
    out += "\nNEXT STEPS\n";
    int number = 1;
    for (const NextStep& step : assessment.next_steps) {
      out += fmt::format("  {}. [{}] {}\n", number++, step.kind, step.display);
    }
  }
  if (!assessment.missing_data.empty()) {
    out += "\nMISSING DATA (criteria left unknown)\n";
    for (const MissingDataItem& item : assessment.missing_data) out += fmt::format("  - {}\n", item.display);
  }
  if (!assessment.unverified_facts.empty()) {
    out += "\nUNVERIFIED FACTS USED (confidence U: check before relying on them)\n";
    for (const std::string& fact : assessment.unverified_facts) out += fmt::format("  - {}\n", fact);
  }
  if (!cited.empty()) {
    out += "\nSOURCES\n";
    for (const std::string& id : cited) {
      const knowledge::Citation* citation = kb.FindCitation(id);
      out += fmt::format("  [{}] {}\n", id, citation != nullptr ? citation->reference : "(not in the knowledge base)");
    }
  }
  if (!assessment.issues.empty()) {
    size_t shown = std::min<size_t>(assessment.issues.size(), 5);
    out += fmt::format("\nDATA ISSUES ({}; first {})\n", assessment.issues.size(), shown);
    for (size_t i = 0; i < shown; ++i) {
      const AssessmentIssue& issue = assessment.issues[i];
      out += fmt::format("  {} {}{}\n", issue.severity, issue.message, issue.location.empty() ? "" : " at " + issue.location);
    }
  }
  return out;
}

}  // namespace regenpath::engine
