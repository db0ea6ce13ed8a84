// Test-only: a CdsServer started in process on an ephemeral loopback port,
// trusting one issuer whose ES384 and RS384 keys are generated here, and
// signers for the tokens an EHR would send.
#ifndef REGENPATH_TESTS_SERVER_TEST_SERVER_H_
#define REGENPATH_TESTS_SERVER_TEST_SERVER_H_

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "server/cds_server.h"
#include "server/server_config.h"
#include "tests/security/test_keys.h"
#include "tests/server/test_http.h"

namespace regenpath::server::testing {

using security::testing::JsonObject;
using security::testing::JwkSetJson;
using security::testing::MakeJws;
using security::testing::PublicJwk;

inline constexpr const char* kIssuer = "https://ehr.example.com/";
inline constexpr const char* kOrigin = "https://ehr-web.example.com";
inline constexpr const char* kPatientView = "regenpath-patient-view";

// A fresh directory under TMPDIR, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "regenpath-server-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline int64_t UnixNow() { return static_cast<int64_t>(time(nullptr)); }

// The keys of the trusted EHR, made once per test program.
struct EhrKeys {
  security::EvpPkeyPtr ec384 = security::testing::GenerateEcKey("P-384");
  security::EvpPkeyPtr rsa = security::testing::GenerateRsaKey(2048);
  security::EvpPkeyPtr stranger = security::testing::GenerateEcKey("P-384");  // not published
  std::string JwksJson() const {
    return JwkSetJson({PublicJwk(ec384.get(), "ec-1", "ES384"), PublicJwk(rsa.get(), "rsa-1", "RS384")});
  }
  static const EhrKeys& Get() {
    static const EhrKeys* keys = new EhrKeys();
    return *keys;
  }
};

// What a token says; tests change fields to make it fail.
struct TokenSpec {
  std::string alg = "ES384";
  std::string kid = "ec-1";
  std::string issuer = kIssuer;
  std::string audience;
  int64_t iat = UnixNow();
  int64_t exp = UnixNow() + 300;
  std::string jti;          // empty: a fresh one
  EVP_PKEY* key = nullptr;  // null: the one for alg
};

inline std::string MakeToken(TokenSpec spec) {
  static std::atomic<int> counter{0};
  const EhrKeys& keys = EhrKeys::Get();
  if (spec.jti.empty()) spec.jti = "jti-" + std::to_string(UnixNow()) + "-" + std::to_string(counter++);
  JsonObject header;
  header.SetString("alg", spec.alg).SetString("typ", "JWT").SetString("kid", spec.kid);
  JsonObject claims;
  claims.SetString("iss", spec.issuer)
      .SetString("aud", spec.audience)
      .SetNumber("exp", spec.exp)
      .SetNumber("iat", spec.iat)
      .SetString("jti", spec.jti);
  EVP_PKEY* key = spec.key != nullptr          ? spec.key
                  : spec.alg.starts_with("RS") ? keys.rsa.get()
                                               : keys.ec384.get();
  return MakeJws(header.Str(), claims.Str(), key, spec.alg);
}

class ServerFixture : public ::testing::Test {
 protected:
  // Tests may change config_ in their own SetUp before calling StartServer.
  void SetUp() override {
    std::filesystem::path jwks = dir_.path() / "ehr.jwks.json";
    std::ofstream(jwks) << EhrKeys::Get().JwksJson();
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.threads = 2;
    config_.data_dir = (dir_.path() / "data").string();
    security::TrustedIssuer issuer;
    issuer.issuer = kIssuer;
    issuer.jwks_file = jwks.string();
    config_.issuers = {issuer};
    config_.header_timeout = std::chrono::milliseconds(800);
    config_.body_timeout = std::chrono::milliseconds(800);
    config_.idle_timeout = std::chrono::milliseconds(1500);
    config_.write_timeout = std::chrono::milliseconds(2000);
    config_.body_limit_bytes = 256 * 1024;
    config_.cors_allowed_origins = {kOrigin};
    config_.fhir_allow_http = true;
    // The fake FHIR servers of the tests live on loopback; each test allows
    // its own base URLs (fhir_allowed_servers / issuer_fhir_servers).
    config_.fhir_allowed_private_networks = {"127.0.0.0/8"};
    config_.fhir_timeout = std::chrono::milliseconds(1000);
    config_.fhir_call_budget = std::chrono::milliseconds(1500);
    config_.log_level = "off";
  }

  void StartServer() {
    Result<std::unique_ptr<CdsServer>> created = CdsServer::Create(config_, &clock_);
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
    server_ = std::move(*created);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::seconds(2));
    server_.reset();
  }

  uint16_t port() const { return server_->port(); }
  std::string Url(const std::string& path) const { return server_->base_url() + path; }

  // A valid token for the endpoint at `path`.
  std::string TokenFor(const std::string& path, std::string alg = "ES384") const {
    TokenSpec spec;
    spec.alg = alg;
    spec.kid = alg.starts_with("RS") ? "rsa-1" : "ec-1";
    spec.audience = Url(path);
    return MakeToken(spec);
  }

  static std::pair<std::string, std::string> Bearer(const std::string& token) {
    return {"Authorization", "Bearer " + token};
  }

  std::optional<TestResponse> Post(const std::string& path, const std::string& body, const std::string& token,
                                   std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!token.empty()) headers.push_back(Bearer(token));
    for (auto& header : extra) headers.push_back(std::move(header));
    return Exchange(port(), BuildRequest("POST", path, headers, body));
  }

  std::optional<TestResponse> Get(const std::string& path, const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.push_back(Bearer(token));
    return Exchange(port(), BuildRequest("GET", path, headers));
  }

  // The /metrics text once `ready` holds for it (or the last scrape after
  // about two seconds). A request is counted when its write completes, which
  // can be just after the client has read the response, so tests that check
  // counters of earlier requests wait for them here.
  std::string MetricsWhen(const std::function<bool(const std::string&)>& ready) {
    std::string text;
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::optional<TestResponse> scrape = Get("/metrics");
      text = scrape ? scrape->body : "";
      if (ready(text)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return text;
  }

  TempDir dir_;
  ServerConfig config_;
  SystemClock clock_;
  std::unique_ptr<CdsServer> server_;
};

}  // namespace regenpath::server::testing

#endif  // REGENPATH_TESTS_SERVER_TEST_SERVER_H_
