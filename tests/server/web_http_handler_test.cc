// The web app's handler without a browser: /api/assess errors (4xx with an
// OperationOutcome), /api/kb, /api/screening (screening_result.h), the SMART
// launch's state and PKCE handling with a fake EHR client (smart_launch.h),
// and the audit actor of registry writes made through the app.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "engine/engine.h"
#include "knowledge/knowledge_base.h"
#include "registry/instrument_catalog.h"
#include "registry/pseudonymizer.h"
#include "registry/sqlite_registry_store.h"
#include "security/base64url.h"
#include "server/registry_http_handler.h"
#include "server/screening_result.h"
#include "server/smart_launch.h"
#include "server/web_http_handler.h"
#include "tests/security/test_keys.h"
#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

constexpr char kBase[] = "http://127.0.0.1:1";
constexpr char kIss[] = "http://ehr.test/fhir";
constexpr char kClientId[] = "regenpath-web";
constexpr char kFhirUser[] = "http://ehr.test/fhir/Practitioner/practitioner-1";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// A query parameter of a URL (not decoded; the values here are base64url).
std::string Param(const std::string& url, const std::string& name) {
  size_t at = url.find("?" + name + "=");
  if (at == std::string::npos) at = url.find("&" + name + "=");
  if (at == std::string::npos) return "";
  size_t start = at + name.size() + 2;
  return url.substr(start, url.find('&', start) - start);
}

