// The HTTP surface end to end: a CdsServer in process on an ephemeral
// loopback port, spoken to over raw sockets exactly as an EHR would.
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "registry/feedback_store.h"
#include "security/base64url.h"
#include "tests/server/cds_request.h"
#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

constexpr const char* kFeedbackBody =
    R"({"feedback":[{"card":"9368d37b-283f-44a0-93ea-547cebab93ed","outcome":"accepted",)"
    R"("acceptedSuggestions":[{"id":"e56e1945-20b3-4393-8503-a1a20fd73152"}],)"
    R"("outcomeTimestamp":"2021-12-11T10:05:31Z"}]})";

class CdsServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    StartServer();
  }

  std::string Discovery() {
    std::optional<TestResponse> response = Get("/cds-services", TokenFor("/cds-services"));
    return response && response->status == 200 ? response->body : "";
  }

  std::string ServicePath() const { return std::string("/cds-services/") + kPatientView; }

  // The value of an unlabelled metric or of one series, from /metrics.
  static double MetricValue(const std::string& text, const std::string& series) {
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }
};

TEST_F(CdsServerTest, DiscoveryWithValidTokenListsTheServices) {
  std::optional<TestResponse> response = Get("/cds-services", TokenFor("/cds-services"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(response->Header("Cache-Control"), "no-store");
  EXPECT_NE(response->body.find("\"services\""), std::string::npos);
  EXPECT_NE(response->body.find(kPatientView), std::string::npos);
}

TEST_F(CdsServerTest, DiscoveryNeedsAToken) {
  std::optional<TestResponse> response = Get("/cds-services");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->Header("WWW-Authenticate"), "Bearer realm=\"regenpath\"");
}

TEST_F(CdsServerTest, ServiceCallWithEs384AndRs384Tokens) {
  std::string body = PatientViewRequest(Discovery(), /*with_prefetch=*/true);
  for (const char* alg : {"ES384", "RS384"}) {
    std::optional<TestResponse> response = Post(ServicePath(), body, TokenFor(ServicePath(), alg));
    ASSERT_TRUE(response) << alg;
    EXPECT_EQ(response->status, 200) << alg << ": " << response->body;
    EXPECT_NE(response->body.find("\"cards\""), std::string::npos) << alg;
    EXPECT_EQ(response->Header("Content-Type"), "application/json");
  }
}

TEST_F(CdsServerTest, RefusedTokensGet401WithoutAReason) {
  std::string path = ServicePath();
  std::string body = PatientViewRequest(Discovery(), true);
  const EhrKeys& keys = EhrKeys::Get();
  auto spec = [&] {
    TokenSpec base;
    base.audience = Url(path);
    return base;
  };
  std::vector<std::pair<std::string, std::string>> cases;
  {
    TokenSpec expired = spec();
    expired.iat = UnixNow() - 1000;
    expired.exp = UnixNow() - 600;
    cases.emplace_back("expired", MakeToken(expired));
  }
  {
    TokenSpec wrong_aud = spec();
    wrong_aud.audience = Url("/cds-services");  // a discovery token used on a service
    cases.emplace_back("wrong aud", MakeToken(wrong_aud));
  }
  {
    TokenSpec other_host = spec();
    other_host.audience = "https://elsewhere.example.org" + path;
    cases.emplace_back("aud of another server", MakeToken(other_host));
  }
  {
    TokenSpec unknown = spec();
    unknown.issuer = "https://evil.example.com/";
    cases.emplace_back("unknown iss", MakeToken(unknown));
  }
  {
    TokenSpec stranger = spec();
    stranger.key = keys.stranger.get();  // signed with a key the issuer never published
    cases.emplace_back("foreign key", MakeToken(stranger));
  }
  {
    JsonObject header;
    header.SetString("alg", "none").SetString("typ", "JWT").SetString("kid", "ec-1");
    JsonObject claims;
    claims.SetString("iss", kIssuer).SetString("aud", Url(path)).SetNumber("exp", UnixNow() + 300);
    claims.SetNumber("iat", UnixNow()).SetString("jti", "none-1");
    cases.emplace_back("alg none", security::Base64UrlEncode(header.Str()) + "." +
                                       security::Base64UrlEncode(claims.Str()) + ".");
  }
  {
    JsonObject header;
    header.SetString("alg", "HS256").SetString("typ", "JWT").SetString("kid", "ec-1");
    JsonObject claims;
    claims.SetString("iss", kIssuer).SetString("aud", Url(path)).SetNumber("exp", UnixNow() + 300);
    claims.SetNumber("iat", UnixNow()).SetString("jti", "hs-1");
    std::string input =
        security::Base64UrlEncode(header.Str()) + "." + security::Base64UrlEncode(claims.Str());
    cases.emplace_back("HS256", input + "." + security::Base64UrlEncode(std::string(32, 'k')));
  }
  {
    std::string token = MakeToken(spec());
    size_t dot = token.find('.');
    token[dot + 5] = token[dot + 5] == 'A' ? 'B' : 'A';  // tamper with the claims
    cases.emplace_back("tampered", token);
  }
  cases.emplace_back("garbage", "not-a-jwt");
  for (const auto& [name, token] : cases) {
    std::optional<TestResponse> response = Post(path, body, token);
    ASSERT_TRUE(response) << name;
    EXPECT_EQ(response->status, 401) << name;
    EXPECT_EQ(response->Header("WWW-Authenticate"), "Bearer realm=\"regenpath\", error=\"invalid_token\"")
        << name;
    // The reason is logged, not sent.
    EXPECT_EQ(response->body.find("expired"), std::string::npos) << name;
    EXPECT_NE(response->body.find("unauthorized"), std::string::npos) << name;
  }
  std::optional<TestResponse> metrics = Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("regenpath_auth_failures_total{category=\"invalid-input\"}"),
            std::string::npos);
}

