// What the patient-view and order-review cards share: the card source, the
// override reasons, stage and status wording, markdown for criteria,
// evidence, holds and sources, links to citations, and the card identifiers.
//
// Cards are views of the Assessment (the engine's only seam): every clinical
// statement, stage wording and citation in a card comes from it; this layer
// never includes the knowledge base or the evaluator (style.md).
#ifndef REGENPATH_CDSHOOKS_CARD_COMMON_H_
#define REGENPATH_CDSHOOKS_CARD_COMMON_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cdshooks/card.h"
#include "engine/assessment.h"

namespace regenpath::cdshooks {

// The call a card answers (for identifiers and proposed orders).
struct CallInfo {
  std::string service_id;
  std::string hook_instance;
  std::string patient_id;
  std::string encounter_id;
};

// Longest card summary, in characters (the specification: "<140-character").
inline constexpr size_t kMaxSummaryChars = 139;

// The code system of regenpath's override reasons and card topics.
inline constexpr std::string_view kOverrideReasonSystem =
    "http://regenpath.org/fhir/CodeSystem/cds-override-reason";
inline constexpr std::string_view kTopicSystem = "http://regenpath.org/fhir/CodeSystem/cds-card-topic";

// info 0, warning 1, critical 2.
int IndicatorRank(std::string_view indicator);
// The more urgent of two indicators.
std::string_view MoreUrgent(std::string_view a, std::string_view b);

// "recommended", "consider", "not recommended", "contraindicated".
std::string StatusText(engine::RecommendationStatus status);

// Source {label: "regenpath <kb name> <version>", topic}.
CardSource MakeSource(const engine::Assessment& assessment, std::string_view topic_code,
                      std::string_view topic_display);

// Override reasons offered on a card (codes of kOverrideReasonSystem, each
// with a display, cds-resp-4). `order_review`: reasons for going ahead with
// an order; otherwise reasons for dismissing pathway guidance.
std::vector<Coding> OverrideReasons(bool order_review);

// " ⚠ *unverified*" when `unverified`, else "".
std::string UnverifiedMark(bool unverified);
// The legend explaining UnverifiedMark.
std::string UnverifiedLegend();

// Record references ("Condition/c1") as escaped markdown, at most `max`.
std::string RefsText(const engine::Refs& refs, size_t max = 6);

// "naproxen 500 MG Oral Tablet, 2024-03-02 (MedicationRequest/m1)", escaped.
std::string DatumText(const engine::Datum& datum);
// At most `max` data, "; "-separated.
std::string DataText(const engine::Data& data, size_t max = 3);

// One bullet per criterion: met / not met / unknown, the dated data behind
// it (or what was looked for), U mark, and the record's data issues on that
// data as sub-bullets.
std::string CriteriaMarkdown(const std::vector<engine::Criterion>& criteria);

// Collects the citations a card uses, for its "Sources" section and links.
class Citations {
 public:
  // The sources are resolved from `assessment` (Assessment::sources), which
  // must outlive this object.
  explicit Citations(const engine::Assessment& assessment) : assessment_(assessment) {}
  void Add(const std::string& id);
  // The sources of the knowledge-base holds behind `plan`'s medication holds.
  void AddHoldSources(const engine::ProcedurePlan& plan);
  // "**Sources**" and one bullet per cited source with its reference.
  std::string Markdown() const;
  // Absolute links for the cited sources that have a url or a doi
  // (https://doi.org/<doi>), at most `max`.
  std::vector<Link> Links(size_t max = 8) const;

 private:
  const engine::Assessment& assessment_;
  std::vector<std::string> ids_;
  std::set<std::string> seen_;
};

// A table of options with status and each source's evidence side by side
// (For | Against | Neutral), negative sources included; adds the sources to
// `citations`.
std::string EvidenceTable(const std::vector<const engine::Recommendation*>& options, Citations& citations);

// One line about the medication holds of a procedure plan, or "" when none.
std::string HoldsText(const engine::ProcedurePlan& plan);

// "Ultrasound, landmark" (escaped), or "" when none.
std::string ImageGuidanceText(const engine::ProcedurePlan& plan);

// Gives every card and suggestion its identifier (uuid.h), from the call and
// the card's position and content.
void AssignIdentifiers(std::vector<Card>& cards, const CallInfo& call);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_CARD_COMMON_H_
