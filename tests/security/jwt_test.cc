// JwtVerifier tests: keys are generated here, tokens are signed here, and the
// verifier sees them exactly as an EHR would send them.
#include "security/jwt_verifier.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "security/base64url.h"
#include "test_keys.h"

namespace regenpath::security {
namespace {

using testing::JsonObject;
using testing::JwkSetJson;
using testing::MakeJws;
using testing::ManualClock;
using testing::PublicJwk;
using testing::Quote;

constexpr const char* kIssuer = "https://ehr.example.com/";
constexpr const char* kAudience = "https://cds.example.org/cds-services/regenpath";
constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kSkew = 60;

class FakeKeySource : public KeySource {
 public:
  void Serve(const std::string& url, const std::string& json) {
    std::lock_guard<std::mutex> lock(mutex_);
    documents_[url] = json;
    errors_.erase(url);
  }
  void Fail(const std::string& url, Status error) {
    std::lock_guard<std::mutex> lock(mutex_);
    errors_[url] = std::move(error);
  }
  int fetches(const std::string& url) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = fetches_.find(url);
    return found == fetches_.end() ? 0 : found->second;
  }

  Result<std::shared_ptr<const JwkSet>> Fetch(const std::string& url) override {
    std::string json;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++fetches_[url];
      if (auto error = errors_.find(url); error != errors_.end()) return regenpath::Fail(error->second);
      auto found = documents_.find(url);
      if (found == documents_.end()) return regenpath::Fail(Unavailable("404 from " + url));
      json = found->second;
    }
    // Give concurrent callers a chance to pile up behind a fetch.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    RP_ASSIGN_OR_RETURN(JwkSet keys, ParseJwkSet(json));
    return std::make_shared<const JwkSet>(std::move(keys));
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> documents_;
  std::map<std::string, Status> errors_;
  std::map<std::string, int> fetches_;
};

class JwtVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec384_ = testing::GenerateEcKey("P-384").release();
    ec256_ = testing::GenerateEcKey("P-256").release();
    rsa_ = testing::GenerateRsaKey(2048).release();
    other_ec384_ = testing::GenerateEcKey("P-384").release();
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY* key : {ec384_, ec256_, rsa_, other_ec384_}) EVP_PKEY_free(key);
  }

  void SetUp() override {
    Result<JwkSet> keys =
        ParseJwkSet(JwkSetJson({PublicJwk(ec384_, "ec384"), PublicJwk(ec256_, "ec256"),
                                PublicJwk(rsa_, "rsa"), PublicJwk(rsa_, "rsa-rs384", "RS384")}));
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    TrustedIssuer issuer;
    issuer.issuer = kIssuer;
    issuer.keys = std::make_shared<const JwkSet>(std::move(*keys));
    issuers_.push_back(std::move(issuer));
  }

  JwtVerifier& Verifier() {
    if (verifier_ == nullptr) {
      Result<std::unique_ptr<JwtVerifier>> created =
          JwtVerifier::Create(issuers_, policy_, &clock_, &source_);
      EXPECT_TRUE(created.has_value()) << created.error().ToString();
      verifier_ = std::move(*created);
    }
    return *verifier_;
  }

  static JsonObject Header(const std::string& alg, const std::string& kid) {
    JsonObject header;
    header.SetString("alg", alg).SetString("typ", "JWT").SetString("kid", kid);
    return header;
  }

  JsonObject Claims() {
    JsonObject claims;
    claims.SetString("iss", kIssuer)
        .SetString("aud", kAudience)
        .SetNumber("exp", clock_.seconds() + 300)
        .SetNumber("iat", clock_.seconds())
        .SetString("jti", "jti-" + std::to_string(next_jti_++))
        .SetString("tenant", "2ddd6c3a-8e9a-44c6-a305-52111ad302a2")
        .SetString("sub", "ehr-client-1");
    return claims;
  }

  static std::string Token(const JsonObject& header, const JsonObject& claims, EVP_PKEY* key,
                           const std::string& alg) {
    return MakeJws(header.Str(), claims.Str(), key, alg);
  }

  // A valid ES384 token with `claims`.
  std::string Es384(const JsonObject& claims) {
    return Token(Header("ES384", "ec384"), claims, ec384_, "ES384");
  }

  Result<VerifiedClient> Verify(const std::string& token) {
    return Verifier().Verify("Bearer " + token, kAudience);
  }

  static void ExpectRejected(const Result<VerifiedClient>& result, const std::string& fragment,
                             StatusCode code = StatusCode::kInvalidInput) {
    ASSERT_FALSE(result.has_value()) << "accepted; expected: " << fragment;
    EXPECT_EQ(result.error().code(), code) << result.error().ToString();
    EXPECT_NE(result.error().message().find(fragment), std::string::npos)
        << "message: " << result.error().message() << "\nexpected to contain: " << fragment;
  }

  static EVP_PKEY* ec384_;
  static EVP_PKEY* ec256_;
  static EVP_PKEY* rsa_;
  static EVP_PKEY* other_ec384_;

  ManualClock clock_{kNow};
  FakeKeySource source_;
  JwtPolicy policy_;
  std::vector<TrustedIssuer> issuers_;
  std::unique_ptr<JwtVerifier> verifier_;
  int next_jti_ = 1;
};

EVP_PKEY* JwtVerifierTest::ec384_ = nullptr;
EVP_PKEY* JwtVerifierTest::ec256_ = nullptr;
EVP_PKEY* JwtVerifierTest::rsa_ = nullptr;
EVP_PKEY* JwtVerifierTest::other_ec384_ = nullptr;

// --- Accepted tokens -------------------------------------------------------

