// JwksKeySource: security::KeySource over an HttpClient: GETs a JWK Set URL
// (JwtVerifier only asks for URLs configured for a trusted issuer) and parses
// it. The client's timeout and size limit bound the fetch.
#ifndef REGENPATH_SERVER_JWKS_KEY_SOURCE_H_
#define REGENPATH_SERVER_JWKS_KEY_SOURCE_H_

#include "security/key_source.h"
#include "server/http_client.h"

namespace regenpath::server {

class JwksKeySource : public security::KeySource {
 public:
  // `http` is not owned and must outlive this source.
  explicit JwksKeySource(const HttpClient* http) : http_(http) {}
  Result<std::shared_ptr<const security::JwkSet>> Fetch(const std::string& url) override;

 private:
  const HttpClient* const http_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_JWKS_KEY_SOURCE_H_
