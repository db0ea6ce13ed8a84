// libpq (loaded at run time: postgres/libpq.h) behind RegistryStore. One connection serialized by a mutex; every
// statement uses text parameters ($1, $2, ...), never string splicing.
#include "registry/postgres_registry_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <utility>

#include "postgres/libpq.h"
#include "registry/audit_entities.h"
#include "registry/batch_rows.h"
#include "registry/due_windows.h"
#include "registry/registry_schema.h"
#include "registry/registry_sql.h"

namespace regenpath::registry {

namespace {

// A query result, cleared on destruction.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult() { postgres::Pq().PQclear(result_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return result_; }
  ExecStatusType status() const { return postgres::Pq().PQresultStatus(result_); }
  int rows() const { return postgres::Pq().PQntuples(result_); }
  std::string Text(int row, int column) const { return postgres::Pq().PQgetvalue(result_, row, column); }
  bool Null(int row, int column) const { return postgres::Pq().PQgetisnull(result_, row, column) != 0; }
  double Double(int row, int column) const { return std::stod(Text(row, column)); }
  int64_t Int(int row, int column) const { return std::stoll(Text(row, column)); }
  std::optional<double> OptionalDouble(int row, int column) const {
    if (Null(row, column)) return std::nullopt;
    return Double(row, column);
  }

 private:
  PGresult* result_;
};

// Text parameters; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

std::optional<std::string> Param(const std::optional<double>& value) {
  if (!value) return std::nullopt;
  return fmt::format("{}", *value);
}

Episode ReadEpisode(const PgResult& result, int row) {
  Episode episode;
  episode.key = result.Text(row, 0);
  episode.patient = result.Text(row, 1);
  episode.option_id = result.Text(row, 2);
  episode.therapy = result.Text(row, 3);
  episode.target = result.Text(row, 4);
  episode.condition = result.Text(row, 5);
  episode.side = result.Text(row, 6);
  episode.start_date = result.Text(row, 7);
  episode.assessment_stage = result.Text(row, 8);
  episode.option_status = result.Text(row, 9);
  episode.kb_version = result.Text(row, 10);
  episode.feedback = result.Text(row, 11);
  episode.override_reason = result.Text(row, 12);
  episode.synthetic = result.Int(row, 13) != 0;
  return episode;
}

ProcedureRecord ReadProcedure(const PgResult& result, int row) {
  ProcedureRecord procedure;
  procedure.key = result.Text(row, 0);
  procedure.episode_key = result.Text(row, 1);
  procedure.patient = result.Text(row, 2);
  procedure.date = result.Text(row, 3);
  procedure.kind = result.Text(row, 4);
  procedure.image_guidance = result.Text(row, 5);
  procedure.prp_leukocytes = result.Text(row, 6);
  procedure.volume_ml = result.OptionalDouble(row, 7);
  procedure.platelet_concentration = result.OptionalDouble(row, 8);
  procedure.bmc_nucleated_cells = result.OptionalDouble(row, 9);
  procedure.dextrose_percent = result.OptionalDouble(row, 10);
  procedure.series_number = static_cast<int>(result.Int(row, 11));
  return procedure;
}

// Pipeline mode (libpq >= 14): statements are sent without waiting for each
// answer, and the answers are read in batches, so a write of a million rows
// costs a few round trips instead of a million. Prepared statements: parsed
// once per connection.
class Pipeline {
 public:
  // Called with each statement's result, in the order they were sent.
  using OnResult = std::function<Status(const PGresult* result)>;
  explicit Pipeline(PGconn* conn) : conn_(conn) { entered_ = postgres::Pq().PQenterPipelineMode(conn) == 1; }
  ~Pipeline() {
    if (entered_) {
      // Drain whatever is left (after an error) so the connection is usable.
      while (pending_ > 0 || !synced_) {
        if (!ReadOne(nullptr)) break;
      }
      postgres::Pq().PQexitPipelineMode(conn_);
    }
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  bool entered() const { return entered_; }

  // Queues `statement` (a prepared statement's name) with `params`; reads the
  // answers of what is queued every kBatch statements.
  Status Send(const char* statement, const std::vector<const char*>& params, OnResult on_result) {
    if (!status_.ok()) return status_;
    if (postgres::Pq().PQsendQueryPrepared(conn_, statement, static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0) != 1) {
      status_ = Unavailable(fmt::format("registry database (PostgreSQL): send: {}", postgres::Pq().PQerrorMessage(conn_)));
      return status_;
    }
    handlers_.push_back(std::move(on_result));
    ++pending_;
    if (pending_ >= kBatch) {
      if (postgres::Pq().PQsendFlushRequest(conn_) != 1 || postgres::Pq().PQflush(conn_) != 0) {
        status_ = Unavailable(fmt::format("registry database (PostgreSQL): flush: {}", postgres::Pq().PQerrorMessage(conn_)));
        return status_;
      }
      while (pending_ > 0) {
        if (!ReadOne(&status_)) break;
      }
    }
    return status_;
  }

  // Sends a sync point and reads every remaining answer. The first error
  // (a statement's, or a handler's) is returned.
  Status Finish() {
    if (postgres::Pq().PQpipelineSync(conn_) != 1) {
      if (status_.ok()) status_ = Unavailable(fmt::format("registry database (PostgreSQL): sync: {}", postgres::Pq().PQerrorMessage(conn_)));
      return status_;
    }
    synced_ = false;
    while (pending_ > 0 || !synced_) {
      if (!ReadOne(&status_)) break;
    }
    return status_;
  }

 private:
  static constexpr int kBatch = 512;

  // Reads one answer (a statement's result or the sync). False when the
  // connection failed.
  bool ReadOne(Status* status) {
    PGresult* result = postgres::Pq().PQgetResult(conn_);
    if (result == nullptr) {
      if (postgres::Pq().PQstatus(conn_) != CONNECTION_OK) {
        if (status != nullptr && status->ok()) {
          *status = Unavailable(fmt::format("registry database (PostgreSQL): {}", postgres::Pq().PQerrorMessage(conn_)));
        }
        pending_ = 0;
        synced_ = true;
        return false;
      }
      return true;  // the end of one statement's results
    }
    ExecStatusType type = postgres::Pq().PQresultStatus(result);
    if (type == PGRES_PIPELINE_SYNC) {
      synced_ = true;
      postgres::Pq().PQclear(result);
      return true;
    }
    OnResult handler;
    if (!handlers_.empty()) {
      handler = std::move(handlers_.front());
      handlers_.pop_front();
    }
    --pending_;
    if (status != nullptr && status->ok()) {
      if (type == PGRES_FATAL_ERROR || type == PGRES_PIPELINE_ABORTED || type == PGRES_NONFATAL_ERROR) {
        std::string message = fmt::format("registry database (PostgreSQL): write: {}", postgres::Pq().PQresultErrorMessage(result));
        while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
        const char* state = postgres::Pq().PQresultErrorField(result, PG_DIAG_SQLSTATE);
        bool retry = postgres::Pq().PQstatus(conn_) != CONNECTION_OK ||
                     (state != nullptr && (std::string_view(state).starts_with("08") || std::string_view(state).starts_with("40") ||
                                           std::string_view(state).starts_with("53") || std::string_view(state).starts_with("57")));
        *status = retry ? Unavailable(std::move(message)) : Internal(std::move(message));
      } else if (handler) {
        *status = handler(result);
      }
    }
    postgres::Pq().PQclear(result);
    return true;
  }

  PGconn* conn_;
  bool entered_ = false;
  bool synced_ = true;
  int pending_ = 0;
  std::deque<OnResult> handlers_;
  Status status_;
};

// `bytes` as a bytea literal in text form (\x and hex digits).
std::string HexBytea(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * bytes.size());
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// The statements the writes use, prepared once per connection under these
// names: each upsert answers whether it created the row (the audit rows,
// audit_entities.h, are written after the rows, in the same transaction).
struct Prepared {
  const char* name;
  std::string sql;
};

std::string UpsertReturningCreated(const char* upsert) {
  return sql::ForDialect(fmt::format("{} RETURNING (xmax = 0) AS created", upsert), SqlDialect::kPostgres);
}

std::vector<Prepared> WriteStatements() {
  return {
      {"rp_insert_meta", sql::ForDialect(sql::kInsertMeta, SqlDialect::kPostgres)},
      // Answers a row when it created the patient.
      {"rp_insert_patient", sql::ForDialect(std::string(sql::kInsertPatient) + " RETURNING 1", SqlDialect::kPostgres)},
      {"rp_upsert_episode", UpsertReturningCreated(sql::kUpsertEpisode)},
      {"rp_upsert_procedure", UpsertReturningCreated(sql::kUpsertProcedure)},
      {"rp_upsert_outcome", UpsertReturningCreated(sql::kUpsertOutcome)},
      {"rp_upsert_adverse_event", UpsertReturningCreated(sql::kUpsertAdverseEvent)},
      {"rp_mark_stale", sql::ForDialect(sql::kMarkStale, SqlDialect::kPostgres)},
      {"rp_insert_facts", sql::ForDialect(sql::kInsertFacts, SqlDialect::kPostgres)},
      {"rp_clear_stale", sql::ForDialect(sql::kClearStale, SqlDialect::kPostgres)},
      {"rp_insert_due_episode", sql::ForDialect(sql::kInsertDueEpisode, SqlDialect::kPostgres)},
      {"rp_insert_due_window", sql::kInsertDueWindowPostgres},
  };
}

}  // namespace

struct PostgresRegistryStore::Impl {
  PGconn* conn = nullptr;
  std::mutex mutex;
  bool prepared = false;

