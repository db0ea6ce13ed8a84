#include "registry/episode_timeline.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace regenpath::registry {

TimepointWindow WindowOf(int start_day, double weeks, double fraction) {
  double days = 7 * weeks;
  int half = std::max(1, static_cast<int>(std::lround(fraction * days)));
  int target = start_day + static_cast<int>(std::lround(days));
  return TimepointWindow{target, target - half, target + half};
}

std::optional<DayScore> BaselineOf(const std::vector<DayScore>& scores, int start_day, int baseline_days) {
  std::optional<DayScore> best;
  for (const DayScore& score : scores) {
    if (score.day > start_day) break;
    if (score.day >= start_day - baseline_days) best = score;
  }
  return best;
}

std::optional<DayScore> ScoreIn(const std::vector<DayScore>& scores, const TimepointWindow& window) {
  std::optional<DayScore> best;
  for (const DayScore& score : scores) {
    if (score.day < window.first) continue;
    if (score.day > window.last) break;
    if (!best || std::abs(score.day - window.target) < std::abs(best->day - window.target)) best = score;
  }
  return best;
}

double Improvement(const InstrumentScoring& instrument, double baseline, double follow_up) {
  return instrument.direction == Direction::kLowerIsBetter ? baseline - follow_up : follow_up - baseline;
}

std::optional<bool> McidResponder(const InstrumentScoring& instrument, double baseline, double follow_up) {
  if (!instrument.mcid_points && !instrument.mcid_percent) return std::nullopt;
  double improvement = Improvement(instrument, baseline, follow_up);
  if (instrument.mcid_points && improvement >= *instrument.mcid_points) return true;
  if (instrument.mcid_percent && baseline > 0 && improvement / baseline * 100 >= *instrument.mcid_percent) return true;
  return false;
}

bool PercentReduction(const InstrumentScoring& instrument, double baseline, double follow_up, double percent) {
  if (baseline <= 0) return false;
  return Improvement(instrument, baseline, follow_up) / baseline * 100 >= percent;
}

}  // namespace regenpath::registry
