#include "report/text_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/terminal_text.h"

namespace regenpath::report {

using engine::AssessedCondition;
using engine::AssessedRedFlag;
using engine::Assessment;
using engine::AssessmentIssue;
using engine::Criterion;
using engine::Data;
using engine::Datum;
using engine::EvidenceStatement;
using engine::FollowUpInstrument;
using engine::FoundContraindication;
using engine::MedicationHoldResult;
using engine::MissingDataItem;
using engine::NextStep;
using engine::OptionCategory;
using engine::ProcedurePlan;
using engine::Recommendation;
using engine::RecommendationStatus;
using engine::SourceInfo;
using engine::ToString;

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

std::string Mark(const std::optional<bool>& met) {
  if (!met) return "?";
  return *met ? "+" : "-";
}

std::string Number(double value) {
  if (value == static_cast<double>(static_cast<long long>(value))) return std::to_string(static_cast<long long>(value));
  return fmt::format("{}", value);
}

// "naproxen 500 MG Oral Tablet 2024-03-02 [MedicationRequest/m1]".
std::string DatumText(const Datum& datum) {
  std::string text = datum.display;
  if (datum.value && !datum.value->empty()) text += ": " + *datum.value;
  if (datum.date) text += ", " + datum.date->substr(0, 10);
  return text + " [" + datum.reference + "]";
}

// The data behind a finding, at most `max`, one per line under `indent`.
std::string DataLines(const Data& data, std::string_view indent, size_t max = 4) {
  std::string out;
  for (size_t index = 0; index < data.size() && index < max; ++index) {
    out += fmt::format("{}{}\n", indent, DatumText(data[index]));
  }
  if (data.size() > max) out += fmt::format("{}(+{} more)\n", indent, data.size() - max);
  return out;
}

std::string CriterionLines(const Criterion& criterion, std::string_view indent) {
  std::string out = fmt::format("{}{} {}{}\n", indent, Mark(criterion.met), criterion.display,
                                criterion.unverified ? " (unverified threshold)" : "");
  const std::string inner = std::string(indent) + "    ";
  out += DataLines(criterion.data, inner);
  if (criterion.data.empty() && !criterion.looked_for.empty()) {
    out += fmt::format("{}looked for: {}\n", inner, criterion.looked_for);
  }
  if (!criterion.met && criterion.missing) out += fmt::format("{}missing: {}\n", inner, criterion.missing->display);
  for (const std::string& issue : criterion.issues) out += fmt::format("{}! data issue: {}\n", inner, issue);
  return out;
}

bool Open(const Recommendation& item) { return IsOpen(item.status); }

}  // namespace