TEST_F(JwtVerifierTest, AcceptsValidEs384) {
  Result<VerifiedClient> client = Verify(Es384(Claims()));
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  EXPECT_EQ(client->issuer, kIssuer);
  EXPECT_EQ(client->subject, "ehr-client-1");
  EXPECT_EQ(client->jti, "jti-1");
  EXPECT_EQ(client->tenant, "2ddd6c3a-8e9a-44c6-a305-52111ad302a2");
  EXPECT_EQ(client->kid, "ec384");
  EXPECT_EQ(client->algorithm, "ES384");
  EXPECT_EQ(client->issued_at.ToString(), "2026-01-01T00:00:00.000+00:00");
  EXPECT_EQ(client->expires.ToString(), "2026-01-01T00:05:00.000+00:00");
}

TEST_F(JwtVerifierTest, AcceptsValidRs384) {
  Result<VerifiedClient> client = Verify(Token(Header("RS384", "rsa"), Claims(), rsa_, "RS384"));
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  EXPECT_EQ(client->algorithm, "RS384");
  // A JWK restricted to RS384 takes RS384 tokens.
  client = Verify(Token(Header("RS384", "rsa-rs384"), Claims(), rsa_, "RS384"));
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
}

TEST_F(JwtVerifierTest, AcceptsValidEs256AndRs256) {
  Result<VerifiedClient> es256 = Verify(Token(Header("ES256", "ec256"), Claims(), ec256_, "ES256"));
  ASSERT_TRUE(es256.has_value()) << es256.error().ToString();
  Result<VerifiedClient> rs256 = Verify(Token(Header("RS256", "rsa"), Claims(), rsa_, "RS256"));
  ASSERT_TRUE(rs256.has_value()) << rs256.error().ToString();
}

TEST_F(JwtVerifierTest, AcceptsOptionalPartsLeftOut) {
  // No tenant, no sub, a fractional NumericDate, typ in lower case.
  JsonObject claims = Claims();
  claims.Erase("tenant").Erase("sub").Set("exp", std::to_string(kNow + 100) + ".5");
  Result<VerifiedClient> client =
      Verify(Token(Header("ES384", "ec384").SetString("typ", "jwt"), claims, ec384_, "ES384"));
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  EXPECT_FALSE(client->subject.has_value());
  EXPECT_FALSE(client->tenant.has_value());
  EXPECT_EQ(client->expires.ToString(), "2026-01-01T00:01:40.500+00:00");
}

TEST_F(JwtVerifierTest, AcceptsAudienceArrayContainingTheEndpoint) {
  JsonObject claims = Claims();
  claims.Set("aud", "[\"https://other.example/cds-services\"," + Quote(kAudience) + "]");
  ASSERT_TRUE(Verify(Es384(claims)).has_value());
}

TEST_F(JwtVerifierTest, AcceptsSchemeInAnyCaseAndExtraSpaces) {
  Result<VerifiedClient> lower = Verifier().Verify("bearer " + Es384(Claims()), kAudience);
  ASSERT_TRUE(lower.has_value()) << lower.error().ToString();
  Result<VerifiedClient> spaced = Verifier().Verify("  BEARER \t " + Es384(Claims()) + " ", kAudience);
  ASSERT_TRUE(spaced.has_value()) << spaced.error().ToString();
}

// --- The cases the issue lists ----------------------------------------------

TEST_F(JwtVerifierTest, RejectsExpired) {
  JsonObject claims = Claims();
  claims.SetNumber("iat", kNow - 600).SetNumber("exp", kNow - 300);
  ExpectRejected(Verify(Es384(claims)), "token expired");
}

TEST_F(JwtVerifierTest, RejectsNotYetValid) {
  JsonObject claims = Claims();
  claims.SetNumber("iat", kNow + 120).SetNumber("exp", kNow + 300);
  ExpectRejected(Verify(Es384(claims)), "not yet valid (iat in the future)");
  JsonObject nbf = Claims();
  nbf.SetNumber("nbf", kNow + 120);
  ExpectRejected(Verify(Es384(nbf)), "not yet valid (nbf)");
}

TEST_F(JwtVerifierTest, RejectsWrongAudience) {
  JsonObject claims = Claims();
  claims.SetString("aud", "https://cds.example.org/cds-services/other-service");
  ExpectRejected(Verify(Es384(claims)), "aud is not this endpoint");
  // The audience is compared exactly: not a prefix, no trailing slash.
  ExpectRejected(Verifier().Verify("Bearer " + Es384(Claims()), std::string(kAudience) + "/"),
                 "aud is not this endpoint");
  claims.Set("aud", "[\"https://cds.example.org/cds-services\"]");
  ExpectRejected(Verify(Es384(claims)), "aud is not this endpoint");
  claims.Set("aud", "[]");
  ExpectRejected(Verify(Es384(claims)), "token has no aud");
  claims.Erase("aud");
  ExpectRejected(Verify(Es384(claims)), "token has no aud");
  claims.Set("aud", "[1]");
  ExpectRejected(Verify(Es384(claims)), "\"aud\" is not a string or an array of strings");
}

TEST_F(JwtVerifierTest, RejectsUnknownIssuer) {
  JsonObject claims = Claims();
  claims.SetString("iss", "https://evil.example/");
  ExpectRejected(Verify(Es384(claims)), "issuer is not trusted");
  claims.SetString("iss", "https://ehr.example.com");  // No trailing slash: a different issuer.
  ExpectRejected(Verify(Es384(claims)), "issuer is not trusted");
  claims.Erase("iss");
  ExpectRejected(Verify(Es384(claims)), "token has no iss");
}

TEST_F(JwtVerifierTest, RejectsUnknownKid) {
  ExpectRejected(Verify(Token(Header("ES384", "nope"), Claims(), ec384_, "ES384")), "kid is not a key");
}

