#include "registry/registry_records.h"

#include <algorithm>

#include <array>
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

std::vector<std::string> TouchedPatients(const WriteBatch& batch) {
  std::vector<std::string> patients;
  patients.reserve(batch.patients.size() + batch.episodes.size());
  for (const auto& [pseudonym, synthetic] : batch.patients) patients.push_back(pseudonym);
  for (const Episode& episode : batch.episodes) patients.push_back(episode.patient);
  for (const ProcedureRecord& procedure : batch.procedures) patients.push_back(procedure.patient);
  for (const OutcomeRecord& outcome : batch.outcomes) patients.push_back(outcome.patient);
  for (const AdverseEventRecord& event : batch.adverse_events) patients.push_back(event.patient);
  std::sort(patients.begin(), patients.end());
  patients.erase(std::unique(patients.begin(), patients.end()), patients.end());
  return patients;
}

}  // namespace regenpath::registry
