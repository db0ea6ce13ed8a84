#include "security/jws_signature.h"

#include <memory>
#include <string>
#include <vector>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

namespace regenpath::security {

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

const char* DigestName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kES256:
    case JwsAlgorithm::kRS256:
      return "SHA256";
    case JwsAlgorithm::kES384:
    case JwsAlgorithm::kRS384:
      return "SHA384";
  }
  return "SHA384";
}

bool IsEcdsa(JwsAlgorithm algorithm) {
  return algorithm == JwsAlgorithm::kES256 || algorithm == JwsAlgorithm::kES384;
}

Status CheckKeyFits(JwsAlgorithm algorithm, const Jwk& key) {
  if (!key.alg().empty() && key.alg() != JwsAlgorithmName(algorithm)) {
    return InvalidInput("the key's alg does not match the token's alg");
  }
  if (IsEcdsa(algorithm)) {
    EcCurve expected = algorithm == JwsAlgorithm::kES256 ? EcCurve::kP256 : EcCurve::kP384;
    if (key.type() != JwkKeyType::kEc || key.curve() != expected) {
      return InvalidInput("the key type does not match the token's alg");
    }
  } else if (key.type() != JwkKeyType::kRsa) {
    return InvalidInput("the key type does not match the token's alg");
  }
  return Status::Ok();
}

// JWS carries an ECDSA signature as the fixed-size big-endian r and s
// concatenated; OpenSSL verifies the DER ECDSA-Sig-Value of RFC 3279.
Result<std::vector<unsigned char>> RawEcdsaToDer(std::string_view signature) {
  const size_t half = signature.size() / 2;
  const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return Fail(Internal("OpenSSL ECDSA signature allocation failed"));
  }
  int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) {
    ERR_clear_error();
    return Fail(Internal("OpenSSL ECDSA signature encoding failed"));
  }
  std::vector<unsigned char> der(static_cast<size_t>(length));
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) {
    ERR_clear_error();
    return Fail(Internal("OpenSSL ECDSA signature encoding failed"));
  }
  return der;
}

}  // namespace

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kES256:
      return "ES256";
    case JwsAlgorithm::kES384:
      return "ES384";
    case JwsAlgorithm::kRS256:
      return "RS256";
    case JwsAlgorithm::kRS384:
      return "RS384";
  }
  return "";
}

Result<JwsAlgorithm> ParseJwsAlgorithm(std::string_view alg) {
  if (alg == "ES256") return JwsAlgorithm::kES256;
  if (alg == "ES384") return JwsAlgorithm::kES384;
  if (alg == "RS256") return JwsAlgorithm::kRS256;
  if (alg == "RS384") return JwsAlgorithm::kRS384;
  if (alg == "none") return Fail(InvalidInput("unsigned tokens (alg \"none\") are not accepted"));
  if (alg == "HS256" || alg == "HS384" || alg == "HS512") {
    return Fail(InvalidInput("symmetric (HMAC) token algorithms are not accepted"));
  }
  return Fail(InvalidInput("unsupported token alg (ES384, RS384, ES256 or RS256 expected)"));
}

Status VerifyJwsSignature(JwsAlgorithm algorithm, const Jwk& key, std::string_view signing_input,
                          std::string_view signature) {
  RP_RETURN_IF_ERROR(CheckKeyFits(algorithm, key));
  std::vector<unsigned char> encoded;
  if (IsEcdsa(algorithm)) {
    if (signature.size() != 2 * EcCoordinateSize(key.curve())) {
      return InvalidInput("token signature has the wrong length");
    }
    RP_ASSIGN_OR_RETURN(encoded, RawEcdsaToDer(signature));
  } else {
    int modulus_bytes = EVP_PKEY_get_size(key.key());
    if (modulus_bytes <= 0 || signature.size() != static_cast<size_t>(modulus_bytes)) {
      return InvalidInput("token signature has the wrong length");
    }
    encoded.assign(signature.begin(), signature.end());
  }

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  // RSA keys default to PKCS #1 v1.5 padding, which is what RS256/RS384 use.
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, DigestName(algorithm), nullptr, nullptr, key.key(),
                                      nullptr) != 1) {
    ERR_clear_error();
    return Internal("OpenSSL could not set up signature verification");
  }
  int verified =
      EVP_DigestVerify(ctx.get(), encoded.data(), encoded.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  if (verified != 1) {
    ERR_clear_error();
    return InvalidInput("token signature does not verify");
  }
  return Status::Ok();
}

}  // namespace regenpath::security
