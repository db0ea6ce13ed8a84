// EpisodeTimeline: how the scores of a patient line up with an episode's
// follow-up schedule (docs/registry.md, "Timepoints"). Shared by the reports,
// the follow-up worklist and the clinic's evidence. Pure functions.
#ifndef REGENPATH_REGISTRY_EPISODE_TIMELINE_H_
#define REGENPATH_REGISTRY_EPISODE_TIMELINE_H_

#include <optional>
#include <vector>

#include "registry/instrument_catalog.h"
#include "registry/registry_records.h"

namespace regenpath::registry {

// A score on a day (days since 1970-01-01).
struct DayScore {
  int day = 0;
  double value = 0;
};

// The window of the timepoint `weeks` after `start_day`: start + 7·weeks ±
// fraction·7·weeks days (at least ± 1 day), inclusive.
struct TimepointWindow {
  int target = 0;
  int first = 0;
  int last = 0;
};
TimepointWindow WindowOf(int start_day, double weeks, double fraction);

// The baseline: the latest score in [start − baseline_days, start]. `scores`
// sorted by day.
std::optional<DayScore> BaselineOf(const std::vector<DayScore>& scores, int start_day, int baseline_days);
// The score of the window: the one closest to its target (the earlier on a tie).
std::optional<DayScore> ScoreIn(const std::vector<DayScore>& scores, const TimepointWindow& window);

// Improvement from baseline in the instrument's good direction (points).
double Improvement(const InstrumentScoring& instrument, double baseline, double follow_up);
// Whether the change is a responder by the instrument's MCID (points or
// percent of baseline); nullopt when the instrument has no MCID.
std::optional<bool> McidResponder(const InstrumentScoring& instrument, double baseline, double follow_up);
// Whether the reduction is at least `percent` % of baseline (IMMPACT); a
// zero baseline is never a responder.
bool PercentReduction(const InstrumentScoring& instrument, double baseline, double follow_up, double percent);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_EPISODE_TIMELINE_H_
