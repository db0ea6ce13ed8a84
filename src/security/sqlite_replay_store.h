// SqliteReplayStore: a ReplayStore in an SQLite database file (by default
// <data_dir>/replay.sqlite of `regenpath serve`), so a token accepted before a
// restart -- even a kill -9 -- is still refused after it. Only 128-bit
// digests of the ids are written (ReplayDigest), with their expiry; expired
// rows are deleted as new ones come.
//
// Durability: WAL journal with synchronous=NORMAL: a row is in the file when
// Remember returns, so it survives the process dying at any point; an
// operating-system crash or power loss can lose the last moments of rows
// (an fsync per call would cost more than the call). Several processes may
// share one file on one host (SQLite locking; busy timeout 5 s); replicas on
// several hosts need a networked store (PostgreSQL) behind the same interface.
// Thread-safe: calls are serialized on one connection.
#ifndef REGENPATH_SECURITY_SQLITE_REPLAY_STORE_H_
#define REGENPATH_SECURITY_SQLITE_REPLAY_STORE_H_

#include <memory>
#include <string>

#include "security/replay_store.h"

namespace regenpath::security {

class SqliteReplayStore : public ReplayStore {
 public:
  // Opens (creating) the database at `path` and its table. kUnavailable
  // naming the path when it cannot be opened or set up. `capacity`: live rows
  // kept at most (kResourceExhausted beyond, like JtiCache).
  static Result<std::unique_ptr<SqliteReplayStore>> Open(const std::string& path, size_t capacity);
  ~SqliteReplayStore() override;

  Status Remember(std::string_view key, int64_t expires_ms, int64_t now_ms) override;

  // Rows held, expired ones not yet deleted included (tests).
  Result<int64_t> Count() const;

 private:
  struct Impl;
  explicit SqliteReplayStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_SQLITE_REPLAY_STORE_H_
