#include "server/fhir_http_client.h"

#include <fmt/format.h>

namespace regenpath::server {

Result<std::string> FhirHttpClient::Get(const std::string& url, const std::string& bearer_token) {
  HeaderList headers = {{"Accept", "application/fhir+json"}};
  if (!bearer_token.empty()) headers.emplace_back("Authorization", "Bearer " + bearer_token);
  RP_ASSIGN_OR_RETURN(HttpClientResponse response, http_->Get(url, headers, deadline_));
  if (response.status >= 200 && response.status < 300) return std::move(response.body);
  if (response.status >= 300 && response.status < 400) {
    return Fail(
        Unavailable(fmt::format("FHIR server answered {} (redirects are not followed)", response.status)));
  }
  if (response.status >= 400 && response.status < 500) {
    return Fail(InvalidArgument(fmt::format("FHIR server answered {}", response.status)));
  }
  return Fail(Unavailable(fmt::format("FHIR server answered {}", response.status)));
}

}  // namespace regenpath::server
