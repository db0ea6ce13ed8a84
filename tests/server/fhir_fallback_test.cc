// The FHIR client (prefetch fallback) and the JWK Set source, against fake
// servers on loopback: a tiny FHIR server on the project's own HttpServer and
// raw sockets for broken peers. Through the whole service, the CDS Hooks
// service decides the status; these tests check the plumbing end to end.
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "server/fhir_http_client.h"
#include "server/http_client.h"
#include "server/http_server.h"
#include "server/jwks_key_source.h"
#include "tests/server/cds_request.h"
#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

enum class FhirMode { kOk, kSlow, kUnauthorized, kServerError, kGarbageJson, kRedirect, kHuge };

// A FHIR server that answers every read with the test patient and every
// search with an empty searchset, or fails as told.
class FakeFhirHandler : public HttpHandler {
 public:
  void set_mode(FhirMode mode) { mode_ = mode; }
  std::vector<std::string> authorizations() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return authorizations_;
  }
  std::vector<std::string> targets() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return targets_;
  }

  std::optional<HttpResponse> OnHeader(HttpRequest& request) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::string* authorization = request.Header("Authorization");
      authorizations_.push_back(authorization != nullptr ? *authorization : "");
      targets_.push_back(request.target);
    }
    HttpResponse response;
    response.headers.emplace_back("Content-Type", "application/fhir+json");
    switch (mode_.load()) {
      case FhirMode::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        response.body = kEmptyBundle;
        return response;
      case FhirMode::kUnauthorized:
        response.status = 401;
        return response;
      case FhirMode::kServerError:
        response.status = 500;
        response.body = "oops";
        return response;
      case FhirMode::kGarbageJson:
        response.body = "<html>this is not FHIR</html>";
        return response;
      case FhirMode::kRedirect:
        response.status = 302;
        response.headers.emplace_back("Location", "https://elsewhere.example.com/");
        return response;
      case FhirMode::kHuge:
        response.body = std::string(2 * 1024 * 1024, ' ') + kEmptyBundle;
        return response;
      case FhirMode::kOk:
        break;
    }
    bool read = request.Path().starts_with("/fhir/Patient/");
    response.body = read ? kPatientJson : kEmptyBundle;
    return response;
  }
  HttpResponse Handle(HttpRequest&) override { return HttpResponse{500, {}, "", true}; }
  HttpResponse OnBodyError(HttpRequest&, TransportError) override { return HttpResponse{400, {}, "", true}; }
  HttpResponse OnBadFraming(HttpRequest&, std::string_view) override { return HttpResponse{400, {}, "", true}; }
  void Completed(const HttpRequest&, int, double) override {}
  void OnTransportError(TransportError) override {}

 private:
  std::atomic<FhirMode> mode_{FhirMode::kOk};
  mutable std::mutex mutex_;
  std::vector<std::string> authorizations_;
  std::vector<std::string> targets_;
};