TEST_F(JwtVerifierTest, RejectsAlgNone) {
  std::string input =
      Base64UrlEncode(
          JsonObject().SetString("alg", "none").SetString("typ", "JWT").SetString("kid", "ec384").Str()) +
      "." + Base64UrlEncode(Claims().Str());
  ExpectRejected(Verify(input + "."), "alg \"none\"");
  // Even carrying some signature.
  ExpectRejected(Verify(input + "." + Base64UrlEncode("x")), "alg \"none\"");
  // And with alg spelled otherwise ("None" is simply unsupported).
  std::string none_caps =
      Base64UrlEncode(Header("None", "ec384").Str()) + "." + Base64UrlEncode(Claims().Str());
  ExpectRejected(Verify(none_caps + "."), "unsupported token alg");
}

TEST_F(JwtVerifierTest, RejectsHs256) {
  // The classic confusion attack: HMAC keyed with the issuer's public key.
  std::string input = Base64UrlEncode(Header("HS256", "rsa").Str()) + "." + Base64UrlEncode(Claims().Str());
  std::string public_jwk = PublicJwk(rsa_, "rsa");
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_length = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, public_jwk.data(), public_jwk.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof(mac),
                      &mac_length),
            nullptr);
  std::string token = input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_length));
  ExpectRejected(Verify(token), "symmetric (HMAC)");
  for (const char* alg : {"HS384", "HS512"}) {
    std::string other = Base64UrlEncode(Header(alg, "rsa").Str()) + "." + Base64UrlEncode(Claims().Str());
    ExpectRejected(Verify(other + "." + Base64UrlEncode("mac")), "symmetric (HMAC)");
  }
  for (const char* alg : {"ES512", "PS384", "EdDSA", "RS512"}) {
    std::string other = Base64UrlEncode(Header(alg, "rsa").Str()) + "." + Base64UrlEncode(Claims().Str());
    ExpectRejected(Verify(other + "." + Base64UrlEncode("sig")), "unsupported token alg");
  }
}

TEST_F(JwtVerifierTest, RejectsTamperedSignature) {
  for (auto [alg, kid, key] : {std::tuple{"ES384", "ec384", ec384_}, std::tuple{"RS384", "rsa", rsa_}}) {
    std::string token = Token(Header(alg, kid), Claims(), key, alg);
    size_t dot = token.rfind('.');
    std::string signature = Base64UrlDecode(token.substr(dot + 1)).value();
    signature[signature.size() / 2] ^= 0x01;
    ExpectRejected(Verify(token.substr(0, dot + 1) + Base64UrlEncode(signature)),
                   "signature does not verify");
  }
}

TEST_F(JwtVerifierTest, RejectsReplayedJti) {
  std::string token = Es384(Claims());
  ASSERT_TRUE(Verify(token).has_value());
  ExpectRejected(Verify(token), "already used");
  // A fresh token (new signature) with the same jti is a replay too.
  JsonObject claims = Claims();
  claims.SetString("jti", "jti-1").SetNumber("exp", kNow + 200);
  ExpectRejected(Verify(Es384(claims)), "already used");
}

// --- Further cases -----------------------------------------------------------

TEST_F(JwtVerifierTest, RejectsMissingKid) {
  ExpectRejected(Verify(Token(Header("ES384", "x").Erase("kid"), Claims(), ec384_, "ES384")), "no kid");
  ExpectRejected(Verify(Token(Header("ES384", ""), Claims(), ec384_, "ES384")), "no kid");
}

TEST_F(JwtVerifierTest, RejectsSignatureFromAnotherKeyWithAKnownKid) {
  ExpectRejected(Verify(Token(Header("ES384", "ec384"), Claims(), other_ec384_, "ES384")),
                 "signature does not verify");
}

TEST_F(JwtVerifierTest, RejectsWrongOrMissingTyp) {
  ExpectRejected(Verify(Token(Header("ES384", "ec384").SetString("typ", "JOSE"), Claims(), ec384_, "ES384")),
                 "typ is not \"JWT\"");
  ExpectRejected(
      Verify(Token(Header("ES384", "ec384").SetString("typ", "at+jwt"), Claims(), ec384_, "ES384")),
      "typ is not \"JWT\"");
  ExpectRejected(Verify(Token(Header("ES384", "ec384").Erase("typ"), Claims(), ec384_, "ES384")), "no typ");
}

TEST_F(JwtVerifierTest, RejectsCritAndNestedTokens) {
  ExpectRejected(Verify(Token(Header("ES384", "ec384").Set("crit", "[\"exp\"]"), Claims(), ec384_, "ES384")),
                 "crit");
  ExpectRejected(Verify(Token(Header("ES384", "ec384").SetString("cty", "JWT"), Claims(), ec384_, "ES384")),
                 "nested");
}

TEST_F(JwtVerifierTest, RejectsMissingRequiredClaims) {
  ExpectRejected(Verify(Es384(Claims().Erase("jti"))), "token has no jti");
  ExpectRejected(Verify(Es384(Claims().SetString("jti", ""))), "token has no jti");
  ExpectRejected(Verify(Es384(Claims().Erase("exp"))), "token has no exp");
  ExpectRejected(Verify(Es384(Claims().Erase("iat"))), "token has no iat");
  ExpectRejected(Verify(Es384(Claims().SetString("exp", "soon"))), "\"exp\" is not a number");
  ExpectRejected(Verify(Es384(Claims().SetNumber("exp", -5))), "\"exp\" is not a date");
  ExpectRejected(Verify(Es384(Claims().Set("exp", "1e300"))), "\"exp\" is not a date");
  ExpectRejected(Verify(Es384(Claims().Set("exp", "18446744073709551615"))), "\"exp\" is not a date");
  ExpectRejected(Verify(Es384(Claims().Set("jti", "42"))), "\"jti\" is not a string");
}

