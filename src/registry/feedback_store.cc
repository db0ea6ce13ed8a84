// SQLite behind FeedbackStore. One connection, serialized by a mutex: feedback
// is rare next to card calls, and SQLite allows a single writer anyway.
#include "registry/feedback_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <mutex>

namespace regenpath::registry {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS feedback (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at          TEXT NOT NULL,
  service_id           TEXT NOT NULL,
  card                 TEXT NOT NULL,
  outcome              TEXT NOT NULL,
  outcome_timestamp    TEXT NOT NULL,
  accepted_suggestions TEXT NOT NULL,
  override_code        TEXT,
  override_system      TEXT,
  override_display     TEXT,
  override_comment     TEXT,
  raw_json             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_card ON feedback(service_id, card);
)sql";

// ["uuid1","uuid2"]: the suggestion uuids as a JSON array. The uuids come from
// our own cards, but are escaped anyway since the client sends them.
std::string JsonStringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t index = 0; index < items.size(); ++index) {
    if (index > 0) out += ',';
    out += '"';
    for (char c : items[index]) {
      auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (byte < 0x20) {
        out += fmt::format("\\u{:04x}", byte);
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out + "]";
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { prepared_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return prepared_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int prepared_ = SQLITE_ERROR;
};

}  // namespace

struct FeedbackStore::Impl {
  std::string path;
  sqlite3* db = nullptr;
  mutable std::mutex mutex;

  ~Impl() { sqlite3_close(db); }

  Status Error(std::string_view what) const {
    return Unavailable(fmt::format("feedback database {}: {}: {}", path, what, sqlite3_errmsg(db)));
  }

  Status Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      return Unavailable(fmt::format("feedback database {}: {}", path, text));
    }
    return Status::Ok();
  }
};

FeedbackStore::FeedbackStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeedbackStore::~FeedbackStore() = default;

Result<std::unique_ptr<FeedbackStore>> FeedbackStore::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) {
    std::string message = impl->db != nullptr ? sqlite3_errmsg(impl->db) : "out of memory";
    return Fail(Unavailable(fmt::format("cannot open the feedback database {}: {}", path, message)));
  }
  // Another process (a backup, a reader) may hold a lock briefly.
  sqlite3_busy_timeout(impl->db, 5000);
  // WAL: readers do not block the writer; synchronous=FULL: a commit is on disk
  // (the WAL fsynced) before sqlite3_step returns, so acknowledging is safe.
  RP_RETURN_IF_ERROR(impl->Exec("PRAGMA journal_mode=WAL"));
  RP_RETURN_IF_ERROR(impl->Exec("PRAGMA synchronous=FULL"));
  RP_RETURN_IF_ERROR(impl->Exec("PRAGMA foreign_keys=ON"));
  {
    Statement version(impl->db, "PRAGMA user_version");
    if (!version.ok() || sqlite3_step(version.get()) != SQLITE_ROW)
      return Fail(impl->Error("reading the version"));
    int existing = sqlite3_column_int(version.get(), 0);
    if (existing > kSchemaVersion) {
      return Fail(
          InvalidInput(fmt::format("feedback database {} has schema version {}, newer than this program's {}",
                                   path, existing, kSchemaVersion)));
    }
  }
  RP_RETURN_IF_ERROR(impl->Exec("BEGIN IMMEDIATE"));
  Status schema = impl->Exec(kSchema);
  if (schema.ok()) schema = impl->Exec(fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());
  if (!schema.ok()) {
    impl->Exec("ROLLBACK");
    return Fail(schema);
  }
  RP_RETURN_IF_ERROR(impl->Exec("COMMIT"));
  return std::unique_ptr<FeedbackStore>(new FeedbackStore(std::move(impl)));
}

Status FeedbackStore::Record(const std::vector<cdshooks::Feedback>& items, const std::string& received_at) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE"));
  Status status = [&]() -> Status {
    Statement insert(
        impl_->db,
        "INSERT INTO feedback (received_at, service_id, card, outcome, outcome_timestamp, "
        "accepted_suggestions, override_code, override_system, override_display, override_comment, "
        "raw_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!insert.ok()) return impl_->Error("preparing the insert");
    sqlite3_stmt* stmt = insert.get();
    auto bind_text = [stmt](int index, const std::string& text) {
      return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    };
    for (const cdshooks::Feedback& item : items) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      int rc = SQLITE_OK;
      std::string suggestions = JsonStringArray(item.accepted_suggestions);
      rc |= bind_text(1, received_at);
      rc |= bind_text(2, item.service_id);
      rc |= bind_text(3, item.card);
      rc |= bind_text(4, item.outcome);
      rc |= bind_text(5, item.outcome_timestamp);
      rc |= bind_text(6, suggestions);
      if (item.override_reason) {
        rc |= bind_text(7, item.override_reason->code);
        rc |= bind_text(8, item.override_reason->system);
        rc |= bind_text(9, item.override_reason->display);
        rc |= bind_text(10, item.override_reason->user_comment);
      }
      rc |= bind_text(11, item.raw_json);
      if (rc != SQLITE_OK) return impl_->Error("binding a feedback item");
      if (sqlite3_step(stmt) != SQLITE_DONE) return impl_->Error("inserting a feedback item");
    }
    return Status::Ok();
  }();
  if (!status.ok()) {
    impl_->Exec("ROLLBACK");
    return status;
  }
  Status commit = impl_->Exec("COMMIT");
  if (!commit.ok()) impl_->Exec("ROLLBACK");
  return commit;
}

Result<int64_t> FeedbackStore::Count() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Statement count(impl_->db, "SELECT COUNT(*) FROM feedback");
  if (!count.ok() || sqlite3_step(count.get()) != SQLITE_ROW) return Fail(impl_->Error("counting"));
  return static_cast<int64_t>(sqlite3_column_int64(count.get(), 0));
}

}  // namespace regenpath::registry
