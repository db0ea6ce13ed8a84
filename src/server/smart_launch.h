// SmartLaunch: the web app as a SMART App Launch 2.0 client (docs/web-app.md,
// "SMART App Launch"), with the server as the confidential end of a public
// client: the authorization code with PKCE (S256) is exchanged by the server,
// the access token never reaches the browser, and the browser gets only a
// session cookie.
//
//   EHR launch:        GET /app/launch?iss=<FHIR base>&launch=<opaque>
//                      scope "launch openid fhirUser patient/*.read"
//   standalone launch: GET /app/launch?iss=<FHIR base>
//                      scope "launch/patient openid fhirUser patient/*.read"
//   both:              302 to the EHR's authorization_endpoint (read from
//                      <iss>/.well-known/smart-configuration); the EHR sends
//                      the browser back to GET /app/launch/callback?code&state.
//
// `iss` must be one of the configured FHIR bases (smart.issuers), so the
// server never fetches from or redirects to a place an attacker names.
// `state` is 256 random bits, used once, valid for 10 minutes (at most 10,000
// launches wait for their callback at once; beyond, kUnavailable). The token
// response must name a patient and carry an id_token whose `fhirUser` (or
// `sub`) becomes the session's user; it is received directly from the token
// endpoint (OpenID Connect Core 3.1.3.7: TLS authenticates the issuer there)
// and its `aud` must be the client id; its signature and `iss` are not checked.
//
// Sessions: 256-bit random ids in the cookie `rp_session` (HttpOnly; Secure;
// SameSite=Strict; Path=/), each with its own CSRF token that the page reads
// from /api/session and sends as X-CSRF-Token on every write. Kept in
// memory (lost at restart), expired after `session_lifetime`. Nothing of them
// is logged. Thread-safe.
#ifndef REGENPATH_SERVER_SMART_LAUNCH_H_
#define REGENPATH_SERVER_SMART_LAUNCH_H_

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/http_client.h"

namespace regenpath::server {

struct SmartOptions {
  std::string client_id;             // smart.client_id; empty: SMART launch off
  std::vector<std::string> issuers;  // smart.issuers: FHIR base URLs allowed as `iss`
  std::chrono::seconds session_lifetime{8 * 3600};
};

struct SmartSession {
  std::string id;          // the cookie value
  std::string csrf_token;  // sent back as X-CSRF-Token on writes
  std::string user;        // fhirUser, else sub
  std::string fhir_base;   // the issuer's FHIR base
  std::string access_token;
  std::string patient;      // the launch context's Patient id
  std::string app_context;  // the launch's appContext (e.g. a condition id), may be empty
  std::chrono::steady_clock::time_point expires;
};

class SmartLaunch {
 public:
  // `client` (not owned) reads the SMART configuration, the token endpoint
  // and the FHIR record.
  SmartLaunch(SmartOptions options, const HttpClient* client)
      : options_(std::move(options)), client_(client) {}

  bool enabled() const { return !options_.client_id.empty() && client_ != nullptr; }

  // The URL of the EHR's authorization endpoint to redirect to.
  // kInvalidArgument for an `iss` not allowed; kUnavailable when the SMART
  // configuration cannot be read.
  Result<std::string> Begin(const std::string& iss, const std::string& launch,
                            const std::string& redirect_uri);

  // Exchanges the code; the new session. kInvalidArgument for an unknown or
  // used state, kUnavailable / kInvalidInput for the token endpoint's failures.
  Result<SmartSession> Complete(const std::string& code, const std::string& state,
                                const std::string& redirect_uri);

  // The session of a Cookie header, if any and not expired.
  std::optional<SmartSession> Find(const std::string* cookie_header) const;

  // The patient's record from the EHR's FHIR server (Patient/{id}/$everything,
  // following `next` links up to 20 pages) as one collection Bundle.
  Result<std::string> ReadRecord(const SmartSession& session) const;

  // "rp_session=<id>; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=..."
  std::string CookieFor(const SmartSession& session) const;

 private:
  struct Pending {
    std::string iss;
    std::string verifier;
    std::string token_endpoint;
    std::chrono::steady_clock::time_point expires;
  };
  void Expire() const;

  SmartOptions options_;
  const HttpClient* client_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Pending> pending_;
  mutable std::map<std::string, SmartSession> sessions_;
};

// 32 random bytes (OpenSSL RAND_bytes), base64url.
std::string RandomToken();
// The PKCE S256 challenge of `verifier`.
std::string PkceChallenge(const std::string& verifier);
// Percent-encodes a query component (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view text);
// Decodes a query component ('+' is a space).
std::string UrlDecode(std::string_view text);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_SMART_LAUNCH_H_
