// Card: the CDS Hooks 2.0 card model as plain data (spec "Card Attributes"),
// filled by the card builders and written as JSON by response_json.h.
//
// Optional fields are empty when absent; the writer omits empty strings and
// lists, so a card never carries "", [] or null (spec "Use of JSON").
#ifndef REGENPATH_CDSHOOKS_CARD_H_
#define REGENPATH_CDSHOOKS_CARD_H_

#include <string>
#include <vector>

namespace regenpath::cdshooks {

struct Coding {
  std::string system;
  std::string code;
  std::string display;
};

struct Link {
  std::string label;
  std::string url;
  std::string type = "absolute";  // absolute | smart
  std::string app_context;        // smart links: the appContext handed to the app (empty: none)
};

// A FHIR ServiceRequest to propose (a create action): an order for a test or
// a diagnostic evaluation, in draft status for the user to complete.
struct ProposedServiceRequest {
  std::vector<Coding> category;  // category[0].coding (a referral: "Patient referral")
  std::vector<Coding> codings;
  std::string text;          // code.text
  std::string patient_id;    // subject: Patient/<id>
  std::string encounter_id;  // encounter: Encounter/<id>, when known
  std::string note;          // note[0].text: why it is proposed
};

struct Action {
  std::string type;                              // create | update | delete
  std::string description;                       // required in card suggestions (cds-resp-5)
  std::vector<ProposedServiceRequest> resource;  // at most one: the resource to create
  std::string resource_id;                       // "ServiceRequest/abc" for delete
};

struct Suggestion {
  std::string label;
  std::string uuid;
  bool is_recommended = false;
  std::vector<Action> actions;
};

struct CardSource {
  std::string label;
  std::string url;
  Coding topic;  // omitted when topic.code is empty
};

struct Card {
  std::string uuid;
  std::string summary;    // < 140 characters
  std::string detail;     // GitHub-flavoured markdown
  std::string indicator;  // info | warning | critical
  CardSource source;
  std::vector<Suggestion> suggestions;
  std::string selection_behavior;  // at-most-one | any; set iff suggestions exist
  std::vector<Coding> override_reasons;
  std::vector<Link> links;
};

// One issue of an OperationOutcome returned with a 4xx status.
struct OutcomeIssue {
  std::string severity = "error";  // fatal | error | warning | information
  std::string code;         // FHIR IssueType: invalid, required, value, structure, not-found, processing...
  std::string text;         // details.text: what is wrong, for a human
  std::string diagnostics;  // more detail (optional)
  std::string expression;   // where: "context.patientId", "prefetch.conditions" (optional)
};

// A failed call: the HTTP status and the OperationOutcome's issues.
struct CallError {
  int status = 400;
  std::vector<OutcomeIssue> issues;
};

inline CallError MakeCallError(int status, std::string code, std::string text, std::string expression = {},
                               std::string diagnostics = {}) {
  CallError error;
  error.status = status;
  error.issues.push_back(
      OutcomeIssue{"error", std::move(code), std::move(text), std::move(diagnostics), std::move(expression)});
  return error;
}

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_CARD_H_
