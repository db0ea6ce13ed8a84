// JwtVerifier: authenticates the CDS Client (EHR) calling a CDS Hooks 2.0
// service from the JWT it presents in "Authorization: Bearer <JWT>" on every
// call (CDS Hooks 2.0, "Trusting CDS Clients"; docs/security.md).
//
// A token is accepted only if all of these hold:
//  - the header value is "Bearer <token>" (scheme case-insensitive), at most
//    JwtPolicy::max_token_bytes, and the token is a compact JWS of three
//    canonical base64url parts;
//  - header: "alg" is ES384, RS384, ES256 or RS256 ("none" and HMAC are
//    refused), "typ" is "JWT" (required by CDS Hooks; compared
//    case-insensitively as RFC 7515 section 4.1.9 recommends), "kid" is
//    present, there is no "crit" and no "cty" (nested token);
//  - "iss" is a configured TrustedIssuer;
//  - the key: if the header has "jku", it must be on that issuer's
//    jku_allowlist (or be its jwks_url) and the key comes from the JWK Set at
//    that URL; otherwise from the issuer's configured keys (jwks_file /
//    keys, then jwks_url). The key is the one whose "kid" equals the header's,
//    its type and curve fit "alg", and the signature verifies with it;
//  - "aud" (a string, or an array of strings) contains the URL of the
//    endpoint being called, compared exactly;
//  - "exp" and "iat" are present; now < exp + skew, iat <= now + skew,
//    nbf (if present) <= now + skew, iat < exp and exp - iat <=
//    max_lifetime;
//  - "tenant" is on the issuer's tenant_allowlist when that list is not
//    empty (best practices, step 4);
//  - "jti" is present and has not been accepted before for this issuer while
//    that earlier token could still be valid. It is remembered only once
//    every other check has passed, so a forged or expired token cannot burn
//    a legitimate jti.
//
// Time comes only from the Clock passed to Create. Failure messages are short
// fixed reasons ("token expired") that never contain token text or key
// material. The CDS Hooks best practices recommend answering every failure
// with a bare 401, so the service should log the reason and not send it.
#ifndef REGENPATH_SECURITY_JWT_VERIFIER_H_
#define REGENPATH_SECURITY_JWT_VERIFIER_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/date_time.h"
#include "common/status.h"
#include "security/jti_cache.h"
#include "security/jwk.h"
#include "security/key_source.h"

namespace regenpath::security {

// A CDS Client the service trusts, and where its public keys are. At least
// one of keys, jwks_file, jwks_url or jku_allowlist must be given.
struct TrustedIssuer {
  // The exact "iss" value the client's tokens carry.
  std::string issuer;
  // A JWK Set file agreed out of band; read once by JwtVerifier::Create.
  std::string jwks_file;
  // A JWK Set URL agreed out of band; fetched through the KeySource, cached.
  std::string jwks_url;
  // "jku" header values accepted for this issuer (exact match). A token
  // whose jku is not listed (and is not jwks_url) is refused.
  std::vector<std::string> jku_allowlist;
  // When not empty, tokens must carry a "tenant" on this list.
  std::vector<std::string> tenant_allowlist;
  // Keys given directly (for example loaded by the caller); used like
  // jwks_file. May be null.
  std::shared_ptr<const JwkSet> keys;
};

struct JwtPolicy {
  // Tolerated difference between the client's clock and ours, applied to
  // exp, iat and nbf.
  std::chrono::seconds clock_skew{60};
  // Longest accepted exp - iat. The spec sets no limit; the best practices
  // expect at most an hour, and the jti memory must last as long.
  std::chrono::seconds max_lifetime{3600};
  // Shortest time between two fetches of one JWK Set URL (an unknown kid
  // triggers a re-fetch, at most this often).
  std::chrono::seconds jwks_refresh_interval{60};
  // A fetched JWK Set is used for at most this long, then fetched again (so
  // a key the client withdrew stops being accepted). If that fetch fails,
  // tokens needing the URL are refused until one succeeds.
  std::chrono::seconds jwks_max_age{3600};
  // Longest accepted token (the Bearer value), in bytes.
  size_t max_token_bytes = 16 * 1024;
  // Most jti values remembered at once (see JtiCache: ~70 bytes each). When
  // it is full of live entries, new tokens are refused until some expire, so
  // it must cover the call rate times the tokens' lifetime: 1,000,000 is
  // 3,300 calls/s with 5-minute tokens, 280 calls/s with 1-hour ones.
  size_t jti_cache_capacity = 1'000'000;
};

// Who called, as established by an accepted token. Safe to log.
struct VerifiedClient {
  std::string issuer;
  std::optional<std::string> subject;  // "sub", if the token had one.
  std::string jti;
  std::optional<std::string> tenant;
  std::string kid;
  std::string algorithm;  // "ES384", ...
  DateTime issued_at;     // UTC.
  DateTime expires;       // UTC; exp as written, without the skew.
};

class JwtVerifier {
 public:
  // Validates the configuration and reads every jwks_file. `clock` must be
  // non-null and `key_source` non-null if any issuer has a jwks_url or a
  // jku_allowlist; neither is owned and both must outlive the verifier.
  // Returns kInvalidArgument for a bad configuration (no issuers, an issuer
  // twice or without keys, a negative skew, a non-positive lifetime or
  // token size) and LoadJwkSetFile's errors for key files. URLs are not
  // fetched here but on first use.
  static Result<std::unique_ptr<JwtVerifier>> Create(std::vector<TrustedIssuer> issuers, JwtPolicy policy,
                                                     const Clock* clock, KeySource* key_source);
  // The same, remembering accepted jtis in `replay_store` (not owned, must
  // outlive the verifier; null: an in-memory JtiCache of
  // policy.jti_cache_capacity, lost at restart).
  static Result<std::unique_ptr<JwtVerifier>> Create(std::vector<TrustedIssuer> issuers, JwtPolicy policy,
                                                     const Clock* clock, KeySource* key_source,
                                                     ReplayStore* replay_store);

  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // Verifies the value of an Authorization header for a call to the endpoint
  // whose URL is `audience` (for example
  // "https://cds.example.org/cds-services/some-service", or
  // ".../cds-services" for discovery; CDS Hooks makes "aud" the URL of the
  // endpoint invoked). On success the token's jti is remembered, so the
  // same header is refused next time. Failures: kInvalidInput for a token
  // that is refused, kResourceExhausted for an oversized header or a full
  // jti memory, kUnavailable when the issuer's keys cannot be fetched,
  // kInternal for an OpenSSL or clock failure. Thread-safe.
  Result<VerifiedClient> Verify(std::string_view authorization_header, std::string_view audience) const;

 private:
  class UrlKeyCache;
  struct Issuer;

  JwtVerifier(JwtPolicy policy, const Clock* clock, KeySource* key_source);

  Result<std::shared_ptr<const JwkSet>> KeysFor(const Issuer& issuer, const std::optional<std::string>& jku,
                                                const std::string& kid, int64_t now_ms) const;

  const JwtPolicy policy_;
  const Clock* const clock_;
  // Immutable after Create.
  std::unordered_map<std::string, std::unique_ptr<const Issuer>> issuers_;
  // Both are internally synchronised; pointers so Verify can stay const.
  std::unique_ptr<UrlKeyCache> url_keys_;
  std::unique_ptr<JtiCache> jti_cache_;  // when no ReplayStore was given
  ReplayStore* replay_store_ = nullptr;  // the one in use
};

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_JWT_VERIFIER_H_
