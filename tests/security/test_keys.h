// Test-only helpers for the security tests: key generation, public JWKs,
// a small JWS signer (ES256/ES384 with raw r||s, RS256/RS384), a JSON object
// builder and a settable clock. Header-only so every *_test.cc can use it.
#ifndef REGENPATH_TESTS_SECURITY_TEST_KEYS_H_
#define REGENPATH_TESTS_SECURITY_TEST_KEYS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/clock.h"
#include "security/base64url.h"
#include "security/jwk.h"
#include "security/unix_time.h"

namespace regenpath::security::testing {

inline EvpPkeyPtr GenerateEcKey(const char* curve) { return EvpPkeyPtr(EVP_EC_gen(curve)); }
inline EvpPkeyPtr GenerateRsaKey(unsigned bits) { return EvpPkeyPtr(EVP_RSA_gen(bits)); }

inline std::string BignumBytes(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("no bignum param");
  std::string out(pad_to > 0 ? static_cast<size_t>(pad_to) : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

inline std::string Quote(const std::string& text) { return "\"" + text + "\""; }

// A JSON object whose members are raw JSON texts, kept in insertion order.
class JsonObject {
 public:
  JsonObject& Set(const std::string& name, const std::string& raw_json) {
    for (auto& member : members_) {
      if (member.first == name) {
        member.second = raw_json;
        return *this;
      }
    }
    members_.emplace_back(name, raw_json);
    return *this;
  }
  JsonObject& SetString(const std::string& name, const std::string& value) { return Set(name, Quote(value)); }
  JsonObject& SetNumber(const std::string& name, int64_t value) { return Set(name, std::to_string(value)); }
  JsonObject& Erase(const std::string& name) {
    std::erase_if(members_, [&](const auto& member) { return member.first == name; });
    return *this;
  }
  std::string Str() const {
    std::string out = "{";
    for (size_t index = 0; index < members_.size(); ++index) {
      if (index > 0) out += ",";
      out += Quote(members_[index].first) + ":" + members_[index].second;
    }
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

// The public JWK of `key` (EC or RSA), as an object the test may change.
inline JsonObject PublicJwkObject(EVP_PKEY* key, const std::string& kid, const std::string& alg = "") {
  JsonObject jwk;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t length = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &length);
    std::string name(group, length);
    std::string crv = name == "prime256v1" ? "P-256" : name == "secp384r1" ? "P-384" : "P-521";
    int size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 66;
    jwk.SetString("kty", "EC").SetString("crv", crv);
    jwk.SetString("x", Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, size)));
    jwk.SetString("y", Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, size)));
  } else {
    jwk.SetString("kty", "RSA");
    jwk.SetString("n", Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_RSA_N)));
    jwk.SetString("e", Base64UrlEncode(BignumBytes(key, OSSL_PKEY_PARAM_RSA_E)));
  }
  jwk.SetString("use", "sig").SetString("kid", kid);
  if (!alg.empty()) jwk.SetString("alg", alg);
  return jwk;
}

// The public JWK of `key` as JSON text.
inline std::string PublicJwk(EVP_PKEY* key, const std::string& kid, const std::string& alg = "") {
  return PublicJwkObject(key, kid, alg).Str();
}

inline std::string JwkSetJson(const std::vector<std::string>& jwks) {
  std::string out = "{\"keys\":[";
  for (size_t index = 0; index < jwks.size(); ++index) out += (index > 0 ? "," : "") + jwks[index];
  return out + "]}";
}

// Signs `input` with `key` as JWS `alg` ("ES384", "RS256", ...). EC
// signatures come out as JWS wants them: r||s, each the coordinate size.
inline std::string SignJws(EVP_PKEY* key, const std::string& alg, const std::string& input) {
  const char* digest = alg.substr(2) == "256" ? "SHA256" : alg.substr(2) == "384" ? "SHA384" : "SHA512";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit_ex(ctx, nullptr, digest, nullptr, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(ctx, nullptr, &length, data, input.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("sign init failed");
  }
  std::string der(length, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &length, data, input.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("sign failed");
  }
  EVP_MD_CTX_free(ctx);
  der.resize(length);
  if (alg[0] != 'E') return der;
  const auto* der_bytes = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der_bytes, static_cast<long>(der.size()));
  int size = (EVP_PKEY_get_bits(key) + 7) / 8;
  std::string raw(2 * static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, size);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + size, size);
  ECDSA_SIG_free(sig);
  return raw;
}

// "<b64 header>.<b64 payload>.<b64 signature>" signed with `key` as `alg`.
inline std::string MakeJws(const std::string& header_json, const std::string& payload_json, EVP_PKEY* key,
                           const std::string& alg) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return input + "." + Base64UrlEncode(SignJws(key, alg, input));
}

// A clock the test sets and advances; thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t unix_seconds) : millis_(unix_seconds * 1000) {}
  DateTime Now() const override { return FromUnixMillis(millis_.load()).value(); }
  void SetSeconds(int64_t unix_seconds) { millis_ = unix_seconds * 1000; }
  void SetMillis(int64_t millis) { millis_ = millis; }
  void AdvanceSeconds(int64_t seconds) { millis_ += seconds * 1000; }
  int64_t seconds() const { return millis_.load() / 1000; }

 private:
  std::atomic<int64_t> millis_;
};

}  // namespace regenpath::security::testing

#endif  // REGENPATH_TESTS_SECURITY_TEST_KEYS_H_
