// The calendar dates of a planned procedure (engine.h PlanDates): when each
// held drug is stopped and restarted, and the follow-up visits. Computed here
// so that renderers show dates without any clinical arithmetic.
#include <cmath>

#include "engine/engine.h"

namespace regenpath::engine {

namespace {

std::optional<std::string> DayOffset(const DateTime& date, double days) {
  std::optional<Decimal> amount = Decimal::Parse(std::to_string(static_cast<long long>(days)));
  if (!amount) return std::nullopt;
  std::optional<DateTime> moved = date.Add(*amount, CalendarUnit::kDay);
  if (!moved) return std::nullopt;
  return moved->ToString().substr(0, 10);
}

}  // namespace

void PlanDates(const DateTime& procedure_date, Assessment& assessment) {
  assessment.procedure_date = procedure_date.ToString().substr(0, 10);
  for (Recommendation& recommendation : assessment.recommendations) {
    if (recommendation.procedure) {
      for (MedicationHoldResult& hold : recommendation.procedure->medication_holds) {
        // "Hold N days before": no dose from N days before the procedure day
        // (a fractional day counts as a whole one).
        if (hold.hold_days_before && *hold.hold_days_before > 0) {
          hold.stop_on = DayOffset(procedure_date, -std::ceil(*hold.hold_days_before));
        }
        // Restarted once the hours have passed: the day they end on.
        if (hold.restart_hours_after && (!hold.hold_days_before || *hold.hold_days_before > 0)) {
          hold.restart_on = DayOffset(procedure_date, std::floor(*hold.restart_hours_after / 24.0));
        }
      }
    }
    if (recommendation.follow_up) {
      for (double week : recommendation.follow_up->schedule_weeks) {
        if (std::optional<std::string> date = DayOffset(procedure_date, std::round(week * 7))) {
          recommendation.follow_up->dates.push_back(*date);
        }
      }
    }
  }
}

}  // namespace regenpath::engine