TEST_F(JwtVerifierTest, RejectsBadLifetimes) {
  JsonObject backwards = Claims();
  backwards.SetNumber("iat", kNow).SetNumber("exp", kNow);
  ExpectRejected(Verify(Es384(backwards)), "exp is not after its iat");
  JsonObject long_lived = Claims();
  long_lived.SetNumber("iat", kNow).SetNumber("exp", kNow + 3601);
  ExpectRejected(Verify(Es384(long_lived)), "lifetime");
  long_lived.SetNumber("exp", kNow + 3600);
  ASSERT_TRUE(Verify(Es384(long_lived)).has_value());
}

TEST_F(JwtVerifierTest, ClockSkewBoundaries) {
  // exp: accepted while now < exp + skew.
  JsonObject at_limit = Claims();
  at_limit.SetNumber("iat", kNow - 200).SetNumber("exp", kNow - kSkew);
  ExpectRejected(Verify(Es384(at_limit)), "token expired");
  JsonObject inside = Claims();
  inside.SetNumber("iat", kNow - 200).SetNumber("exp", kNow - kSkew + 1);
  ASSERT_TRUE(Verify(Es384(inside)).has_value());
  // One millisecond before exp + skew still counts as valid.
  clock_.SetMillis((kNow + 300 + kSkew) * 1000 - 1);
  JsonObject edge = Claims();
  edge.SetNumber("iat", kNow).SetNumber("exp", kNow + 300);
  ASSERT_TRUE(Verify(Es384(edge)).has_value());
  clock_.SetSeconds(kNow);
  // iat: accepted up to now + skew.
  JsonObject iat_at_limit = Claims();
  iat_at_limit.SetNumber("iat", kNow + kSkew).SetNumber("exp", kNow + kSkew + 60);
  ASSERT_TRUE(Verify(Es384(iat_at_limit)).has_value());
  JsonObject iat_beyond = Claims();
  iat_beyond.SetNumber("iat", kNow + kSkew + 1).SetNumber("exp", kNow + kSkew + 60);
  ExpectRejected(Verify(Es384(iat_beyond)), "iat in the future");
  // nbf: accepted up to now + skew.
  ASSERT_TRUE(Verify(Es384(Claims().SetNumber("nbf", kNow + kSkew))).has_value());
  ExpectRejected(Verify(Es384(Claims().SetNumber("nbf", kNow + kSkew + 1))), "nbf");
}

TEST_F(JwtVerifierTest, ZeroSkewIsExact) {
  policy_.clock_skew = std::chrono::seconds(0);
  ExpectRejected(Verify(Es384(Claims().SetNumber("iat", kNow - 10).SetNumber("exp", kNow))), "token expired");
  ASSERT_TRUE(Verify(Es384(Claims().SetNumber("iat", kNow - 10).SetNumber("exp", kNow + 1))).has_value());
  ExpectRejected(Verify(Es384(Claims().SetNumber("iat", kNow + 1))), "iat in the future");
}

TEST_F(JwtVerifierTest, ReplayAfterTheExpiryWindow) {
  std::string token = Es384(Claims());  // jti-1, exp = now + 300.
  ASSERT_TRUE(Verify(token).has_value());
  ExpectRejected(Verify(token), "already used");
  // Still remembered up to the last instant the token itself could pass.
  clock_.SetMillis((kNow + 300 + kSkew) * 1000 - 1);
  ExpectRejected(Verify(token), "already used");
  // After that the token is refused as expired, not as a replay...
  clock_.SetSeconds(kNow + 300 + kSkew);
  ExpectRejected(Verify(token), "token expired");
  // ...and its jti is forgotten: a new token may reuse it.
  JsonObject reuse = Claims();
  reuse.SetString("jti", "jti-1");
  ASSERT_TRUE(Verify(Es384(reuse)).has_value());
  ExpectRejected(Verify(Es384(reuse)), "already used");
}

TEST_F(JwtVerifierTest, RejectedTokensDoNotUseUpTheirJti) {
  JsonObject claims = Claims();
  claims.SetString("jti", "shared");
  ExpectRejected(Verify(Es384(JsonObject(claims).SetString("aud", "https://elsewhere/"))), "aud");
  ExpectRejected(Verify(Token(Header("ES384", "ec384"), claims, other_ec384_, "ES384")), "does not verify");
  ASSERT_TRUE(Verify(Es384(claims)).has_value());
}

TEST_F(JwtVerifierTest, JtiIsPerIssuer) {
  TrustedIssuer second;
  second.issuer = "https://ehr2.example.com/";
  second.keys = issuers_[0].keys;
  issuers_.push_back(second);
  JsonObject claims = Claims();
  claims.SetString("jti", "same");
  ASSERT_TRUE(Verify(Es384(claims)).has_value());
  claims.SetString("iss", "https://ehr2.example.com/");
  ASSERT_TRUE(Verify(Es384(claims)).has_value());
  ExpectRejected(Verify(Es384(claims)), "already used");
}

TEST_F(JwtVerifierTest, FullJtiMemoryRefusesNewTokens) {
  policy_.jti_cache_capacity = 2;
  ASSERT_TRUE(Verify(Es384(Claims())).has_value());
  ASSERT_TRUE(Verify(Es384(Claims())).has_value());
  ExpectRejected(Verify(Es384(Claims())), "too many recent tokens", StatusCode::kResourceExhausted);
  clock_.AdvanceSeconds(300 + kSkew);
  ASSERT_TRUE(Verify(Es384(Claims())).has_value());
}

TEST_F(JwtVerifierTest, RejectsTenantsOffTheAllowlist) {
  issuers_[0].tenant_allowlist = {"tenant-a"};
  ASSERT_TRUE(Verify(Es384(Claims().SetString("tenant", "tenant-a"))).has_value());
  ExpectRejected(Verify(Es384(Claims().SetString("tenant", "tenant-b"))), "tenant is not allowed");
  ExpectRejected(Verify(Es384(Claims().Erase("tenant"))), "tenant is not allowed");
}

