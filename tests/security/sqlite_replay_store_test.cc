// SqliteReplayStore: the jti memory that survives a restart (issue 13, 5).
#include "security/sqlite_replay_store.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace regenpath::security {
namespace {

class SqliteReplayStoreTest : public ::testing::Test {
 protected:
  SqliteReplayStoreTest() {
    std::string pattern = (std::filesystem::temp_directory_path() / "regenpath-replay-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    path_ = (dir_ / "replay.sqlite").string();
  }
  ~SqliteReplayStoreTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteReplayStoreTest, AnIdIsRefusedUntilItExpiresAcrossReopening) {
  {
    Result<std::unique_ptr<SqliteReplayStore>> store = SqliteReplayStore::Open(path_, 100);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    EXPECT_TRUE((*store)->Remember("27:https://ehr.example.com/jti-1", 2'000, 1'000).ok());
    Status replay = (*store)->Remember("27:https://ehr.example.com/jti-1", 2'000, 1'100);
    EXPECT_EQ(replay.code(), StatusCode::kInvalidInput);
    EXPECT_TRUE((*store)->Remember("27:https://ehr.example.com/jti-2", 2'000, 1'100).ok());
  }
  // A new process (a restart) opening the same file.
  Result<std::unique_ptr<SqliteReplayStore>> reopened = SqliteReplayStore::Open(path_, 100);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->Remember("27:https://ehr.example.com/jti-1", 2'000, 1'200).code(),
            StatusCode::kInvalidInput);
  // After its expiry the id is forgotten (and the row deleted).
  EXPECT_TRUE((*reopened)->Remember("27:https://ehr.example.com/jti-1", 40'000, 30'000).ok());
  Result<int64_t> rows = (*reopened)->Count();
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(*rows, 1);
}

TEST_F(SqliteReplayStoreTest, NoIdIsWrittenInClearAndTheCapacityHolds) {
  Result<std::unique_ptr<SqliteReplayStore>> store = SqliteReplayStore::Open(path_, 2);
  ASSERT_TRUE(store.has_value());
  EXPECT_TRUE((*store)->Remember("secret-jti-aaaa", 10'000, 1'000).ok());
  EXPECT_TRUE((*store)->Remember("secret-jti-bbbb", 10'000, 1'000).ok());
  EXPECT_EQ((*store)->Remember("secret-jti-cccc", 10'000, 1'000).code(), StatusCode::kResourceExhausted);
  // An already expired token records nothing but is not refused.
  EXPECT_TRUE((*store)->Remember("secret-jti-dddd", 500, 1'000).ok());
  store->reset();
  std::string bytes;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(path_ + suffix, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("secret-jti"), std::string::npos);
}

TEST_F(SqliteReplayStoreTest, AnUnopenablePathIsUnavailable) {
  Result<std::unique_ptr<SqliteReplayStore>> store =
      SqliteReplayStore::Open((dir_ / "no-such-dir" / "replay.sqlite").string(), 10);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(store.error().message().find("no-such-dir"), std::string::npos);
}

}  // namespace
}  // namespace regenpath::security
