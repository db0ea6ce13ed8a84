// Issue 13's fhirServer items end to end: the per-issuer allowlist and the
// address policy (SSRF), neutral 412 texts, and fallback calls that hang
// without holding the request threads (worker starvation), with their caps.
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "tests/server/cds_request.h"
#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A port whose connections the kernel accepts (backlog) but nobody answers:
// a FHIR server that accepts and never responds.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 128);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { close(fd_); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/fhir"; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Counts requests and answers each with a Patient or an empty searchset.
std::function<std::string(const std::string&)> CountingFhir(std::atomic<int>* count) {
  return [count](const std::string& request) {
    ++*count;
    std::string body = request.find("/Patient/") != std::string::npos ? kPatientJson : kEmptyBundle;
    return "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  };
}

class FhirGuardTest : public ServerFixture {
 protected:
  std::string Discovery() {
    std::optional<TestResponse> response = Get("/cds-services", TokenFor("/cds-services"));
    return response && response->status == 200 ? response->body : "";
  }
  static std::string ServicePath() { return std::string("/cds-services/") + kPatientView; }
  std::optional<TestResponse> CallWith(const std::string& fhir_server) {
    return Post(ServicePath(), PatientViewRequest(discovery_, /*with_prefetch=*/false, fhir_server),
                TokenFor(ServicePath()));
  }
  void Start() {
    StartServer();
    discovery_ = Discovery();
    ASSERT_FALSE(discovery_.empty());
  }
  std::string discovery_;
};

TEST_F(FhirGuardTest, AServerOffTheIssuersAllowlistIsRefusedWithoutAConnection) {
  std::atomic<int> requests{0};
  RawServer allowed(CountingFhir(&requests));
  std::atomic<int> other_requests{0};
  RawServer other(CountingFhir(&other_requests));
  config_.issuer_fhir_servers[kIssuer] = {"http://127.0.0.1:" + std::to_string(allowed.port()) + "/fhir"};
  config_.issuer_fhir_servers["https://another-ehr.example.org/"] = {
      "http://127.0.0.1:" + std::to_string(other.port()) + "/fhir"};
  Start();
  std::optional<TestResponse> ok = CallWith("http://127.0.0.1:" + std::to_string(allowed.port()) + "/fhir");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_GT(requests.load(), 0);
  // Another issuer's server, the cloud metadata address, a prefix trick.
  for (const std::string& server :
       {"http://127.0.0.1:" + std::to_string(other.port()) + "/fhir", std::string("http://169.254.169.254/latest"),
        "http://127.0.0.1:" + std::to_string(allowed.port()) + "/fhirx"}) {
    std::optional<TestResponse> refused = CallWith(server);
    ASSERT_TRUE(refused) << server;
    EXPECT_EQ(refused->status, 400) << server << ": " << refused->body;
    EXPECT_NE(refused->body.find("fhirServer"), std::string::npos) << refused->body;
  }
  EXPECT_EQ(other_requests.load(), 0);
}

TEST_F(FhirGuardTest, LoopbackIsRefusedUnlessItsNetworkIsAllowedAndThe412IsNeutral) {
  std::atomic<int> requests{0};
  RawServer fhir(CountingFhir(&requests));
  const std::string by_address = "http://127.0.0.1:" + std::to_string(fhir.port()) + "/fhir";
  // A host name resolved at call time to loopback is refused the same way.
  const std::string by_name = "http://localhost:" + std::to_string(fhir.port()) + "/fhir";
  const std::string closed = "http://127.0.0.1:" + std::to_string(FreePort()) + "/fhir";
  SilentServer silent;
  config_.fhir_allowed_private_networks.clear();
  config_.fhir_allowed_servers = {by_address, by_name, closed, silent.base()};
  config_.fhir_call_budget = std::chrono::milliseconds(600);
  Start();
  std::string first_text;
  for (const std::string& server : {by_address, by_name}) {
    std::optional<TestResponse> response = CallWith(server);
    ASSERT_TRUE(response) << server;
    EXPECT_EQ(response->status, 412) << server << ": " << response->body;
    EXPECT_NE(response->body.find("could not be obtained from fhirServer"), std::string::npos) << response->body;
    if (first_text.empty()) first_text = response->body;
    EXPECT_EQ(response->body, first_text) << "the 412 differs by how the fetch failed";
  }
  EXPECT_EQ(requests.load(), 0);
  // Refused by policy, connection refused, timed out: one and the same answer.
  TearDown();
  config_.fhir_allowed_private_networks = {"127.0.0.0/8"};
  Start();
  for (const std::string& server : {closed, silent.base()}) {
    std::optional<TestResponse> response = CallWith(server);
    ASSERT_TRUE(response) << server;
    EXPECT_EQ(response->status, 412) << server << ": " << response->body;
    EXPECT_EQ(response->body, first_text) << server;
  }
  std::optional<TestResponse> allowed = CallWith(by_address);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200) << allowed->body;
}

TEST_F(FhirGuardTest, HangingFetchesDoNotHoldTheRequestThreads) {
  SilentServer silent;
  config_.threads = 2;
  config_.fhir_allowed_servers = {silent.base()};
  config_.fhir_timeout = std::chrono::milliseconds(3000);
  config_.fhir_call_budget = std::chrono::milliseconds(3000);
  Start();
  const std::string full = PatientViewRequest(discovery_, /*with_prefetch=*/true);
  // More hanging calls than request threads.
  std::vector<std::future<std::optional<TestResponse>>> hanging;
  const auto started = SteadyClock::now();
  for (int index = 0; index < 4; ++index) {
    hanging.push_back(std::async(std::launch::async, [&] { return CallWith(silent.base()); }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int round = 0; round < 5; ++round) {
    const auto before = SteadyClock::now();
    std::optional<TestResponse> health = Get("/healthz");
    std::optional<TestResponse> call = Post(ServicePath(), full, TokenFor(ServicePath()));
    const auto took = SteadyClock::now() - before;
    ASSERT_TRUE(health && call);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(call->status, 200) << call->body;
    // Before the fix both waited for a request thread, i.e. for the 3 s budget.
    EXPECT_LT(took, std::chrono::milliseconds(1000));
  }
  for (auto& call : hanging) {
    std::optional<TestResponse> response = call.get();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 412) << response->body;
  }
  // The four fetched concurrently: well under 4 x 3 s on 2 request threads.
  EXPECT_LT(SteadyClock::now() - started, std::chrono::milliseconds(6500));
}

TEST_F(FhirGuardTest, FallbackCallsBeyondTheCapAre503WithRetryAfter) {
  SilentServer silent;
  config_.fhir_allowed_servers = {silent.base()};
  config_.fhir_call_budget = std::chrono::milliseconds(1500);
  config_.fhir_timeout = std::chrono::milliseconds(1500);
  config_.fhir_max_calls_in_flight = 4;
  config_.fhir_max_calls_per_issuer = 2;
  Start();
  std::vector<std::future<std::optional<TestResponse>>> calls;
  for (int index = 0; index < 2; ++index) {
    calls.push_back(std::async(std::launch::async, [&] { return CallWith(silent.base()); }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  std::optional<TestResponse> third = CallWith(silent.base());
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 503) << third->body;
  EXPECT_FALSE(third->Header("Retry-After").empty());
  for (auto& call : calls) {
    std::optional<TestResponse> response = call.get();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 412);
  }
  std::optional<TestResponse> later = CallWith(silent.base());
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 412) << "the slots were given back";
}

}  // namespace
}  // namespace regenpath::server::testing
