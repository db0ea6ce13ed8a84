// The closed vocabularies of the Assessment (shared/spec/assessment.schema.json
// enums) as enum classes, with their schema spelling in one place.
//
// ToString returns the schema's word ("not-recommended"); Parse* returns
// nullopt for a word outside the vocabulary. The words themselves come from
// the knowledge base (options' base status, the pathway's status rules and
// ladders), which the loader checks; the engine parses them here.
#ifndef REGENPATH_ENGINE_VOCABULARY_H_
#define REGENPATH_ENGINE_VOCABULARY_H_

#include <optional>
#include <string_view>

namespace regenpath::engine {

// An option's status (pathway.md: recommended | consider | not-recommended |
// contraindicated).
enum class RecommendationStatus { kRecommended, kConsider, kNotRecommended, kContraindicated };

// An option's category (options-*.yaml `category`).
enum class OptionCategory { kRegenerative, kIntegrative, kConventional, kDiagnostic, kReferral };

// A contraindication's kind (clinical-facts.md §2c).
enum class ContraindicationKind { kAbsolute, kRelative };

// Which way an evidence statement points.
enum class EvidenceDirection { kFor, kAgainst, kNeutral };

// ASRA 2018 procedure bleeding-risk category.
enum class BleedingRisk { kLow, kIntermediate, kHigh };
// A follow-up instrument's baseline before a procedure: recorded (within the
// knowledge base's window), outdated (older), missing (no score), or not
// looked for (the knowledge base has no code for the instrument).
enum class BaselineStatus { kRecorded, kOutdated, kMissing, kNotLookedFor };

std::string_view ToString(RecommendationStatus status);
std::string_view ToString(OptionCategory category);
std::string_view ToString(ContraindicationKind kind);
std::string_view ToString(EvidenceDirection direction);
std::string_view ToString(BleedingRisk risk);
std::string_view ToString(BaselineStatus status);  // recorded | outdated | missing | not-looked-for

std::optional<RecommendationStatus> ParseRecommendationStatus(std::string_view text);
std::optional<OptionCategory> ParseOptionCategory(std::string_view text);
std::optional<ContraindicationKind> ParseContraindicationKind(std::string_view text);
std::optional<EvidenceDirection> ParseEvidenceDirection(std::string_view text);
std::optional<BleedingRisk> ParseBleedingRisk(std::string_view text);

// True for recommended and consider: the option is open for a shared decision.
inline bool IsOpen(RecommendationStatus status) {
  return status == RecommendationStatus::kRecommended || status == RecommendationStatus::kConsider;
}

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_VOCABULARY_H_
