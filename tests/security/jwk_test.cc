#include "security/jwk.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "security/base64url.h"
#include "test_keys.h"

namespace regenpath::security {
namespace {

using testing::JsonObject;
using testing::JwkSetJson;
using testing::PublicJwk;
using testing::Quote;

class JwkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec256_ = testing::GenerateEcKey("P-256").release();
    ec384_ = testing::GenerateEcKey("P-384").release();
    ec521_ = testing::GenerateEcKey("P-521").release();
    rsa_ = testing::GenerateRsaKey(2048).release();
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY* key : {ec256_, ec384_, ec521_, rsa_}) EVP_PKEY_free(key);
  }

  // Expects ParseJwkSet to fail with a message containing `fragment`.
  static void ExpectRejected(const std::string& json, const std::string& fragment) {
    Result<JwkSet> keys = ParseJwkSet(json);
    ASSERT_FALSE(keys.has_value()) << json;
    EXPECT_EQ(keys.error().code(), StatusCode::kInvalidInput);
    EXPECT_NE(keys.error().message().find(fragment), std::string::npos) << keys.error().message();
  }

  // The JWK of `key` with member `name` replaced by raw JSON (or removed when
  // `raw` is empty).
  static std::string Modified(EVP_PKEY* key, const std::string& name, const std::string& raw) {
    JsonObject object = testing::PublicJwkObject(key, "k1");
    if (raw.empty()) {
      object.Erase(name);
    } else {
      object.Set(name, raw);
    }
    return JwkSetJson({object.Str()});
  }

  static EVP_PKEY* ec256_;
  static EVP_PKEY* ec384_;
  static EVP_PKEY* ec521_;
  static EVP_PKEY* rsa_;
};

EVP_PKEY* JwkTest::ec256_ = nullptr;
EVP_PKEY* JwkTest::ec384_ = nullptr;
EVP_PKEY* JwkTest::ec521_ = nullptr;
EVP_PKEY* JwkTest::rsa_ = nullptr;

TEST_F(JwkTest, ParsesEcAndRsaKeys) {
  Result<JwkSet> keys = ParseJwkSet(JwkSetJson({PublicJwk(ec256_, "a"), PublicJwk(ec384_, "b", "ES384"),
                                                PublicJwk(ec521_, "c"), PublicJwk(rsa_, "d", "RS384")}));
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  ASSERT_EQ(keys->size(), 4u);
  EXPECT_EQ(keys->Find("a")->curve(), EcCurve::kP256);
  EXPECT_EQ(keys->Find("b")->curve(), EcCurve::kP384);
  EXPECT_EQ(keys->Find("b")->alg(), "ES384");
  EXPECT_EQ(keys->Find("c")->curve(), EcCurve::kP521);
  EXPECT_EQ(keys->Find("d")->type(), JwkKeyType::kRsa);
  EXPECT_EQ(keys->Find("d")->curve(), EcCurve::kNone);
  EXPECT_EQ(keys->Find("e"), nullptr);
  EXPECT_EQ(EVP_PKEY_eq(keys->Find("d")->key(), rsa_), 1);
  EXPECT_EQ(EVP_PKEY_eq(keys->Find("b")->key(), ec384_), 1);
}

TEST_F(JwkTest, ParsesTheSpecExampleKey) {
  const char* spec = R"({"keys":[{"kty":"EC","use":"sig","crv":"P-384","kid":"example-kid",
    "x":"46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk",
    "y":"XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI","alg":"ES384"}]})";
  Result<JwkSet> keys = ParseJwkSet(spec);
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  EXPECT_NE(keys->Find("example-kid"), nullptr);
}

TEST_F(JwkTest, SkipsKeysItCannotUseForVerifying) {
  std::string oct = R"({"kty":"oct","kid":"h","k":"c2VjcmV0"})";
  std::string okp =
      R"({"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
  std::string enc = testing::PublicJwkObject(ec384_, "e").SetString("use", "enc").Str();
  std::string wrap_only = testing::PublicJwkObject(ec256_, "w").Set("key_ops", R"(["wrapKey"])").Str();
  std::string no_kid = R"({"kty":"EC","crv":"P-384","x":"AA","y":"AA"})";
  Result<JwkSet> keys = ParseJwkSet(JwkSetJson({oct, okp, enc, wrap_only, no_kid, PublicJwk(rsa_, "r")}));
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ(keys->keys()[0].kid(), "r");
  ExpectRejected(JwkSetJson({oct, okp}), "no usable");
}

