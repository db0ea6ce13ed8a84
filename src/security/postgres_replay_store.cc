// The only file of the security module that calls libpq (loaded at run time: postgres/libpq.h).
#include "security/postgres_replay_store.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <mutex>

#include "postgres/libpq.h"

namespace regenpath::security {

namespace {

constexpr int64_t kPurgeIntervalMs = 10'000;

using ResultPtr = std::unique_ptr<PGresult, decltype(&postgres::ClearResult)>;

// Big-endian int8 for a binary parameter.
std::array<char, 8> Int8(int64_t value) {
  std::array<char, 8> out{};
  uint64_t bits = static_cast<uint64_t>(value);
  for (int index = 7; index >= 0; --index) {
    out[static_cast<size_t>(index)] = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
  return out;
}

}  // namespace

struct PostgresReplayStore::Impl {
  std::string conninfo;
  PGconn* connection = nullptr;
  int64_t last_purge_ms = 0;
  std::mutex mutex;

  ~Impl() {
    if (connection != nullptr) postgres::Pq().PQfinish(connection);
  }

  Status Error(std::string_view what) const {
    std::string detail = connection != nullptr ? postgres::Pq().PQerrorMessage(connection) : "no connection";
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    return Unavailable(fmt::format("replay store (PostgreSQL): {}: {}", what, detail));
  }

  Status Connect() {
    if (connection != nullptr && postgres::Pq().PQstatus(connection) == CONNECTION_OK) return Status::Ok();
    if (connection != nullptr) {
      postgres::Pq().PQreset(connection);
      if (postgres::Pq().PQstatus(connection) == CONNECTION_OK) return Status::Ok();
      return Error("cannot reconnect");
    }
    if (Status loaded = postgres::LoadLibPq(); !loaded.ok()) return loaded;
    connection = postgres::Pq().PQconnectdb(conninfo.c_str());
    if (postgres::Pq().PQstatus(connection) != CONNECTION_OK) return Error("cannot connect");
    ResultPtr created(postgres::Pq().PQexec(connection,
                             "CREATE TABLE IF NOT EXISTS regenpath_seen_jti ("
                             "digest bytea PRIMARY KEY, expires_ms bigint NOT NULL);"
                             "CREATE INDEX IF NOT EXISTS regenpath_seen_jti_expiry ON regenpath_seen_jti (expires_ms)"),
                      &postgres::ClearResult);
    if (postgres::Pq().PQresultStatus(created.get()) != PGRES_COMMAND_OK) return Error("cannot create the table");
    return Status::Ok();
  }

  // One statement with binary parameters (digest, then int8s); nullptr on a
  // failed exchange.
  ResultPtr Run(const char* sql, const std::array<uint8_t, 16>& digest, std::initializer_list<int64_t> numbers) {
    std::vector<std::array<char, 8>> encoded;
    for (int64_t number : numbers) encoded.push_back(Int8(number));
    std::vector<const char*> values = {reinterpret_cast<const char*>(digest.data())};
    std::vector<int> lengths = {static_cast<int>(digest.size())};
    std::vector<int> formats = {1};
    for (const auto& number : encoded) {
      values.push_back(number.data());
      lengths.push_back(8);
      formats.push_back(1);
    }
    return ResultPtr(postgres::Pq().PQexecParams(connection, sql, static_cast<int>(values.size()), nullptr, values.data(),
                                  lengths.data(), formats.data(), 0),
                     &postgres::ClearResult);
  }
};

PostgresReplayStore::PostgresReplayStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresReplayStore::~PostgresReplayStore() = default;

Result<std::unique_ptr<PostgresReplayStore>> PostgresReplayStore::Open(const std::string& conninfo) {
  auto impl = std::make_unique<Impl>();
  impl->conninfo = conninfo;
  RP_RETURN_IF_ERROR(impl->Connect());
  return std::unique_ptr<PostgresReplayStore>(new PostgresReplayStore(std::move(impl)));
}

Status PostgresReplayStore::Remember(std::string_view key, int64_t expires_ms, int64_t now_ms) {
  const std::array<uint8_t, 16> digest = ReplayDigest(key);
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.mutex);
  RP_RETURN_IF_ERROR(impl.Connect());
  if (now_ms - impl.last_purge_ms >= kPurgeIntervalMs) {
    std::array<uint8_t, 16> unused{};
    ResultPtr purged = impl.Run("DELETE FROM regenpath_seen_jti WHERE expires_ms <= $2 AND $1::bytea IS NOT NULL",
                                unused, {now_ms});
    if (postgres::Pq().PQresultStatus(purged.get()) != PGRES_COMMAND_OK) return impl.Error("cannot delete expired rows");
    impl.last_purge_ms = now_ms;
  }
  if (expires_ms <= now_ms) {
    ResultPtr live = impl.Run("SELECT 1 FROM regenpath_seen_jti WHERE digest = $1 AND expires_ms > $2", digest,
                              {now_ms});
    if (postgres::Pq().PQresultStatus(live.get()) != PGRES_TUPLES_OK) return impl.Error("cannot read");
    return postgres::Pq().PQntuples(live.get()) > 0 ? InvalidInput("token already used (jti replayed)") : Status::Ok();
  }
  // Recorded iff absent or expired: a live row makes the WHERE false and
  // nothing is returned.
  ResultPtr recorded = impl.Run(
      "INSERT INTO regenpath_seen_jti (digest, expires_ms) VALUES ($1, $2) "
      "ON CONFLICT (digest) DO UPDATE SET expires_ms = EXCLUDED.expires_ms "
      "WHERE regenpath_seen_jti.expires_ms <= $3 RETURNING 1",
      digest, {expires_ms, now_ms});
  if (postgres::Pq().PQresultStatus(recorded.get()) != PGRES_TUPLES_OK) return impl.Error("cannot record");
  return postgres::Pq().PQntuples(recorded.get()) == 1 ? Status::Ok() : InvalidInput("token already used (jti replayed)");
}

}  // namespace regenpath::security