  // Prepares the write statements once per connection (after the schema
  // exists: PostgreSQL checks the tables when preparing).
  Status PrepareWrites() {
    if (prepared) return Status::Ok();
    for (const Prepared& statement : WriteStatements()) {
      PgResult result(postgres::Pq().PQprepare(conn, statement.name, statement.sql.c_str(), 0, nullptr));
      if (result.status() != PGRES_COMMAND_OK) return Error(fmt::format("prepare {}", statement.name), result.get());
    }
    prepared = true;
    return Status::Ok();
  }

  ~Impl() { postgres::Pq().PQfinish(conn); }

  Status Error(std::string_view what, const PGresult* result = nullptr) const {
    std::string message = fmt::format("registry database (PostgreSQL): {}: {}", what,
                                      result != nullptr ? postgres::Pq().PQresultErrorMessage(result) : postgres::Pq().PQerrorMessage(conn));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (postgres::Pq().PQstatus(conn) != CONNECTION_OK) return Unavailable(std::move(message));
    // SQLSTATE class 08 (connection), 40 (serialization / deadlock), 53 (resources), 57 (operator): retry later.
    const char* state = result != nullptr ? postgres::Pq().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (state != nullptr && (std::string_view(state).starts_with("08") || std::string_view(state).starts_with("40") ||
                             std::string_view(state).starts_with("53") || std::string_view(state).starts_with("57"))) {
      return Unavailable(std::move(message));
    }
    return Internal(std::move(message));
  }

