// CdsHooksService: the CDS Hooks 2.0 protocol of regenpath, without HTTP.
//
// Services:
//  - regenpath-patient-view (hook patient-view): one card per in-scope pain
//    condition: stage and why, red flags as critical, the best options with
//    status and evidence (GitHub-flavoured markdown), sources as links; no
//    card when nothing is in scope.
//  - regenpath-order-select / regenpath-order-sign (hooks order-select,
//    order-sign): when draftOrders holds a regenerative injection, the safety
//    review of that order: contraindications (critical), missing diagnostic
//    evaluation or conventional care (warning), medication holds for the
//    target's bleeding risk, image guidance; with suggestions,
//    selectionBehavior and overrideReasons.
// The patient's record is assembled from `prefetch` (2.0 semantics: a
// missing key was not fetched, null means no data, an OperationOutcome means
// the fetch failed; the 1.0 {response, resource} wrapper is accepted too) and,
// for what is missing, from `fhirServer` through a FhirClient with the
// `fhirAuthorization` bearer token (paging through `next` links).
//
// Immutable after Create; Call and ParseFeedback are thread-safe.
#ifndef REGENPATH_CDSHOOKS_CDS_SERVICE_H_
#define REGENPATH_CDSHOOKS_CDS_SERVICE_H_

#include <cstddef>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cdshooks/feedback.h"
#include "cdshooks/fhir_client.h"
#include "common/clock.h"
#include "common/status.h"
#include "engine/engine.h"

namespace regenpath::cdshooks {

// What one call produces, independent of HTTP: a status code and a JSON body
// (the card response; an OperationOutcome for 4xx errors).
struct CallResult {
  int status = 200;
  std::string body;
  // Set for a 500 only: the id the body names (CorrelationId) and what
  // failed, for the caller to log with it. `internal_error` is never sent.
  std::string correlation_id;
  std::string internal_error;
};

// Limits on what one call may fetch from fhirServer (docs/cds-hooks.md).
struct CdsHooksServiceOptions {
  // Pages read per prefetch query (the prefetched page counts); a query with
  // more pages makes the call 412 rather than assess an incomplete record.
  int max_pages_per_query = 20;
  // Size of the assembled record; larger makes the call 412.
  size_t max_record_bytes = size_t{64} << 20;
  // Called with each assessment after the engine ran and before the cards
  // are built, with the call's "now" (the server adds the clinic's own
  // evidence from its outcomes registry here). May be empty; must be
  // thread-safe and must not throw.
  std::function<void(engine::Assessment& assessment, const DateTime& now)> annotate;
  // The web app's SMART launch URL; not empty: patient-view condition cards
  // carry a `smart` link to it (appContext = the condition id).
  std::string smart_launch_url;
};

class CdsHooksService {
 public:
  // `engine` and `clock` must outlive the service. Fails (kInvalidArgument)
  // when either is null.
  static Result<CdsHooksService> Create(std::shared_ptr<const engine::Engine> engine, const Clock* clock);
  static Result<CdsHooksService> Create(std::shared_ptr<const engine::Engine> engine, const Clock* clock,
                                        const CdsHooksServiceOptions& options);

  // The body of GET /cds-services (id, hook, title, description, prefetch
  // templates, usageRequirements for each service).
  const std::string& Discovery() const;

  // True iff `service_id` is one of the services.
  bool HasService(std::string_view service_id) const;

  // POST /cds-services/{service_id}: 404 for an unknown service; 400 with an
  // OperationOutcome naming the problem for malformed JSON or a request that
  // breaks the spec (wrong hook for the service, missing hookInstance or
  // context, bad prefetch shapes); 412 when data the service needs is neither
  // prefetched nor obtainable from fhirServer (the body says what is
  // missing); 200 with {"cards": [...]} otherwise. `fhir` may be null (then
  // nothing is fetched). Never throws, never crashes on any input: an
  // allocation failure answers 413; any other internal exception is our
  // fault, not the caller's: 500 with a generic OperationOutcome (issue code
  // "exception") naming a fresh correlation id, and CallResult's
  // correlation_id / internal_error set for the log. Cards and suggestions carry
  // name-based UUIDs derived from the call (cdshooks/uuid.h).
  CallResult Call(std::string_view service_id, std::string_view body, FhirClient* fhir) const;

  // POST /cds-services/{service_id}/feedback: the feedback items, or a
  // failure (kNotFound for an unknown service, kInvalidArgument for a body
  // that breaks the spec, naming the problem).
  Result<std::vector<Feedback>> ParseFeedback(std::string_view service_id, std::string_view body) const;

 private:
  struct State;
  explicit CdsHooksService(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_CDS_SERVICE_H_