TEST_F(JwkTest, RejectsMalformedDocuments) {
  ExpectRejected("", "not valid JSON");
  ExpectRejected("{\"keys\":[", "not valid JSON");
  ExpectRejected("[]", "not a JSON object");
  ExpectRejected("{}", "no \"keys\"");
  ExpectRejected("{\"keys\":{}}", "\"keys\" is not an array");
  ExpectRejected("{\"keys\":[]}", "no usable");
  ExpectRejected("{\"keys\":[1]}", "keys[0] is not a JSON object");
  ExpectRejected("{\"keys\":[],\"keys\":[]}", "duplicate");
  ExpectRejected(JwkSetJson({R"({"kid":"x"})"}), "keys[0]: missing \"kty\"");
  ExpectRejected(JwkSetJson({R"({"kty":"EC","kty":"EC"})"}), "duplicate");
  ExpectRejected(JwkSetJson({R"({"kty":"EC","kid":7})"}), "\"kid\" is not a string");
}

TEST_F(JwkTest, RejectsMalformedEcKeys) {
  ExpectRejected(Modified(ec384_, "y", ""), "missing \"y\"");
  ExpectRejected(Modified(ec384_, "crv", ""), "missing \"crv\"");
  ExpectRejected(Modified(ec384_, "crv", Quote("secp256k1")), "unsupported \"crv\"");
  ExpectRejected(Modified(ec384_, "crv", Quote("P-256")), "must each be 32 bytes");
  ExpectRejected(Modified(ec384_, "x", Quote("AAAA")), "must each be 48 bytes");
  ExpectRejected(Modified(ec384_, "x", Quote("not base64!")), "\"x\" is not base64url");
  ExpectRejected(Modified(ec384_, "x", Quote(Base64UrlEncode(std::string(48, '\x01')))),
                 "not a valid public key");
  ExpectRejected(Modified(ec384_, "d", Quote("AAAA")), "private key");
}

TEST_F(JwkTest, RejectsMalformedRsaKeys) {
  ExpectRejected(Modified(rsa_, "e", ""), "missing \"e\"");
  ExpectRejected(Modified(rsa_, "n", Quote("")), "\"n\" is not base64url");
  ExpectRejected(Modified(rsa_, "p", Quote("AAAA")), "private key");
  EVP_PKEY* small = testing::GenerateRsaKey(1024).release();
  ExpectRejected(JwkSetJson({PublicJwk(small, "s")}), "2048 to 16384 bits");
  EVP_PKEY_free(small);
  // An even modulus cannot be an RSA key.
  std::string n(256, '\xff');
  n.back() = '\xfe';
  ExpectRejected(Modified(rsa_, "n", Quote(Base64UrlEncode(n))), "not a valid public key");
}

TEST_F(JwkTest, RejectsDuplicateKid) {
  ExpectRejected(JwkSetJson({PublicJwk(ec384_, "same"), PublicJwk(rsa_, "same")}),
                 "keys[1]: \"kid\" is used");
}

TEST_F(JwkTest, LoadsFiles) {
  std::filesystem::path path = std::filesystem::temp_directory_path() / "regenpath_jwk_test_keys.json";
  {
    std::ofstream out(path);
    out << JwkSetJson({PublicJwk(ec384_, "f")});
  }
  Result<JwkSet> keys = LoadJwkSetFile(path.string());
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  EXPECT_NE(keys->Find("f"), nullptr);
  {
    std::ofstream out(path);
    out << "{\"keys\": 3}";
  }
  Result<JwkSet> bad = LoadJwkSetFile(path.string());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message().rfind(path.string() + ": ", 0), 0u) << bad.error().message();
  std::filesystem::remove(path);
  Result<JwkSet> missing = LoadJwkSetFile(path.string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace regenpath::security
