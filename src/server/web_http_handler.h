// WebHttpHandler: the clinician web app (docs/web-app.md) beside the CDS
// Hooks and registry routes (route_split_handler.h):
//
//   GET  /                      302 to /app/
//   GET  /app/...               the static files of web_root (static_files.h)
//   POST /api/assess[?now=D]    a FHIR Bundle / resource / NDJSON in, the
//                               Assessment JSON out (what `regenpath assess
//                               --format json` prints; the engine of the CDS
//                               service); 400 with an OperationOutcome for a
//                               record that cannot be read or assessed
//   GET  /api/kb                the knowledge base, read-only: its FHIR export
//                               (knowledge/fhir_export.h) as
//                               {"name","version","resources":[...]}, plus the
//                               registry's instruments with MCIDs
//   POST /api/outcomes          {"identifier":{"system","value"}} or
//                               {"pseudonym":"..."} in (the patient never goes
//                               in the URL); the registry's episodes,
//                               procedures, scores and adverse events of that
//                               patient, with each episode's baseline and
//                               MCID threshold per instrument
//   GET  /api/screening         the latest population screening of the
//                               configured screening_dir (screening_result.h):
//                               {"configured":true,"available":true,"result":
//                               {summary, candidates as Patient references}};
//                               "configured":false without screening_dir,
//                               "available":false (+"reason") before a run
//                               wrote it; 500 for files screen did not write
//   GET  /api/session           {"mode":"insecure-dev"|"token"|"smart", ...}:
//                               with a SMART session also "user", "csrf_token"
//                               and "app_context"
//   GET  /app/launch, /app/launch/callback   the SMART App Launch (smart_launch.h)
//   POST /api/smart/assess      (a SMART session) the launch patient's record
//                               read from the EHR and assessed:
//                               {"assessment":{...},"record":{Bundle}}
//   *    /api/registry/...      the registry's routes (registry_http_handler.h)
//                               for the app's signed-in users; the registry
//                               audits their writes with the user this
//                               handler authenticated (the SMART fhirUser,
//                               else sub; a token's subject; "insecure-dev"
//                               in demo mode), passed in
//                               RegistryHttpHandler::kDelegatedActorHeader
//
// The app computes no clinical logic: everything it shows comes from these
// routes and the registry's (/registry/...).
//
// Authentication: with a verifier (not --insecure-dev), the /api routes need
// a SMART session cookie (writes also its X-CSRF-Token) or a bearer JWT as the
// registry routes (audience: the route's URL; scope system/*.read); the static
// files are public. Writes (POST) are refused
// (403) when an Origin header names another origin than the server's
// (CSRF), and need a JSON media type, which a cross-site form cannot send
// without a CORS preflight (none is granted here). Logs and metrics carry
// the route only: no body, no query, no patient data. Every answer carries
// StaticFiles::AddSecurityHeaders. Thread-safe.
#ifndef REGENPATH_SERVER_WEB_HTTP_HANDLER_H_
#define REGENPATH_SERVER_WEB_HTTP_HANDLER_H_

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "engine/engine.h"
#include "registry/instrument_catalog.h"
#include "registry/pseudonymizer.h"
#include "registry/registry_store.h"
#include "security/jwt_verifier.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/static_files.h"

namespace regenpath::server {

struct WebHttpHandlerOptions {
  std::string public_base_url;  // no trailing slash
  size_t body_limit_bytes = 8 * 1024 * 1024;
  std::optional<StaticFiles> files;  // nullopt: /app answers 404
  std::string screening_dir;         // empty: /api/screening answers 404
};

class WebHttpHandler : public HttpHandler {
 public:
  // Nothing is owned; all must outlive the handler. `verifier` null: no
  // authentication (--insecure-dev). `pseudonymizer` null: /api/outcomes
  // accepts only {"pseudonym"}.
  WebHttpHandler(WebHttpHandlerOptions options, std::shared_ptr<const engine::Engine> engine,
                 registry::RegistryStore* store, const registry::InstrumentCatalog* catalog,
                 const registry::Pseudonymizer* pseudonymizer, const security::JwtVerifier* verifier,
                 Metrics* metrics, const Clock* clock);

  void set_public_base_url(std::string url) { options_.public_base_url = std::move(url); }
  // Not owned. `smart` null or not enabled: no SMART launch. `registry`: an
  // unauthenticated RegistryHttpHandler that /api/registry/... is handed to
  // once this handler has authenticated the user.
  void set_smart(class SmartLaunch* smart) { smart_ = smart; }
  void set_registry(HttpHandler* registry) { registry_ = registry; }

  // Whether `path` is one of this handler's: "/", "/app", "/app/...", "/api/...".
  static bool Owns(std::string_view path);

  std::optional<HttpResponse> OnHeader(HttpRequest& request) override;
  HttpResponse Handle(HttpRequest& request) override;
  HttpResponse OnBodyError(HttpRequest& request, TransportError error) override;
  HttpResponse OnBadFraming(HttpRequest& request, std::string_view reason) override;
  void Completed(const HttpRequest& request, int status, double seconds) override;
  void OnTransportError(TransportError error) override;

 private:
  struct RequestState;
  HttpResponse Json(int status, std::string body, std::string content_type = "application/json") const;
  HttpResponse Outcome(int status, std::string_view code, std::string_view text) const;
  HttpResponse Assess(const HttpRequest& request) const;
  HttpResponse KnowledgeBase() const;
  HttpResponse Outcomes(const HttpRequest& request) const;
  HttpResponse Launch(const HttpRequest& request) const;
  HttpResponse Callback(const HttpRequest& request) const;
  HttpResponse Session(const HttpRequest& request) const;
  HttpResponse Screening() const;
  HttpResponse SmartAssess(const HttpRequest& request) const;
  // `actor` (if not null) receives the authenticated user: the SMART
  // session's fhirUser (else sub), the bearer token's subject (else issuer),
  // or "insecure-dev" with no authentication.
  std::optional<HttpResponse> Authenticate(const HttpRequest& request, std::string_view label, bool write,
                                           std::string* actor = nullptr) const;

  WebHttpHandlerOptions options_;
  std::shared_ptr<const engine::Engine> engine_;
  registry::RegistryStore* const store_;
  const registry::InstrumentCatalog* const catalog_;
  const registry::Pseudonymizer* const pseudonymizer_;
  const security::JwtVerifier* const verifier_;
  Metrics* const metrics_;
  const Clock* const clock_;
  std::string kb_json_;  // built once
  class SmartLaunch* smart_ = nullptr;
  HttpHandler* registry_ = nullptr;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_WEB_HTTP_HANDLER_H_
