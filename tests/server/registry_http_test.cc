// The registry's HTTP routes: authentication and scopes, media types, the
// import answers (batch-response Bundle / OperationOutcome), reports; the
// 503 / retry path with a fault-injecting store; and durability of
// acknowledged writes across kill -9 of `regenpath serve`, on SQLite and on
// PostgreSQL.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "registry/demo_cohort.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_facts.h"
#include "registry/postgres_registry_store.h"
#include "registry/sqlite_registry_store.h"
#include "server/registry_http_handler.h"
#include "tests/registry/test_postgres.h"
#include "tests/server/test_server.h"

extern char** environ;

namespace regenpath::server::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string RegistryData(const std::string& name) {
  return Slurp(std::string(REGENPATH_SOURCE_DIR) + "/tests/registry/data/" + name);
}

// A token for `audience` carrying `scope` (empty: no scope claim).
std::string ScopedToken(const std::string& audience, const std::string& scope) {
  static std::atomic<int> counter{0};
  JsonObject header;
  header.SetString("alg", "ES384").SetString("typ", "JWT").SetString("kid", "ec-1");
  JsonObject claims;
  claims.SetString("iss", kIssuer)
      .SetString("sub", "registry-client")
      .SetString("aud", audience)
      .SetNumber("exp", UnixNow() + 300)
      .SetNumber("iat", UnixNow())
      .SetString("jti", "registry-" + std::to_string(UnixNow()) + "-" + std::to_string(counter++));
  if (!scope.empty()) claims.SetString("scope", scope);
  return MakeJws(header.Str(), claims.Str(), EhrKeys::Get().ec384.get(), "ES384");
}

class RegistryHttpTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    std::ofstream(dir_.path() / "secret") << "registry-http-test-site-secret-0123456789\n";
    std::ofstream(dir_.path() / "registry.yaml") << "database: registry.sqlite\nsite_secret_file: secret\n";
    config_.registry_config = (dir_.path() / "registry.yaml").string();
    StartServer();
  }

  std::optional<TestResponse> PostBundle(const std::string& body, const std::string& scope,
                                         const std::string& content_type = "application/fhir+json") {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", content_type}};
    if (scope != "-") headers.push_back(Bearer(ScopedToken(Url("/registry"), scope)));
    return Exchange(port(), BuildRequest("POST", "/registry", headers, body));
  }
  std::optional<TestResponse> GetWith(const std::string& path, const std::string& scope) {
    std::string bare = path.substr(0, path.find('?'));
    return Exchange(port(), BuildRequest("GET", path, {Bearer(ScopedToken(Url(bare), scope))}));
  }
};

TEST_F(RegistryHttpTest, AuthenticatesAndChecksScopes) {
  std::string bundle = RegistryData("transaction-good.json");
  auto anonymous = PostBundle(bundle, "-");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto no_scope = PostBundle(bundle, "");
  ASSERT_TRUE(no_scope);
  EXPECT_EQ(no_scope->status, 403);
  auto read_only = PostBundle(bundle, "system/*.read");
  ASSERT_TRUE(read_only);
  EXPECT_EQ(read_only->status, 403);
  auto written = PostBundle(bundle, "system/*.write");
  ASSERT_TRUE(written);
  EXPECT_EQ(written->status, 200) << written->body;
  EXPECT_NE(written->body.find("transaction-response"), std::string::npos);
  auto report_without_read = GetWith("/registry/reports", "system/*.write");
  ASSERT_TRUE(report_without_read);
  EXPECT_EQ(report_without_read->status, 403);
  auto report = GetWith("/registry/reports/prp-knee?group_by=kb-version", "system/*.read");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, 200) << report->body;
  EXPECT_NE(report->body.find("\"observational\":true"), std::string::npos);
  EXPECT_NE(report->body.find("\"episodes\":1"), std::string::npos);
  auto due = GetWith("/registry/due", "system/*.rs");
  ASSERT_TRUE(due);
  EXPECT_EQ(due->status, 200);
  // Without page_size, a page of the default size (here every item) and its "next".
  EXPECT_NE(due->body.find("\"next\":null"), std::string::npos) << due->body;
  auto page = GetWith("/registry/due?page_size=1", "system/*.read");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("\"next\":"), std::string::npos) << page->body;
  for (const char* bad : {"/registry/due?page_size=0", "/registry/due?page_size=x", "/registry/due?page_size=10001",
                          "/registry/due?page_size=5x", "/registry/due?cursor=zz",
                          "/registry/evidence/prp-knee?min_n=0", "/registry/evidence/prp-knee?min_n=2.5",
                          "/registry/evidence/prp-knee?min_n=99999999999999999999"}) {
    auto refused = GetWith(bad, "system/*.read");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400) << bad;
    EXPECT_NE(refused->body.find("OperationOutcome"), std::string::npos) << refused->body;
  }
  auto evidence = GetWith("/registry/evidence/prp-knee?min_n=1", "system/*.*");
  ASSERT_TRUE(evidence);
  EXPECT_EQ(evidence->status, 200) << evidence->body;
  EXPECT_NE(evidence->body.find("\"observational\":true"), std::string::npos);
  auto unknown_option = GetWith("/registry/reports/no-such-option", "system/*.read");
  ASSERT_TRUE(unknown_option);
  EXPECT_EQ(unknown_option->status, 404);
}

