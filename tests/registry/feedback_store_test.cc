// FeedbackStore on a real SQLite file: stored items survive reopening, the
// journal is WAL, a batch is all or nothing, and a bad path fails clearly.
#include "registry/feedback_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

namespace regenpath::registry {
namespace {

class FeedbackStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "regenpath-registry-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    path_ = (dir_ / "feedback.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static cdshooks::Feedback Item(const std::string& card, const std::string& outcome) {
    cdshooks::Feedback item;
    item.service_id = "regenpath-patient-view";
    item.card = card;
    item.outcome = outcome;
    item.outcome_timestamp = "2021-12-11T10:05:31Z";
    item.raw_json = R"({"card":")" + card + R"("})";
    if (outcome == "accepted") item.accepted_suggestions = {"s-1", "s\"2"};
    if (outcome == "overridden") {
      item.override_reason = cdshooks::OverrideReason{"too-risky", "http://example.org/reasons", "Too risky",
                                                      "patient declines"};
    }
    return item;
  }

  std::string Query(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out = text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(FeedbackStoreTest, RecordsSurviveReopening) {
  {
    auto store = FeedbackStore::Open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    ASSERT_TRUE(
        (*store)->Record({Item("c1", "accepted"), Item("c2", "overridden")}, "2026-01-01T00:00:00Z").ok());
    ASSERT_TRUE((*store)->Record({Item("c3", "overridden")}, "2026-01-01T00:00:01Z").ok());
    EXPECT_EQ((*store)->Count().value(), 3);
  }
  auto reopened = FeedbackStore::Open(path_);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->Count().value(), 3);
  EXPECT_EQ(Query("SELECT accepted_suggestions FROM feedback WHERE card='c1'"), R"(["s-1","s\"2"])");
  EXPECT_EQ(Query("SELECT override_comment FROM feedback WHERE card='c2'"), "patient declines");
  EXPECT_EQ(Query("SELECT override_code FROM feedback WHERE card='c1'"), "NULL");
  EXPECT_EQ(Query("SELECT received_at FROM feedback WHERE card='c3'"), "2026-01-01T00:00:01Z");
  EXPECT_EQ(Query("PRAGMA journal_mode"), "wal");
}

TEST_F(FeedbackStoreTest, ConcurrentWritersAreSerialized) {
  auto store = FeedbackStore::Open(path_);
  ASSERT_TRUE(store.has_value());
  std::vector<std::thread> writers;
  for (int writer = 0; writer < 4; ++writer) {
    writers.emplace_back([&, writer] {
      for (int index = 0; index < 10; ++index) {
        EXPECT_TRUE(
            (*store)
                ->Record({Item("w" + std::to_string(writer) + "-" + std::to_string(index), "accepted")},
                         "2026-01-01T00:00:00Z")
                .ok());
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ((*store)->Count().value(), 40);
}

TEST_F(FeedbackStoreTest, UnopenablePathFailsNamingIt) {
  auto store = FeedbackStore::Open((dir_ / "no" / "such" / "dir" / "f.sqlite").string());
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message().find("no/such/dir"), std::string::npos) << store.error().message();
}

TEST_F(FeedbackStoreTest, NotADatabaseFailsClearly) {
  FILE* file = fopen(path_.c_str(), "w");
  fputs("this is not a database, just text long enough to have a header of its own..........", file);
  fclose(file);
  auto store = FeedbackStore::Open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message().find(path_), std::string::npos) << store.error().message();
}

}  // namespace
}  // namespace regenpath::registry