TEST_F(CdsServerTest, ReplayedTokenIsRefused) {
  std::string token = TokenFor(ServicePath());
  std::string body = PatientViewRequest(Discovery(), true);
  std::optional<TestResponse> first = Post(ServicePath(), body, token);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  std::optional<TestResponse> replay = Post(ServicePath(), body, token);
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401);
}

TEST_F(CdsServerTest, UnknownServiceIs404AndUnknownPathToo) {
  std::string path = "/cds-services/no-such-service";
  std::optional<TestResponse> response = Post(path, "{}", TokenFor(path));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_NE(response->body.find("OperationOutcome"), std::string::npos);
  std::optional<TestResponse> other = Get("/nothing-here");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

TEST_F(CdsServerTest, WrongMethodIs405WithAllow) {
  std::optional<TestResponse> get_service = Get(ServicePath(), TokenFor(ServicePath()));
  ASSERT_TRUE(get_service);
  EXPECT_EQ(get_service->status, 405);
  EXPECT_EQ(get_service->Header("Allow"), "POST, OPTIONS");
  std::optional<TestResponse> delete_discovery = Exchange(port(), BuildRequest("DELETE", "/cds-services"));
  ASSERT_TRUE(delete_discovery);
  EXPECT_EQ(delete_discovery->status, 405);
  EXPECT_EQ(delete_discovery->Header("Allow"), "GET, OPTIONS");
  std::optional<TestResponse> post_health = Exchange(port(), BuildRequest("POST", "/healthz", {}, "x"));
  ASSERT_TRUE(post_health);
  EXPECT_EQ(post_health->status, 405);
}

TEST_F(CdsServerTest, WrongMediaTypeIs415) {
  std::string body = PatientViewRequest(Discovery(), true);
  for (const char* type : {"text/plain", "application/xml", "application/json; charset=latin1", ""}) {
    std::vector<std::pair<std::string, std::string>> headers = {Bearer(TokenFor(ServicePath()))};
    if (*type != '\0') headers.emplace_back("Content-Type", type);
    std::optional<TestResponse> response =
        Exchange(port(), BuildRequest("POST", ServicePath(), headers, body));
    ASSERT_TRUE(response) << type;
    EXPECT_EQ(response->status, 415) << type;
  }
  // A charset parameter is fine.
  std::optional<TestResponse> ok = Exchange(
      port(),
      BuildRequest("POST", ServicePath(),
                   {Bearer(TokenFor(ServicePath())), {"Content-Type", "application/json; charset=UTF-8"}},
                   body));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(CdsServerTest, OversizedBodyIs413WithoutReadingIt) {
  // Only the header is sent: the answer must come without the body.
  TestConnection connection(port());
  ASSERT_TRUE(connection.Send(BuildRequest("POST", ServicePath(),
                                           {Bearer(TokenFor(ServicePath())),
                                            {"Content-Type", "application/json"},
                                            {"Content-Length", "104857600"}},
                                           "", /*add_length=*/false)));
  std::optional<TestResponse> response = connection.ReadResponse(std::chrono::seconds(5));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("Connection"), "close");
}

TEST_F(CdsServerTest, OversizedChunkedBodyIs413) {
  TestConnection connection(port());
  ASSERT_TRUE(connection.Send(BuildRequest("POST", ServicePath(),
                                           {Bearer(TokenFor(ServicePath())),
                                            {"Content-Type", "application/json"},
                                            {"Transfer-Encoding", "chunked"}},
                                           "", false)));
  std::string chunk(64 * 1024, 'x');
  char size[32];
  snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
  for (int index = 0; index < 5; ++index) {
    if (!connection.Send(std::string(size) + chunk + "\r\n")) break;
  }
  std::optional<TestResponse> response = connection.ReadResponse(std::chrono::seconds(5));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

TEST_F(CdsServerTest, MalformedJsonIs400WithOperationOutcome) {
  for (const char* body : {"{not json", "[]", "{\"hook\":\"patient-view\"}", ""}) {
    std::optional<TestResponse> response = Post(ServicePath(), body, TokenFor(ServicePath()));
    ASSERT_TRUE(response) << body;
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_NE(response->body.find("OperationOutcome"), std::string::npos) << body;
  }
}

TEST_F(CdsServerTest, MalformedHttpIs400) {
  std::optional<TestResponse> response = Exchange(port(), "BLAH\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  std::optional<TestResponse> huge =
      Exchange(port(), "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 431);
}

TEST_F(CdsServerTest, CorsPreflightAndActualRequest) {
  std::optional<TestResponse> preflight =
      Exchange(port(), BuildRequest("OPTIONS", ServicePath(),
                                    {{"Origin", kOrigin},
                                     {"Access-Control-Request-Method", "POST"},
                                     {"Access-Control-Request-Headers", "authorization, content-type"}}));
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_EQ(preflight->Header("Access-Control-Allow-Methods"), "POST, OPTIONS");
  std::string allowed = LowerAscii(preflight->Header("Access-Control-Allow-Headers"));
  EXPECT_NE(allowed.find("authorization"), std::string::npos);
  EXPECT_NE(allowed.find("content-type"), std::string::npos);
  EXPECT_EQ(preflight->Header("Vary"), "Origin");

  std::optional<TestResponse> stranger = Exchange(
      port(),
      BuildRequest("OPTIONS", "/cds-services",
                   {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "GET"}}));
  ASSERT_TRUE(stranger);
  EXPECT_EQ(stranger->status, 403);
  EXPECT_FALSE(stranger->HasHeader("Access-Control-Allow-Origin"));

  std::optional<TestResponse> actual = Exchange(
      port(), BuildRequest("GET", "/cds-services", {Bearer(TokenFor("/cds-services")), {"Origin", kOrigin}}));
  ASSERT_TRUE(actual);
  EXPECT_EQ(actual->status, 200);
  EXPECT_EQ(actual->Header("Access-Control-Allow-Origin"), kOrigin);
  // A 401 carries the CORS headers too, so the browser lets the client see it.
  std::optional<TestResponse> refused =
      Exchange(port(), BuildRequest("GET", "/cds-services", {{"Origin", kOrigin}}));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->Header("Access-Control-Allow-Origin"), kOrigin);
}

TEST_F(CdsServerTest, StalledHeaderTimesOut) {
  TestConnection connection(port());
  ASSERT_TRUE(connection.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // never finished
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(connection.WaitClosed(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(CdsServerTest, SilentConnectionTimesOut) {
  TestConnection connection(port());
  EXPECT_TRUE(connection.WaitClosed(std::chrono::seconds(5)));
}

TEST_F(CdsServerTest, StalledBodyIsCutOff) {
  TestConnection connection(port());
  ASSERT_TRUE(connection.Send(
      BuildRequest(
          "POST", ServicePath(),
          {Bearer(TokenFor(ServicePath())), {"Content-Type", "application/json"}, {"Content-Length", "1000"}},
          "", false) +
      "{\"hook\":"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(connection.WaitClosed(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // Beast closes a timed-out stream before the completion handler counts it.
  const std::string counted = "regenpath_errors_total{kind=\"body_timeout\"} 1";
  std::string metrics = MetricsWhen([&](const std::string& text) { return text.find(counted) != std::string::npos; });
  EXPECT_NE(metrics.find(counted), std::string::npos) << metrics;
}

TEST_F(CdsServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::string body = PatientViewRequest(Discovery(), true);
  TestConnection connection(port());
  for (int index = 0; index < 3; ++index) {
    ASSERT_TRUE(connection.Send(BuildRequest("GET", "/healthz")));
    std::optional<TestResponse> health = connection.ReadResponse();
    ASSERT_TRUE(health) << index;
    EXPECT_EQ(health->status, 200);
    ASSERT_TRUE(connection.Send(
        BuildRequest("POST", ServicePath(),
                     {Bearer(TokenFor(ServicePath())), {"Content-Type", "application/json"}}, body)));
    std::optional<TestResponse> call = connection.ReadResponse();
    ASSERT_TRUE(call) << index;
    EXPECT_EQ(call->status, 200);
    EXPECT_NE(call->Header("Connection"), "close");
  }
  // Pipelined: two requests in one write, two responses in order.
  ASSERT_TRUE(connection.Send(BuildRequest("GET", "/healthz") + BuildRequest("GET", "/nothing")));
  std::optional<TestResponse> first = connection.ReadResponse();
  std::optional<TestResponse> second = connection.ReadResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 404);
  // Idle past the keep-alive timeout: the server closes.
  EXPECT_TRUE(connection.WaitClosed(std::chrono::seconds(5)));
}

TEST_F(CdsServerTest, ExpectContinueIsHonoured) {
  std::string body = PatientViewRequest(Discovery(), true);
  TestConnection connection(port());
  ASSERT_TRUE(connection.Send(BuildRequest("POST", ServicePath(),
                                           {Bearer(TokenFor(ServicePath())),
                                            {"Content-Type", "application/json"},
                                            {"Expect", "100-continue"},
                                            {"Content-Length", std::to_string(body.size())}},
                                           "", false)));
  std::optional<TestResponse> interim = connection.ReadResponse(std::chrono::seconds(5));
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.Send(body));
  std::optional<TestResponse> response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(CdsServerTest, FeedbackIsStoredDurablyBeforeTheAnswer) {
  std::string path = ServicePath() + "/feedback";
  std::optional<TestResponse> response = Post(path, kFeedbackBody, TokenFor(path));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  // Read with SQLite directly, while the server still runs.
  std::string db_path = config_.data_dir + "/feedback.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT service_id, card, outcome, raw_json FROM feedback", -1, &stmt, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))), kPatientView);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))),
            "9368d37b-283f-44a0-93ea-547cebab93ed");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2))), "accepted");
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  std::optional<TestResponse> metrics = Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(MetricValue(metrics->body, "regenpath_feedback_stored_total"), 1);

  // Still there after the server is gone and the database reopened.
  server_->Shutdown(std::chrono::seconds(2));
  server_.reset();
  Result<std::unique_ptr<registry::FeedbackStore>> store = registry::FeedbackStore::Open(db_path);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_EQ((*store)->Count().value_or(-1), 1);
}

