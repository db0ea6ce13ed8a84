// The schema words of the Assessment's closed vocabularies (vocabulary.h).
#include "engine/vocabulary.h"

#include <array>
#include <utility>

namespace regenpath::engine {

namespace {

template <typename Enum, size_t N>
using Words = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Words<RecommendationStatus, 4> kStatuses{{{RecommendationStatus::kRecommended, "recommended"},
                                                    {RecommendationStatus::kConsider, "consider"},
                                                    {RecommendationStatus::kNotRecommended, "not-recommended"},
                                                    {RecommendationStatus::kContraindicated, "contraindicated"}}};
constexpr Words<OptionCategory, 5> kCategories{{{OptionCategory::kRegenerative, "regenerative"},
                                                {OptionCategory::kIntegrative, "integrative"},
                                                {OptionCategory::kConventional, "conventional"},
                                                {OptionCategory::kDiagnostic, "diagnostic"},
                                                {OptionCategory::kReferral, "referral"}}};
constexpr Words<ContraindicationKind, 2> kKinds{
    {{ContraindicationKind::kAbsolute, "absolute"}, {ContraindicationKind::kRelative, "relative"}}};
constexpr Words<EvidenceDirection, 3> kDirections{{{EvidenceDirection::kFor, "for"},
                                                   {EvidenceDirection::kAgainst, "against"},
                                                   {EvidenceDirection::kNeutral, "neutral"}}};
constexpr Words<BaselineStatus, 4> kBaselines{{{BaselineStatus::kRecorded, "recorded"},
                                               {BaselineStatus::kOutdated, "outdated"},
                                               {BaselineStatus::kMissing, "missing"},
                                               {BaselineStatus::kNotLookedFor, "not-looked-for"}}};
constexpr Words<BleedingRisk, 3> kRisks{
    {{BleedingRisk::kLow, "low"}, {BleedingRisk::kIntermediate, "intermediate"}, {BleedingRisk::kHigh, "high"}}};

template <typename Enum, size_t N>
std::string_view Word(const Words<Enum, N>& words, Enum value) {
  for (const auto& [item, word] : words) {
    if (item == value) return word;
  }
  return "";
}

template <typename Enum, size_t N>
std::optional<Enum> Find(const Words<Enum, N>& words, std::string_view text) {
  for (const auto& [item, word] : words) {
    if (word == text) return item;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(RecommendationStatus status) { return Word(kStatuses, status); }
std::string_view ToString(OptionCategory category) { return Word(kCategories, category); }
std::string_view ToString(ContraindicationKind kind) { return Word(kKinds, kind); }
std::string_view ToString(EvidenceDirection direction) { return Word(kDirections, direction); }
std::string_view ToString(BleedingRisk risk) { return Word(kRisks, risk); }
std::string_view ToString(BaselineStatus status) { return Word(kBaselines, status); }

std::optional<RecommendationStatus> ParseRecommendationStatus(std::string_view text) { return Find(kStatuses, text); }
std::optional<OptionCategory> ParseOptionCategory(std::string_view text) { return Find(kCategories, text); }
std::optional<ContraindicationKind> ParseContraindicationKind(std::string_view text) { return Find(kKinds, text); }
std::optional<EvidenceDirection> ParseEvidenceDirection(std::string_view text) { return Find(kDirections, text); }
std::optional<BleedingRisk> ParseBleedingRisk(std::string_view text) { return Find(kRisks, text); }

}  // namespace regenpath::engine
