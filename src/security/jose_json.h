// JoseJson: reads the JSON parts of JOSE (a JWS protected header, a JWT claim
// set, a JWK Set) into plain structs. This is the only file of the security
// module that sees the JSON library; everything after it works on these
// structs.
//
// Every object must be a JSON object with unique member names (RFC 7515
// section 4 and RFC 7519 section 4 allow rejecting duplicates; a parser that
// kept the first or last one could be made to disagree with the signer).
// A member this code reads must have the JSON type the RFCs give it, or the
// whole object is rejected. Unknown members are ignored.
//
// Error messages name the member but never repeat the input's text, so they
// can go into a 401 response or a log without echoing a token. All functions
// are pure and thread-safe.
#ifndef REGENPATH_SECURITY_JOSE_JSON_H_
#define REGENPATH_SECURITY_JOSE_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace regenpath::security {

// The members of a JWS protected header that regenpath reads.
struct JoseHeader {
  std::optional<std::string> alg;
  std::optional<std::string> kid;
  std::optional<std::string> typ;
  std::optional<std::string> jku;
  std::optional<std::string> cty;
  // "crit" was present (regenpath understands no extension, so the verifier
  // rejects the token, as RFC 7515 section 4.1.11 requires).
  bool has_crit = false;
};

// The registered claims a CDS Hooks authentication JWT carries. NumericDate
// values (seconds since the epoch, possibly with a fraction) are kept in
// milliseconds, rounded down.
struct JwtClaimSet {
  std::optional<std::string> iss;
  std::optional<std::string> sub;
  std::optional<std::string> jti;
  std::optional<std::string> tenant;
  // "aud" as a list; a single string becomes a one-element list.
  std::optional<std::vector<std::string>> aud;
  std::optional<int64_t> exp_ms;
  std::optional<int64_t> iat_ms;
  std::optional<int64_t> nbf_ms;
};

// The members of one JWK (RFC 7517, RFC 7518 section 6) that regenpath reads.
// Values stay base64url text; security/jwk.h decodes and checks them.
struct JwkMembers {
  std::optional<std::string> kty;
  std::optional<std::string> kid;
  std::optional<std::string> alg;
  std::optional<std::string> use;
  std::optional<std::vector<std::string>> key_ops;
  std::optional<std::string> crv;
  std::optional<std::string> x;
  std::optional<std::string> y;
  std::optional<std::string> n;
  std::optional<std::string> e;
  // One of the private-key members (d, p, q, dp, dq, qi, oth) was present.
  bool has_private_members = false;
};

// Parses the decoded protected header. Returns kInvalidInput if it is not a
// JSON object with unique members, or a read member has the wrong type.
Result<JoseHeader> ParseJoseHeader(std::string_view json);

// Parses the decoded JWT payload. Returns kInvalidInput if it is not a JSON
// object with unique members, a read claim has the wrong type ("aud" must be
// a string or an array of strings), or a NumericDate is negative, not finite,
// or after the year 9999. Presence is not checked here.
Result<JwtClaimSet> ParseJwtClaimSet(std::string_view json);

// Parses a JWK Set document ({"keys": [...]}) into the members of each key,
// in order. Returns kInvalidInput naming the key index ("keys[2]: ...") if
// the document or any key object is malformed JSON-wise.
Result<std::vector<JwkMembers>> ParseJwkSetMembers(std::string_view json);

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_JOSE_JSON_H_
