#include "registry/clinic_evidence.h"

#include <fmt/format.h>

#include "registry/cohort_report.h"
#include "registry/registry_facts.h"

namespace regenpath::registry {

Result<ClinicEvidence> ClinicEvidenceFor(RegistryStore& store, const InstrumentCatalog& catalog,
                                         const std::string& option_id, int min_episodes, const std::string& today,
                                         double weeks) {
  const knowledge::Option* option = catalog.kb().FindOption(option_id);
  if (option == nullptr) return Fail(InvalidArgument(fmt::format("'{}' is not an option of the knowledge base", option_id)));
  ClinicEvidence evidence;
  evidence.option_id = option_id;
  evidence.min_episodes = min_episodes > 0 ? min_episodes : catalog.min_episodes();
  if (weeks <= 0) {
    const knowledge::Parameter* parameter = catalog.kb().FindParameter("registry-evidence-timepoint");
    if (parameter == nullptr) return Fail(InvalidArgument("the knowledge base has no parameter registry-evidence-timepoint"));
    weeks = parameter->value.ToDouble();
  }
  evidence.weeks = weeks;
  RP_ASSIGN_OR_RETURN(CohortReport report, LoadCohortReport(store, catalog, option_id, GroupBy::kNone, today));
  if (report.options.empty() || report.options[0].groups.empty()) return evidence;
  // Without grouping, the option's one group holds every episode.
  evidence.synthetic = report.options[0].synthetic;
  evidence.episodes = report.options[0].groups[0].episodes;
  const GroupReport& group = report.options[0].groups[0];
  for (const InstrumentOutcomes& instrument : group.instruments) {
    const InstrumentScoring* scoring = catalog.ById(instrument.instrument);
    if (scoring == nullptr || !(scoring->mcid_points || scoring->mcid_percent)) continue;
    evidence.instrument = instrument.instrument;
    // The schedule's timepoint closest to the one asked for.
    const TimepointOutcome* best = nullptr;
    for (const TimepointOutcome& point : instrument.timepoints) {
      if (best == nullptr || std::abs(point.weeks - weeks) < std::abs(best->weeks - weeks)) best = &point;
    }
    if (best != nullptr && best->mcid) {
      evidence.weeks = best->weeks;
      evidence.responders = *best->mcid;
      evidence.lost_to_follow_up = best->lost;
    }
    break;
  }
  evidence.shown = evidence.episodes >= evidence.min_episodes && evidence.responders.p.has_value();
  if (evidence.shown) {
    evidence.summary = fmt::format(
        "this clinic{}: {} episodes of {}, {} MCID responders at {} weeks {:.0f} % (95 % CI {:.0f}–{:.0f} %, {}/{}; {} "
        "lost to follow-up) — observational registry data",
        evidence.synthetic ? " [SYNTHETIC DEMO DATA]" : "", evidence.episodes, option->display, evidence.instrument,
        evidence.weeks, *evidence.responders.p * 100, *evidence.responders.lower * 100,
        *evidence.responders.upper * 100, evidence.responders.successes, evidence.responders.n,
        evidence.lost_to_follow_up);
  }
  return evidence;
}

}  // namespace regenpath::registry
