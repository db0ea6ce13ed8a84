// FeedbackParser: reads the body of POST {baseUrl}/cds-services/{id}/feedback
// (CDS Hooks 2.0 "Feedback") and checks it against the specification and the
// CDSHooksFeedback logical model:
//  - an object with a `feedback` array (an empty array is accepted: the
//    model marks the array as always present);
//  - each item: `card` (a UUID), `outcome` accepted | overridden (cds-fb-1),
//    `acceptedSuggestions` with at least one {id: UUID} when accepted
//    (cds-fb-2), an optional `overrideReason` with a `reason` Coding (code and
//    system) and/or a `userComment` (cds-fb-3), and `outcomeTimestamp`, an
//    RFC 3339 date-time with seconds and a time-zone offset.
// Failures are kInvalidArgument naming the element and the invariant.
#ifndef REGENPATH_CDSHOOKS_FEEDBACK_PARSER_H_
#define REGENPATH_CDSHOOKS_FEEDBACK_PARSER_H_

#include <string_view>
#include <vector>

#include "cdshooks/feedback.h"
#include "common/status.h"

namespace regenpath::cdshooks {

Result<std::vector<Feedback>> ParseFeedbackBody(std::string_view service_id, std::string_view body);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_FEEDBACK_PARSER_H_
