#include "registry/report_format.h"

#include <fmt/format.h>

#include "common/csv_field.h"
#include "common/json_string.h"
#include "common/terminal_text.h"

namespace regenpath::registry {

namespace {

std::string Number(const std::optional<double>& value) { return value ? fmt::format("{}", *value) : "null"; }

std::string ProportionJson(const std::optional<Proportion>& proportion) {
  if (!proportion) return "null";
  return fmt::format(R"({{"successes":{},"n":{},"p":{},"lower":{},"upper":{}}})", proportion->successes, proportion->n,
                     Number(proportion->p), Number(proportion->lower), Number(proportion->upper));
}

std::string Percent(const std::optional<Proportion>& proportion) {
  if (!proportion || !proportion->p) return "–";
  return fmt::format("{:.0f} % ({:.0f}–{:.0f} %, {}/{})", *proportion->p * 100, *proportion->lower * 100,
                     *proportion->upper * 100, proportion->successes, proportion->n);
}

const char* DirectionName(Direction direction) {
  return direction == Direction::kLowerIsBetter ? "lower-is-better" : "higher-is-better";
}

std::string CsvNumber(const std::optional<double>& value) { return value ? fmt::format("{}", *value) : ""; }

}  // namespace

std::string CohortReportJson(const CohortReport& report) {
  std::string out = R"({"observational":true,"today":)";
  AppendJsonString(report.today, out);
  out += R"(,"group_by":)";
  AppendJsonString(report.group_by, out);
  out += R"(,"options":[)";
  for (size_t o = 0; o < report.options.size(); ++o) {
    const OptionReport& option = report.options[o];
    if (o > 0) out += ",";
    out += R"({"option":)";
    AppendJsonString(option.option_id, out);
    out += R"(,"display":)";
    AppendJsonString(option.display, out);
    out += R"(,"therapy":)";
    AppendJsonString(option.therapy, out);
    out += R"(,"target":)";
    AppendJsonString(option.target, out);
    out += fmt::format(R"(,"synthetic":{},"groups":[)", option.synthetic ? "true" : "false");
    for (size_t g = 0; g < option.groups.size(); ++g) {
      const GroupReport& group = option.groups[g];
      if (g > 0) out += ",";
      out += R"({"group":)";
      AppendJsonString(group.group, out);
      out += fmt::format(R"(,"episodes":{},"patients":{},"instruments":[)", group.episodes, group.patients);
      for (size_t i = 0; i < group.instruments.size(); ++i) {
        const InstrumentOutcomes& instrument = group.instruments[i];
        if (i > 0) out += ",";
        out += R"({"instrument":)";
        AppendJsonString(instrument.instrument, out);
        out += R"(,"display":)";
        AppendJsonString(instrument.display, out);
        out += fmt::format(R"(,"direction":"{}","confidence":)", DirectionName(instrument.direction));
        AppendJsonString(instrument.confidence, out);
        out += R"(,"timepoints":[)";
        for (size_t t = 0; t < instrument.timepoints.size(); ++t) {
          const TimepointOutcome& point = instrument.timepoints[t];
          if (t > 0) out += ",";
          out += fmt::format(
              R"({{"weeks":{},"due":{},"observed":{},"lost_to_follow_up":{},"without_baseline":{},)"
              R"("change":{{"n":{},"mean":{},"sd":{},"lower":{},"upper":{}}},"mcid":{},"immpact30":{},"immpact50":{},"ordinal_responders":{}}})",
              point.weeks, point.due, point.observed, point.lost, point.without_baseline, point.change.n,
              Number(point.change.mean), Number(point.change.sd), Number(point.change.lower), Number(point.change.upper),
              ProportionJson(point.mcid), ProportionJson(point.immpact30), ProportionJson(point.immpact50),
              ProportionJson(point.ordinal));
        }
        out += "]}";
      }
      out += R"(],"adverse_events":[)";
      for (size_t a = 0; a < group.adverse_events.size(); ++a) {
        const AdverseEventRate& rate = group.adverse_events[a];
        if (a > 0) out += ",";
        out += R"({"category":)";
        AppendJsonString(rate.category, out);
        out += fmt::format(R"(,"events":{},"episodes":{}}})", rate.events, ProportionJson(rate.episodes));
      }
      out += R"(],"survival":[)";
      for (size_t s = 0; s < group.survival.size(); ++s) {
        const SurvivalCurve& curve = group.survival[s];
        if (s > 0) out += ",";
        out += R"({"endpoint":)";
        AppendJsonString(curve.endpoint, out);
        if (!curve.instrument.empty()) {
          out += R"(,"instrument":)";
          AppendJsonString(curve.instrument, out);
        }
        out += fmt::format(R"(,"subjects":{},"events":{},"time_unit":"days","steps":[)", curve.subjects, curve.events);
        for (size_t k = 0; k < curve.steps.size(); ++k) {
          const SurvivalStep& step = curve.steps[k];
          if (k > 0) out += ",";
          out += fmt::format(R"({{"time":{},"at_risk":{},"events":{},"survival":{},"lower":{},"upper":{}}})", step.time,
                             step.at_risk, step.events, step.survival, Number(step.lower), Number(step.upper));
        }
        out += "]}";
      }
      out += "]}";
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string CohortReportText(const CohortReport& report) {
  std::string out = fmt::format("Outcomes registry, as of {} — observational data, not a trial.\n", report.today);
  if (report.options.empty()) out += "No episodes recorded.\n";
  for (const OptionReport& option : report.options) {
    out += fmt::format("\n{} ({}){}\n", option.display, option.option_id,
                       option.synthetic ? "  [SYNTHETIC DEMO DATA]" : "");
    for (const GroupReport& group : option.groups) {
      if (report.group_by != "none") out += fmt::format("  {} = {}\n", report.group_by, group.group);
      out += fmt::format("  {} episodes, {} patients\n", group.episodes, group.patients);
      for (const InstrumentOutcomes& instrument : group.instruments) {
        out += fmt::format("  {} ({}, confidence {})\n", instrument.display, DirectionName(instrument.direction),
                           instrument.confidence);
        for (const TimepointOutcome& point : instrument.timepoints) {
          std::string line = fmt::format("    week {:>3}: n {} of {} due, {} lost to follow-up", point.weeks,
                                         point.observed - point.without_baseline, point.due, point.lost);
          if (point.change.mean) {
            line += fmt::format("; change {:+.2f}", *point.change.mean);
            if (point.change.lower) line += fmt::format(" (95 % CI {:+.2f} to {:+.2f})", *point.change.lower, *point.change.upper);
          }
          if (point.mcid) line += "; MCID responders " + Percent(point.mcid);
          if (point.immpact30) line += "; ≥30 % " + Percent(point.immpact30);
          if (point.immpact50) line += "; ≥50 % " + Percent(point.immpact50);
          if (point.ordinal) line += "; responders " + Percent(point.ordinal);
          if (point.without_baseline > 0) line += fmt::format("; {} without baseline", point.without_baseline);
          out += line + "\n";
        }
      }
      out += "  Adverse events (episodes with ≥ 1):";
      for (const AdverseEventRate& rate : group.adverse_events) {
        if (rate.events > 0 || rate.category == "any") out += fmt::format(" {} {};", rate.category, Percent(rate.episodes));
      }
      out += "\n";
      for (const SurvivalCurve& curve : group.survival) {
        out += fmt::format("  Time to {}{}: {} events among {}", curve.endpoint,
                           curve.instrument.empty() ? "" : " (" + curve.instrument + ")", curve.events, curve.subjects);
        // The estimate at one year: the last step at or before day 365.
        const SurvivalStep* year = nullptr;
        for (const SurvivalStep& step : curve.steps) {
          if (step.time <= 365) year = &step;
        }
        if (year != nullptr) {
          out += fmt::format("; S(1 year) = {:.2f}", year->survival);
          if (year->lower) out += fmt::format(" (95 % CI {:.2f}–{:.2f})", *year->lower, *year->upper);
        } else if (!curve.steps.empty() || curve.subjects > 0) {
          out += "; S(1 year) = 1.00";
        }
        out += "\n";
      }
    }
  }
  return TerminalSafe(std::move(out));
}

std::string CohortReportCsv(const CohortReport& report) {
  std::string out = "option,group,synthetic,section,instrument,time,measure,n,value,lower,upper\n";
  for (const OptionReport& option : report.options) {
    for (const GroupReport& group : option.groups) {
      std::string prefix = fmt::format("{},{},{}", CsvField(option.option_id), CsvField(group.group),
                                       option.synthetic ? 1 : 0);
      for (const InstrumentOutcomes& instrument : group.instruments) {
        for (const TimepointOutcome& point : instrument.timepoints) {
          std::string head =
              fmt::format("{},outcome,{},{}", prefix, CsvField(instrument.instrument), point.weeks);
          out += fmt::format("{},due,{},,,\n", head, point.due);
          out += fmt::format("{},lost_to_follow_up,{},,,\n", head, point.lost);
          out += fmt::format("{},mean_change,{},{},{},{}\n", head, point.change.n, CsvNumber(point.change.mean),
                             CsvNumber(point.change.lower), CsvNumber(point.change.upper));
          for (const auto& [name, proportion] :
               {std::pair{"mcid_responders", &point.mcid}, std::pair{"immpact30_responders", &point.immpact30},
                std::pair{"immpact50_responders", &point.immpact50}, std::pair{"ordinal_responders", &point.ordinal}}) {
            if (!*proportion) continue;
            out += fmt::format("{},{},{},{},{},{}\n", head, name, (*proportion)->n, CsvNumber((*proportion)->p),
                               CsvNumber((*proportion)->lower), CsvNumber((*proportion)->upper));
          }
        }
      }
      for (const AdverseEventRate& rate : group.adverse_events) {
        out += fmt::format("{},adverse_event,,,{},{},{},{},{}\n", prefix, CsvField(rate.category),
                           rate.episodes.n, CsvNumber(rate.episodes.p), CsvNumber(rate.episodes.lower),
                           CsvNumber(rate.episodes.upper));
      }
      for (const SurvivalCurve& curve : group.survival) {
        for (const SurvivalStep& step : curve.steps) {
          out += fmt::format("{},survival,{},{},{},{},{},{},{}\n", prefix, CsvField(curve.instrument),
                             step.time, CsvField(curve.endpoint), step.at_risk, step.survival,
                             CsvNumber(step.lower), CsvNumber(step.upper));
        }
      }
    }
  }
  return out;
}

}  // namespace regenpath::registry
