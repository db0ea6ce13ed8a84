// FhirHttpClient: cdshooks::FhirClient over an HttpClient (the EHR's FHIR
// server, for data the prefetch lacks). One is made per CDS call with that
// call's deadline: the service may fetch several queries one after the
// other, and together they must not outlast the budget (each request is also
// bounded by the client's own timeout). Redirects are not followed (a 3xx is
// kUnavailable), so the bearer token only ever goes to the fhirServer the
// request named. Failure messages carry the status or the host, never the
// URL (it holds patient ids) nor the token.
#ifndef REGENPATH_SERVER_FHIR_HTTP_CLIENT_H_
#define REGENPATH_SERVER_FHIR_HTTP_CLIENT_H_

#include "cdshooks/fhir_client.h"
#include "server/http_client.h"

namespace regenpath::server {

class FhirHttpClient : public cdshooks::FhirClient {
 public:
  // `http` is not owned and must outlive this client.
  explicit FhirHttpClient(const HttpClient* http, HttpClient::Deadline deadline = HttpClient::Deadline::max())
      : http_(http), deadline_(deadline) {}
  Result<std::string> Get(const std::string& url, const std::string& bearer_token) override;

 private:
  const HttpClient* const http_;
  const HttpClient::Deadline deadline_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_FHIR_HTTP_CLIENT_H_