TEST_F(CdsServerTest, BadFeedbackIs400AndNothingIsStored) {
  std::string path = ServicePath() + "/feedback";
  std::optional<TestResponse> response = Post(path, R"({"nope":[]})", TokenFor(path));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("OperationOutcome"), std::string::npos);
  std::optional<TestResponse> unauthenticated = Post(path, kFeedbackBody, "");
  ASSERT_TRUE(unauthenticated);
  EXPECT_EQ(unauthenticated->status, 401);
  // A token for the service is not one for its feedback endpoint.
  std::optional<TestResponse> wrong_aud = Post(path, kFeedbackBody, TokenFor(ServicePath()));
  ASSERT_TRUE(wrong_aud);
  EXPECT_EQ(wrong_aud->status, 401);
  server_->Shutdown(std::chrono::seconds(2));
  server_.reset();
  Result<std::unique_ptr<registry::FeedbackStore>> store =
      registry::FeedbackStore::Open(config_.data_dir + "/feedback.sqlite");
  ASSERT_TRUE(store.has_value());
  EXPECT_EQ((*store)->Count().value_or(-1), 0);
}

TEST_F(CdsServerTest, HealthzIsOpen) {
  std::optional<TestResponse> response = Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"status\":\"ok\"}");
}

TEST_F(CdsServerTest, MetricsInPrometheusTextFormat) {
  ASSERT_EQ(Get("/healthz")->status, 200);
  ASSERT_EQ(Get("/cds-services")->status, 401);
  // Wait until both earlier requests are counted and no scrape but the
  // current one is still in flight.
  MetricsWhen([](const std::string& text) {
    return text.find("regenpath_http_requests_total{route=\"/cds-services\",status=\"401\"} 1\n") !=
               std::string::npos &&
           text.find("regenpath_http_requests_total{route=\"/healthz\",status=\"200\"} 1\n") != std::string::npos;
  });
  std::optional<TestResponse> response;
  for (int attempt = 0; attempt < 100; ++attempt) {
    response = Get("/metrics");
    ASSERT_TRUE(response);
    if (MetricValue(response->body, "regenpath_http_requests_in_flight") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = response->body;
  for (const char* expected : {
           "# TYPE regenpath_http_requests_total counter\n",
           "regenpath_http_requests_total{route=\"/healthz\",status=\"200\"} 1\n",
           "regenpath_http_requests_total{route=\"/cds-services\",status=\"401\"} 1\n",
           "# TYPE regenpath_http_request_duration_seconds histogram\n",
           "regenpath_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1\n",
           "regenpath_http_request_duration_seconds_count{route=\"/healthz\"} 1\n",
           "# TYPE regenpath_http_requests_in_flight gauge\n",
           "# TYPE regenpath_feedback_stored_total counter\n",
           "# TYPE regenpath_errors_total counter\n",
           "process_resident_memory_bytes ",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
  }
  // The scrape itself is in flight while rendered.
  EXPECT_EQ(MetricValue(text, "regenpath_http_requests_in_flight"), 1);
  // Every line is a comment or "name{labels} value".
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "the text must end with a newline";
    std::string line = text.substr(start, end - start);
    if (!line.starts_with("#")) {
      size_t space = line.rfind(' ');
      ASSERT_NE(space, std::string::npos) << line;
      EXPECT_NO_THROW(std::stod(line.substr(space + 1))) << line;
    }
    start = end + 1;
  }
}

TEST_F(CdsServerTest, ManyConcurrentClients) {
  std::string body = PatientViewRequest(Discovery(), true);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int index = 0; index < 8; ++index) {
    clients.emplace_back([&] {
      TestConnection connection(port());
      for (int request = 0; request < 10; ++request) {
        if (!connection.Send(BuildRequest(
                "POST", ServicePath(),
                {Bearer(TokenFor(ServicePath())), {"Content-Type", "application/json"}}, body))) {
          return;
        }
        std::optional<TestResponse> response = connection.ReadResponse();
        if (response && response->status == 200) ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST_F(CdsServerTest, ShutdownDrainsARequestInFlight) {
  std::string body = PatientViewRequest(Discovery(), true);
  TestConnection connection(port());
  ASSERT_TRUE(connection.Send(BuildRequest("POST", ServicePath(),
                                           {Bearer(TokenFor(ServicePath())),
                                            {"Content-Type", "application/json"},
                                            {"Content-Length", std::to_string(body.size())}},
                                           "", false) +
                              body.substr(0, 10)));
  TestConnection idle(port());
  ASSERT_TRUE(idle.Send(BuildRequest("GET", "/healthz")));
  ASSERT_TRUE(idle.ReadResponse());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread finisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    connection.Send(body.substr(10));
  });
  size_t cut = server_->Shutdown(std::chrono::seconds(5));
  finisher.join();
  EXPECT_EQ(cut, 0u);
  std::optional<TestResponse> response = connection.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_TRUE(idle.WaitClosed(std::chrono::seconds(1)));
  server_.reset();
}

}  // namespace
}  // namespace regenpath::server::testing