  // Runs `sql` with `params`; the result must have `expected` status.
  Result<std::unique_ptr<PgResult>> Run(const std::string& sql, const Params& params, std::string_view what,
                                        ExecStatusType expected = PGRES_TUPLES_OK) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
    auto result = std::make_unique<PgResult>(postgres::Pq().PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                          values.data(), nullptr, nullptr, 0));
    if (result->get() == nullptr || result->status() != expected) return Fail(Error(what, result->get()));
    return result;
  }

  Status Exec(const std::string& sql, std::string_view what) {
    PgResult result(postgres::Pq().PQexec(conn, sql.c_str()));
    ExecStatusType status = result.status();
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Error(what, result.get());
    return Status::Ok();
  }

  Result<int> Version() {
    RP_ASSIGN_OR_RETURN(auto exists, Run("SELECT to_regclass('schema_migrations') IS NOT NULL", {}, "read the schema version"));
    if (exists->Text(0, 0) != "t") return 0;
    RP_ASSIGN_OR_RETURN(auto version, Run("SELECT coalesce(max(version), 0) FROM schema_migrations", {}, "read the schema version"));
    return static_cast<int>(version->Int(0, 0));
  }

  Result<std::optional<bool>> StoredSynthetic() {
    RP_ASSIGN_OR_RETURN(auto read, Run("SELECT value FROM meta WHERE name = 'synthetic'", {}, "read meta"));
    if (read->rows() == 0) return std::optional<bool>();
    return std::optional<bool>(read->Text(0, 0) == "1");
  }

  Status Audit(const WriteContext& context, std::string_view action, std::string_view type, const std::string& entity) {
    auto result = Run("INSERT INTO audit(recorded, actor, action, entity_type, entity, outcome) VALUES ($1,$2,$3,$4,$5,'success')",
                      {context.recorded, context.actor, std::string(action), std::string(type), AuditEntityOf(entity)},
                      "write the audit trail", PGRES_COMMAND_OK);
    return result ? Status::Ok() : result.error();
  }

  // Queues the inserts of facts rows and worklist candidates.
  static Status SendFacts(Pipeline& pipeline, const std::vector<FactsRow>& rows, const std::vector<DueRow>& due) {
    for (const FactsRow& row : rows) {
      // bytea in text form: \x and hex digits.
      std::string data = HexBytea(row.data);
      RP_RETURN_IF_ERROR(pipeline.Send("rp_insert_facts",
                                       {row.option_id.c_str(), row.episode_key.c_str(), row.patient.c_str(),
                                        row.synthetic ? "1" : "0", row.groups.c_str(), data.c_str()},
                                       nullptr));
    }
    // One due_episodes row per run of an episode's candidates (as
    // DueCandidates() gives them), then its windows (due_windows.h), in the
    // range of ids of the id that row drew (kInsertDueWindowPostgres).
    return ForEachDueEpisode(due, [&](const DueRow& keys, const std::vector<DueWindow>& windows) -> Status {
      RP_RETURN_IF_ERROR(pipeline.Send("rp_insert_due_episode",
                                       {keys.patient.c_str(), keys.episode_key.c_str(), keys.option_id.c_str(),
                                        keys.procedure.c_str()},
                                       nullptr));
      for (size_t index = 0; index < windows.size(); ++index) {
        const DueWindow& window = windows[index];
        std::string ordinal = std::to_string(index);
        std::string last = std::to_string(window.window_last);
        std::string window_first = std::to_string(window.window_first);
        RP_RETURN_IF_ERROR(pipeline.Send("rp_insert_due_window",
                                         {ordinal.c_str(), last.c_str(), window_first.c_str(),
                                          window.any_unseen ? "1" : "0", window.candidates.c_str()},
                                         nullptr));
      }
      return Status::Ok();
    });
  }

  Result<WriteSummary> WriteLocked(const WriteBatch& batch, const WriteContext& context) {
    RP_ASSIGN_OR_RETURN(int version, Version());
    if (version < static_cast<int>(RegistryMigrations().size())) {
      return Fail(Unavailable(fmt::format("the PostgreSQL registry is at schema version {}, not {}: run `regenpath "
                                          "registry migrate`",
                                          version, RegistryMigrations().size())));
    }
    RP_ASSIGN_OR_RETURN(std::optional<bool> synthetic, StoredSynthetic());
    if (synthetic && *synthetic != batch.synthetic) {
      return Fail(InvalidArgument(fmt::format("the PostgreSQL registry holds {} data: {} data is never mixed with it",
                                              *synthetic ? "synthetic (demo)" : "real", batch.synthetic ? "synthetic" : "real")));
    }
    RP_RETURN_IF_ERROR(PrepareWrites());
    WriteSummary summary;
    AuditEntities audit;
    std::vector<AuditEntry> audit_rows;
    // Counts a row's upsert and adds its key to the audit rows.
    auto count = [&](const char* type, const std::string& key) {
      return [&summary, &audit, &audit_rows, type, &key](const PGresult* result) -> Status {
        if (postgres::Pq().PQntuples(result) != 1) return Internal("registry database (PostgreSQL): an upsert answered no row");
        bool created = std::string_view(postgres::Pq().PQgetvalue(result, 0, 0)) == "t";
        ++(created ? summary.created : summary.updated);
        if (auto full = audit.Add(created ? "create" : "update", type, key)) audit_rows.push_back(std::move(*full));
        return Status::Ok();
      };
    };
    std::string synthetic_flag = batch.synthetic ? "1" : "0";
    std::vector<std::string> created_patients;
    RP_RETURN_IF_ERROR(Exec("BEGIN", "begin"));
    // Whether this write may store the facts of the patients it creates
    // (WriteContext::facts; as the SQLite store).
    bool facts_here = false;
    Status status;
    if (context.facts) {
      auto stored = Run(sql::kReadFingerprint, {}, "read the facts fingerprint");
      if (!stored) {
        status = stored.error();
      } else if (stored.value()->rows() > 0) {
        facts_here = stored.value()->Text(0, 0) == context.facts->fingerprint;
      } else {
        status = Exec(sql::kMarkAllStale, "mark every patient's facts stale");
        if (status.ok()) {
          auto written = Run(sql::ForDialect(sql::kWriteFingerprint, SqlDialect::kPostgres), {context.facts->fingerprint},
                             "write the facts fingerprint", PGRES_COMMAND_OK);
          if (!written) status = written.error();
        }
        facts_here = true;
      }
    }
    if (status.ok()) {
      Pipeline pipeline(conn);
      if (!pipeline.entered()) return Fail(Error("enter pipeline mode"));
      auto body = [&]() -> Status {
        RP_RETURN_IF_ERROR(pipeline.Send("rp_insert_meta", {synthetic_flag.c_str()}, nullptr));
        for (const auto& [pseudonym, is_synthetic] : batch.patients) {
          RP_RETURN_IF_ERROR(pipeline.Send("rp_insert_patient", {pseudonym.c_str(), is_synthetic ? "1" : "0"},
                                           [&created_patients, &pseudonym](const PGresult* result) {
                                             if (postgres::Pq().PQntuples(result) == 1) created_patients.push_back(pseudonym);
                                             return Status::Ok();
                                           }));
        }
        for (const Episode& e : batch.episodes) {
          RP_RETURN_IF_ERROR(pipeline.Send(
              "rp_upsert_episode",
              {e.key.c_str(), e.patient.c_str(), e.option_id.c_str(), e.therapy.c_str(), e.target.c_str(),
               e.condition.c_str(), e.side.c_str(), e.start_date.c_str(), e.assessment_stage.c_str(),
               e.option_status.c_str(), e.kb_version.c_str(), e.feedback.c_str(), e.override_reason.c_str(),
               e.synthetic ? "1" : "0"},
              count("Episode", e.key)));
        }
        for (const ProcedureRecord& p : batch.procedures) {
          std::optional<std::string> volume = Param(p.volume_ml), platelets = Param(p.platelet_concentration),
                                     cells = Param(p.bmc_nucleated_cells), dextrose = Param(p.dextrose_percent);
          std::string series = std::to_string(p.series_number);
          auto c = [](const std::optional<std::string>& value) { return value ? value->c_str() : nullptr; };
          RP_RETURN_IF_ERROR(pipeline.Send(
              "rp_upsert_procedure",
              {p.key.c_str(), p.episode_key.c_str(), p.patient.c_str(), p.date.c_str(), p.kind.c_str(),
               p.image_guidance.c_str(), p.prp_leukocytes.c_str(), c(volume), c(platelets), c(cells), c(dextrose),
               series.c_str()},
              count("Procedure", p.key)));
        }
        for (const OutcomeRecord& o : batch.outcomes) {
          std::string value = *Param(std::optional<double>(o.value));
          RP_RETURN_IF_ERROR(pipeline.Send("rp_upsert_outcome",
                                           {o.key.c_str(), o.patient.c_str(), o.instrument.c_str(), o.date.c_str(),
                                            value.c_str()},
                                           count("Outcome", o.key)));
        }
        for (const AdverseEventRecord& a : batch.adverse_events) {
          RP_RETURN_IF_ERROR(pipeline.Send(
              "rp_upsert_adverse_event",
              {a.key.c_str(), a.patient.c_str(), a.episode_key.c_str(), AdverseEventCategoryCode(a.category),
               a.serious ? "1" : "0", a.onset.c_str(), a.resolved.c_str(), a.relatedness.c_str()},
              count("AdverseEvent", a.key)));
        }
        return Status::Ok();
      };
      status = body();
      Status finished = pipeline.Finish();
      if (status.ok()) status = finished;
    }
    if (status.ok()) {
      // The facts of the patients created here, from the batch (every row
      // new, no row of theirs before); every other patient touched goes stale.
      std::vector<std::string> fresh;
      if (facts_here && summary.updated == 0) fresh = std::move(created_patients);
      std::sort(fresh.begin(), fresh.end());
      Pipeline pipeline(conn);
      if (!pipeline.entered()) return Fail(Error("enter pipeline mode"));
      auto body = [&]() -> Status {
        for (const std::string& patient : TouchedPatients(batch)) {
          if (std::binary_search(fresh.begin(), fresh.end(), patient)) continue;
          RP_RETURN_IF_ERROR(pipeline.Send("rp_mark_stale", {patient.c_str()}, nullptr));
        }
        if (fresh.empty()) return Status::Ok();
        BatchRows by_patient(batch);
        constexpr size_t kChunk = 500;
        std::vector<FactsRow> rows;
        std::vector<DueRow> due;
        for (size_t begin = 0; begin < fresh.size(); begin += kChunk) {
          std::vector<std::string> chunk(fresh.begin() + static_cast<std::ptrdiff_t>(begin),
                                         fresh.begin() + static_cast<std::ptrdiff_t>(std::min(fresh.size(), begin + kChunk)));
          rows.clear();
          due.clear();
          context.facts->compute(by_patient.Of(chunk), rows, due);
          RP_RETURN_IF_ERROR(SendFacts(pipeline, rows, due));  // libpq copies the parameters
        }
        return Status::Ok();
      };
      status = body();
      Status finished = pipeline.Finish();
      if (status.ok()) status = finished;
    }
    if (status.ok()) {
      // The audit rows (the upserts' answers are all read): in the same transaction.
      for (AuditEntry& entry : audit.Flush()) audit_rows.push_back(std::move(entry));
      for (const AuditEntry& entry : audit_rows) {
        auto inserted = Run(sql::ForDialect(sql::kInsertAuditEntities, SqlDialect::kPostgres),
                            {context.recorded, context.actor, entry.action, entry.entity_type, entry.entity,
                             std::to_string(entry.entity_count), std::string("success")},
                            "write the audit trail", PGRES_COMMAND_OK);
        if (!inserted) {
          status = inserted.error();
          break;
        }
      }
    }
    if (!status.ok()) {
      Exec("ROLLBACK", "rollback");
      return Fail(status);
    }
    RP_RETURN_IF_ERROR(Exec("COMMIT", "commit"));
    AnalyzeAfterBulkWrite(RowCount(batch), "patients, episodes, procedures, outcomes, adverse_events, episode_facts, "
                                       "stale_patients, due_episodes, due_windows");
    return summary;
  }

  // After a write of at least kAnalyzeFrom rows: fresh planner statistics
  // for the registry's tables, as a bulk load needs. Without them the
  // worklist's page (a LIMIT over the window-end index, joined to the
  // episodes) was planned on the empty tables' estimates as a bitmap scan
  // and sort of every window after the cursor: 300 ms instead of 1 ms at
  // 100,000 episodes until autovacuum's analyze came (bench/README.md, run
  // J). `tables`: those the write changed (a facts refresh: the derived
  // ones; `rows` its facts rows, one per episode). Best effort: the write is
  // committed whatever ANALYZE answers, and a failure only leaves the
  // statistics autovacuum keeps.
  static constexpr size_t kAnalyzeFrom = 10000;
  void AnalyzeAfterBulkWrite(size_t rows, const char* tables) {
    if (rows < kAnalyzeFrom) return;
    PgResult result(postgres::Pq().PQexec(conn, fmt::format("ANALYZE {}", tables).c_str()));
  }
};

