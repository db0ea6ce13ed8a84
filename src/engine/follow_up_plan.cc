// An option's follow-up plan: its instruments with their MCID and the
// baseline each has in the record before the procedure (Assessor, see
// assessor.h). Whether a baseline counts is decided here, from the knowledge
// base's window (pathway.baseline), so that renderers only show it.
#include <fmt/format.h>

#include <cmath>

#include "engine/assessor.h"

namespace regenpath::engine {

namespace {

// "YYYY-MM-DD" of `date` moved back by `days`, or "" when it cannot be computed.
std::string DaysBefore(const DateTime& date, double days) {
  std::optional<Decimal> amount = Decimal::Parse(std::to_string(-static_cast<long long>(std::ceil(days))));
  if (!amount) return "";
  std::optional<DateTime> moved = date.Add(*amount, CalendarUnit::kDay);
  return moved ? moved->ToString().substr(0, 10) : "";
}

}  // namespace

FollowUpPlan Assessor::PlanFollowUp(const knowledge::FollowUp& follow_up) {
  FollowUpPlan plan;
  for (const std::string& instrument_id : follow_up.instruments) {
    if (auto cached = follow_up_cache_.find(instrument_id); cached != follow_up_cache_.end()) {
      plan.instruments.push_back(cached->second);
      continue;
    }
    const knowledge::Instrument* instrument = kb_.FindInstrument(instrument_id);
    if (instrument == nullptr) continue;
    FollowUpInstrument entry;
    entry.id = instrument->id;
    entry.loinc = instrument->loinc;
    entry.mcid = instrument->mcid;
    entry.display = instrument->display;
    JudgeBaseline(*instrument, entry);
    follow_up_cache_.emplace(instrument_id, entry);
    plan.instruments.push_back(std::move(entry));
    if (instrument->confidence == knowledge::Confidence::kU) {
      NoteUnverified(fmt::format("instrument {}", instrument->display));
    }
  }
  plan.schedule_weeks = follow_up.schedule_weeks;
  return plan;
}

void Assessor::JudgeBaseline(const knowledge::Instrument& instrument, FollowUpInstrument& entry) {
  const knowledge::BaselineWords& words = kb_.pathway().baseline;
  const knowledge::Definition* scores =
      instrument.baseline.empty() ? nullptr : kb_.FindDefinition(instrument.baseline);
  if (scores == nullptr) {
    entry.baseline_status = BaselineStatus::kNotLookedFor;
    entry.baseline_flag = FillTemplate(words.not_looked_for, {{"instrument", instrument.display}});
    return;
  }
  // A condition-scoped baseline is judged again for each condition.
  if (scores->scope == knowledge::DefinitionScope::kCondition) follow_up_cache_per_condition_ = true;
  Refs refs;
  Data data;
  data_.Append(evaluator_.InCondition(*scores), refs, data);
  // The baseline is the latest dated score.
  const Datum* latest = nullptr;
  for (const Datum& datum : data) {
    if (!datum.date) continue;
    if (latest == nullptr || datum.date->substr(0, 10) >= latest->date->substr(0, 10)) latest = &datum;
  }
  if (latest == nullptr) {
    entry.baseline_status = BaselineStatus::kMissing;
    entry.baseline_flag = FillTemplate(words.missing, {{"instrument", instrument.display}});
    return;
  }
  entry.baseline = *latest;
  entry.baseline_status = BaselineStatus::kRecorded;
  const knowledge::Parameter* window = kb_.FindParameter(words.window);
  if (window == nullptr) return;
  if (window->confidence == knowledge::Confidence::kU) {
    NoteUnverified(fmt::format("parameter '{}' = {}", window->id, window->ValueText()));
  }
  // Before the planned procedure, or before today when no date is given.
  const DateTime& reference = procedure_date_ ? *procedure_date_ : evaluator_.now();
  const std::string cutoff = DaysBefore(reference, window->value.ToDouble());
  if (!cutoff.empty() && latest->date->substr(0, 10) < cutoff) {
    entry.baseline_status = BaselineStatus::kOutdated;
    entry.baseline_flag = FillTemplate(
        words.outdated, {{"instrument", instrument.display},
                         {"date", latest->date->substr(0, 10)},
                         {"value", latest->value.value_or("")},
                         {"window", window->ValueText()},
                         {"reference", reference.ToString().substr(0, 10)}});
  }
}

void Assessor::NoteMissingBaselines(Recommendation& recommendation) {
  const knowledge::BaselineWords& words = kb_.pathway().baseline;
  if (words.missing_id.empty() || !recommendation.follow_up) return;
  for (const FollowUpInstrument& instrument : recommendation.follow_up->instruments) {
    const bool missing = instrument.baseline_status == BaselineStatus::kMissing;
    if (!missing && instrument.baseline_status != BaselineStatus::kOutdated) continue;
    MissingDataItem item;
    item.id = FillTemplate(words.missing_id, {{"id", instrument.id}});
    item.display = FillTemplate(words.missing_display, {{"instrument", instrument.display}});
    item.title = item.display;
    recommendation.missing_data.push_back(item);
    if (missing_steps_.find(item.id) == missing_steps_.end()) {
      std::string step = FillTemplate(words.missing_step, {{"instrument", instrument.display}});
      if (!missing && instrument.baseline) {
        const knowledge::Parameter* window = kb_.FindParameter(words.window);
        const DateTime& reference = procedure_date_ ? *procedure_date_ : evaluator_.now();
        step = FillTemplate(words.outdated_step,
                            {{"instrument", instrument.display},
                             {"date", instrument.baseline->date.value_or("").substr(0, 10)},
                             {"value", instrument.baseline->value.value_or("")},
                             {"window", window != nullptr ? window->ValueText() : ""},
                             {"reference", reference.ToString().substr(0, 10)}});
      }
      missing_steps_[item.id] = std::move(step);
    }
    AddMissing(item);
  }
}

}  // namespace regenpath::engine
