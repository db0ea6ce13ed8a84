#include "registry/batch_rows.h"

#include <algorithm>
#include <tuple>

namespace regenpath::registry {

BatchRows::BatchRows(const WriteBatch& batch) : batch_(batch) {
  for (uint32_t index = 0; index < batch.episodes.size(); ++index) {
    episodes_[batch.episodes[index].patient].push_back(index);
  }
  for (uint32_t index = 0; index < batch.procedures.size(); ++index) {
    procedures_[batch.procedures[index].episode_key].push_back(index);
  }
  for (uint32_t index = 0; index < batch.outcomes.size(); ++index) {
    outcomes_[batch.outcomes[index].patient].push_back(index);
  }
  for (uint32_t index = 0; index < batch.adverse_events.size(); ++index) {
    events_[batch.adverse_events[index].patient].push_back(index);
  }
}

Cohort BatchRows::Of(const std::vector<std::string>& patients) const {
  Cohort cohort;
  auto rows_of = [](const Index& index, std::string_view key) -> const std::vector<uint32_t>* {
    auto found = index.find(key);
    return found == index.end() ? nullptr : &found->second;
  };
  for (const std::string& patient : patients) {
    if (const auto* rows = rows_of(episodes_, patient)) {
      for (uint32_t row : *rows) cohort.episodes.push_back(batch_.episodes[row]);
    }
    if (const auto* rows = rows_of(outcomes_, patient)) {
      for (uint32_t row : *rows) cohort.outcomes.push_back(batch_.outcomes[row]);
    }
    if (const auto* rows = rows_of(events_, patient)) {
      for (uint32_t row : *rows) cohort.adverse_events.push_back(batch_.adverse_events[row]);
    }
  }
  for (const Episode& episode : cohort.episodes) {
    if (const auto* rows = rows_of(procedures_, episode.key)) {
      for (uint32_t row : *rows) cohort.procedures.push_back(batch_.procedures[row]);
    }
  }
  std::sort(cohort.episodes.begin(), cohort.episodes.end(),
            [](const Episode& a, const Episode& b) { return a.key < b.key; });
  std::sort(cohort.procedures.begin(), cohort.procedures.end(), [](const ProcedureRecord& a, const ProcedureRecord& b) {
    return std::tie(a.episode_key, a.date, a.key) < std::tie(b.episode_key, b.date, b.key);
  });
  std::sort(cohort.outcomes.begin(), cohort.outcomes.end(), [](const OutcomeRecord& a, const OutcomeRecord& b) {
    return std::tie(a.patient, a.instrument, a.date, a.key) < std::tie(b.patient, b.instrument, b.date, b.key);
  });
  std::sort(cohort.adverse_events.begin(), cohort.adverse_events.end(),
            [](const AdverseEventRecord& a, const AdverseEventRecord& b) {
              return std::tie(a.patient, a.onset, a.key) < std::tie(b.patient, b.onset, b.key);
            });
  return cohort;
}

}  // namespace regenpath::registry
