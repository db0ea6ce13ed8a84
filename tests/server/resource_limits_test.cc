// Issue 13, 6: the global budget for request bodies in flight (503 with
// Retry-After beyond it), the per-client-address connection limit, and idle
// keep-alive connections closed first when the server is at its limit.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "tests/server/cds_request.h"
#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

class ResourceLimitsTest : public ServerFixture {
 protected:
  static std::string ServicePath() { return std::string("/cds-services/") + kPatientView; }
  // The header of a POST whose body of `length` bytes the test sends later (or never).
  std::string UploadHeader(size_t length) {
    return BuildRequest("POST", ServicePath(),
                        {Bearer(TokenFor(ServicePath())),
                         {"Content-Type", "application/json"},
                         {"Content-Length", std::to_string(length)}},
                        "", false);
  }
};

TEST_F(ResourceLimitsTest, BodiesBeyondTheBudgetGet503WithRetryAfter) {
  config_.body_limit_bytes = 256 * 1024;
  config_.body_budget_bytes = 300 * 1024;
  config_.body_timeout = std::chrono::milliseconds(3000);
  StartServer();
  // A slow upload holds 200 KB of the budget...
  TestConnection slow(port());
  ASSERT_TRUE(slow.Send(UploadHeader(200 * 1024) + std::string(1024, ' ')));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // ...so a second one of 200 KB is refused before its body is read.
  TestConnection second(port());
  ASSERT_TRUE(second.Send(UploadHeader(200 * 1024)));
  std::optional<TestResponse> refused = second.ReadResponse(std::chrono::seconds(3));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_EQ(refused->Header("Retry-After"), "1");
  EXPECT_NE(refused->body.find("OperationOutcome"), std::string::npos);
  // A small one still fits.
  std::optional<TestResponse> small = Post(ServicePath(), "{not json", TokenFor(ServicePath()));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 400);
  // Once the slow upload ends (here: times out), its share is given back
  // (before its time-out is counted: Beast closes the connection before the
  // server hears of it, so the close alone does not say the share is back).
  EXPECT_TRUE(slow.WaitClosed(std::chrono::seconds(5)));
  MetricsWhen(
      [](const std::string& text) { return text.find("kind=\"body_timeout\"} 1") != std::string::npos; });
  TestConnection third(port());
  ASSERT_TRUE(third.Send(UploadHeader(200 * 1024) + std::string(200 * 1024, ' ')));
  std::optional<TestResponse> accepted = third.ReadResponse(std::chrono::seconds(5));
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 400) << "read and judged (not JSON), not refused for the budget";
  std::string metrics = MetricsWhen([](const std::string& text) { return text.find("body_budget") != std::string::npos; });
  EXPECT_NE(metrics.find("regenpath_errors_total{kind=\"body_budget\"} 1"), std::string::npos) << metrics;
}

TEST_F(ResourceLimitsTest, OneClientAddressCannotTakeEveryConnection) {
  config_.max_connections_per_client = 3;
  StartServer();
  std::vector<std::unique_ptr<TestConnection>> held;
  for (int index = 0; index < 3; ++index) {
    held.push_back(std::make_unique<TestConnection>(port()));
    ASSERT_TRUE(held.back()->Send(BuildRequest("GET", "/healthz")));
    ASSERT_TRUE(held.back()->ReadResponse());
  }
  TestConnection fourth(port());
  EXPECT_TRUE(fourth.WaitClosed(std::chrono::seconds(2))) << "the 4th connection of one address was kept";
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::optional<TestResponse> again = Get("/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(ResourceLimitsTest, IdleKeepAliveConnectionsMakeRoomAtTheConnectionLimit) {
  config_.max_connections = 4;
  config_.idle_timeout = std::chrono::milliseconds(30'000);
  StartServer();
  // Four kept-alive connections, idle after one request each (issue 13: 30
  // such connections locked every new client out).
  std::vector<std::unique_ptr<TestConnection>> idle;
  for (int index = 0; index < 4; ++index) {
    idle.push_back(std::make_unique<TestConnection>(port()));
    ASSERT_TRUE(idle.back()->Send(BuildRequest("GET", "/healthz")));
    ASSERT_TRUE(idle.back()->ReadResponse());
  }
  for (int round = 0; round < 3; ++round) {
    std::optional<TestResponse> newcomer = Get("/healthz");
    ASSERT_TRUE(newcomer) << "round " << round;
    EXPECT_EQ(newcomer->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int closed = 0;
  for (auto& connection : idle) closed += connection->WaitClosed(std::chrono::milliseconds(200)) ? 1 : 0;
  EXPECT_GE(closed, 1);
}

}  // namespace
}  // namespace regenpath::server::testing