// GET /registry/due is always a page: without page_size, 1,000 items and the
// cursor of the next; the pages, followed, are the whole worklist (as one
// page of 10,000 gives it here).
TEST_F(RegistryHttpTest, TheWorklistComesInPagesOfAThousandByDefault) {
  {
    // A second connection writes a synthetic cohort beside the server's.
    auto catalog = registry::InstrumentCatalog::Embedded();
    ASSERT_TRUE(catalog);
    auto store = registry::SqliteRegistryStore::Open((dir_.path() / "registry.sqlite").string());
    ASSERT_TRUE(store) << store.error().message();
    const std::time_t now = std::time(nullptr);
    char today[11];
    std::strftime(today, sizeof(today), "%Y-%m-%d", std::gmtime(&now));
    registry::WriteContext context{"test", std::string(today) + "T00:00:00Z"};
    ASSERT_TRUE((*store)->Migrate(context));
    auto batch = registry::GenerateDemoCohort(**catalog, registry::DemoOptions{400, 7, today});
    ASSERT_TRUE(batch);
    ASSERT_TRUE((*store)->Write(*batch, context));
    ASSERT_TRUE(registry::RefreshFacts(**store, **catalog));
  }
  auto items_of = [](const std::string& body) {
    std::vector<std::string> items;
    for (size_t at = body.find("{\"patient\":"); at != std::string::npos; at = body.find("{\"patient\":", at + 1)) {
      items.push_back(body.substr(at, body.find('}', at) - at));
    }
    return items;
  };
  auto next_of = [](const std::string& body) -> std::string {
    const size_t at = body.rfind("\"next\":\"");
    if (at == std::string::npos) return "";
    const size_t begin = at + 8;
    return body.substr(begin, body.find('"', begin) - begin);
  };
  auto whole = GetWith("/registry/due?page_size=10000", "system/*.read");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  std::vector<std::string> expected = items_of(whole->body);
  ASSERT_GT(expected.size(), 1000u) << "the demo cohort should give more than one default page";
  ASSERT_LT(expected.size(), 10000u);
  EXPECT_NE(whole->body.find("\"next\":null"), std::string::npos);
  std::vector<std::string> paged;
  std::string path = "/registry/due";
  int pages = 0;
  for (; pages < 20; ++pages) {
    auto page = GetWith(path, "system/*.read");
    ASSERT_TRUE(page);
    ASSERT_EQ(page->status, 200) << page->body;
    std::vector<std::string> items = items_of(page->body);
    const std::string next = next_of(page->body);
    if (!next.empty()) EXPECT_EQ(items.size(), size_t{RegistryHttpHandler::kDefaultDuePageSize});
    paged.insert(paged.end(), items.begin(), items.end());
    if (next.empty()) break;
    path = "/registry/due?cursor=" + next;
  }
  EXPECT_EQ(pages + 1, static_cast<int>((expected.size() + 999) / 1000));
  EXPECT_EQ(paged, expected);
}

