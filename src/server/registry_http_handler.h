// RegistryHttpHandler: the outcomes registry over HTTP (docs/registry.md,
// "HTTP API"), beside the CDS Hooks routes (route_split_handler.h):
//
//   POST /registry                       FHIR Bundle / resource / NDJSON in;  scope system/*.write
//                                        a batch-/transaction-response Bundle or an OperationOutcome out
//   GET  /registry/reports[/{option}]    the cohort report, JSON (?group_by=,  scope system/*.read
//                                        ?from=&to= YYYY-MM-DD: only episodes
//                                        started in that period, inclusive)
//   GET  /registry/due                   the follow-up worklist, JSON          scope system/*.read
//                                        a page and its "next" cursor (null on
//                                        the last): ?page_size=1–10000 (default
//                                        1000), &cursor= the previous "next"
//   GET  /registry/evidence/{option}     the clinic's own evidence (?min_n=)   scope system/*.read
//   OPTIONS on these                     CORS preflight                        open
//
// Authentication as the CDS routes: a bearer JWT verified with the URL of
// the endpoint as audience, plus the SMART-style scope above (403 without
// it); off with --insecure-dev (the server allows that on loopback only).
// A store that is unavailable answers 503 with Retry-After (the client
// retries; nothing was written). Logs and metrics carry no patient data,
// bodies or query strings. Thread-safe.
#ifndef REGENPATH_SERVER_REGISTRY_HTTP_HANDLER_H_
#define REGENPATH_SERVER_REGISTRY_HTTP_HANDLER_H_

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "registry/instrument_catalog.h"
#include "registry/pseudonymizer.h"
#include "registry/registry_store.h"
#include "security/jwt_verifier.h"
#include "server/http_types.h"
#include "server/metrics.h"

namespace regenpath::server {

struct RegistryHttpHandlerOptions {
  std::string public_base_url;  // no trailing slash
  std::vector<std::string> cors_allowed_origins;
  size_t body_limit_bytes = 8 * 1024 * 1024;
  int min_episodes = 0;  // 0: the knowledge base's registry-min-episodes
  int retry_after_seconds = 5;
};

class RegistryHttpHandler : public HttpHandler {
 public:
  // Items of a GET /registry/due page without page_size.
  static constexpr int kDefaultDuePageSize = 1000;

  // Nothing is owned; all must outlive the handler. `verifier` null: no
  // authentication. `pseudonymizer` null: POST answers 503 (no site secret
  // configured).
  RegistryHttpHandler(RegistryHttpHandlerOptions options, registry::RegistryStore* store,
                      const registry::InstrumentCatalog* catalog, const registry::Pseudonymizer* pseudonymizer,
                      const security::JwtVerifier* verifier, Metrics* metrics, const Clock* clock);

  void set_public_base_url(std::string url) { options_.public_base_url = std::move(url); }

  // The header through which a front handler that has already authenticated
  // the user (the web app, web_http_handler.h) names the actor of the
  // registry's audit rows. Trusted only by a handler set_delegated(true),
  // which must not be reachable from the network except through that front
  // handler (it strips every client copy of the header before setting it).
  static constexpr std::string_view kDelegatedActorHeader = "X-Regenpath-Delegated-Actor";
  // With no verifier: the audit actor is the kDelegatedActorHeader value
  // (else "unknown") instead of "insecure-dev".
  void set_delegated(bool delegated) { delegated_ = delegated; }

  // Whether `path` is one of this handler's.
  static bool Owns(std::string_view path);

  std::optional<HttpResponse> OnHeader(HttpRequest& request) override;
  HttpResponse Handle(HttpRequest& request) override;
  HttpResponse OnBodyError(HttpRequest& request, TransportError error) override;
  HttpResponse OnBadFraming(HttpRequest& request, std::string_view reason) override;
  void Completed(const HttpRequest& request, int status, double seconds) override;
  void OnTransportError(TransportError error) override;

 private:
  struct RequestState;
  HttpResponse Respond(const RequestState& state, int status, std::string body,
                       std::string content_type = "application/fhir+json") const;
  HttpResponse Outcome(const RequestState& state, int status, std::string_view code, std::string_view text) const;
  HttpResponse StoreFailure(const RequestState& state, const Status& status) const;
  std::optional<HttpResponse> Authenticate(const HttpRequest& request, RequestState& state) const;
  HttpResponse Import(const HttpRequest& request, const RequestState& state);
  HttpResponse Report(const HttpRequest& request, const RequestState& state);
  HttpResponse Due(const HttpRequest& request, const RequestState& state);
  HttpResponse Evidence(const HttpRequest& request, const RequestState& state);
  std::string Today() const;
  bool OriginAllowed(const std::string& origin) const;

  RegistryHttpHandlerOptions options_;
  registry::RegistryStore* const store_;
  const registry::InstrumentCatalog* const catalog_;
  const registry::Pseudonymizer* const pseudonymizer_;
  const security::JwtVerifier* const verifier_;
  Metrics* const metrics_;
  const Clock* const clock_;
  bool delegated_ = false;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_REGISTRY_HTTP_HANDLER_H_
