#include "security/jwk.h"

#include <fstream>
#include <iterator>
#include <set>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "security/base64url.h"
#include "security/jose_json.h"

namespace regenpath::security {

namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
constexpr size_t kMaxJwkSetFileBytes = size_t{1} << 20;

struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct BignumDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;

// OpenSSL reports failures through a per-thread queue; drop what a failed call
// left so it cannot surface in an unrelated later call.
Status OpenSslFailure(std::string message) {
  ERR_clear_error();
  return InvalidInput(std::move(message));
}

// Builds a public EVP_PKEY of `type_name` ("EC", "RSA") from the parameters
// in `builder` (`built` is false when pushing one of them failed) and runs
// OpenSSL's public-key validation on it (point on the curve; RSA modulus and
// exponent sane).
Result<EvpPkeyPtr> KeyFromBuilder(const char* type_name, OSSL_PARAM_BLD* builder, bool built,
                                  const std::string& what) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(built ? OSSL_PARAM_BLD_to_param(builder) : nullptr);
  if (!params) {
    ERR_clear_error();
    return Fail(Internal("OpenSSL parameter building failed"));
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    ERR_clear_error();
    return Fail(Internal("OpenSSL cannot create " + std::string(type_name) + " keys"));
  }
  EVP_PKEY* raw_key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw_key == nullptr) {
    return Fail(OpenSslFailure(what + ": not a valid public key"));
  }
  EvpPkeyPtr key(raw_key);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return Fail(OpenSslFailure(what + ": not a valid public key"));
  }
  return key;
}

Result<std::string> DecodeMember(const std::optional<std::string>& value, std::string_view name,
                                 const std::string& what) {
  if (!value.has_value()) return Fail(InvalidInput(what + ": missing \"" + std::string(name) + "\""));
  Result<std::string> bytes = Base64UrlDecode(*value);
  if (!bytes.has_value() || bytes->empty()) {
    return Fail(InvalidInput(what + ": \"" + std::string(name) + "\" is not base64url"));
  }
  return bytes;
}

Result<EvpPkeyPtr> EcKey(const JwkMembers& members, EcCurve& curve, const std::string& what) {
  const char* group_name = nullptr;
  const std::string crv = members.crv.value_or("");
  if (crv == "P-256") {
    curve = EcCurve::kP256;
    group_name = "prime256v1";
  } else if (crv == "P-384") {
    curve = EcCurve::kP384;
    group_name = "secp384r1";
  } else if (crv == "P-521") {
    curve = EcCurve::kP521;
    group_name = "secp521r1";
  } else if (!members.crv.has_value()) {
    return Fail(InvalidInput(what + ": missing \"crv\""));
  } else {
    return Fail(InvalidInput(what + ": unsupported \"crv\" (P-256, P-384 or P-521 expected)"));
  }
  RP_ASSIGN_OR_RETURN(std::string x, DecodeMember(members.x, "x", what));
  RP_ASSIGN_OR_RETURN(std::string y, DecodeMember(members.y, "y", what));
  // RFC 7518 section 6.2.1.2: each coordinate is the full size of the field.
  size_t size = EcCoordinateSize(curve);
  if (x.size() != size || y.size() != size) {
    return Fail(InvalidInput(what + ": \"x\" and \"y\" must each be " + std::to_string(size) + " bytes for " +
                             std::string(crv)));
  }
  std::string point;
  point.reserve(1 + 2 * size);
  point.push_back('\x04');  // SEC 1 uncompressed point.
  point += x;
  point += y;

  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  bool built =
      bld && OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1;
  return KeyFromBuilder("EC", bld.get(), built, what);
}