TEST_F(RegistryHttpTest, AnswersEachRejectionWithItsLocation) {
  auto batch = PostBundle(RegistryData("batch.json"), "system/*.write");
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->status, 200);
  EXPECT_NE(batch->body.find("batch-response"), std::string::npos);
  EXPECT_NE(batch->body.find("\"Bundle.entry[11].resource.effectiveDateTime\""), std::string::npos) << batch->body;
  std::string transaction = RegistryData("batch.json");
  transaction.replace(transaction.find("\"batch\""), 7, "\"transaction\"");
  auto refused = PostBundle(transaction, "system/*.write");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("OperationOutcome"), std::string::npos);
  EXPECT_NE(refused->body.find("nothing was stored"), std::string::npos);
  auto not_json = PostBundle("{not json", "system/*.write");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  auto wrong_type = PostBundle(RegistryData("batch.json"), "system/*.write", "text/plain");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 415);
  auto ndjson = PostBundle(RegistryData("follow-up.ndjson"), "system/*.write", "application/fhir+ndjson");
  ASSERT_TRUE(ndjson);
  EXPECT_EQ(ndjson->status, 200) << ndjson->body;
  EXPECT_NE(ndjson->body.find("line 3: Observation.subject.reference"), std::string::npos) << ndjson->body;
  auto metrics = MetricsWhen([](const std::string& text) { return text.find("route=\"/registry\"") != std::string::npos; });
  EXPECT_NE(metrics.find("route=\"/registry\""), std::string::npos);
  EXPECT_EQ(metrics.find("MRN-0001"), std::string::npos);
}

// A store that fails the next `failures` writes with `code`, then works.
class FaultyStore : public registry::RegistryStore {
 public:
  explicit FaultyStore(registry::RegistryStore* inner) : inner_(inner) {}
  void FailNextWrites(int failures, StatusCode code) {
    failures_ = failures;
    code_ = code;
  }
  Result<int> Migrate(const registry::WriteContext& context) override { return inner_->Migrate(context); }
  Result<int> SchemaVersion() override { return inner_->SchemaVersion(); }
  Result<registry::WriteSummary> Write(const registry::WriteBatch& batch, const registry::WriteContext& context) override {
    if (failures_ > 0) {
      --failures_;
      return Fail(Status(code_, "injected fault"));
    }
    return inner_->Write(batch, context);
  }
  Result<std::optional<registry::ProcedureRecord>> FindProcedure(const std::string& key) override {
    return inner_->FindProcedure(key);
  }
  Result<std::vector<registry::Episode>> EpisodesOfPatient(const std::string& patient) override {
    return inner_->EpisodesOfPatient(patient);
  }
  Result<registry::Cohort> LoadCohort(const std::string& option_id) override {
    if (failures_ > 0) {
      --failures_;
      return Fail(Status(code_, "injected fault"));
    }
    return inner_->LoadCohort(option_id);
  }
  Result<std::optional<bool>> Synthetic() override { return inner_->Synthetic(); }
  Result<std::vector<registry::AuditRow>> Audit(int limit) override { return inner_->Audit(limit); }
  // Reports start here (registry_facts.h).
  Result<std::vector<registry::StalePatient>> StalePatients(const std::string& fingerprint, int limit) override {
    if (failures_ > 0) {
      --failures_;
      return Fail(Status(code_, "injected fault"));
    }
    return inner_->StalePatients(fingerprint, limit);
  }
  Result<registry::Cohort> LoadPatients(const std::vector<std::string>& patients) override {
    return inner_->LoadPatients(patients);
  }
  Status ReplaceFacts(const std::vector<registry::StalePatient>& stale, const std::vector<registry::FactsRow>& rows,
                      const std::vector<registry::DueRow>& due) override {
    return inner_->ReplaceFacts(stale, rows, due);
  }
  Result<std::vector<registry::DueRow>> LoadDue(const registry::DueQuery& query) override {
    return inner_->LoadDue(query);
  }
  Result<std::vector<registry::FactsRow>> LoadFacts(const std::string& option_id) override {
    return inner_->LoadFacts(option_id);
  }

