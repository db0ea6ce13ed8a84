// KeySource: where JWK Sets published at a URL come from. The verifier asks
// for a URL only when it is configured for a trusted issuer (its jwks_url or
// an allowlisted jku), so an implementation never fetches a URL a token
// chose on its own.
//
// The HTTP service provides the network implementation; tests use a fake.
#ifndef REGENPATH_SECURITY_KEY_SOURCE_H_
#define REGENPATH_SECURITY_KEY_SOURCE_H_

#include <memory>
#include <string>

#include "common/status.h"
#include "security/jwk.h"

namespace regenpath::security {

class KeySource {
 public:
  virtual ~KeySource() = default;

  // Fetches and parses (with ParseJwkSet) the JWK Set at `url`. Returns
  // kUnavailable when the URL cannot be reached or answers with an error,
  // and ParseJwkSet's error when the document is malformed. Implementations
  // should bound the time and the document size they accept. Must be
  // thread-safe: several verifications may fetch at once.
  virtual Result<std::shared_ptr<const JwkSet>> Fetch(const std::string& url) = 0;
};

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_KEY_SOURCE_H_
