// PostgresReplayStore: a ReplayStore in a PostgreSQL table, shared by every
// replica of the service that points at the same database: a token accepted
// by one replica is refused by all the others, and after any restart.
//
// Table regenpath_seen_jti (digest bytea PRIMARY KEY, expires_ms bigint),
// created if absent. Remember is one statement (INSERT ... ON CONFLICT DO
// UPDATE ... WHERE the stored row has expired RETURNING), so two replicas
// racing on one token cannot both accept it. Only 128-bit digests of the ids
// are stored (ReplayDigest). Expired rows are deleted at most every 10 s per
// process. There is no capacity bound (the database is the limit). A
// failed connection is re-established once per call; if the database cannot
// be reached the token is refused (kUnavailable), never accepted.
// Thread-safe: calls are serialized on one connection.
#ifndef REGENPATH_SECURITY_POSTGRES_REPLAY_STORE_H_
#define REGENPATH_SECURITY_POSTGRES_REPLAY_STORE_H_

#include <memory>
#include <string>

#include "security/replay_store.h"

namespace regenpath::security {

class PostgresReplayStore : public ReplayStore {
 public:
  // Connects with libpq `conninfo` ("host=... dbname=... user=..." or a
  // postgresql:// URI) and creates the table. kUnavailable when the database
  // cannot be reached or set up (the message never repeats the conninfo,
  // which may hold a password).
  static Result<std::unique_ptr<PostgresReplayStore>> Open(const std::string& conninfo);
  ~PostgresReplayStore() override;

  Status Remember(std::string_view key, int64_t expires_ms, int64_t now_ms) override;

 private:
  struct Impl;
  explicit PostgresReplayStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_POSTGRES_REPLAY_STORE_H_