class FakeFhirServer {
 public:
  FakeFhirServer() {
    HttpServerOptions options;
    options.port = 0;
    options.threads = 2;
    server_ = std::move(HttpServer::Create(options, &handler_).value());
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeFhirServer() { server_->Shutdown(std::chrono::seconds(3)); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/fhir"; }
  FakeFhirHandler& handler() { return handler_; }

 private:
  FakeFhirHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

std::unique_ptr<HttpClient> Client(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000),
                                   size_t max_bytes = 1024 * 1024, bool allow_http = true) {
  HttpClientOptions options;
  options.timeout = timeout;
  options.max_response_bytes = max_bytes;
  options.allow_http = allow_http;
  return std::move(CreateBeastHttpClient(options).value());
}

TEST(FhirHttpClientTest, ReadsAndSendsTheBearerToken) {
  FakeFhirServer fhir;
  std::unique_ptr<HttpClient> http = Client();
  FhirHttpClient client(http.get());
  Result<std::string> patient = client.Get(fhir.base() + "/Patient/pt-1", "secret-token");
  ASSERT_TRUE(patient.has_value()) << patient.error().ToString();
  EXPECT_EQ(*patient, kPatientJson);
  ASSERT_EQ(fhir.handler().authorizations().size(), 1u);
  EXPECT_EQ(fhir.handler().authorizations()[0], "Bearer secret-token");
  EXPECT_EQ(fhir.handler().targets()[0], "/fhir/Patient/pt-1");
}

TEST(FhirHttpClientTest, FailureModesMapToTheInterfaceCodes) {
  FakeFhirServer fhir;
  std::unique_ptr<HttpClient> http = Client(std::chrono::milliseconds(500));
  FhirHttpClient client(http.get());
  std::string url = fhir.base() + "/Condition?patient=pt-1";
  struct Case {
    FhirMode mode;
    StatusCode code;
  };
  for (const Case& test : {Case{FhirMode::kSlow, StatusCode::kUnavailable},
                           Case{FhirMode::kUnauthorized, StatusCode::kInvalidArgument},
                           Case{FhirMode::kServerError, StatusCode::kUnavailable},
                           Case{FhirMode::kRedirect, StatusCode::kUnavailable},
                           Case{FhirMode::kHuge, StatusCode::kResourceExhausted}}) {
    fhir.handler().set_mode(test.mode);
    Result<std::string> result = client.Get(url, "t");
    ASSERT_FALSE(result.has_value()) << static_cast<int>(test.mode);
    EXPECT_EQ(result.error().code(), test.code) << result.error().ToString();
    // Never the URL (it names the patient) in a message.
    EXPECT_EQ(result.error().message().find("pt-1"), std::string::npos) << result.error().message();
  }
  // Garbage at the HTTP level, and nobody listening.
  RawServer garbage([](const std::string&) { return std::string("\x16\x03garbage\r\n\r\n"); });
  Result<std::string> broken =
      client.Get("http://127.0.0.1:" + std::to_string(garbage.port()) + "/fhir/Patient/1", "");
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), StatusCode::kUnavailable);
  Result<std::string> refused =
      client.Get("http://127.0.0.1:" + std::to_string(FreePort()) + "/fhir/Patient/1", "");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
}

TEST(FhirHttpClientTest, PlainHttpAndBadUrlsAreRefusedUnlessAllowed) {
  std::unique_ptr<HttpClient> http = Client(std::chrono::milliseconds(500), 1024, /*allow_http=*/false);
  FhirHttpClient client(http.get());
  for (const char* url :
       {"http://127.0.0.1:1/fhir", "ftp://x/y", "not a url", "https://", "https://h:99999/"}) {
    Result<std::string> result = client.Get(url, "");
    ASSERT_FALSE(result.has_value()) << url;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument) << url;
  }
}

// A self-signed certificate for "localhost" (not for 127.0.0.1) made with the openssl tool.
bool MakeCertificate(const std::filesystem::path& dir) {
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout '" +
      (dir / "key.pem").string() + "' -out '" + (dir / "cert.pem").string() + "' 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

TEST(FhirHttpClientTest, HttpsVerifiesTheCertificateAndTheServerSpeaksTls) {
  TempDir dir;
  ASSERT_TRUE(MakeCertificate(dir.path()));
  FakeFhirHandler handler;
  HttpServerOptions options;
  options.port = 0;
  options.threads = 1;
  options.tls_cert_file = (dir.path() / "cert.pem").string();
  options.tls_key_file = (dir.path() / "key.pem").string();
  std::unique_ptr<HttpServer> server = std::move(HttpServer::Create(options, &handler).value());
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(server->tls());
  std::string url = "https://localhost:" + std::to_string(server->port()) + "/fhir/Patient/pt-1";

  // The system store does not trust a self-signed certificate.
  std::unique_ptr<HttpClient> system_store = Client(std::chrono::milliseconds(2000), 1024 * 1024, false);
  Result<HttpClientResponse> refused = system_store->Get(url, {});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);

  // Trusting it explicitly works, over TLS end to end.
  HttpClientOptions trusting;
  trusting.timeout = std::chrono::milliseconds(2000);
  trusting.ca_file = (dir.path() / "cert.pem").string();
  std::unique_ptr<HttpClient> client = std::move(CreateBeastHttpClient(trusting).value());
  Result<HttpClientResponse> response = client->Get(url, {});
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, kPatientJson);

  // The same server under a name the certificate does not carry is refused.
  Result<HttpClientResponse> wrong_name =
      client->Get("https://127.0.0.1:" + std::to_string(server->port()) + "/fhir/Patient/pt-1", {});
  ASSERT_FALSE(wrong_name.has_value());
  EXPECT_EQ(wrong_name.error().code(), StatusCode::kUnavailable);

  // A plain-HTTP client talking to the TLS port gets no answer, not a crash.
  TestConnection plain(server->port());
  ASSERT_TRUE(plain.Send(BuildRequest("GET", "/healthz")));
  EXPECT_FALSE(plain.ReadResponse(std::chrono::seconds(3)));
  server->Shutdown(std::chrono::seconds(2));
}

