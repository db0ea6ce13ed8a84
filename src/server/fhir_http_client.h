// FhirHttpClient: cdshooks::FhirClient over an HttpClient (the EHR's FHIR
// server, for data the prefetch lacks). One is made per CDS call with that
// call's deadline: the service may fetch several queries one after the
// other, and together they must not outlast the budget (each request is also
// bounded by the client's own timeout). Redirects are not followed (a 3xx is
// kUnavailable), so the bearer token only ever goes to the fhirServer the
// request named. The fhirServer must be on the allowlist for the caller's
// issuer (CheckServer); the HttpClient itself refuses internal addresses
// (HttpClientOptions::public_addresses_only). Failure messages carry the
// status or the host, never the URL (it holds patient ids) nor the token;
// each failure is logged at info level the same way.
#ifndef REGENPATH_SERVER_FHIR_HTTP_CLIENT_H_
#define REGENPATH_SERVER_FHIR_HTTP_CLIENT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cdshooks/fhir_client.h"
#include "server/fhir_server_allowlist.h"
#include "server/http_client.h"

namespace regenpath::server {

class FhirHttpClient : public cdshooks::FhirClient {
 public:
  // `http` and `allowlist` are not owned and must outlive this client;
  // `allowlist` null allows every server (tests). `issuer` is the caller's
  // (empty without authentication).
  explicit FhirHttpClient(const HttpClient* http, HttpClient::Deadline deadline = HttpClient::Deadline::max(),
                          const FhirServerAllowlist* allowlist = nullptr, std::string issuer = "")
      : http_(http), deadline_(deadline), allowlist_(allowlist), issuer_(std::move(issuer)) {}
  Result<std::string> Get(const std::string& url, const std::string& bearer_token) override;
  // kInvalidArgument unless the allowlist allows `fhir_server` for the issuer.
  Status CheckServer(const std::string& fhir_server) override;

  // GETs `urls` now, concurrently (HttpClient::GetMany), with the token;
  // later Gets of one of them with the same token are answered from what was
  // read (once each). The independent first pages of a call's queries go
  // out together this way. Not thread-safe (one client serves one call).
  void Prefetch(const std::vector<std::string>& urls, const std::string& bearer_token);

 private:
  Result<std::string> BodyOf(const std::string& url, Result<HttpClientResponse> response) const;

  const HttpClient* const http_;
  const HttpClient::Deadline deadline_;
  const FhirServerAllowlist* const allowlist_;
  const std::string issuer_;
  std::map<std::pair<std::string, std::string>, Result<std::string>> prefetched_;  // (url, token)
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_FHIR_HTTP_CLIENT_H_
