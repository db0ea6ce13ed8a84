// InstrumentCatalog: what the registry knows about each outcome instrument —
// display and LOINC from the knowledge base's `instruments`, direction,
// range, MCID and responder rules from knowledge/registry/
// instrument-scoring.yaml — and the registry's parameters (timepoint window,
// baseline window, minimum N) from the knowledge base's `parameters`.
// Immutable after Load(); thread-safe.
#ifndef REGENPATH_REGISTRY_INSTRUMENT_CATALOG_H_
#define REGENPATH_REGISTRY_INSTRUMENT_CATALOG_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::registry {

enum class Direction { kLowerIsBetter, kHigherIsBetter };

// How a QuestionnaireResponse of the instrument is scored.
enum class ScoringMethod {
  kItem,   // the answer to the single item
  kMean,   // the mean of the items (all required)
  kTable,  // the sum of the items mapped through `table` (raw sum -> score)
};

struct QuestionnaireScoring {
  std::string url;  // canonical of the Questionnaire
  ScoringMethod method = ScoringMethod::kItem;
  std::vector<std::string> items;  // linkIds
  std::vector<double> table;       // kTable: score of raw sum 0, 1, 2, ...
  // kTable: the range of each item's answer (the instrument's min/max is the
  // range of the converted score). Required for kTable.
  double item_min = 0;
  double item_max = 0;
};

struct InstrumentScoring {
  std::string id;
  std::string display;
  std::vector<std::string> loinc;  // the knowledge base's code first
  Direction direction = Direction::kLowerIsBetter;
  double min = 0;
  double max = 0;
  std::optional<double> mcid_points;
  std::optional<double> mcid_percent;
  bool immpact = false;
  std::optional<double> responder_max;  // ordinal responder (PGIC)
  std::optional<QuestionnaireScoring> questionnaire;
  std::string confidence;  // H | M | L | U
  std::string note;
};

// The coding system of instruments without a LOINC code:
// http://regenpath.org/fhir/CodeSystem/instrument, code = the instrument id.
inline constexpr std::string_view kInstrumentSystem = "http://regenpath.org/fhir/CodeSystem/instrument";
inline constexpr std::string_view kLoincSystem = "http://loinc.org";

class InstrumentCatalog {
 public:
  // From the knowledge base and the scoring YAML text. kInvalidInput naming
  // the problem (an id that is not an instrument of the knowledge base, a
  // missing field, a registry parameter absent from the knowledge base).
  static Result<std::shared_ptr<const InstrumentCatalog>> Load(std::shared_ptr<const knowledge::KnowledgeBase> kb,
                                                               std::string_view scoring_yaml);
  // The built-in knowledge base with the compiled-in scoring file.
  static Result<std::shared_ptr<const InstrumentCatalog>> Embedded();

  // nullptr when unknown.
  const InstrumentScoring* ById(std::string_view id) const;
  const InstrumentScoring* ByCoding(std::string_view system, std::string_view code) const;
  const InstrumentScoring* ByQuestionnaire(std::string_view url) const;
  const std::vector<InstrumentScoring>& instruments() const { return instruments_; }

  // Parameters (knowledge/parameters.yaml).
  double timepoint_window_fraction() const { return timepoint_window_fraction_; }
  int baseline_window_days() const { return baseline_window_days_; }
  int min_episodes() const { return min_episodes_; }

  const knowledge::KnowledgeBase& kb() const { return *kb_; }

 private:
  std::shared_ptr<const knowledge::KnowledgeBase> kb_;
  std::vector<InstrumentScoring> instruments_;
  double timepoint_window_fraction_ = 0;
  int baseline_window_days_ = 0;
  int min_episodes_ = 0;
};

// The text of knowledge/registry/instrument-scoring.yaml at build time.
std::string_view EmbeddedInstrumentScoring();

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_INSTRUMENT_CATALOG_H_