// The EHR: its SMART configuration and token endpoint. Records the token
// request's form; answers with an id_token whose claims the test chooses.
class FakeEhrClient : public HttpClient {
 public:
  Result<HttpClientResponse> Get(const std::string& url, const HeaderList&, Deadline) const override {
    if (url != std::string(kIss) + "/.well-known/smart-configuration") return HttpClientResponse{404, {}, ""};
    return HttpClientResponse{
        200,
        {},
        fmt::format(R"({{"authorization_endpoint":"http://ehr.test/authorize","token_endpoint":"http://ehr.test/token",)"
                    R"("code_challenge_methods_supported":[{}]}})",
                    s256 ? R"("plain","S256")" : R"("plain")")};
  }
  Result<HttpClientResponse> Post(const std::string& url, const HeaderList&, const std::string& content_type,
                                  const std::string& body, Deadline) const override {
    std::lock_guard lock(mutex);
    posts.push_back(url + " " + content_type + " " + body);
    std::string id_token = security::Base64UrlEncode(R"({"alg":"none"})") + "." +
                           security::Base64UrlEncode(claims) + ".";
    return HttpClientResponse{
        200,
        {},
        fmt::format(R"({{"access_token":"at-1","token_type":"Bearer","scope":"launch openid fhirUser patient/*.read",)"
                    R"("patient":"p1","appContext":"knee-osteoarthritis","id_token":"{}"}})",
                    id_token)};
  }

  bool s256 = true;
  std::string claims = fmt::format(R"({{"iss":"{}","sub":"practitioner-1","aud":"{}","fhirUser":"{}"}})", kIss,
                                   kClientId, kFhirUser);
  mutable std::mutex mutex;
  mutable std::vector<std::string> posts;
};

TEST(SmartLaunchTest, PkceChallengeIsBase64UrlSha256) {
  EXPECT_EQ(PkceChallenge("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

TEST(SmartLaunchTest, RefusesAnIssuerNotConfigured) {
  FakeEhrClient ehr;
  SmartLaunch smart({kClientId, {kIss}}, &ehr);
  Result<std::string> url = smart.Begin("https://evil.example/fhir", "L1", std::string(kBase) + "/cb");
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument);
}

TEST(SmartLaunchTest, RefusesAnEhrWithoutS256) {
  FakeEhrClient ehr;
  ehr.s256 = false;
  SmartLaunch smart({kClientId, {kIss}}, &ehr);
  Result<std::string> url = smart.Begin(kIss, "L1", std::string(kBase) + "/cb");
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kUnavailable);
}

TEST(SmartLaunchTest, EhrLaunchSendsStateAndS256ChallengeOfTheVerifierItExchanges) {
  FakeEhrClient ehr;
  SmartLaunch smart({kClientId, {kIss}}, &ehr);
  Result<std::string> url = smart.Begin(kIss, "L1", std::string(kBase) + "/cb");
  ASSERT_TRUE(url.has_value()) << url.error().message();
  EXPECT_TRUE(url->starts_with("http://ehr.test/authorize?response_type=code&")) << *url;
  EXPECT_EQ(Param(*url, "code_challenge_method"), "S256");
  EXPECT_EQ(Param(*url, "launch"), "L1");
  EXPECT_EQ(UrlDecode(Param(*url, "scope")), "launch openid fhirUser patient/*.read");
  EXPECT_EQ(UrlDecode(Param(*url, "aud")), kIss);
  std::string state = Param(*url, "state");
  std::string challenge = Param(*url, "code_challenge");
  EXPECT_EQ(state.size(), 43u);  // 256 bits, base64url

  // A state that was never issued is refused and exchanges nothing.
  Result<SmartSession> forged = smart.Complete("code-1", state + "x", std::string(kBase) + "/cb");
  ASSERT_FALSE(forged.has_value());
  EXPECT_EQ(forged.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ehr.posts.empty());

  Result<SmartSession> session = smart.Complete("code-1", state, std::string(kBase) + "/cb");
  ASSERT_TRUE(session.has_value()) << session.error().message();
  EXPECT_EQ(session->user, kFhirUser);
  EXPECT_EQ(session->patient, "p1");
  EXPECT_EQ(session->app_context, "knee-osteoarthritis");
  ASSERT_EQ(ehr.posts.size(), 1u);
  const std::string& post = ehr.posts[0];
  EXPECT_TRUE(post.starts_with("http://ehr.test/token application/x-www-form-urlencoded ")) << post;
  std::string verifier = Param("?" + post.substr(post.find("grant_type=")), "code_verifier");
  ASSERT_FALSE(verifier.empty()) << post;
  EXPECT_EQ(PkceChallenge(UrlDecode(verifier)), challenge) << "the verifier sent is the one challenged";

  // The state is single-use.
  Result<SmartSession> replay = smart.Complete("code-1", state, std::string(kBase) + "/cb");
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ehr.posts.size(), 1u);

  // The cookie and the session it finds.
  std::string cookie = smart.CookieFor(*session);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("Secure"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  std::string header = "other=1; " + cookie.substr(0, cookie.find(';'));
  std::optional<SmartSession> found = smart.Find(&header);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->csrf_token, session->csrf_token);
  std::string wrong = "rp_session=" + session->csrf_token;
  EXPECT_FALSE(smart.Find(&wrong).has_value());
}

TEST(SmartLaunchTest, StandaloneLaunchAsksForAPatient) {
  FakeEhrClient ehr;
  SmartLaunch smart({kClientId, {kIss}}, &ehr);
  Result<std::string> url = smart.Begin(kIss, "", std::string(kBase) + "/cb");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(UrlDecode(Param(*url, "scope")), "launch/patient openid fhirUser patient/*.read");
  EXPECT_EQ(Param(*url, "launch"), "");
}

TEST(SmartLaunchTest, IdTokenForAnotherAppOrWithoutUserIsRefused) {
  for (const std::string& claims : {std::string(R"({"sub":"u","aud":"another-app","fhirUser":"x"})"),
                                    std::string(R"({"aud":"regenpath-web"})"), std::string("not json")}) {
    FakeEhrClient ehr;
    ehr.claims = claims;
    SmartLaunch smart({kClientId, {kIss}}, &ehr);
    Result<std::string> url = smart.Begin(kIss, "L1", std::string(kBase) + "/cb");
    ASSERT_TRUE(url.has_value());
    Result<SmartSession> session = smart.Complete("code-1", Param(*url, "state"), std::string(kBase) + "/cb");
    ASSERT_FALSE(session.has_value()) << claims;
    EXPECT_EQ(session.error().code(), StatusCode::kInvalidInput) << claims;
  }
}

TEST(SmartLaunchTest, SubIsTheUserWithoutFhirUser) {
  FakeEhrClient ehr;
  ehr.claims = R"({"sub":"practitioner-9","aud":["x","regenpath-web"]})";
  SmartLaunch smart({kClientId, {kIss}}, &ehr);
  Result<std::string> url = smart.Begin(kIss, "L1", std::string(kBase) + "/cb");
  ASSERT_TRUE(url.has_value());
  Result<SmartSession> session = smart.Complete("c", Param(*url, "state"), std::string(kBase) + "/cb");
  ASSERT_TRUE(session.has_value()) << session.error().message();
  EXPECT_EQ(session->user, "practitioner-9");
}

// The web handler over a fresh SQLite registry, in --insecure-dev mode (no
// verifier), with the SMART launch configured for the fake EHR.
class WebHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = engine::Engine::Create(knowledge::KnowledgeBase::Embedded());
    ASSERT_TRUE(engine.has_value()) << engine.error().message();
    engine_ = std::make_shared<const engine::Engine>(std::move(*engine));
    auto store = registry::SqliteRegistryStore::Open(database());
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate({"test", "2026-12-05T00:00:00Z"}).has_value());
    catalog_ = registry::InstrumentCatalog::Embedded().value();
    pseudonymizer_.emplace(registry::Pseudonymizer::Create("web-test-site-secret-0123456789abcdef").value());
    registry_ = std::make_unique<RegistryHttpHandler>(RegistryHttpHandlerOptions{kBase, {}, 1 << 20, 0, 7},
                                                      store_.get(), catalog_.get(), &*pseudonymizer_, nullptr,
                                                      &metrics_, &clock_);
    registry_->set_delegated(true);
    MakeHandler("");
  }

  void MakeHandler(const std::string& screening_dir) {
    WebHttpHandlerOptions options;
    options.public_base_url = kBase;
    options.screening_dir = screening_dir;
    web_ = std::make_unique<WebHttpHandler>(options, engine_, store_.get(), catalog_.get(), &*pseudonymizer_,
                                            nullptr, &metrics_, &clock_);
    web_->set_smart(&smart_);
    web_->set_registry(registry_.get());
  }

  std::string database() const { return (dir_.path() / "registry.sqlite").string(); }

  HttpResponse Call(const std::string& method, const std::string& target, HeaderList headers = {},
                    std::string body = "") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.content_length = request.body.size();
    std::optional<HttpResponse> early = web_->OnHeader(request);
    HttpResponse response = early ? std::move(*early) : web_->Handle(request);
    web_->Completed(request, response.status, 0.001);
    return response;
  }

  std::set<std::string> AuditActors() const {
    sqlite3* db = nullptr;
    std::set<std::string> actors;
    if (sqlite3_open_v2(database().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* statement = nullptr;
      sqlite3_prepare_v2(db, "SELECT actor FROM audit WHERE actor <> 'test'", -1, &statement, nullptr);
      while (statement != nullptr && sqlite3_step(statement) == SQLITE_ROW)
        actors.insert(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
      sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return actors;
  }

  static std::string ScoreBatch(const std::string& id) {
    return fmt::format(
        R"({{"resourceType":"Bundle","type":"batch","entry":[{{"request":{{"method":"POST","url":"Observation"}},)"
        R"("resource":{{"resourceType":"Observation","identifier":[{{"system":"urn:regenpath:web-app","value":"{}"}}],)"
        R"("status":"final","subject":{{"identifier":{{"system":"urn:test","value":"patient-1"}}}},)"
        R"("code":{{"coding":[{{"system":"http://regenpath.org/fhir/CodeSystem/instrument","code":"nrs"}}]}},)"
        R"("effectiveDateTime":"2026-11-02","valueQuantity":{{"value":4}}}}}}]}})",
        id);
  }

  static void ExpectOutcome(const HttpResponse& response, int status) {
    EXPECT_EQ(response.status, status) << response.body;
    const std::string* type = FindHeader(response.headers, "Content-Type");
    ASSERT_NE(type, nullptr);
    EXPECT_EQ(*type, "application/fhir+json");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(response.body).get(root), simdjson::SUCCESS) << response.body;
    std::string_view resource_type;
    ASSERT_EQ(root["resourceType"].get(resource_type), simdjson::SUCCESS);
    EXPECT_EQ(resource_type, "OperationOutcome");
    std::string_view diagnostics;
    simdjson::dom::array issues;
    ASSERT_EQ(root["issue"].get(issues), simdjson::SUCCESS);
    EXPECT_EQ(issues.at(0)["diagnostics"].get(diagnostics), simdjson::SUCCESS);
    EXPECT_FALSE(diagnostics.empty());
  }

  TempDir dir_;
  Metrics metrics_;
  security::testing::ManualClock clock_{1796515200};  // 2026-12-05
  std::shared_ptr<const engine::Engine> engine_;
  std::unique_ptr<registry::SqliteRegistryStore> store_;
  std::shared_ptr<const registry::InstrumentCatalog> catalog_;
  std::optional<registry::Pseudonymizer> pseudonymizer_;
  std::unique_ptr<RegistryHttpHandler> registry_;
  FakeEhrClient ehr_;
  SmartLaunch smart_{SmartOptions{kClientId, {kIss}}, &ehr_};
  std::unique_ptr<WebHttpHandler> web_;
};

TEST_F(WebHandlerTest, AssessErrorsAre4xxWithAnOperationOutcome) {
  const HeaderList fhir = {{"Content-Type", "application/fhir+json"}};
  ExpectOutcome(Call("POST", "/api/assess", fhir, "{not json"), 400);
  ExpectOutcome(Call("POST", "/api/assess", fhir, R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"a"}},)"
                                                R"({"resource":{"resourceType":"Patient","id":"b"}}]})"), 400);
  ExpectOutcome(Call("POST", "/api/assess?now=yesterday", fhir, R"({"resourceType":"Bundle","type":"collection"})"), 400);
  ExpectOutcome(Call("POST", "/api/assess", {{"Content-Type", "text/plain"}}, "{}"), 415);
  ExpectOutcome(Call("POST", "/api/assess", {{"Content-Type", "application/x-www-form-urlencoded"}}, "a=b"), 415);
  ExpectOutcome(Call("POST", "/api/assess", {{"Content-Type", "application/fhir+json"}, {"Origin", "https://evil.example"}}, "{}"), 403);
  HttpResponse get = Call("GET", "/api/assess");
  ExpectOutcome(get, 405);
  const std::string* allow = FindHeader(get.headers, "Allow");
  ASSERT_NE(allow, nullptr);
  EXPECT_EQ(*allow, "POST");
  ExpectOutcome(Call("GET", "/api/nothing-here"), 404);
}

TEST_F(WebHandlerTest, AssessAnswersTheAssessmentJson) {
  HttpResponse response =
      Call("POST", "/api/assess?now=2026-11-24", {{"Content-Type", "application/fhir+json"}, {"Origin", kBase}},
           Slurp(std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/knee-candidate.json"));
  ASSERT_EQ(response.status, 200) << response.body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(response.body).get(root), simdjson::SUCCESS);
  std::string_view schema;
  ASSERT_EQ(root["schema"].get(schema), simdjson::SUCCESS);
  EXPECT_EQ(schema, "regenpath.assessment/1");
}

TEST_F(WebHandlerTest, KnowledgeBaseIsItsFhirExportAndInstruments) {
  HttpResponse response = Call("GET", "/api/kb");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(*FindHeader(response.headers, "Cache-Control"), "no-store");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(response.body).get(root), simdjson::SUCCESS);
  std::string_view name;
  ASSERT_EQ(root["name"].get(name), simdjson::SUCCESS);
  EXPECT_EQ(name, engine_->kb().name());
  std::set<std::string> types;
  simdjson::dom::array resources;
  ASSERT_EQ(root["resources"].get(resources), simdjson::SUCCESS);
  for (simdjson::dom::element resource : resources) {
    std::string_view type;
    if (resource["resourceType"].get(type) == simdjson::SUCCESS) types.insert(std::string(type));
  }
  EXPECT_TRUE(types.count("PlanDefinition") && types.count("ActivityDefinition")) << response.body.substr(0, 200);
  simdjson::dom::array instruments;
  ASSERT_EQ(root["instruments"].get(instruments), simdjson::SUCCESS);
  EXPECT_EQ(instruments.size(), catalog_->instruments().size());
  EXPECT_EQ(Call("POST", "/api/kb", {{"Content-Type", "application/json"}}, "{}").status, 405);
}

TEST_F(WebHandlerTest, RegistryWritesAreAuditedWithTheSignedInUser) {
  // Demo mode (no verifier, no session): the actor says so.
  const HeaderList fhir = {{"Content-Type", "application/fhir+json"}, {"Origin", kBase}};
  HttpResponse demo = Call("POST", "/api/registry", fhir, ScoreBatch("obs-demo"));
  ASSERT_EQ(demo.status, 200) << demo.body;
  EXPECT_NE(demo.body.find(R"("status":"2)"), std::string::npos) << demo.body;
  EXPECT_EQ(AuditActors(), (std::set<std::string>{"insecure-dev"}));

  // A SMART session: the id_token's fhirUser, whatever header the client sends.
  Result<std::string> url = smart_.Begin(kIss, "L1", std::string(kBase) + "/app/launch/callback");
  ASSERT_TRUE(url.has_value());
  Result<SmartSession> session =
      smart_.Complete("code-1", Param(*url, "state"), std::string(kBase) + "/app/launch/callback");
  ASSERT_TRUE(session.has_value()) << session.error().message();
  std::string cookie = smart_.CookieFor(*session);
  cookie = cookie.substr(0, cookie.find(';'));
  HeaderList signed_in = fhir;
  signed_in.emplace_back("Cookie", cookie);
  ExpectOutcome(Call("POST", "/api/registry", signed_in, ScoreBatch("obs-no-csrf")), 403);
  signed_in.emplace_back("X-CSRF-Token", session->csrf_token);
  signed_in.emplace_back("x-regenpath-delegated-actor", "mallory");
  HttpResponse smart = Call("POST", "/api/registry", signed_in, ScoreBatch("obs-smart"));
  ASSERT_EQ(smart.status, 200) << smart.body;
  EXPECT_NE(smart.body.find(R"("status":"2)"), std::string::npos) << smart.body;
  EXPECT_EQ(AuditActors(), (std::set<std::string>{"insecure-dev", kFhirUser}));

  // Without a session, a client's own actor header is dropped too.
  HeaderList forged = fhir;
  forged.emplace_back("X-Regenpath-Delegated-Actor", "mallory");
  HttpResponse anonymous = Call("POST", "/api/registry", forged, ScoreBatch("obs-forged"));
  ASSERT_EQ(anonymous.status, 200) << anonymous.body;
  EXPECT_EQ(AuditActors().count("mallory"), 0u);
}

class ScreeningTest : public WebHandlerTest {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& text) {
    std::filesystem::path dir = dir_.path() / "screen";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / name) << text;
    return dir;
  }
};

TEST_F(ScreeningTest, NotConfiguredOrNotWrittenYetIsSaid) {
  HttpResponse none = Call("GET", "/api/screening");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.body, R"({"configured":false})");
  MakeHandler((dir_.path() / "screen-not-yet").string());
  HttpResponse missing = Call("GET", "/api/screening");
  ASSERT_EQ(missing.status, 200);
  EXPECT_NE(missing.body.find(R"("configured":true,"available":false)"), std::string::npos) << missing.body;
  EXPECT_EQ(LatestScreeningJson((dir_.path() / "screen-not-yet").string()).error().code(), StatusCode::kNotFound);
}

TEST_F(ScreeningTest, ServesTheSummaryAndTheCandidatesReferences) {
  Write("summary.json", R"({"schema":"regenpath.screen-summary/1","evaluated_at":"2025-06-01","patients":3,"assessed":2,)"
                        R"("regenerative_candidates":2,"stages":{"regenerative-candidate":2}})");
  Write("run.json", R"({"now":"2025-06-01"})");
  std::filesystem::path dir = Write(
      "Group.json", R"({"resourceType":"Group","type":"person","actual":true,"quantity":2,"member":[)"
                    R"({"entity":{"reference":"Patient/a1"}},{"entity":{"reference":"Patient/b2"}}]})");
  MakeHandler(dir.string());
  HttpResponse response = Call("GET", "/api/screening");
  ASSERT_EQ(response.status, 200) << response.body;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(response.body).get(root), simdjson::SUCCESS) << response.body;
  bool available = false;
  EXPECT_EQ(root["available"].get(available), simdjson::SUCCESS);
  EXPECT_TRUE(available);
  std::vector<std::string> candidates;
  simdjson::dom::array list;
  ASSERT_EQ(root["result"]["candidates"].get(list), simdjson::SUCCESS);
  for (simdjson::dom::element item : list) {
    std::string_view text;
    if (item.get(text) == simdjson::SUCCESS) candidates.emplace_back(text);
  }
  EXPECT_EQ(candidates, (std::vector<std::string>{"Patient/a1", "Patient/b2"}));
  int64_t patients = 0;
  EXPECT_EQ(root["result"]["summary"]["patients"].get(patients), simdjson::SUCCESS);
  EXPECT_EQ(patients, 3);
  std::string_view now;
  EXPECT_EQ(root["result"]["now"].get(now), simdjson::SUCCESS);
  EXPECT_EQ(now, "2025-06-01");
  EXPECT_EQ(Call("POST", "/api/screening", {{"Content-Type", "application/json"}}, "{}").status, 405);

  // One shard's output is not shown as the worklist: said, as no result yet.
  Write("shard.json", R"({"shard": 0, "shards": 3})");
  HttpResponse shard = Call("GET", "/api/screening");
  ASSERT_EQ(shard.status, 200);
  EXPECT_NE(shard.body.find(R"("available":false)"), std::string::npos) << shard.body;
  EXPECT_NE(shard.body.find("one shard's output"), std::string::npos) << shard.body;
  EXPECT_EQ(shard.body.find("Patient/a1"), std::string::npos) << shard.body;
  std::filesystem::remove(dir / "shard.json");
  ASSERT_EQ(Call("GET", "/api/screening").body.find(R"("available":false)"), std::string::npos);

  // A file screen did not write is an error naming the file, not a crash.
  Write("Group.json", R"({"resourceType":"Patient"})");
  HttpResponse bad = Call("GET", "/api/screening");
  ExpectOutcome(bad, 500);
  EXPECT_NE(bad.body.find("Group.json"), std::string::npos);
  Write("summary.json", "[1,");
  EXPECT_EQ(LatestScreeningJson(dir.string()).error().code(), StatusCode::kInvalidInput);
}

}  // namespace
}  // namespace regenpath::server::testing
