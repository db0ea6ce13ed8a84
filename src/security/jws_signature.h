// JwsSignature: the JWS algorithms regenpath accepts and the check of a
// signature made with one of them (RFC 7515, RFC 7518 section 3).
//
// Accepted: ES256, ES384 (ECDSA on P-256 / P-384 with SHA-256 / SHA-384) and
// RS256, RS384 (RSASSA-PKCS1-v1_5 with SHA-256 / SHA-384). The CDS Hooks
// spec recommends ES384 and RS384 and forbids "none" and every symmetric
// (HMAC) algorithm; anything else (ES512, PS*, EdDSA, ...) is not supported.
// All functions are thread-safe.
#ifndef REGENPATH_SECURITY_JWS_SIGNATURE_H_
#define REGENPATH_SECURITY_JWS_SIGNATURE_H_

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "security/jwk.h"

namespace regenpath::security {

enum class JwsAlgorithm : uint8_t { kES256, kES384, kRS256, kRS384 };

// "ES256", "ES384", "RS256", "RS384".
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

// Maps a header "alg" value (case-sensitive, RFC 7515 section 4.1.1) to an
// accepted algorithm. Returns kInvalidInput with the reason otherwise:
// "none" (unsecured JWS), HS256/HS384/HS512 (symmetric), or unsupported.
Result<JwsAlgorithm> ParseJwsAlgorithm(std::string_view alg);

// Returns OK iff `signature` (the decoded third JWS segment) is a valid
// signature of `signing_input` (the ASCII "<header>.<payload>" segments)
// under `key` with `algorithm`. Failures are kInvalidInput:
//  - the key does not fit the algorithm (RSA key for ES*, EC key for RS*,
//    wrong curve for ES256/ES384, or the JWK's own "alg" names another one);
//  - the signature has the wrong length (ECDSA: r||s, twice the coordinate
//    size, RFC 7518 section 3.4; RSA: the modulus size);
//  - the signature does not verify.
Status VerifyJwsSignature(JwsAlgorithm algorithm, const Jwk& key, std::string_view signing_input,
                          std::string_view signature);

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_JWS_SIGNATURE_H_
