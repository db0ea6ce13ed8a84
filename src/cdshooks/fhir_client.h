// FhirClient: how the CDS Hooks service reads the EHR's FHIR server when the
// request's prefetch lacks data. The HTTP server implements it over
// Boost.Beast (HTTPS, timeouts, size limits); tests use fakes.
#ifndef REGENPATH_CDSHOOKS_FHIR_CLIENT_H_
#define REGENPATH_CDSHOOKS_FHIR_CLIENT_H_

#include <string>

#include "common/status.h"

namespace regenpath::cdshooks {

class FhirClient {
 public:
  virtual ~FhirClient() = default;

  // GET `url` (absolute: the fhirServer base joined with a query, or a
  // Bundle.link "next" URL) with `Authorization: Bearer <bearer_token>` when
  // the token is not empty; Accept: application/fhir+json. Returns the body of
  // a 2xx response. Failures: kUnavailable (connection, timeout, 5xx),
  // kInvalidArgument (4xx, the message names the status: 401, 403, 404...),
  // kResourceExhausted (the body exceeds the client's size limit). Must be
  // thread-safe.
  virtual Result<std::string> Get(const std::string& url, const std::string& bearer_token) = 0;

  // Whether this client may read `fhir_server` (the request's base URL) at
  // all; asked once per call before any Get. A refusal (any failure; its
  // message is not shown to the caller) makes the call 400: the caller named
  // a server it may not have us contact. The default allows every server.
  virtual Status CheckServer(const std::string& fhir_server) {
    (void)fhir_server;
    return Status::Ok();
  }
};

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_FHIR_CLIENT_H_