 private:
  registry::RegistryStore* inner_;
  int failures_ = 0;
  StatusCode code_ = StatusCode::kUnavailable;
};

TEST(RegistryFaultTest, UnavailableStoreAnswers503AndTheRetryStoresOnce) {
  TempDir dir;
  auto sqlite = registry::SqliteRegistryStore::Open((dir.path() / "registry.sqlite").string()).value();
  FaultyStore store(sqlite.get());
  ASSERT_TRUE(store.Migrate({"test", "2026-12-05T00:00:00Z"}).has_value());
  auto catalog = registry::InstrumentCatalog::Embedded().value();
  auto pseudonymizer = registry::Pseudonymizer::Create("fault-test-site-secret-0123456789abcdef").value();
  Metrics metrics;
  security::testing::ManualClock clock(1796515200);  // 2026-12-05
  RegistryHttpHandler handler(RegistryHttpHandlerOptions{"http://127.0.0.1:1", {}, 1 << 20, 0, 7}, &store,
                              catalog.get(), &pseudonymizer, nullptr, &metrics, &clock);
  auto post = [&]() {
    HttpRequest request;
    request.method = "POST";
    request.target = "/registry";
    request.headers = {{"Content-Type", "application/fhir+json"}};
    request.body = RegistryData("transaction-good.json");
    std::optional<HttpResponse> early = handler.OnHeader(request);
    EXPECT_FALSE(early.has_value());
    HttpResponse response = handler.Handle(request);
    handler.Completed(request, response.status, 0.001);
    return response;
  };
  store.FailNextWrites(2, StatusCode::kUnavailable);
  for (int attempt = 0; attempt < 2; ++attempt) {
    HttpResponse refused = post();
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(*FindHeader(refused.headers, "Retry-After"), "7");
    EXPECT_NE(refused.body.find("nothing was stored"), std::string::npos);
  }
  EXPECT_TRUE(sqlite->LoadCohort("").value().episodes.empty());
  HttpResponse retried = post();
  EXPECT_EQ(retried.status, 200) << retried.body;
  HttpResponse again = post();  // a client retrying after a lost answer: no duplicate
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(sqlite->LoadCohort("").value().outcomes.size(), 1u);
  store.FailNextWrites(1, StatusCode::kInternal);
  EXPECT_EQ(post().status, 500);
  store.FailNextWrites(1, StatusCode::kUnavailable);
  HttpRequest get;
  get.method = "GET";
  get.target = "/registry/reports";
  ASSERT_FALSE(handler.OnHeader(get).has_value());
  EXPECT_EQ(handler.Handle(get).status, 503);
  EXPECT_NE(metrics.Render().find("registry_store"), std::string::npos);
}

