// FhirFetchProbe: a cdshooks::FhirClient that fetches nothing. A service call
// is first run with it on the request thread: a call that needs no FHIR
// server (full prefetch, or a request refused anyway) is answered from that
// run at once; a call that asked for fetches is run again off the request
// thread (FallbackExecutor) with a real client, which first GETs the URLs the
// probe recorded -- the first page of every missing query -- concurrently.
#ifndef REGENPATH_SERVER_FHIR_FETCH_PROBE_H_
#define REGENPATH_SERVER_FHIR_FETCH_PROBE_H_

#include <string>
#include <vector>

#include "cdshooks/fhir_client.h"

namespace regenpath::server {

class FhirFetchProbe : public cdshooks::FhirClient {
 public:
  // `server_check` (not owned, may be null: every server allowed) answers
  // CheckServer, so a refused fhirServer is answered on the request thread.
  explicit FhirFetchProbe(cdshooks::FhirClient* server_check) : server_check_(server_check) {}

  // Records the GET and fails it (kUnavailable).
  Result<std::string> Get(const std::string& url, const std::string& bearer_token) override;
  Status CheckServer(const std::string& fhir_server) override;

  // True iff Get was called.
  bool wanted() const { return !urls_.empty(); }
  // The URLs asked for, in order, without repeats; the token of the last.
  const std::vector<std::string>& urls() const { return urls_; }
  const std::string& bearer_token() const { return bearer_token_; }

 private:
  cdshooks::FhirClient* const server_check_;
  std::vector<std::string> urls_;
  std::string bearer_token_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_FHIR_FETCH_PROBE_H_