TEST_F(JwtVerifierTest, RejectsKeyOfTheWrongTypeForAlg) {
  // ES384 header naming the RSA key (signed with the EC key, so only the key
  // type can be what fails).
  ExpectRejected(Verify(Token(Header("ES384", "rsa"), Claims(), ec384_, "ES384")),
                 "key type does not match the token's alg");
  // RS256 header naming an EC key.
  ExpectRejected(Verify(Token(Header("RS256", "ec384"), Claims(), rsa_, "RS256")),
                 "key type does not match the token's alg");
  // ES256 with a P-384 key, ES384 with a P-256 key.
  ExpectRejected(Verify(Token(Header("ES256", "ec384"), Claims(), ec256_, "ES256")),
                 "key type does not match the token's alg");
  ExpectRejected(Verify(Token(Header("ES384", "ec256"), Claims(), ec384_, "ES384")),
                 "key type does not match the token's alg");
  // A JWK restricted to RS384 refuses RS256.
  ExpectRejected(Verify(Token(Header("RS256", "rsa-rs384"), Claims(), rsa_, "RS256")),
                 "key's alg does not match");
}

TEST_F(JwtVerifierTest, RejectsTamperedPayload) {
  std::string token = Es384(Claims());
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  JsonObject forged = Claims();
  forged.SetString("tenant", "someone-else").SetString("jti", "jti-1");
  std::string tampered = token.substr(0, first + 1) + Base64UrlEncode(forged.Str()) + token.substr(second);
  ExpectRejected(Verify(tampered), "signature does not verify");
  // A header swapped for another (here: a different kid of the same key type)
  // breaks the signature too.
  std::string other_header = Base64UrlEncode(Header("ES384", "ec384").SetString("jku2", "x").Str());
  ExpectRejected(Verify(other_header + token.substr(first)), "signature does not verify");
  ASSERT_TRUE(Verify(token).has_value());
}

TEST_F(JwtVerifierTest, RejectsSignaturesOfTheWrongLength) {
  std::string token = Es384(Claims());
  size_t dot = token.rfind('.');
  std::string signature = Base64UrlDecode(token.substr(dot + 1)).value();
  ASSERT_EQ(signature.size(), 96u);
  std::string prefix = token.substr(0, dot + 1);
  ExpectRejected(Verify(prefix + Base64UrlEncode(signature.substr(1))), "wrong length");
  ExpectRejected(Verify(prefix + Base64UrlEncode(signature + '\0')), "wrong length");
  // The DER form OpenSSL produces is not what JWS carries.
  ExpectRejected(Verify(prefix + Base64UrlEncode(std::string(104, '\x30'))), "wrong length");
  ExpectRejected(Verify(prefix), "no signature");
  // r = s = 0 (the "psychic signature" of CVE-2022-21449) and r = s = 2^384-1.
  ExpectRejected(Verify(prefix + Base64UrlEncode(std::string(96, '\0'))), "signature does not verify");
  ExpectRejected(Verify(prefix + Base64UrlEncode(std::string(96, '\xff'))), "signature does not verify");

  std::string rsa_token = Token(Header("RS384", "rsa"), Claims(), rsa_, "RS384");
  size_t rsa_dot = rsa_token.rfind('.');
  std::string rsa_signature = Base64UrlDecode(rsa_token.substr(rsa_dot + 1)).value();
  ASSERT_EQ(rsa_signature.size(), 256u);
  ExpectRejected(Verify(rsa_token.substr(0, rsa_dot + 1) + Base64UrlEncode('\0' + rsa_signature)),
                 "wrong length");
}

TEST_F(JwtVerifierTest, RejectsHeadersThatAreNotBearer) {
  std::string token = Es384(Claims());
  ExpectRejected(Verifier().Verify("", kAudience), "missing Authorization header");
  ExpectRejected(Verifier().Verify("   ", kAudience), "missing Authorization header");
  ExpectRejected(Verifier().Verify(token, kAudience), "not a Bearer token");
  ExpectRejected(Verifier().Verify("Basic " + token, kAudience), "not a Bearer token");
  ExpectRejected(Verifier().Verify("Bearer", kAudience), "not a Bearer token");
  ExpectRejected(Verifier().Verify("Bearer:" + token, kAudience), "not a Bearer token");
  ExpectRejected(Verifier().Verify("Bearer " + token + " extra", kAudience), "three base64url parts");
  ASSERT_TRUE(Verifier().Verify("Bearer " + token, kAudience).has_value());
}

TEST_F(JwtVerifierTest, RejectsGarbageTokens) {
  for (const char* garbage :
       {"garbage", "a.b", "a.b.c.d", "..", "a..c", ".b.c", "a.b.c!", "a.b+.c", "a.b/c.d", "eyJ9.eyJ9.\xff"}) {
    ExpectRejected(Verify(garbage), "three base64url parts");
  }
  // Three parts of base64url characters that do not decode.
  ExpectRejected(Verify("A.B.C"), "token header is not base64url");
  std::string header = Base64UrlEncode(Header("ES384", "ec384").Str());
  std::string payload = Base64UrlEncode(Claims().Str());
  ExpectRejected(Verify(header + ".Zh.c2ln"), "token payload is not base64url");
  ExpectRejected(Verify(header + "." + payload + ".Zh"), "token signature is not base64url");
  // Decodes, but is not JSON / not an object / has duplicate members.
  ExpectRejected(Verify(Base64UrlEncode("not json") + "." + payload + ".c2ln"),
                 "token header is not valid JSON");
  ExpectRejected(Verify(Base64UrlEncode("[1]") + "." + payload + ".c2ln"),
                 "token header is not a JSON object");
  ExpectRejected(Verify(header + "." + Base64UrlEncode("\"x\"") + ".c2ln"),
                 "token claims is not a JSON object");
  std::string duplicate_alg = "{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"ec384\",\"alg\":\"none\"}";
  ExpectRejected(Verify(Base64UrlEncode(duplicate_alg) + "." + payload + ".c2ln"), "duplicate member");
  std::string duplicate_aud = Claims().Str();
  duplicate_aud.insert(duplicate_aud.size() - 1, ",\"aud\":\"https://evil/\"");
  ExpectRejected(Verify(header + "." + Base64UrlEncode(duplicate_aud) + ".c2ln"), "duplicate member");
  ExpectRejected(Verify(Base64UrlEncode("{\"alg\":5}") + "." + payload + ".c2ln"), "\"alg\" is not a string");
  ExpectRejected(Verify(Base64UrlEncode("{\"typ\":\"JWT\"}") + "." + payload + ".c2ln"), "no alg");
}

