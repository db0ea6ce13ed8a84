#include "server/jwks_key_source.h"

#include <fmt/format.h>

namespace regenpath::server {

Result<std::shared_ptr<const security::JwkSet>> JwksKeySource::Fetch(const std::string& url) {
  Result<HttpClientResponse> response =
      http_->Get(url, {{"Accept", "application/jwk-set+json, application/json"}});
  if (!response.has_value()) {
    return Fail(Unavailable(fmt::format("JWK Set {}: {}", url, response.error().message())));
  }
  if (response->status != 200) {
    return Fail(Unavailable(fmt::format("JWK Set {}: HTTP status {}", url, response->status)));
  }
  RP_ASSIGN_OR_RETURN(security::JwkSet keys, security::ParseJwkSet(response->body));
  return std::make_shared<const security::JwkSet>(std::move(keys));
}

}  // namespace regenpath::server
