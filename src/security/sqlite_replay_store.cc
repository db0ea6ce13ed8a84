// The only file of the security module that includes SQLite.
#include "security/sqlite_replay_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <mutex>

namespace regenpath::security {

namespace {

// Expired rows are deleted at most this often (a DELETE per call would
// double the writes).
constexpr int64_t kPurgeIntervalMs = 10'000;

}  // namespace

struct SqliteReplayStore::Impl {
  std::string path;
  size_t capacity = 0;
  sqlite3* db = nullptr;
  sqlite3_stmt* find = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* purge = nullptr;
  sqlite3_stmt* count = nullptr;
  int64_t last_purge_ms = 0;
  int64_t rows = -1;  // known row count, -1 until counted
  mutable std::mutex mutex;

  ~Impl() {
    for (sqlite3_stmt* statement : {find, insert, purge, count}) sqlite3_finalize(statement);
    sqlite3_close(db);
  }

  Status Error(std::string_view what) const {
    return Unavailable(fmt::format("replay store {}: {}: {}", path, what, db ? sqlite3_errmsg(db) : "no database"));
  }

  Result<int64_t> CountLocked() const {
    sqlite3_reset(count);
    if (sqlite3_step(count) != SQLITE_ROW) return Fail(Error("cannot count"));
    int64_t value = sqlite3_column_int64(count, 0);
    sqlite3_reset(count);
    return value;
  }
};

SqliteReplayStore::SqliteReplayStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteReplayStore::~SqliteReplayStore() = default;

Result<std::unique_ptr<SqliteReplayStore>> SqliteReplayStore::Open(const std::string& path, size_t capacity) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->capacity = capacity < 1 ? 1 : capacity;
  if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return Fail(impl->Error("cannot open"));
  }
  sqlite3_busy_timeout(impl->db, 5000);
  const char* setup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS seen_jti (digest BLOB PRIMARY KEY, expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS seen_jti_expiry ON seen_jti (expires_ms);";
  if (sqlite3_exec(impl->db, setup, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Fail(impl->Error("cannot set up the table"));
  }
  struct Statement {
    sqlite3_stmt** target;
    const char* sql;
  };
  for (const Statement& statement : {
           Statement{&impl->find, "SELECT expires_ms FROM seen_jti WHERE digest = ?1"},
           Statement{&impl->insert, "INSERT OR REPLACE INTO seen_jti (digest, expires_ms) VALUES (?1, ?2)"},
           Statement{&impl->purge, "DELETE FROM seen_jti WHERE expires_ms <= ?1"},
           Statement{&impl->count, "SELECT count(*) FROM seen_jti"},
       }) {
    if (sqlite3_prepare_v2(impl->db, statement.sql, -1, statement.target, nullptr) != SQLITE_OK) {
      return Fail(impl->Error("cannot prepare a statement"));
    }
  }
  return std::unique_ptr<SqliteReplayStore>(new SqliteReplayStore(std::move(impl)));
}

Status SqliteReplayStore::Remember(std::string_view key, int64_t expires_ms, int64_t now_ms) {
  const std::array<uint8_t, 16> digest = ReplayDigest(key);
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.mutex);
  if (now_ms - impl.last_purge_ms >= kPurgeIntervalMs || impl.rows < 0) {
    sqlite3_reset(impl.purge);
    sqlite3_bind_int64(impl.purge, 1, now_ms);
    if (sqlite3_step(impl.purge) != SQLITE_DONE) return impl.Error("cannot delete expired rows");
    sqlite3_reset(impl.purge);
    impl.last_purge_ms = now_ms;
    RP_ASSIGN_OR_RETURN(impl.rows, impl.CountLocked());
  }
  sqlite3_reset(impl.find);
  sqlite3_bind_blob(impl.find, 1, digest.data(), static_cast<int>(digest.size()), SQLITE_STATIC);
  int step = sqlite3_step(impl.find);
  if (step == SQLITE_ROW) {
    int64_t stored = sqlite3_column_int64(impl.find, 0);
    sqlite3_reset(impl.find);
    if (stored > now_ms) return InvalidInput("token already used (jti replayed)");
  } else {
    sqlite3_reset(impl.find);
    if (step != SQLITE_DONE) return impl.Error("cannot read");
  }
  if (expires_ms <= now_ms) return Status::Ok();
  if (static_cast<size_t>(impl.rows) >= impl.capacity) {
    return ResourceExhausted("jti memory is full of live tokens");
  }
  sqlite3_reset(impl.insert);
  sqlite3_bind_blob(impl.insert, 1, digest.data(), static_cast<int>(digest.size()), SQLITE_STATIC);
  sqlite3_bind_int64(impl.insert, 2, expires_ms);
  if (sqlite3_step(impl.insert) != SQLITE_DONE) {
    sqlite3_reset(impl.insert);
    return impl.Error("cannot record");
  }
  sqlite3_reset(impl.insert);
  if (sqlite3_changes(impl.db) > 0 && step != SQLITE_ROW) ++impl.rows;
  return Status::Ok();
}

Result<int64_t> SqliteReplayStore::Count() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->CountLocked();
}

}  // namespace regenpath::security