TEST_F(JwtVerifierTest, RejectsHugeTokensCleanly) {
  std::string huge(1 << 20, 'A');
  ExpectRejected(Verifier().Verify("Bearer " + huge, kAudience), "too large", StatusCode::kResourceExhausted);
  std::string header = Base64UrlEncode(Header("ES384", "ec384").Str());
  std::string big_claims = Claims().SetString("pad", std::string(1 << 20, 'x')).Str();
  ExpectRejected(Verify(header + "." + Base64UrlEncode(big_claims) + ".c2ln"), "too large",
                 StatusCode::kResourceExhausted);
  // A larger limit can be configured.
  policy_.max_token_bytes = 64 * 1024;
  verifier_.reset();
  std::string padded = Es384(Claims().SetString("pad", std::string(30000, 'x')));
  ASSERT_LT(padded.size(), policy_.max_token_bytes);
  ASSERT_TRUE(Verify(padded).has_value());
}

TEST_F(JwtVerifierTest, ErrorsDoNotEchoTheToken) {
  JsonObject claims = Claims();
  claims.SetString("iss", "https://evil.example/<script>").SetString("jti", "secret-jti");
  for (const Result<VerifiedClient>& result :
       {Verify(Es384(claims)), Verify(Token(Header("ES384", "evil-kid"), Claims(), ec384_, "ES384")),
        Verify(Es384(Claims().SetString("aud", "https://evil-aud/")))}) {
    ASSERT_FALSE(result.has_value());
    for (const char* secret : {"evil", "secret", "<script>"}) {
      EXPECT_EQ(result.error().message().find(secret), std::string::npos) << result.error().message();
    }
  }
}

// --- Key sources ---------------------------------------------------------------

TEST_F(JwtVerifierTest, JkuOnTheAllowlistIsFetched) {
  const std::string jku = "https://ehr.example.com/.well-known/jwks.json";
  EVP_PKEY* rotated = other_ec384_;
  source_.Serve(jku, JwkSetJson({PublicJwk(rotated, "rotated")}));
  issuers_[0].jku_allowlist = {jku};
  JsonObject header = Header("ES384", "rotated");
  header.SetString("jku", jku);
  Result<VerifiedClient> client = Verify(Token(header, Claims(), rotated, "ES384"));
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  EXPECT_EQ(source_.fetches(jku), 1);
  // With a jku only the keys at that URL count, not the configured ones.
  JsonObject configured_kid = Header("ES384", "ec384");
  configured_kid.SetString("jku", jku);
  ExpectRejected(Verify(Token(configured_kid, Claims(), ec384_, "ES384")), "kid is not a key");
}

TEST_F(JwtVerifierTest, JkuOffTheAllowlistIsRefusedWithoutFetching) {
  const std::string allowed = "https://ehr.example.com/.well-known/jwks.json";
  const std::string attacker = "https://attacker.example/jwks.json";
  source_.Serve(attacker, JwkSetJson({PublicJwk(other_ec384_, "ec384")}));
  issuers_[0].jku_allowlist = {allowed};
  JsonObject header = Header("ES384", "ec384");
  header.SetString("jku", attacker);
  ExpectRejected(Verify(Token(header, Claims(), other_ec384_, "ES384")), "jku is not allowed");
  // A jku is refused for an issuer without any allowlist, too.
  issuers_.clear();
  SetUp();
  verifier_.reset();
  ExpectRejected(Verify(Token(header, Claims(), other_ec384_, "ES384")), "jku is not allowed");
  // Near misses of the allowed URL are different URLs.
  header.SetString("jku", allowed + "?x=1");
  ExpectRejected(Verify(Token(header, Claims(), other_ec384_, "ES384")), "jku is not allowed");
  EXPECT_EQ(source_.fetches(attacker), 0);
}