PostgresRegistryStore::PostgresRegistryStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresRegistryStore::~PostgresRegistryStore() = default;

Result<std::unique_ptr<PostgresRegistryStore>> PostgresRegistryStore::Open(const std::string& conninfo) {
  RP_RETURN_IF_ERROR(postgres::LoadLibPq());
  auto impl = std::make_unique<Impl>();
  impl->conn = postgres::Pq().PQconnectdb(conninfo.c_str());
  if (impl->conn == nullptr || postgres::Pq().PQstatus(impl->conn) != CONNECTION_OK) {
    std::string message = impl->conn ? postgres::Pq().PQerrorMessage(impl->conn) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Fail(Unavailable(fmt::format("cannot connect to the PostgreSQL registry: {}", message)));
  }
  PgResult setting(postgres::Pq().PQexec(impl->conn, "SHOW synchronous_commit"));
  if (setting.status() != PGRES_TUPLES_OK || setting.Text(0, 0) == "off") {
    return Fail(InvalidArgument("the PostgreSQL registry needs synchronous_commit on (acknowledged writes must be durable)"));
  }
  PgResult quiet(postgres::Pq().PQexec(impl->conn, "SET client_min_messages = warning"));
  return std::unique_ptr<PostgresRegistryStore>(new PostgresRegistryStore(std::move(impl)));
}

