// CdsHttpHandler: the HTTP surface of regenpath (routes, authentication,
// CORS, media types, limits, metrics) in front of cdshooks::CdsHooksService.
//
//   GET  /cds-services                 discovery               (JWT)
//   POST /cds-services/{id}            a service call          (JWT)
//   POST /cds-services/{id}/feedback   feedback, stored        (JWT)
//   GET  /healthz                      liveness                (open)
//   GET  /metrics                      Prometheus text format  (open)
//   OPTIONS on the CDS routes          CORS preflight          (open)
//
// Every CDS route needs "Authorization: Bearer <JWT>" verified with the
// endpoint's URL (public base URL + path) as audience, unless authentication
// is off (--insecure-dev). Failures answer 401 with WWW-Authenticate and no
// reason; the reason is logged. Logs never carry bodies, query strings or
// tokens.
#ifndef REGENPATH_SERVER_CDS_HTTP_HANDLER_H_
#define REGENPATH_SERVER_CDS_HTTP_HANDLER_H_

#include <string>
#include <vector>

#include "cdshooks/cds_service.h"
#include "common/clock.h"
#include "registry/feedback_store.h"
#include "security/jwt_verifier.h"
#include "server/fallback_executor.h"
#include "server/fhir_server_allowlist.h"
#include "server/http_client.h"
#include "server/http_types.h"
#include "server/metrics.h"

namespace regenpath::server {

struct CdsHttpHandlerOptions {
  // Without a trailing slash, e.g. "https://cds.example.org".
  std::string public_base_url;
  // Exact origins, or "*" for any.
  std::vector<std::string> cors_allowed_origins;
  // Larger Content-Lengths are refused with 413 before the body is read.
  size_t body_limit_bytes = 8 * 1024 * 1024;
  // The time all FHIR reads of one CDS call may take together.
  std::chrono::milliseconds fhir_call_budget{5'000};
  // Which fhirServer each issuer may have us read; null: any (tests).
  const FhirServerAllowlist* fhir_allowlist = nullptr;
  // Where calls that need the FHIR server run; null: on the request thread.
  FallbackExecutor* fallback = nullptr;
};

class CdsHttpHandler : public HttpHandler {
 public:
  // None of the pointers is owned; all must outlive the handler. `verifier`
  // null turns authentication off. `fhir_http` may be null (no prefetch
  // fallback). `store` may be null (feedback answered 503).
  CdsHttpHandler(CdsHttpHandlerOptions options, const cdshooks::CdsHooksService* service,
                 const security::JwtVerifier* verifier, registry::FeedbackStore* store,
                 const HttpClient* fhir_http, Metrics* metrics, const Clock* clock);

  // Sets the public base URL once the port is known. Not thread-safe: call
  // before the server starts.
  void set_public_base_url(std::string url) { options_.public_base_url = std::move(url); }

  std::optional<HttpResponse> OnHeader(HttpRequest& request) override;
  HttpResponse Handle(HttpRequest& request) override;
  // A service call runs on the request thread with a FhirFetchProbe; if it
  // asked for FHIR data, it runs again on the FallbackExecutor (503 with
  // Retry-After when the executor's caps are reached), its first pages
  // fetched concurrently. Everything else is Handle.
  void HandleAsync(HttpRequest& request, std::function<void(HttpResponse)> done) override;
  HttpResponse OnBodyError(HttpRequest& request, TransportError error) override;
  HttpResponse OnBadFraming(HttpRequest& request, std::string_view reason) override;
  void Completed(const HttpRequest& request, int status, double seconds) override;
  void OnTransportError(TransportError error) override;

 private:
  struct RequestState;

  HttpResponse Respond(const RequestState& state, int status, std::string body,
                       std::string content_type = "application/json") const;
  HttpResponse Outcome(const RequestState& state, int status, std::string_view code,
                       std::string_view text) const;
  // Null when the caller may proceed (`state.issuer` then set), else the refusal.
  std::optional<HttpResponse> Authenticate(const HttpRequest& request, RequestState& state) const;
  HttpResponse Preflight(const HttpRequest& request, const RequestState& state) const;
  HttpResponse Feedback(const HttpRequest& request, const RequestState& state);
  // The HTTP response for a service call's result (a 500 is logged with its
  // correlation id, which the response carries in X-Correlation-Id too).
  HttpResponse CallResponse(const RequestState& state, cdshooks::CallResult result) const;
  bool OriginAllowed(const std::string& origin) const;

  CdsHttpHandlerOptions options_;
  const cdshooks::CdsHooksService* const service_;
  const security::JwtVerifier* const verifier_;
  registry::FeedbackStore* const store_;
  const HttpClient* const fhir_http_;
  Metrics* const metrics_;
  const Clock* const clock_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_CDS_HTTP_HANDLER_H_