TEST_F(JwtVerifierTest, JwksUrlIsCachedAndRefreshedAtMostOncePerInterval) {
  const std::string url = "https://ehr.example.com/jwks";
  TrustedIssuer remote;
  remote.issuer = "https://remote-ehr.example.com/";
  remote.jwks_url = url;
  issuers_ = {remote};
  EVP_PKEY* key_a = ec384_;
  EVP_PKEY* key_b = other_ec384_;
  auto token = [&](const char* kid, EVP_PKEY* key) {
    return Token(Header("ES384", kid), Claims().SetString("iss", remote.issuer), key, "ES384");
  };
  source_.Serve(url, JwkSetJson({PublicJwk(key_a, "a")}));

  ASSERT_TRUE(Verify(token("a", key_a)).has_value());
  EXPECT_EQ(source_.fetches(url), 1);
  ASSERT_TRUE(Verify(token("a", key_a)).has_value());
  EXPECT_EQ(source_.fetches(url), 1);  // Cached.
  // An unknown kid right after a fetch fetches nothing.
  ExpectRejected(Verify(token("b", key_b)), "kid is not a key");
  EXPECT_EQ(source_.fetches(url), 1);

  // Later, an unknown kid may mean the client rotated its keys: fetch again.
  clock_.AdvanceSeconds(60);
  ExpectRejected(Verify(token("b", key_b)), "kid is not a key");
  EXPECT_EQ(source_.fetches(url), 2);
  // The client publishes b, but within the refresh interval nothing is fetched.
  source_.Serve(url, JwkSetJson({PublicJwk(key_a, "a"), PublicJwk(key_b, "b")}));
  clock_.AdvanceSeconds(30);
  ExpectRejected(Verify(token("b", key_b)), "kid is not a key");
  ExpectRejected(Verify(token("zzz", key_b)), "kid is not a key");
  EXPECT_EQ(source_.fetches(url), 2);
  clock_.AdvanceSeconds(30);
  ASSERT_TRUE(Verify(token("b", key_b)).has_value());
  EXPECT_EQ(source_.fetches(url), 3);

  // Past the max age the set is fetched again; a withdrawn key stops working.
  source_.Serve(url, JwkSetJson({PublicJwk(key_b, "b")}));
  clock_.AdvanceSeconds(3600);
  ExpectRejected(Verify(token("a", key_a)), "kid is not a key");
  EXPECT_EQ(source_.fetches(url), 4);
}

TEST_F(JwtVerifierTest, UnreachableKeysAreUnavailable) {
  const std::string url = "https://ehr.example.com/jwks";
  TrustedIssuer remote;
  remote.issuer = "https://remote-ehr.example.com/";
  remote.jwks_url = url;
  issuers_ = {remote};
  auto token = [&]() {
    return Token(Header("ES384", "a"), Claims().SetString("iss", remote.issuer), ec384_, "ES384");
  };
  source_.Fail(url, Unavailable("connection refused"));
  ExpectRejected(Verify(token()), "signing keys are unavailable", StatusCode::kUnavailable);
  EXPECT_EQ(source_.fetches(url), 1);
  // Failures are rate-limited too.
  source_.Serve(url, JwkSetJson({PublicJwk(ec384_, "a")}));
  ExpectRejected(Verify(token()), "signing keys are unavailable", StatusCode::kUnavailable);
  EXPECT_EQ(source_.fetches(url), 1);
  clock_.AdvanceSeconds(60);
  ASSERT_TRUE(Verify(token()).has_value());
  // Once fetched, keys survive a failing refresh until their max age...
  source_.Fail(url, Unavailable("connection refused"));
  clock_.AdvanceSeconds(120);
  ExpectRejected(
      Verify(Token(Header("ES384", "new"), Claims().SetString("iss", remote.issuer), ec384_, "ES384")),
      "kid is not a key");
  EXPECT_EQ(source_.fetches(url), 3);
  ASSERT_TRUE(Verify(token()).has_value());
  // ...but not beyond it.
  clock_.AdvanceSeconds(3600);
  ExpectRejected(Verify(token()), "signing keys are unavailable", StatusCode::kUnavailable);
  // A malformed published set is reported as such.
  clock_.AdvanceSeconds(60);
  source_.Serve(url, "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\",\"crv\":\"P-384\"}]}");
  ExpectRejected(Verify(token()), "missing \"x\"", StatusCode::kUnavailable);
}

TEST_F(JwtVerifierTest, FileKeysAreLoadedAtCreation) {
  std::filesystem::path path = std::filesystem::temp_directory_path() / "regenpath_jwt_test_keys.json";
  {
    std::ofstream out(path);
    out << JwkSetJson({PublicJwk(ec384_, "from-file")});
  }
  TrustedIssuer file_issuer;
  file_issuer.issuer = "https://file-ehr.example.com/";
  file_issuer.jwks_file = path.string();
  issuers_.push_back(file_issuer);
  JwtVerifier& verifier = Verifier();
  std::filesystem::remove(path);  // Already read.
  std::string token =
      Token(Header("ES384", "from-file"), Claims().SetString("iss", file_issuer.issuer), ec384_, "ES384");
  Result<VerifiedClient> client = verifier.Verify("Bearer " + token, kAudience);
  ASSERT_TRUE(client.has_value()) << client.error().ToString();

  Result<std::unique_ptr<JwtVerifier>> missing = JwtVerifier::Create(issuers_, policy_, &clock_, &source_);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find("trusted issuer https://file-ehr.example.com/"),
            std::string::npos);
}

TEST_F(JwtVerifierTest, RejectsBadConfigurations) {
  auto create = [&](std::vector<TrustedIssuer> issuers, JwtPolicy policy, const Clock* clock,
                    KeySource* source) {
    return JwtVerifier::Create(std::move(issuers), policy, clock, source);
  };
  EXPECT_FALSE(create({}, policy_, &clock_, &source_).has_value());
  EXPECT_FALSE(create(issuers_, policy_, nullptr, &source_).has_value());
  std::vector<TrustedIssuer> twice = {issuers_[0], issuers_[0]};
  EXPECT_FALSE(create(twice, policy_, &clock_, &source_).has_value());
  TrustedIssuer keyless;
  keyless.issuer = "https://keyless/";
  EXPECT_FALSE(create({keyless}, policy_, &clock_, &source_).has_value());
  TrustedIssuer nameless = issuers_[0];
  nameless.issuer = "";
  EXPECT_FALSE(create({nameless}, policy_, &clock_, &source_).has_value());
  TrustedIssuer remote;
  remote.issuer = "https://remote/";
  remote.jwks_url = "https://remote/jwks";
  EXPECT_FALSE(create({remote}, policy_, &clock_, nullptr).has_value());
  EXPECT_TRUE(create({remote}, policy_, &clock_, &source_).has_value());
  JwtPolicy negative = policy_;
  negative.clock_skew = std::chrono::seconds(-1);
  EXPECT_FALSE(create(issuers_, negative, &clock_, &source_).has_value());
  JwtPolicy no_lifetime = policy_;
  no_lifetime.max_lifetime = std::chrono::seconds(0);
  EXPECT_FALSE(create(issuers_, no_lifetime, &clock_, &source_).has_value());
  JwtPolicy huge_skew = policy_;
  huge_skew.clock_skew = std::chrono::seconds(INT64_MAX / 2);
  EXPECT_FALSE(create(issuers_, huge_skew, &clock_, &source_).has_value());
  // File-only issuers need no key source.
  EXPECT_TRUE(create(issuers_, policy_, &clock_, nullptr).has_value());
}