Result<int> PostgresRegistryStore::Migrate(const WriteContext& context) {
  std::lock_guard lock(impl_->mutex);
  RP_RETURN_IF_ERROR(impl_->Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                                 "description TEXT NOT NULL, applied_at TEXT NOT NULL)",
                                 "create schema_migrations"));
  RP_ASSIGN_OR_RETURN(int version, impl_->Version());
  for (const Migration& migration : RegistryMigrations()) {
    if (migration.version <= version) continue;
    RP_RETURN_IF_ERROR(impl_->Exec("BEGIN", "begin"));
    Status status = impl_->Exec(MigrationSql(migration, SqlDialect::kPostgres), fmt::format("migration {}", migration.version));
    if (status.ok()) {
      auto recorded = impl_->Run("INSERT INTO schema_migrations(version, description, applied_at) VALUES ($1,$2,$3)",
                                 {std::to_string(migration.version), std::string(migration.description), context.recorded},
                                 "record the migration", PGRES_COMMAND_OK);
      if (!recorded) status = recorded.error();
    }
    if (status.ok()) status = impl_->Audit(context, "migrate", "Schema", std::to_string(migration.version));
    if (!status.ok()) {
      impl_->Exec("ROLLBACK", "rollback");
      return Fail(status);
    }
    RP_RETURN_IF_ERROR(impl_->Exec("COMMIT", "commit"));
    version = migration.version;
  }
  return version;
}

Result<int> PostgresRegistryStore::SchemaVersion() {
  std::lock_guard lock(impl_->mutex);
  return impl_->Version();
}

Result<WriteSummary> PostgresRegistryStore::Write(const WriteBatch& batch, const WriteContext& context) {
  std::lock_guard lock(impl_->mutex);
  return impl_->WriteLocked(batch, context);
}

Result<std::optional<ProcedureRecord>> PostgresRegistryStore::FindProcedure(const std::string& key) {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run(fmt::format("SELECT {} FROM procedures WHERE key = $1", sql::kProcedureColumns),
                                              {key}, "read procedures"));
  if (result->rows() == 0) return std::optional<ProcedureRecord>();
  return std::optional<ProcedureRecord>(ReadProcedure(*result, 0));
}

Result<std::vector<Episode>> PostgresRegistryStore::EpisodesOfPatient(const std::string& patient) {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run(fmt::format("SELECT {} FROM episodes WHERE patient = $1 ORDER BY start_date, key",
                                                          sql::kEpisodeColumns),
                                              {patient}, "read episodes"));
  std::vector<Episode> episodes;
  for (int row = 0; row < result->rows(); ++row) episodes.push_back(ReadEpisode(*result, row));
  return episodes;
}

Result<Cohort> PostgresRegistryStore::LoadCohort(const std::string& option_id) {
  std::lock_guard lock(impl_->mutex);
  Cohort cohort;
  Params params;
  std::string filter = "TRUE";
  std::string in_cohort = "TRUE";
  if (!option_id.empty()) {
    params.push_back(option_id);
    filter = "option_id = $1";
    in_cohort = "patient IN (SELECT patient FROM episodes WHERE option_id = $1)";
  }
  // One snapshot for the four reads. COLLATE "C": the same order as SQLite.
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin"));
  auto body = [&]() -> Status {
    auto episodes = impl_->Run(fmt::format("SELECT {} FROM episodes WHERE {} ORDER BY key COLLATE \"C\"", sql::kEpisodeColumns, filter),
                               params, "read episodes");
    if (!episodes) return episodes.error();
    for (int row = 0; row < (*episodes)->rows(); ++row) cohort.episodes.push_back(ReadEpisode(**episodes, row));
    auto procedures = impl_->Run(fmt::format("SELECT {} FROM procedures WHERE episode_key IN (SELECT key FROM episodes WHERE {}) "
                                             "ORDER BY episode_key COLLATE \"C\", date COLLATE \"C\", key COLLATE \"C\"",
                                             sql::kProcedureColumns, filter),
                                 params, "read procedures");
    if (!procedures) return procedures.error();
    for (int row = 0; row < (*procedures)->rows(); ++row) cohort.procedures.push_back(ReadProcedure(**procedures, row));
    auto outcomes = impl_->Run(fmt::format("SELECT key, patient, instrument, date, value FROM outcomes WHERE {} ORDER BY "
                                           "patient COLLATE \"C\", instrument COLLATE \"C\", date COLLATE \"C\", key COLLATE \"C\"",
                                           in_cohort),
                               params, "read outcomes");
    if (!outcomes) return outcomes.error();
    const PgResult& o = **outcomes;
    cohort.outcomes.reserve(o.rows());
    for (int row = 0; row < o.rows(); ++row) {
      cohort.outcomes.push_back(OutcomeRecord{o.Text(row, 0), o.Text(row, 1), o.Text(row, 2), o.Text(row, 3), o.Double(row, 4)});
    }
    auto events = impl_->Run(fmt::format("SELECT key, patient, episode_key, category, serious, onset, resolved, relatedness "
                                         "FROM adverse_events WHERE {} ORDER BY patient COLLATE \"C\", onset COLLATE \"C\", key COLLATE \"C\"",
                                         in_cohort),
                             params, "read adverse events");
    if (!events) return events.error();
    const PgResult& a = **events;
    for (int row = 0; row < a.rows(); ++row) {
      AdverseEventRecord event;
      event.key = a.Text(row, 0);
      event.patient = a.Text(row, 1);
      event.episode_key = a.Text(row, 2);
      event.category = ParseAdverseEventCategory(a.Text(row, 3)).value_or(AdverseEventCategory::kOther);
      event.serious = a.Int(row, 4) != 0;
      event.onset = a.Text(row, 5);
      event.resolved = a.Text(row, 6);
      event.relatedness = a.Text(row, 7);
      cohort.adverse_events.push_back(std::move(event));
    }
    return Status::Ok();
  };
  Status status = body();
  impl_->Exec(status.ok() ? "COMMIT" : "ROLLBACK", "end the read");
  if (!status.ok()) return Fail(status);
  return cohort;
}

Result<std::optional<bool>> PostgresRegistryStore::Synthetic() {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(int version, impl_->Version());
  if (version == 0) return std::optional<bool>();
  return impl_->StoredSynthetic();
}

