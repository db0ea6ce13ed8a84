// PostgresReplayStore (src/security/) against a real PostgreSQL 15 started
// for the registry tests (test_postgres.h: a temp directory, Unix socket
// only; the tests fail, never skip, when it cannot start). Here because this
// test program already owns the server; the store is the CDS service's
// replay protection shared by replicas (issue 13, docs/security.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "security/postgres_replay_store.h"
#include "test_postgres.h"

namespace regenpath::security {
namespace {

class PostgresReplayStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = registry::testing::TestPostgres::Instance().FreshDatabase();
    ASSERT_FALSE(conninfo_.empty()) << registry::testing::TestPostgres::Instance().error();
  }
  std::unique_ptr<PostgresReplayStore> Open() {
    Result<std::unique_ptr<PostgresReplayStore>> store = PostgresReplayStore::Open(conninfo_);
    EXPECT_TRUE(store.has_value()) << (store.has_value() ? "" : store.error().message());
    return store.has_value() ? std::move(*store) : nullptr;
  }
  static std::string Key(const std::string& name) { return "27:https://ehr.example.com/" + name; }

  std::string conninfo_;
};

TEST_F(PostgresReplayStoreTest, AnIdIsRefusedUntilItExpires) {
  std::unique_ptr<PostgresReplayStore> store = Open();
  ASSERT_NE(store, nullptr);
  const std::string key = Key("expiry");
  EXPECT_TRUE(store->Remember(key, 2'000'000, 1'000'000).ok());
  EXPECT_EQ(store->Remember(key, 2'000'000, 1'500'000).code(), StatusCode::kInvalidInput);
  // An already-expired token records nothing, but a live entry still refuses it.
  EXPECT_EQ(store->Remember(key, 1'000'000, 1'600'000).code(), StatusCode::kInvalidInput);
  EXPECT_TRUE(store->Remember(Key("already-expired"), 1'000'000, 1'600'000).ok());
  // After its expiry the id may be used again.
  EXPECT_TRUE(store->Remember(key, 4'000'000, 3'000'000).ok());
}

TEST_F(PostgresReplayStoreTest, ASecondProcessOrReplicaRefusesATokenUsedOnce) {
  std::unique_ptr<PostgresReplayStore> first = Open();
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(first->Remember(Key("shared"), 9'000'000, 1'000'000).ok());
  first.reset();  // as a restart would
  std::unique_ptr<PostgresReplayStore> second = Open();
  std::unique_ptr<PostgresReplayStore> third = Open();
  ASSERT_NE(second, nullptr);
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(second->Remember(Key("shared"), 9'000'000, 1'000'001).code(), StatusCode::kInvalidInput);
  // Replicas racing on one token: exactly one acceptance each round.
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> accepted{0};
    const std::string key = Key("race-" + std::to_string(round));
    std::vector<std::thread> threads;
    for (PostgresReplayStore* store : {second.get(), third.get(), second.get(), third.get()}) {
      threads.emplace_back([&, store] {
        if (store->Remember(key, 9'000'000, 1'000'000).ok()) ++accepted;
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(accepted.load(), 1) << "round " << round;
  }
}

TEST(PostgresReplayStoreOpenTest, AnUnreachableDatabaseIsUnavailableWithoutItsPassword) {
  Result<std::unique_ptr<PostgresReplayStore>> store =
      PostgresReplayStore::Open("host=/nonexistent-dir port=1 user=x password=s3cret-pw dbname=y connect_timeout=2");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.error().message().find("s3cret-pw"), std::string::npos) << store.error().message();
}

}  // namespace
}  // namespace regenpath::security
