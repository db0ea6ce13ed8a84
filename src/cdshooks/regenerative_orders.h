// RegenerativeOrders: which draft orders are regenerative injections, and
// which therapies and targets they are for — all from the knowledge base:
//  - a code equal to a billing code of a regenerative option (CPT 0232T,
//    HCPCS M0076, 0627T-0630T, 38220 ...) gives that option's therapy;
//  - membership (codes, or names in the text) of a value set named
//    "<therapy>-procedure" (prp-procedure, prolotherapy-procedure) gives the
//    therapy;
//  - membership of the "regenerative-procedures" value set alone makes the
//    order regenerative with its therapy unidentified (every regenerative
//    therapy is then reviewed);
//  - bodySite gives targets: membership of a value set "<target>-body-site"
//    (knee-body-site), or every word of the target id in the site's text or
//    display ("Structure of right knee" -> knee; "Lateral epicondyle of
//    humerus" -> lateral-epicondyle).
// For order-select only the selected orders are considered.
#ifndef REGENPATH_CDSHOOKS_REGENERATIVE_ORDERS_H_
#define REGENPATH_CDSHOOKS_REGENERATIVE_ORDERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "cdshooks/hook_request.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::cdshooks {

// The value set whose members are regenerative procedures of any therapy.
inline constexpr std::string_view kRegenerativeProceduresValueSet = "regenerative-procedures";

struct RegenerativeOrder {
  const DraftOrder* order = nullptr;   // points into the HookRequest
  std::vector<std::string> therapies;  // empty: the therapy is not identified
  std::vector<std::string> targets;    // from bodySite; empty when absent or not recognized
  bool body_site_given = false;
  std::string label;                       // one line naming the order (its text, display or code)
  std::vector<std::string> matched_codes;  // the order's codes that matched, "0232T"
};

// The regenerative orders among `request`'s draft orders (the selected ones
// for order-select), in draft order. The result points into `request`.
std::vector<RegenerativeOrder> FindRegenerativeOrders(const HookRequest& request,
                                                      const knowledge::KnowledgeBase& kb);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_REGENERATIVE_ORDERS_H_