Result<std::vector<AuditRow>> PostgresRegistryStore::Audit(int limit) {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run("SELECT id, recorded, actor, action, entity_type, entity, outcome, entity_count FROM audit "
                                              "ORDER BY id DESC LIMIT $1",
                                              {std::to_string(limit)}, "read the audit trail"));
  std::vector<AuditRow> rows;
  for (int row = 0; row < result->rows(); ++row) {
    rows.push_back(AuditRow{result->Int(row, 0), result->Text(row, 1), result->Text(row, 2), result->Text(row, 3),
                            result->Text(row, 4), result->Text(row, 5), result->Text(row, 6), result->Int(row, 7)});
  }
  return rows;
}

Result<std::vector<StalePatient>> PostgresRegistryStore::StalePatients(const std::string& fingerprint, int limit) {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(auto stored, impl_->Run(sql::kReadFingerprint, {}, "read the facts fingerprint"));
  if (stored->rows() == 0 || stored->Text(0, 0) != fingerprint) {
    RP_RETURN_IF_ERROR(impl_->Exec("BEGIN", "begin"));
    Status status = impl_->Exec(sql::kMarkAllStale, "mark every patient's facts stale");
    if (status.ok()) {
      auto written = impl_->Run(sql::ForDialect(sql::kWriteFingerprint, SqlDialect::kPostgres), {fingerprint},
                                "write the facts fingerprint", PGRES_COMMAND_OK);
      if (!written) status = written.error();
    }
    if (!status.ok()) {
      impl_->Exec("ROLLBACK", "rollback");
      return Fail(status);
    }
    RP_RETURN_IF_ERROR(impl_->Exec("COMMIT", "commit"));
  }
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run(sql::ForDialect(sql::kStalePatients, SqlDialect::kPostgres),
                                              {std::to_string(limit)}, "read stale patients"));
  std::vector<StalePatient> stale;
  stale.reserve(result->rows());
  for (int row = 0; row < result->rows(); ++row) stale.push_back(StalePatient{result->Text(row, 0), result->Int(row, 1)});
  return stale;
}

Result<Cohort> PostgresRegistryStore::LoadPatients(const std::vector<std::string>& patients) {
  std::lock_guard lock(impl_->mutex);
  Cohort cohort;
  if (patients.empty()) return cohort;
  Params params(patients.begin(), patients.end());
  int count = static_cast<int>(patients.size());
  auto query = [&](const char* statement, const char* columns, std::string_view what) {
    return impl_->Run(sql::ForDialect(sql::WithColumnsAndIn(statement, columns, count), SqlDialect::kPostgres), params,
                      what);
  };
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin"));
  auto body = [&]() -> Status {
    RP_ASSIGN_OR_RETURN(auto episodes, query(sql::kPatientsEpisodes, sql::kEpisodeColumns, "read episodes"));
    for (int row = 0; row < episodes->rows(); ++row) cohort.episodes.push_back(ReadEpisode(*episodes, row));
    RP_ASSIGN_OR_RETURN(auto procedures, query(sql::kPatientsProcedures, sql::kProcedureColumns, "read procedures"));
    for (int row = 0; row < procedures->rows(); ++row) cohort.procedures.push_back(ReadProcedure(*procedures, row));
    RP_ASSIGN_OR_RETURN(auto outcomes, query(sql::kPatientsOutcomes, sql::kOutcomeColumns, "read outcomes"));
    const PgResult& o = *outcomes;
    cohort.outcomes.reserve(o.rows());
    for (int row = 0; row < o.rows(); ++row) {
      cohort.outcomes.push_back(OutcomeRecord{o.Text(row, 0), o.Text(row, 1), o.Text(row, 2), o.Text(row, 3), o.Double(row, 4)});
    }
    RP_ASSIGN_OR_RETURN(auto events, query(sql::kPatientsAdverseEvents, sql::kAdverseEventColumns, "read adverse events"));
    const PgResult& a = *events;
    for (int row = 0; row < a.rows(); ++row) {
      AdverseEventRecord event;
      event.key = a.Text(row, 0);
      event.patient = a.Text(row, 1);
      event.episode_key = a.Text(row, 2);
      event.category = ParseAdverseEventCategory(a.Text(row, 3)).value_or(AdverseEventCategory::kOther);
      event.serious = a.Int(row, 4) != 0;
      event.onset = a.Text(row, 5);
      event.resolved = a.Text(row, 6);
      event.relatedness = a.Text(row, 7);
      cohort.adverse_events.push_back(std::move(event));
    }
    return Status::Ok();
  };
  Status status = body();
  impl_->Exec(status.ok() ? "COMMIT" : "ROLLBACK", "end the read");
  if (!status.ok()) return Fail(status);
  return cohort;
}

Status PostgresRegistryStore::ReplaceFacts(const std::vector<StalePatient>& stale, const std::vector<FactsRow>& rows,
                                           const std::vector<DueRow>& due) {
  std::lock_guard lock(impl_->mutex);
  if (stale.empty()) return Status::Ok();
  RP_RETURN_IF_ERROR(impl_->PrepareWrites());
  Params patients;
  for (const StalePatient& patient : stale) patients.push_back(patient.patient);
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN", "begin"));
  Status status = Status::Ok();
  for (const sql::PatientsDelete& derived : sql::kDeletePatientsDerived) {
    auto removed = impl_->Run(
        sql::ForDialect(sql::WithColumnsAndIn(derived.sql, "", static_cast<int>(stale.size())), SqlDialect::kPostgres),
        patients, derived.what, PGRES_COMMAND_OK);
    if (!removed) {
      status = removed.error();
      break;
    }
  }
  if (status.ok()) {
    Pipeline pipeline(impl_->conn);
    if (!pipeline.entered()) {
      status = impl_->Error("enter pipeline mode");
    } else {
      status = Impl::SendFacts(pipeline, rows, due);
      std::vector<std::string> versions;
      versions.reserve(stale.size());
      for (const StalePatient& patient : stale) versions.push_back(std::to_string(patient.version));
      for (size_t index = 0; status.ok() && index < stale.size(); ++index) {
        status = pipeline.Send("rp_clear_stale", {stale[index].patient.c_str(), versions[index].c_str()}, nullptr);
      }
      Status finished = pipeline.Finish();
      if (status.ok()) status = finished;
    }
  }
  if (!status.ok()) {
    impl_->Exec("ROLLBACK", "rollback");
    return status;
  }
  RP_RETURN_IF_ERROR(impl_->Exec("COMMIT", "commit"));
  impl_->AnalyzeAfterBulkWrite(rows.size(), "episode_facts, due_episodes, due_windows, stale_patients");
  return Status::Ok();
}