TEST(JwksKeySourceTest, FetchesAndParsesAJwkSet) {
  std::string jwks = EhrKeys::Get().JwksJson();
  RawServer server([&](const std::string&) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(jwks.size()) + "\r\nConnection: close\r\n\r\n" + jwks;
  });
  std::unique_ptr<HttpClient> http = Client();
  JwksKeySource source(http.get());
  Result<std::shared_ptr<const security::JwkSet>> keys =
      source.Fetch("http://127.0.0.1:" + std::to_string(server.port()) + "/jwks");
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  EXPECT_EQ((*keys)->size(), 2u);
  EXPECT_NE((*keys)->Find("rsa-1"), nullptr);

  RawServer missing([](const std::string&) {
    return std::string("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  Result<std::shared_ptr<const security::JwkSet>> absent =
      source.Fetch("http://127.0.0.1:" + std::to_string(missing.port()) + "/jwks");
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code(), StatusCode::kUnavailable);
}

// The issuer's keys published at a jwks_url, fetched by the running service.
class JwksUrlServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    jwks_ = EhrKeys::Get().JwksJson();
    jwks_server_ = std::make_unique<RawServer>([this](const std::string&) {
      ++fetches_;
      return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(jwks_.size()) + "\r\nConnection: close\r\n\r\n" + jwks_;
    });
    config_.issuers[0].jwks_file.clear();
    config_.issuers[0].jwks_url = "http://127.0.0.1:" + std::to_string(jwks_server_->port()) + "/jwks";
    StartServer();
  }
  std::string jwks_;
  std::atomic<int> fetches_{0};
  std::unique_ptr<RawServer> jwks_server_;
};

TEST_F(JwksUrlServerTest, VerifiesWithKeysFromTheUrl) {
  std::optional<TestResponse> response = Get("/cds-services", TokenFor("/cds-services", "RS384"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_GE(fetches_.load(), 1);
}

// The prefetch fallback through the whole service.
class FhirFallbackServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    config_.issuer_fhir_servers[kIssuer] = {fhir_.base(), garbage_base_};
    StartServer();
    std::optional<TestResponse> discovery = Get("/cds-services", TokenFor("/cds-services"));
    ASSERT_TRUE(discovery && discovery->status == 200);
    discovery_ = discovery->body;
  }

  std::optional<TestResponse> Call(const std::string& fhir_server) {
    std::string path = std::string("/cds-services/") + kPatientView;
    return Post(path, PatientViewRequest(discovery_, /*with_prefetch=*/false, fhir_server), TokenFor(path));
  }

  std::string discovery_;
  FakeFhirServer fhir_;
  RawServer garbage_{[](const std::string&) { return std::string("garbage, not HTTP\r\n\r\n"); }};
  std::string garbage_base_ = "http://127.0.0.1:" + std::to_string(garbage_.port()) + "/fhir";
};

TEST_F(FhirFallbackServerTest, FetchesWhatThePrefetchLacks) {
  std::optional<TestResponse> response = Call(fhir_.base());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body;
  std::vector<std::string> authorizations = fhir_.handler().authorizations();
  ASSERT_FALSE(authorizations.empty());
  for (const std::string& authorization : authorizations) EXPECT_EQ(authorization, "Bearer fhir-token-123");
}

TEST_F(FhirFallbackServerTest, FailingFhirServerGives412) {
  for (FhirMode mode :
       {FhirMode::kSlow, FhirMode::kUnauthorized, FhirMode::kServerError, FhirMode::kRedirect}) {
    fhir_.handler().set_mode(mode);
    std::optional<TestResponse> response = Call(fhir_.base());
    ASSERT_TRUE(response) << static_cast<int>(mode);
    EXPECT_EQ(response->status, 412) << static_cast<int>(mode) << ": " << response->body;
    EXPECT_NE(response->body.find("OperationOutcome"), std::string::npos);
  }
  std::optional<TestResponse> broken = Call(garbage_base_);
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 412);
}

TEST_F(FhirFallbackServerTest, GarbageFhirBodyIsNotA500) {
  fhir_.handler().set_mode(FhirMode::kGarbageJson);
  std::optional<TestResponse> response = Call(fhir_.base());
  ASSERT_TRUE(response);
  EXPECT_GE(response->status, 400) << response->body;
  EXPECT_LT(response->status, 500) << response->body;
}

}  // namespace
}  // namespace regenpath::server::testing