std::string AssessmentToText(const Assessment& assessment) {
  std::string out;
  std::string who = assessment.patient_reference;
  std::vector<std::string> facts;
  if (assessment.sex) facts.push_back(*assessment.sex);
  if (assessment.age) facts.push_back(fmt::format("{} y", *assessment.age));
  if (!facts.empty()) who += " (" + Join(facts, ", ") + ")";
  out += fmt::format("regenpath assessment of {} as of {}\n", who, assessment.evaluated_at);
  if (assessment.deceased == true) {
    out += fmt::format("DECEASED: {}\n", assessment.stage_reason);
  }
  if (assessment.replaced_by) {
    out += fmt::format("RECORD REPLACED by {}: it must no longer be used; assess that record instead.\n",
                       *assessment.replaced_by);
  }
  if (assessment.inactive) out += "RECORD INACTIVE: the Patient resource says it is not in active use.\n";
  if (!assessment.patient_note.empty()) out += fmt::format("NOTE: {}\n", assessment.patient_note);
  out += fmt::format("Knowledge base {} {}. Decision support for a clinician: check every criterion and source.\n",
                     assessment.kb_name, assessment.kb_version);
  out += "Criteria: + met, - not met, ? unknown (data missing); the data behind each are listed under it,\n"
         "with '! data issue' where the record has a problem in that data.\n\n";
  out += fmt::format("STAGE: {}\n", assessment.stage.heading);
  if (!assessment.stage_reason.empty() && assessment.deceased != true) {
    out += fmt::format("  {}\n", assessment.stage_reason);
  }

  if (!assessment.red_flags.empty()) {
    out += "\nRED FLAGS: urgent evaluation, no elective injection\n";
    for (const AssessedRedFlag& flag : assessment.red_flags) {
      out += fmt::format("  !! {}{}\n", flag.display, flag.unverified ? " (unverified criterion)" : "");
      out += DataLines(flag.data, "       ");
    }
  }

  for (const AssessedCondition& condition : assessment.conditions) {
    out += fmt::format("\n== {}: {}\n", condition.display, condition.stage.heading);
    out += fmt::format("   {}\n", condition.headline);
    if (!condition.why.empty()) out += fmt::format("   why: {}\n", condition.why);
    out += DataLines(condition.data, "   recorded as: ", 2);
    for (const Criterion& criterion : condition.criteria) out += CriterionLines(criterion, "   ");
    // Conventional care and diagnostics in one line per status (a clinician
    // scans them); the rest, regenerative options above all, in full.
    for (OptionCategory category : {OptionCategory::kConventional, OptionCategory::kDiagnostic}) {
      std::map<RecommendationStatus, std::vector<std::string>> by_status;
      for (const Recommendation& item : assessment.recommendations) {
        if (item.condition != condition.id || item.category != category) continue;
        std::string shown = item.display;
        if (item.done == true) {
          shown += " (done";
          if (!item.done_data.empty() && item.done_data.front().date) {
            shown += " " + item.done_data.front().date->substr(0, 10);
          }
          shown += ")";
        }
        by_status[item.status].push_back(shown);
      }
      if (by_status.empty()) continue;
      out += fmt::format("  {}:\n", category == OptionCategory::kConventional ? "Conventional care" : "Diagnostic evaluation");
      for (const auto& [status, shown] : by_status) {
        out += fmt::format("    {:<16} {}\n", Upper(std::string(ToString(status))), Join(shown, "; "));
      }
    }
    for (const Recommendation& item : assessment.recommendations) {
      if (item.condition != condition.id || item.category == OptionCategory::kConventional ||
          item.category == OptionCategory::kDiagnostic) {
        continue;
      }
      out += fmt::format("  {:<16} {} [{}]\n", Upper(std::string(ToString(item.status))), item.display,
                         ToString(item.category));
      if (!item.status_reason.empty()) out += fmt::format("      why: {}\n", item.status_reason);
      for (const Criterion& criterion : item.rationale) out += CriterionLines(criterion, "      ");
      for (const FoundContraindication& found : item.contraindications) {
        out += fmt::format("      {} contraindication: {}{}\n", ToString(found.kind), found.display,
                           found.unverified ? " (unverified)" : "");
        out += DataLines(found.data, "          ", 2);
      }
      if (!item.evidence.empty()) {
        std::vector<std::string> sides;
        for (const EvidenceStatement& evidence : item.evidence) {
          sides.push_back(fmt::format("{} {}{} ({}{})", evidence.source, ToString(evidence.direction),
                                      evidence.level.empty() ? "" : ", " + evidence.level, evidence.confidence,
                                      evidence.confidence == "U" ? " unverified" : ""));
        }
        out += fmt::format("      evidence: {}\n", Join(sides, " | "));
      }
      if (item.procedure && Open(item)) {
        const ProcedurePlan& plan = *item.procedure;
        if (!plan.image_guidance.empty()) {
          out += fmt::format("      procedure: {} guidance; {} bleeding risk{}\n", Join(plan.image_guidance, " or "),
                             plan.bleeding_risk ? ToString(*plan.bleeding_risk) : "no",
                             plan.bleeding_risk_note.empty() ? "" : " (" + plan.bleeding_risk_note + ")");
        }
        if (!plan.protocol.empty()) out += fmt::format("      protocol: {}\n", plan.protocol);
        for (const Criterion& check : item.pre_checks) {
          if (check.met == true && !check.data.empty()) {
            out += fmt::format("      pre-check {}: {}\n", check.display, DatumText(check.data.front()));
          } else {
            out += fmt::format("      pre-check {}: MISSING\n", check.display);
          }
        }
        if (!plan.medication_holds.empty()) {
          out += fmt::format("      holds (procedure {}):\n", assessment.procedure_date
                                                                ? "on " + *assessment.procedure_date
                                                                : "date not given: days before / hours after it");
        }
        for (const MedicationHoldResult& hold : plan.medication_holds) {
          std::string stop;
          if (!hold.hold_days_before) {
            stop = "stop: shared decision with the prescriber";
          } else if (*hold.hold_days_before == 0) {
            stop = "stop: no hold";
          } else {
            stop = "stop: " + Number(*hold.hold_days_before) + " days before" +
                   (hold.stop_on ? " (none from " + *hold.stop_on + ")" : "");
          }
          std::string restart = hold.restart_hours_after ? " | restart: " + Number(*hold.restart_hours_after) +
                                                               " h after" + (hold.restart_on ? " (" + *hold.restart_on + ")" : "")
                                                         : "";
          out += fmt::format("        {:<12} {}{}{}\n", hold.medication, stop, restart,
                             hold.note.empty() ? "" : " | " + hold.note);
          out += DataLines(hold.data, "            ", 3);
          if (hold.check) {
            if (hold.check->met == true && !hold.check->data.empty()) {
              out += fmt::format("            check {}: {}\n", hold.check->display, DatumText(hold.check->data.front()));
            } else {
              out += fmt::format("            check {}: MISSING\n", hold.check->display);
            }
          }
        }
        if (!plan.monitoring.empty()) {
          out += fmt::format("      monitor: {} (no timing given by the knowledge base)\n", Join(plan.monitoring, ", "));
        }
      }
      if (item.follow_up && Open(item)) {
        std::vector<std::string> weeks;
        for (double week : item.follow_up->schedule_weeks) weeks.push_back(Number(week));
        out += fmt::format("      follow-up at week {}{}; instruments with their baseline:\n", Join(weeks, ", "),
                           item.follow_up->dates.empty() ? "" : " (" + Join(item.follow_up->dates, ", ") + ")");
        for (const FollowUpInstrument& instrument : item.follow_up->instruments) {
          std::string line = instrument.mcid.empty() ? instrument.id : instrument.id + " (MCID " + instrument.mcid + ")";
          if (instrument.baseline) line += ": baseline " + DatumText(*instrument.baseline);
          if (!instrument.baseline_flag.empty()) line += (instrument.baseline ? " — " : ": ") + instrument.baseline_flag;
          out += fmt::format("        {}\n", line);
        }
      }
      if (item.cost && item.category == OptionCategory::kRegenerative) {
        std::string range;
        if (item.cost->usd_low && item.cost->usd_high) {
          range = fmt::format("${}–{}", Number(*item.cost->usd_low), Number(*item.cost->usd_high));
        } else if (item.cost->usd_low) {
          range = fmt::format("from ${}", Number(*item.cost->usd_low));
        }
        if (!range.empty() && !item.cost->per.empty()) range += " per " + item.cost->per;
        out += fmt::format("      cost: {}{}{}{}{}\n", range, range.empty() ? "" : "; ", item.cost->coverage,
                           item.cost->billing_codes.empty() ? "" : " (" + Join(item.cost->billing_codes, ", ") + ")",
                           item.cost->unverified ? " (unverified)" : "");
      }
      if (item.clinic_evidence) out += fmt::format("      {}\n", item.clinic_evidence->summary);
    }
  }

  if (!assessment.next_steps.empty()) {
    out += "\nNEXT STEPS\n";
    int number = 1;
    for (const NextStep& step : assessment.next_steps) {
      std::string condition;
      for (const AssessedCondition& assessed : assessment.conditions) {
        if (assessed.id == step.condition) condition = " — " + assessed.display;
      }
      out += fmt::format("  {}. [{}] {}{}\n", number++, step.kind, step.display, condition);
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
  if (!assessment.sources.empty()) {
    out += "\nSOURCES\n";
    for (const SourceInfo& source : assessment.sources) {
      out += fmt::format("  [{}] {}{}\n", source.id, source.reference, source.unverified ? " (unverified)" : "");
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
  return TerminalSafe(std::move(out));
}

}  // namespace regenpath::report
