// Jwk and JwkSet: the public keys a CDS Client publishes (RFC 7517), turned
// into OpenSSL keys ready for signature verification.
//
// Only public signing keys are kept: kty "EC" (crv P-256, P-384 or P-521,
// with x and y) and kty "RSA" (n and e, 2048 to 16384 bits). ParseJwkSet
// follows RFC 7517 section 5 and skips keys it cannot use for verifying
// signatures (another kty such as "oct" or "OKP", "use" other than "sig",
// "key_ops" without "verify", no "kid"), but rejects the whole set with a
// clear message when a key it would use is malformed: a missing or
// non-canonical member, a coordinate of the wrong length, a point not on the
// curve, a modulus out of range, private-key members ("d", "p", ...; a JWK Set
// published with private keys means the key is compromised), or a "kid" used
// twice (the CDS Hooks spec requires it unique within the set).
//
// A JwkSet is immutable once built. Its keys may be used from several
// threads at once for verification (OpenSSL 3 allows concurrent read-only
// use of an EVP_PKEY).
#ifndef REGENPATH_SECURITY_JWK_H_
#define REGENPATH_SECURITY_JWK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "common/status.h"

namespace regenpath::security {

enum class JwkKeyType : uint8_t { kEc, kRsa };
enum class EcCurve : uint8_t { kNone, kP256, kP384, kP521 };

// Returns the JWK "crv" name ("P-384"), or "" for kNone.
std::string_view EcCurveName(EcCurve curve);
// Returns the size in bytes of one coordinate (32, 48, 66), 0 for kNone.
size_t EcCoordinateSize(EcCurve curve);

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// One public key. Move-only; owns its EVP_PKEY.
class Jwk {
 public:
  // `key` must be a public key of `type` (and of `curve` for kEc); `alg` is
  // the JWK's "alg" member or "" when it has none.
  Jwk(std::string kid, JwkKeyType type, EcCurve curve, std::string alg, EvpPkeyPtr key)
      : kid_(std::move(kid)), type_(type), curve_(curve), alg_(std::move(alg)), key_(std::move(key)) {}

  const std::string& kid() const { return kid_; }
  JwkKeyType type() const { return type_; }
  // kNone for RSA keys.
  EcCurve curve() const { return curve_; }
  // The JWK's "alg" ("ES384"), or "" if the JWK did not restrict it.
  const std::string& alg() const { return alg_; }
  // The OpenSSL key, owned by this Jwk and valid while it lives. Never null.
  EVP_PKEY* key() const { return key_.get(); }

 private:
  std::string kid_;
  JwkKeyType type_;
  EcCurve curve_;
  std::string alg_;
  EvpPkeyPtr key_;
};

class JwkSet {
 public:
  JwkSet() = default;
  explicit JwkSet(std::vector<Jwk> keys) : keys_(std::move(keys)) {}

  // Returns the key whose kid is `kid`, or nullptr. The pointer is valid
  // while this set lives.
  const Jwk* Find(std::string_view kid) const;

  const std::vector<Jwk>& keys() const { return keys_; }
  size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

// Parses a JWK Set document ({"keys": [...]}). Returns kInvalidInput with a
// message naming the key ("JWK Set keys[1]: ...") when the document or a
// usable key is malformed (see the file comment), or when no usable key is
// left.
Result<JwkSet> ParseJwkSet(std::string_view json);

// Reads the file at `path` (at most 1 MiB) and parses it with ParseJwkSet.
// Returns kNotFound if it cannot be opened, kResourceExhausted if it is
// larger, and ParseJwkSet's errors prefixed with the path.
Result<JwkSet> LoadJwkSetFile(const std::string& path);

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_JWK_H_