Result<EvpPkeyPtr> RsaKey(const JwkMembers& members, const std::string& what) {
  RP_ASSIGN_OR_RETURN(std::string n, DecodeMember(members.n, "n", what));
  RP_ASSIGN_OR_RETURN(std::string e, DecodeMember(members.e, "e", what));
  // Cheap bounds before OpenSSL sees the numbers: a huge modulus would make
  // every verification slow.
  if (n.size() * 8 > static_cast<size_t>(kMaxRsaBits) + 8 || e.size() > 32) {
    return Fail(InvalidInput(what + ": RSA key larger than " + std::to_string(kMaxRsaBits) + " bits"));
  }
  BignumPtr n_bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  BignumPtr e_bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  if (!n_bn || !e_bn) {
    ERR_clear_error();
    return Fail(Internal("OpenSSL bignum allocation failed"));
  }
  int bits = BN_num_bits(n_bn.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Fail(InvalidInput(what + ": RSA modulus must have " + std::to_string(kMinRsaBits) + " to " +
                             std::to_string(kMaxRsaBits) + " bits"));
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  bool built = bld && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) == 1 &&
               OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) == 1;
  return KeyFromBuilder("RSA", bld.get(), built, what);
}

bool UsableForVerification(const JwkMembers& members) {
  if (members.kty != "EC" && members.kty != "RSA") return false;
  if (members.use.has_value() && *members.use != "sig") return false;
  if (members.key_ops.has_value()) {
    bool verify = false;
    for (const std::string& op : *members.key_ops) verify = verify || op == "verify";
    if (!verify) return false;
  }
  return members.kid.has_value();
}

}  // namespace

std::string_view EcCurveName(EcCurve curve) {
  switch (curve) {
    case EcCurve::kP256:
      return "P-256";
    case EcCurve::kP384:
      return "P-384";
    case EcCurve::kP521:
      return "P-521";
    case EcCurve::kNone:
      break;
  }
  return "";
}

size_t EcCoordinateSize(EcCurve curve) {
  switch (curve) {
    case EcCurve::kP256:
      return 32;
    case EcCurve::kP384:
      return 48;
    case EcCurve::kP521:
      return 66;
    case EcCurve::kNone:
      break;
  }
  return 0;
}

void EvpPkeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

const Jwk* JwkSet::Find(std::string_view kid) const {
  for (const Jwk& key : keys_) {
    if (key.kid() == kid) return &key;
  }
  return nullptr;
}

Result<JwkSet> ParseJwkSet(std::string_view json) {
  RP_ASSIGN_OR_RETURN(std::vector<JwkMembers> members, ParseJwkSetMembers(json));
  std::vector<Jwk> keys;
  std::set<std::string> kids;
  for (size_t index = 0; index < members.size(); ++index) {
    const JwkMembers& jwk = members[index];
    std::string what = "JWK Set keys[" + std::to_string(index) + "]";
    if (!jwk.kty.has_value()) return Fail(InvalidInput(what + ": missing \"kty\""));
    if (!UsableForVerification(jwk)) continue;
    if (jwk.has_private_members) {
      return Fail(InvalidInput(what + ": contains private key members; publish only the public key"));
    }
    if (!kids.insert(*jwk.kid).second) return Fail(InvalidInput(what + ": \"kid\" is used by another key"));
    EcCurve curve = EcCurve::kNone;
    Result<EvpPkeyPtr> key = *jwk.kty == "EC" ? EcKey(jwk, curve, what) : RsaKey(jwk, what);
    if (!key.has_value()) return Fail(key.error());
    keys.emplace_back(*jwk.kid, *jwk.kty == "EC" ? JwkKeyType::kEc : JwkKeyType::kRsa, curve,
                      jwk.alg.value_or(""), std::move(*key));
  }
  if (keys.empty()) return Fail(InvalidInput("JWK Set has no usable signature verification key"));
  return JwkSet(std::move(keys));
}

Result<JwkSet> LoadJwkSetFile(const std::string& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) return Fail(NotFound(path + ": cannot open JWK Set file"));
  std::string content;
  char buffer[8192];
  while (input.read(buffer, sizeof(buffer)) || input.gcount() > 0) {
    content.append(buffer, static_cast<size_t>(input.gcount()));
    if (content.size() > kMaxJwkSetFileBytes) {
      return Fail(ResourceExhausted(path + ": JWK Set file larger than 1 MiB"));
    }
  }
  if (input.bad()) return Fail(InvalidInput(path + ": cannot read JWK Set file"));
  Result<JwkSet> keys = ParseJwkSet(content);
  if (!keys.has_value()) return Fail(keys.error().WithPrefix(path));
  return keys;
}

}  // namespace regenpath::security