Result<std::vector<DueRow>> PostgresRegistryStore::LoadDue(const DueQuery& query) {
  std::lock_guard lock(impl_->mutex);
  return LoadDueFromWindows(query, [this](int today, int last_bound, const std::optional<DueWindowStart>& start,
                                          int limit) -> Result<std::vector<StoredDueWindow>> {
    Params params{std::to_string(last_bound), std::to_string(today), std::to_string(today)};
    if (start) {
      params.push_back(std::to_string(start->window_last));
      params.push_back(std::to_string(start->window_last));
      params.push_back(start->episode_key);
      params.push_back(start->option_id);
    }
    if (limit > 0) params.push_back(std::to_string(limit));
    RP_ASSIGN_OR_RETURN(
        auto result,
        impl_->Run(sql::ForDialect(sql::LoadDueWindowsStatement(start.has_value(), start && start->inclusive, limit > 0),
                                   SqlDialect::kPostgres),
                   params, "read the worklist"));
    std::vector<StoredDueWindow> windows;
    int count = postgres::Pq().PQntuples(result->get());
    windows.reserve(count);
    for (int row = 0; row < count; ++row) {
      windows.push_back(StoredDueWindow{std::stoi(result->Text(row, 0)), result->Text(row, 1), result->Text(row, 2),
                                        result->Text(row, 3), result->Text(row, 4), result->Text(row, 5)});
    }
    return windows;
  });
}

Result<std::vector<FactsRow>> PostgresRegistryStore::LoadFacts(const std::string& option_id) {
  std::lock_guard lock(impl_->mutex);
  // Binary results: the data column arrives as raw bytes, texts as they are,
  // synthetic as a 4-byte big-endian integer.
  std::string query = fmt::format("SELECT option_id, episode_key, patient, synthetic, groups, data FROM episode_facts{}",
                                  option_id.empty() ? "" : " WHERE option_id = $1");
  const char* values[] = {option_id.c_str()};
  PgResult result(postgres::Pq().PQexecParams(impl_->conn, query.c_str(), option_id.empty() ? 0 : 1, nullptr, values, nullptr, nullptr, 1));
  if (result.get() == nullptr || result.status() != PGRES_TUPLES_OK) return Fail(impl_->Error("read the report facts", result.get()));
  PGresult* r = result.get();
  auto bytes = [r](int row, int column) {
    return std::string(postgres::Pq().PQgetvalue(r, row, column), static_cast<size_t>(postgres::Pq().PQgetlength(r, row, column)));
  };
  std::vector<FactsRow> rows;
  int count = postgres::Pq().PQntuples(r);
  rows.reserve(count);
  for (int row = 0; row < count; ++row) {
    const auto* flag = reinterpret_cast<const unsigned char*>(postgres::Pq().PQgetvalue(r, row, 3));
    bool synthetic = postgres::Pq().PQgetlength(r, row, 3) == 4 && (flag[0] | flag[1] | flag[2] | flag[3]) != 0;
    rows.push_back(FactsRow{bytes(row, 0), bytes(row, 1), bytes(row, 2), synthetic, bytes(row, 4), bytes(row, 5)});
  }
  return rows;
}

Status PostgresRegistryStore::ForEachFacts(const std::string& option_id,
                                           const std::function<Status(const FactsRowView&)>& visit) {
  std::lock_guard lock(impl_->mutex);
  // Binary results as in LoadFacts(), seen in libpq's result buffer without
  // copying. No ORDER BY: the heap is not in key order, so PostgreSQL would
  // sort 100,000 rows of ~400 bytes on disk (work_mem) or walk the primary
  // key over random heap pages (each 3-8x the sequential scan, measured at
  // 100,000 episodes); and the database's collation may order text
  // otherwise than bytes, which the contract (and SQLite) use. The rows'
  // numbers are sorted here by their bytes instead.
  std::string query = fmt::format("SELECT option_id, episode_key, patient, synthetic, groups, data FROM episode_facts{}",
                                  option_id.empty() ? "" : " WHERE option_id = $1");
  const char* values[] = {option_id.c_str()};
  PgResult result(postgres::Pq().PQexecParams(impl_->conn, query.c_str(), option_id.empty() ? 0 : 1, nullptr, values,
                                              nullptr, nullptr, 1));
  if (result.get() == nullptr || result.status() != PGRES_TUPLES_OK) {
    return impl_->Error("read the report facts", result.get());
  }
  PGresult* r = result.get();
  const auto& pq = postgres::Pq();
  auto view = [&](int row, int column) {
    return std::string_view(pq.PQgetvalue(r, row, column), static_cast<size_t>(pq.PQgetlength(r, row, column)));
  };
  int count = pq.PQntuples(r);
  // The rows by option (few), then each option's rows by episode key. The
  // heap is mostly in patient order (the refresh writes patients in order),
  // and an episode key begins with its patient, so an option's rows usually
  // arrive sorted already: each is checked, and sorted only if not.
  struct Key {
    std::string_view episode_key;
    int row;
  };
  struct Option {
    std::string_view option_id;
    std::vector<Key> rows;
  };
  std::vector<Option> options;
  Option* last = nullptr;
  for (int row = 0; row < count; ++row) {
    std::string_view option = view(row, 0);
    if (last == nullptr || last->option_id != option) {
      auto found = std::find_if(options.begin(), options.end(), [&](const Option& o) { return o.option_id == option; });
      if (found == options.end()) {
        options.push_back(Option{option, {}});
        found = options.end() - 1;
      }
      last = &*found;
    }
    last->rows.push_back(Key{view(row, 1), row});
  }
  std::sort(options.begin(), options.end(), [](const Option& a, const Option& b) { return a.option_id < b.option_id; });
  auto by_key = [](const Key& a, const Key& b) { return a.episode_key < b.episode_key; };
  FactsRowView facts;
  for (Option& option : options) {
    // (option_id, episode_key) is the primary key: no ties.
    if (!std::is_sorted(option.rows.begin(), option.rows.end(), by_key)) {
      std::sort(option.rows.begin(), option.rows.end(), by_key);
    }
    for (const Key& key : option.rows) {
      int row = key.row;
      const auto* flag = reinterpret_cast<const unsigned char*>(pq.PQgetvalue(r, row, 3));
      facts.option_id = option.option_id;
      facts.episode_key = key.episode_key;
      facts.patient = view(row, 2);
      facts.synthetic = pq.PQgetlength(r, row, 3) == 4 && (flag[0] | flag[1] | flag[2] | flag[3]) != 0;
      facts.groups = view(row, 4);
      facts.data = view(row, 5);
      RP_RETURN_IF_ERROR(visit(facts));
    }
  }
  return Status::Ok();
}

