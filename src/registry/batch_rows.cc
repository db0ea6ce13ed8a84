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
  auto episode_order = [](const Episode& a, const Episode& b) { return a.key < b.key; };
  auto procedure_order = [](const ProcedureRecord& a, const ProcedureRecord& b) {
    return std::tie(a.episode_key, a.date, a.key) < std::tie(b.episode_key, b.date, b.key);
  };
  auto outcome_order = [](const OutcomeRecord& a, const OutcomeRecord& b) {
    return std::tie(a.patient, a.instrument, a.date, a.key) < std::tie(b.patient, b.instrument, b.date, b.key);
  };
  auto event_order = [](const AdverseEventRecord& a, const AdverseEventRecord& b) {
    return std::tie(a.patient, a.onset, a.key) < std::tie(b.patient, b.onset, b.key);
  };
  // Each patient's (episode's) rows are sorted apart: for patients in
  // ascending order, the rows are then in order already, and the sort of
  // the whole below only checks it (any other order of `patients` is sorted
  // there).
  // (The positions are sorted, not the copied rows: a row is a handful of
  // strings, moved at every step of a sort.)
  std::vector<uint32_t> sorted;
  auto append_sorted = [&sorted](auto& rows, const auto& source, const std::vector<uint32_t>* positions, auto&& order) {
    if (positions == nullptr) return;
    // Rows alike in the order keep their batch order (the positions' own).
    auto by_row = [&](uint32_t a, uint32_t b) {
      if (order(source[a], source[b])) return true;
      return !order(source[b], source[a]) && a < b;
    };
    const std::vector<uint32_t>* in_order = positions;
    if (!std::is_sorted(positions->begin(), positions->end(), by_row)) {
      sorted = *positions;
      std::sort(sorted.begin(), sorted.end(), by_row);
      in_order = &sorted;
    }
    for (uint32_t row : *in_order) rows.push_back(source[row]);
  };
  auto sort_all = [](auto& rows, auto&& order) {
    if (!std::is_sorted(rows.begin(), rows.end(), order)) std::sort(rows.begin(), rows.end(), order);
  };
  for (const std::string& patient : patients) {
    append_sorted(cohort.episodes, batch_.episodes, rows_of(episodes_, patient), episode_order);
    append_sorted(cohort.outcomes, batch_.outcomes, rows_of(outcomes_, patient), outcome_order);
    append_sorted(cohort.adverse_events, batch_.adverse_events, rows_of(events_, patient), event_order);
  }
  sort_all(cohort.episodes, episode_order);
  for (const Episode& episode : cohort.episodes) {
    append_sorted(cohort.procedures, batch_.procedures, rows_of(procedures_, episode.key), procedure_order);
  }
  sort_all(cohort.procedures, procedure_order);
  sort_all(cohort.outcomes, outcome_order);
  sort_all(cohort.adverse_events, event_order);
  return cohort;
}

}  // namespace regenpath::registry
