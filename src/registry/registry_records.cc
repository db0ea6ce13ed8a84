#include "registry/registry_records.h"

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

}  // namespace regenpath::registry
