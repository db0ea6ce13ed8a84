// Order-review cards: the safety review of a regenerative injection among the
// draft orders (order-select, order-sign).
//
// One card per (regenerative order, in-scope condition with a matching
// option); an order matching no option of an in-scope condition gets one
// card saying the record shows no indication the knowledge base covers.
// Indicator (docs/cds-hooks.md, "order-select / order-sign"):
//  - critical: a red flag, or an absolute contraindication to the option;
//  - warning: the condition is not at the regenerative-candidate stage
//    (missing conventional care or diagnostic evaluation, cancer-related
//    pain), a relative contraindication, the option not recommended by the
//    knowledge base, a missing pre-procedure check, or a medication hold to
//    arrange; also the no-indication card;
//  - info: none of these (image guidance, protocol and evidence only).
// Suggestions (selectionBehavior "any": they are independent): a draft
// ServiceRequest for each missing pre-procedure check whose missing-data id
// names a knowledge-base value set (platelet count, hemoglobin), one for each
// missing diagnostic evaluation, and on critical cards the removal of the
// draft order (recommended). Every card offers override reasons.
#ifndef REGENPATH_CDSHOOKS_ORDER_REVIEW_CARDS_H_
#define REGENPATH_CDSHOOKS_ORDER_REVIEW_CARDS_H_

#include <map>
#include <string>
#include <vector>

#include "cdshooks/card.h"
#include "cdshooks/card_common.h"
#include "cdshooks/regenerative_orders.h"
#include "common/date_time.h"
#include "engine/assessment.h"
#include "fhir/document.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::cdshooks {

// Whether the data of a pre-procedure check (a definition id of
// Procedure.pre_checks) is in the record, and which resources hold it.
struct PreCheckResult {
  bool present = false;
  engine::Refs evidence;
};
using PreChecks = std::map<std::string, PreCheckResult, std::less<>>;

// Evaluates every patient-scope pre-check of the regenerative options on
// `record` (the definitions the knowledge base lists in pre_checks).
PreChecks EvaluatePreChecks(const knowledge::KnowledgeBase& kb, const fhir::Document& record,
                            const DateTime& now);

// The cards for `orders` (identifiers are assigned later).
std::vector<Card> BuildOrderReviewCards(const std::vector<RegenerativeOrder>& orders,
                                        const engine::Assessment& assessment,
                                        const knowledge::KnowledgeBase& kb, const PreChecks& pre_checks,
                                        const CallInfo& call);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_ORDER_REVIEW_CARDS_H_
