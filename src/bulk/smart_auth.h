// SMART Backend Services authorization (SMART App Launch 2.0, "Backend
// Services"): an access token for `regenpath screen --fhir-server`, obtained
// with the client_credentials grant and a JWT client assertion signed with
// the client's private key.
//
//   POST <token endpoint>
//     grant_type=client_credentials&scope=system/*.read
//     &client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//     &client_assertion=<JWT: header {alg, kid, typ}; claims {iss = sub =
//      client_id, aud = token endpoint, exp = now + 5 min, jti random}>
//
// The key is a PEM private key: RSA (signed RS384) or EC P-384 (ES384). The
// token endpoint is configured, or read from
// <fhir base>/.well-known/smart-configuration (token_endpoint). A token is
// reused until 30 s before its expires_in runs out; Token(true) gets a new one
// (the caller does after a 401). Neither the key nor a token is ever put in
// an error message.
#ifndef REGENPATH_BULK_SMART_AUTH_H_
#define REGENPATH_BULK_SMART_AUTH_H_

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http_client.h"

namespace regenpath::bulk {

struct SmartAuthOptions {
  // The FHIR base, or an export URL under it (<base>/Patient, <base>/Group/<id>;
  // bulk/export_url.h FhirBase), for <base>/.well-known/smart-configuration.
  std::string fhir_base;
  std::string token_endpoint;   // empty: discovered
  std::string client_id;
  std::string key_file;         // PEM private key (RSA or EC P-384)
  std::string key_id;           // the JWT header's kid (the key's id in the client's JWK Set)
  std::string scope = "system/*.read";
};

// The JWT client assertion for `audience` (the token endpoint), signed with
// the key of `key_pem`, expiring `lifetime` after `now`. Exposed for tests.
Result<std::string> MakeClientAssertion(const std::string& key_pem, const std::string& key_id,
                                        const std::string& client_id, const std::string& audience,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds lifetime = std::chrono::seconds(300));

class SmartTokenSource {
 public:
  // Reads the key (fails naming the file, never showing its content).
  static Result<std::unique_ptr<SmartTokenSource>> Create(const server::HttpClient& client, SmartAuthOptions options);

  // The current access token, or a new one when there is none, it is about
  // to expire, or `refresh` is set. Not thread-safe.
  Result<std::string> Token(bool refresh);

  int tokens_requested() const { return tokens_requested_; }

 private:
  SmartTokenSource(const server::HttpClient& client, SmartAuthOptions options, std::string key_pem)
      : client_(client), options_(std::move(options)), key_pem_(std::move(key_pem)) {}
  Result<std::string> TokenEndpoint();

  const server::HttpClient& client_;
  SmartAuthOptions options_;
  std::string key_pem_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
  int tokens_requested_ = 0;
};

}  // namespace regenpath::bulk

#endif  // REGENPATH_BULK_SMART_AUTH_H_
