#include "server/fhir_fetch_probe.h"

#include <algorithm>

namespace regenpath::server {

Result<std::string> FhirFetchProbe::Get(const std::string& url, const std::string& bearer_token) {
  if (std::find(urls_.begin(), urls_.end(), url) == urls_.end()) urls_.push_back(url);
  bearer_token_ = bearer_token;
  return Fail(Unavailable("not fetched (probe)"));
}

Status FhirFetchProbe::CheckServer(const std::string& fhir_server) {
  return server_check_ == nullptr ? Status::Ok() : server_check_->CheckServer(fhir_server);
}

}  // namespace regenpath::server
