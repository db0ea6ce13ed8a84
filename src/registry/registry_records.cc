#include "registry/registry_records.h"

#include <algorithm>

#include <array>
#include <string_view>
#include <utility>

namespace regenpath::registry {

namespace {
constexpr std::array<std::pair<AdverseEventCategory, const char*>, 6> kCategories = {{
    {AdverseEventCategory::kInfection, "infection"},
    {AdverseEventCategory::kBleeding, "bleeding"},
    {AdverseEventCategory::kSensoryDisturbance, "sensory-disturbance"},
    {AdverseEventCategory::kPostInjectionFlare, "post-injection-flare"},
    {AdverseEventCategory::kVasovagal, "vasovagal"},
    {AdverseEventCategory::kOther, "other"},
}};
}  // namespace

const char* AdverseEventCategoryCode(AdverseEventCategory category) {
  for (const auto& [value, code] : kCategories) {
    if (value == category) return code;
  }
  return "other";
}

std::optional<AdverseEventCategory> ParseAdverseEventCategory(const std::string& code) {
  for (const auto& [value, name] : kCategories) {
    if (code == name) return value;
  }
  return std::nullopt;
}

size_t RowCount(const WriteBatch& batch) {
  return batch.patients.size() + batch.episodes.size() + batch.procedures.size() + batch.outcomes.size() +
         batch.adverse_events.size();
}

std::vector<std::string> TouchedPatients(const WriteBatch& batch) {
  // Views into the batch, sorted and deduplicated, then copied once each.
  std::vector<std::string_view> views;
  views.reserve(RowCount(batch));
  // A batch lists a patient's rows together: a repeat of the row before is
  // left out before the sort (a million score rows give about 100,000 views).
  auto add = [&](std::string_view patient) {
    if (views.empty() || views.back() != patient) views.push_back(patient);
  };
  for (const auto& [pseudonym, synthetic] : batch.patients) add(pseudonym);
  for (const Episode& episode : batch.episodes) add(episode.patient);
  for (const ProcedureRecord& procedure : batch.procedures) add(procedure.patient);
  for (const OutcomeRecord& outcome : batch.outcomes) add(outcome.patient);
  for (const AdverseEventRecord& event : batch.adverse_events) add(event.patient);
  std::sort(views.begin(), views.end());
  views.erase(std::unique(views.begin(), views.end()), views.end());
  return std::vector<std::string>(views.begin(), views.end());
}

}  // namespace regenpath::registry