// `regenpath serve` as a child process, killed with SIGKILL by the test.
class ServeChild {
 public:
  ServeChild(const std::vector<std::string>& args, const std::string& stderr_file) {
    std::vector<char*> argv = {const_cast<char*>(REGENPATH_BINARY)};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    spawned_ = posix_spawn(&pid_, REGENPATH_BINARY, &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServeChild() { Kill(); }
  bool spawned() const { return spawned_; }
  void Kill() {
    if (!spawned_ || reaped_) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }

 private:
  pid_t pid_ = -1;
  bool spawned_ = false;
  bool reaped_ = false;
};

std::string ObservationFor(int index) {
  return fmt::format(
      R"({{"resourceType":"Observation","status":"final","identifier":[{{"system":"urn:durability","value":"obs-{}"}}],)"
      R"("code":{{"coding":[{{"system":"http://loinc.org","code":"72514-3"}}]}},)"
      R"("subject":{{"identifier":{{"system":"urn:durability:mrn","value":"MRN-{}"}}}},)"
      R"("effectiveDateTime":"2026-03-01","valueInteger":{}}})",
      index, index % 50, index % 11);
}

// Streams single-Observation POSTs from two threads, kills the server with
// SIGKILL mid-stream, and returns the keys of the writes acknowledged (200).
std::set<std::string> WriteUntilKilled(const std::filesystem::path& dir, const std::string& registry_yaml) {
  uint16_t port = FreePort();
  std::ofstream(dir / "secret") << "durability-test-site-secret-0123456789abcdef\n";
  std::ofstream(dir / "registry.yaml") << registry_yaml << "site_secret_file: secret\n";
  std::ofstream(dir / "server.yaml") << "data_dir: data\nregistry_config: registry.yaml\nlog_level: warn\n";
  ServeChild child({"serve", "--insecure-dev", "--port", std::to_string(port), "--config", (dir / "server.yaml").string()},
                   (dir / "stderr.txt").string());
  EXPECT_TRUE(child.spawned());
  bool up = false;
  for (int attempt = 0; attempt < 300 && !up; ++attempt) {
    auto health = Exchange(port, BuildRequest("GET", "/healthz"), std::chrono::seconds(1));
    up = health && health->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(up) << Slurp((dir / "stderr.txt").string());
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> next{0};
  std::atomic<bool> stop{false};
  auto writer = [&]() {
    while (!stop) {
      int index = next++;
      auto response = Exchange(port, BuildRequest("POST", "/registry", {{"Content-Type", "application/fhir+json"}},
                                                  ObservationFor(index)),
                               std::chrono::seconds(5));
      if (!response) continue;  // no answer: not acknowledged
      if (response->status == 200) {
        std::lock_guard lock(mutex);
        acknowledged.insert("Observation|urn:durability|obs-" + std::to_string(index));
      }
    }
  };
  std::thread first(writer);
  std::thread second(writer);
  // Kill once a good number of writes has been acknowledged.
  for (int wait = 0; wait < 600; ++wait) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= 150) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  child.Kill();
  stop = true;
  first.join();
  second.join();
  EXPECT_GE(acknowledged.size(), 150u) << Slurp((dir / "stderr.txt").string());
  return acknowledged;
}

void ExpectAllPresent(registry::RegistryStore& store, const std::set<std::string>& acknowledged) {
  auto cohort = store.LoadCohort("");
  ASSERT_TRUE(cohort.has_value()) << cohort.error().ToString();
  std::set<std::string> stored;
  for (const auto& outcome : cohort->outcomes) stored.insert(outcome.key);
  int missing = 0;
  for (const std::string& key : acknowledged) missing += stored.count(key) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0) << "acknowledged writes lost after kill -9";
  EXPECT_GE(stored.size(), acknowledged.size());
}

TEST(RegistryDurabilityTest, AcknowledgedWritesSurviveKill9OnSqlite) {
  TempDir dir;
  std::set<std::string> acknowledged = WriteUntilKilled(dir.path(), "database: registry.sqlite\n");
  auto store = registry::SqliteRegistryStore::Open((dir.path() / "registry.sqlite").string());
  ASSERT_TRUE(store.has_value());
  ExpectAllPresent(**store, acknowledged);
}

TEST(RegistryDurabilityTest, AcknowledgedWritesSurviveKill9OnPostgres) {
  auto& postgres = registry::testing::TestPostgres::Instance();
  std::string conninfo = postgres.FreshDatabase();
  ASSERT_FALSE(conninfo.empty()) << "PostgreSQL could not be started: " << postgres.error();
  TempDir dir;
  std::set<std::string> acknowledged = WriteUntilKilled(dir.path(), "database: \"" + conninfo + "\"\n");
  auto store = registry::PostgresRegistryStore::Open(conninfo);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  ExpectAllPresent(**store, acknowledged);
  postgres.Stop();
}

}  // namespace
}  // namespace regenpath::server::testing