// The example in the CDS Hooks 2.0 spec ("Trusting CDS Clients") verifies.
TEST_F(JwtVerifierTest, VerifiesTheSpecExample) {
  const std::string jku = "https://fhir-ehr.example.com/jwk_uri";
  source_.Serve(jku, R"({"keys":[{"kty":"EC","use":"sig","crv":"P-384","kid":"example-kid",
    "x":"46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk",
    "y":"XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI","alg":"ES384"}]})");
  TrustedIssuer ehr;
  ehr.issuer = "https://fhir-ehr.example.com/";
  ehr.jku_allowlist = {jku};
  issuers_ = {ehr};
  // The example's iat is 3.5 years before its exp.
  policy_.max_lifetime = std::chrono::seconds(4 * 366 * 86400);
  clock_.SetSeconds(1422568800);
  const std::string header =
      "Bearer "
      "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImV4YW1wbGUta2lkIiwiamt1IjoiaHR0cHM6Ly9maGlyLWVoci5leGFtcG"
      "xlLmNv"
      "bS9qd2tfdXJpIn0."
      "eyJpc3MiOiJodHRwczovL2ZoaXItZWhyLmV4YW1wbGUuY29tLyIsImF1ZCI6Imh0dHBzOi8vY2RzLmV4YW1wbGUub3JnL2Nkcy1zZX"
      "J2aWNl"
      "cy9zb21lLXNlcnZpY2UiLCJleHAiOjE0MjI1Njg4NjAsImlhdCI6MTMxMTI4MDk3MCwianRpIjoiZWUyMmIwMjEtZTFiNy00NjExLW"
      "JhNWIt"
      "OGVlYzZhMzNhYzFlIiwidGVuYW50IjoiMmRkZDZjM2EtOGU5YS00NGM2LWEzMDUtNTIxMTFhZDMwMmEyIn0."
      "d1WfLjGRKlcWB94l9do4cM8REXeYJLL6SGUBO8VHZhfM8mwKYP70EMxJ67War4TQblEpaQrp11wx5p7oPFm2ETYgCicS84vXWEIYTd"
      "jooZdo"
      "oCSDf2L8-i4awdoUwiEb";
  Result<VerifiedClient> client =
      Verifier().Verify(header, "https://cds.example.org/cds-services/some-service");
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  EXPECT_EQ(client->jti, "ee22b021-e1b7-4611-ba5b-8eec6a33ac1e");
  EXPECT_EQ(client->tenant, "2ddd6c3a-8e9a-44c6-a305-52111ad302a2");
  // With the default one-hour lifetime limit it is refused.
  policy_ = JwtPolicy();
  verifier_.reset();
  ExpectRejected(Verifier().Verify(header, "https://cds.example.org/cds-services/some-service"), "lifetime");
}

// --- Concurrency ---------------------------------------------------------------

TEST_F(JwtVerifierTest, VerifiesFromSeveralThreads) {
  const std::string url = "https://ehr.example.com/jwks";
  TrustedIssuer remote;
  remote.issuer = "https://remote-ehr.example.com/";
  remote.jwks_url = url;
  issuers_.push_back(remote);
  source_.Serve(url, JwkSetJson({PublicJwk(ec256_, "remote")}));

  constexpr int kThreads = 6;
  constexpr int kTokensPerThread = 20;
  std::vector<std::vector<std::string>> tokens(kThreads);
  for (int thread = 0; thread < kThreads; ++thread) {
    for (int index = 0; index < kTokensPerThread; ++index) {
      switch (index % 3) {
        case 0:
          tokens[thread].push_back(Es384(Claims()));
          break;
        case 1:
          tokens[thread].push_back(Token(Header("RS384", "rsa"), Claims(), rsa_, "RS384"));
          break;
        default:
          tokens[thread].push_back(
              Token(Header("ES256", "remote"), Claims().SetString("iss", remote.issuer), ec256_, "ES256"));
      }
    }
  }
  const std::string shared = Es384(Claims());
  JwtVerifier& verifier = Verifier();
  std::atomic<int> accepted{0};
  std::atomic<int> shared_accepted{0};
  std::atomic<int> replays{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (const std::string& token : tokens[thread]) {
        if (verifier.Verify("Bearer " + token, kAudience).has_value()) ++accepted;
      }
      Result<VerifiedClient> result = verifier.Verify("Bearer " + shared, kAudience);
      if (result.has_value()) {
        ++shared_accepted;
      } else if (result.error().message().find("already used") != std::string::npos) {
        ++replays;
      }
      clock_.AdvanceSeconds(0);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), kThreads * kTokensPerThread);
  EXPECT_EQ(shared_accepted.load(), 1);
  EXPECT_EQ(replays.load(), kThreads - 1);
  // All threads raced to the uncached URL; one fetch served them all.
  EXPECT_EQ(source_.fetches(url), 1);
}

}  // namespace
}  // namespace regenpath::security
