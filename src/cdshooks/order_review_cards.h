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
// ServiceRequest for each missing pre-procedure check the assessment gives an
// order code (platelet count, hemoglobin), one for each diagnostic evaluation
// among the condition's next steps, and on critical cards the removal of the
// draft order (recommended). Every card offers override reasons. The cards
// read only the Assessment.
#ifndef REGENPATH_CDSHOOKS_ORDER_REVIEW_CARDS_H_
#define REGENPATH_CDSHOOKS_ORDER_REVIEW_CARDS_H_

#include <map>
#include <string>
#include <vector>

#include "cdshooks/card.h"
#include "cdshooks/card_common.h"
#include "cdshooks/regenerative_orders.h"
#include "engine/assessment.h"

namespace regenpath::cdshooks {

// The cards for `orders` (identifiers are assigned later).
std::vector<Card> BuildOrderReviewCards(const std::vector<RegenerativeOrder>& orders,
                                        const engine::Assessment& assessment, const CallInfo& call);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_ORDER_REVIEW_CARDS_H_