namespace {

uint16_t BigEndian16(const char* bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes);
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}
uint32_t BigEndian32(const char* bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes);
  return (static_cast<uint32_t>(b[0]) << 24) | (static_cast<uint32_t>(b[1]) << 16) | (static_cast<uint32_t>(b[2]) << 8) | b[3];
}

// Reads the rows of a binary COPY (the PostgreSQL documentation, "COPY",
// "Binary Format") from the CopyData messages of the server, each row as
// views of its fields into the message. The server sends one row per
// message; the file header comes before the first row, the trailer (a field
// count of -1) last.
class BinaryCopyRows {
 public:
  explicit BinaryCopyRows(int fields) : fields_(fields), values_(fields) {}

  // Calls `row` with the fields of each row of `message` (a NULL field is
  // an empty view). false when the message is not binary COPY data of
  // `fields` columns.
  template <typename Row>
  bool Read(std::string_view message, Row&& row, Status& status) {
    size_t at = 0;
    if (!header_read_) {
      static constexpr char kSignature[] = "PGCOPY\n\377\r\n\0";
      if (message.size() < 19 || std::memcmp(message.data(), kSignature, 11) != 0) return false;
      size_t extension = BigEndian32(message.data() + 15);
      at = 19 + extension;
      if (at > message.size()) return false;
      header_read_ = true;
    }
    while (at < message.size()) {
      if (at + 2 > message.size()) return false;
      auto count = static_cast<int16_t>(BigEndian16(message.data() + at));
      at += 2;
      if (count == -1) {
        ended_ = true;
        return at == message.size();
      }
      if (count != fields_) return false;
      for (int field = 0; field < fields_; ++field) {
        if (at + 4 > message.size()) return false;
        auto length = static_cast<int32_t>(BigEndian32(message.data() + at));
        at += 4;
        if (length < 0) {
          values_[field] = std::string_view();
          continue;
        }
        if (at + static_cast<size_t>(length) > message.size()) return false;
        values_[field] = message.substr(at, static_cast<size_t>(length));
        at += static_cast<size_t>(length);
      }
      status = row(values_);
      if (!status.ok()) return true;
    }
    return true;
  }
  bool ended() const { return ended_; }

 private:
  int fields_;
  std::vector<std::string_view> values_;
  bool header_read_ = false;
  bool ended_ = false;
};

}  // namespace

Status PostgresRegistryStore::ScanFacts(const std::string& option_id, const FactsScan& scan,
                                        const std::function<Status(const FactsRowView&)>& visit) {
  if (scan.ordered) return ForEachFacts(option_id, visit);
  std::lock_guard lock(impl_->mutex);
  const auto& pq = postgres::Pq();
  PGconn* conn = impl_->conn;
  // COPY (SELECT ...) TO STDOUT in binary: the server sends each row as one
  // message while it scans, and each is handed over as it arrives (decoding
  // and counting overlap the scan); no 40 MB PGresult is built, nor ordered
  // (the caller takes any order). Without the groups column when the
  // caller does not need it. COPY takes no parameters: the option id is
  // quoted by libpq (PQescapeLiteral), the one literal spliced into SQL here.
  std::string where;
  if (!option_id.empty()) {
    char* literal = pq.PQescapeLiteral(conn, option_id.c_str(), option_id.size());
    if (literal == nullptr) return impl_->Error("read the report facts (quote the option)");
    where = std::string(" WHERE option_id = ") + literal;
    pq.PQfreemem(literal);
  }
  std::string query =
      fmt::format("COPY (SELECT option_id, episode_key, patient, synthetic, {}data FROM episode_facts{}) TO STDOUT "
                  "(FORMAT binary)",
                  scan.groups ? "groups, " : "", where);
  {
    PgResult started(pq.PQexec(conn, query.c_str()));
    if (started.get() == nullptr || started.status() != PGRES_COPY_OUT) {
      return impl_->Error("read the report facts", started.get());
    }
  }
  const int fields = scan.groups ? 6 : 5;
  BinaryCopyRows rows(fields);
  FactsRowView facts;
  facts.has_groups = scan.groups;
  auto on_row = [&](const std::vector<std::string_view>& values) -> Status {
    std::string_view flag = values[3];
    facts.option_id = values[0];
    facts.episode_key = values[1];
    facts.patient = values[2];
    facts.synthetic = flag.size() == 4 && (flag[0] | flag[1] | flag[2] | flag[3]) != 0;
    facts.groups = scan.groups ? values[4] : std::string_view();
    facts.data = values[fields - 1];
    return visit(facts);
  };
  Status status;
  bool cancelled = false;
  char* buffer = nullptr;
  int size;
  // Every message is read to the end of the COPY, also after an error, so
  // the connection is ready for the next statement.
  while ((size = pq.PQgetCopyData(conn, &buffer, 0)) > 0) {
    std::unique_ptr<char, void (*)(void*)> owned(buffer, pq.PQfreemem);
    if (!status.ok()) continue;  // draining after an error
    if (!rows.Read(std::string_view(buffer, static_cast<size_t>(size)), on_row, status)) {
      status = Internal("registry database (PostgreSQL): read the report facts: malformed COPY data");
    }
    if (!status.ok() && !cancelled) {
      // Ask the server to stop sending; what is under way is drained.
      cancelled = true;
      if (PGcancel* cancel = pq.PQgetCancel(conn)) {
        char error[256];
        pq.PQcancel(cancel, error, sizeof error);
        pq.PQfreeCancel(cancel);
      }
    }
  }
  if (size == -2 && status.ok()) status = impl_->Error("read the report facts");
  // The COPY's own result (its error if it failed mid-way: cancelled, the
  // connection lost), then nullptr.
  while (PGresult* raw = pq.PQgetResult(conn)) {
    PgResult result(raw);
    if (result.status() != PGRES_COMMAND_OK && status.ok()) status = impl_->Error("read the report facts", raw);
  }
  if (status.ok() && !rows.ended()) {
    status = impl_->Error("read the report facts (the COPY ended early)");
  }
  if (status.ok() && pq.PQstatus(conn) != CONNECTION_OK) status = impl_->Error("read the report facts");
  return status;
}

}  // namespace regenpath::registry
