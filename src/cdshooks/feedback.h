// Feedback: what a CDS client reports about a card (CDS Hooks 2.0
// "Feedback"): accepted, or overridden with an optional reason.
#ifndef REGENPATH_CDSHOOKS_FEEDBACK_H_
#define REGENPATH_CDSHOOKS_FEEDBACK_H_

#include <optional>
#include <string>
#include <vector>

namespace regenpath::cdshooks {

struct OverrideReason {
  std::string code;
  std::string system;
  std::string display;
  std::string user_comment;
};

struct Feedback {
  std::string service_id;
  std::string card;                               // the card's uuid
  std::string outcome;                            // accepted | overridden
  std::string outcome_timestamp;                  // as sent (an instant)
  std::vector<std::string> accepted_suggestions;  // suggestion uuids
  std::optional<OverrideReason> override_reason;
  std::string raw_json;  // the feedback item as received, for the record
};

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_FEEDBACK_H_
