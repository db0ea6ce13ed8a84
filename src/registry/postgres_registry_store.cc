// libpq behind RegistryStore. One connection serialized by a mutex; every
// statement uses text parameters ($1, $2, ...), never string splicing.
#include "registry/postgres_registry_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <mutex>

#include "registry/registry_schema.h"

namespace regenpath::registry {

namespace {

// A query result, cleared on destruction.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult() { PQclear(result_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return result_; }
  ExecStatusType status() const { return PQresultStatus(result_); }
  int rows() const { return PQntuples(result_); }
  std::string Text(int row, int column) const { return PQgetvalue(result_, row, column); }
  bool Null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
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

std::optional<std::string> Param(int64_t value) { return std::to_string(value); }
std::optional<std::string> Param(const std::optional<double>& value) {
  if (!value) return std::nullopt;
  return fmt::format("{}", *value);
}

constexpr const char* kEpisodeColumns =
    "key, patient, option_id, therapy, target, condition, side, start_date, assessment_stage, option_status, "
    "kb_version, feedback, override_reason, synthetic";
constexpr const char* kProcedureColumns =
    "key, episode_key, patient, date, kind, image_guidance, prp_leukocytes, volume_ml, platelet_concentration, "
    "bmc_nucleated_cells, dextrose_percent, series_number";

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

}  // namespace

struct PostgresRegistryStore::Impl {
  PGconn* conn = nullptr;
  std::mutex mutex;

  ~Impl() { PQfinish(conn); }

  Status Error(std::string_view what, const PGresult* result = nullptr) const {
    std::string message = fmt::format("registry database (PostgreSQL): {}: {}", what,
                                      result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (PQstatus(conn) != CONNECTION_OK) return Unavailable(std::move(message));
    // SQLSTATE class 08 (connection), 40 (serialization / deadlock), 53 (resources), 57 (operator): retry later.
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
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
    auto result = std::make_unique<PgResult>(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                          values.data(), nullptr, nullptr, 0));
    if (result->get() == nullptr || result->status() != expected) return Fail(Error(what, result->get()));
    return result;
  }

  Status Exec(const std::string& sql, std::string_view what) {
    PgResult result(PQexec(conn, sql.c_str()));
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
                      {context.recorded, context.actor, std::string(action), std::string(type), entity},
                      "write the audit trail", PGRES_COMMAND_OK);
    return result ? Status::Ok() : result.error();
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
    WriteSummary summary;
    // RETURNING (xmax = 0): true for a row inserted, false for one updated.
    auto upsert = [&](const std::string& sql, const Params& params, std::string_view type, const std::string& key) -> Status {
      auto result = Run(sql + " RETURNING (xmax = 0)", params, fmt::format("write a {}", type));
      if (!result) return result.error();
      bool created = (*result)->Text(0, 0) == "t";
      ++(created ? summary.created : summary.updated);
      return Audit(context, created ? "create" : "update", type, key);
    };
    RP_RETURN_IF_ERROR(Exec("BEGIN", "begin"));
    auto body = [&]() -> Status {
      auto meta = Run("INSERT INTO meta(name, value) VALUES ('synthetic', $1) ON CONFLICT(name) DO NOTHING",
                      {std::string(batch.synthetic ? "1" : "0")}, "write meta", PGRES_COMMAND_OK);
      if (!meta) return meta.error();
      for (const auto& [pseudonym, is_synthetic] : batch.patients) {
        auto patient = Run("INSERT INTO patients(pseudonym, synthetic) VALUES ($1, $2) ON CONFLICT(pseudonym) DO NOTHING",
                           {pseudonym, Param(int64_t{is_synthetic ? 1 : 0})}, "write a patient", PGRES_COMMAND_OK);
        if (!patient) return patient.error();
      }
      for (const Episode& e : batch.episodes) {
        RP_RETURN_IF_ERROR(upsert(R"sql(INSERT INTO episodes(key, patient, option_id, therapy, target, condition, side,
            start_date, assessment_stage, option_status, kb_version, feedback, override_reason, synthetic)
            VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT(key) DO UPDATE SET
            condition = CASE WHEN excluded.condition <> '' THEN excluded.condition ELSE episodes.condition END,
            start_date = LEAST(episodes.start_date, excluded.start_date),
            assessment_stage = CASE WHEN excluded.assessment_stage <> '' THEN excluded.assessment_stage ELSE episodes.assessment_stage END,
            option_status = CASE WHEN excluded.option_status <> '' THEN excluded.option_status ELSE episodes.option_status END,
            kb_version = CASE WHEN excluded.kb_version <> '' THEN excluded.kb_version ELSE episodes.kb_version END,
            feedback = CASE WHEN excluded.feedback <> '' THEN excluded.feedback ELSE episodes.feedback END,
            override_reason = CASE WHEN excluded.override_reason <> '' THEN excluded.override_reason ELSE episodes.override_reason END)sql",
                                  {e.key, e.patient, e.option_id, e.therapy, e.target, e.condition, e.side, e.start_date,
                                   e.assessment_stage, e.option_status, e.kb_version, e.feedback, e.override_reason,
                                   Param(int64_t{e.synthetic ? 1 : 0})},
                                  "Episode", e.key));
      }
      for (const ProcedureRecord& p : batch.procedures) {
        RP_RETURN_IF_ERROR(upsert(R"sql(INSERT INTO procedures(key, episode_key, patient, date, kind, image_guidance,
            prp_leukocytes, volume_ml, platelet_concentration, bmc_nucleated_cells, dextrose_percent, series_number)
            VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT(key) DO UPDATE SET episode_key = excluded.episode_key,
            date = excluded.date, kind = excluded.kind, image_guidance = excluded.image_guidance,
            prp_leukocytes = excluded.prp_leukocytes, volume_ml = excluded.volume_ml,
            platelet_concentration = excluded.platelet_concentration, bmc_nucleated_cells = excluded.bmc_nucleated_cells,
            dextrose_percent = excluded.dextrose_percent, series_number = excluded.series_number)sql",
                                  {p.key, p.episode_key, p.patient, p.date, p.kind, p.image_guidance, p.prp_leukocytes,
                                   Param(p.volume_ml), Param(p.platelet_concentration), Param(p.bmc_nucleated_cells),
                                   Param(p.dextrose_percent), Param(int64_t{p.series_number})},
                                  "Procedure", p.key));
      }
      for (const OutcomeRecord& o : batch.outcomes) {
        RP_RETURN_IF_ERROR(upsert(R"sql(INSERT INTO outcomes(key, patient, instrument, date, value) VALUES ($1,$2,$3,$4,$5)
            ON CONFLICT(key) DO UPDATE SET instrument = excluded.instrument, date = excluded.date, value = excluded.value)sql",
                                  {o.key, o.patient, o.instrument, o.date, Param(std::optional<double>(o.value))}, "Outcome",
                                  o.key));
      }
      for (const AdverseEventRecord& a : batch.adverse_events) {
        RP_RETURN_IF_ERROR(upsert(R"sql(INSERT INTO adverse_events(key, patient, episode_key, category, serious, onset,
            resolved, relatedness) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT(key) DO UPDATE SET
            episode_key = excluded.episode_key, category = excluded.category, serious = excluded.serious,
            onset = excluded.onset, resolved = excluded.resolved, relatedness = excluded.relatedness)sql",
                                  {a.key, a.patient, a.episode_key, std::string(AdverseEventCategoryCode(a.category)),
                                   Param(int64_t{a.serious ? 1 : 0}), a.onset, a.resolved, a.relatedness},
                                  "AdverseEvent", a.key));
      }
      return Status::Ok();
    };
    Status status = body();
    if (!status.ok()) {
      Exec("ROLLBACK", "rollback");
      return Fail(status);
    }
    RP_RETURN_IF_ERROR(Exec("COMMIT", "commit"));
    return summary;
  }
};

PostgresRegistryStore::PostgresRegistryStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresRegistryStore::~PostgresRegistryStore() = default;

Result<std::unique_ptr<PostgresRegistryStore>> PostgresRegistryStore::Open(const std::string& conninfo) {
  auto impl = std::make_unique<Impl>();
  impl->conn = PQconnectdb(conninfo.c_str());
  if (impl->conn == nullptr || PQstatus(impl->conn) != CONNECTION_OK) {
    std::string message = impl->conn ? PQerrorMessage(impl->conn) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Fail(Unavailable(fmt::format("cannot connect to the PostgreSQL registry: {}", message)));
  }
  PgResult setting(PQexec(impl->conn, "SHOW synchronous_commit"));
  if (setting.status() != PGRES_TUPLES_OK || setting.Text(0, 0) == "off") {
    return Fail(InvalidArgument("the PostgreSQL registry needs synchronous_commit on (acknowledged writes must be durable)"));
  }
  PgResult quiet(PQexec(impl->conn, "SET client_min_messages = warning"));
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
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run(fmt::format("SELECT {} FROM procedures WHERE key = $1", kProcedureColumns),
                                              {key}, "read procedures"));
  if (result->rows() == 0) return std::optional<ProcedureRecord>();
  return std::optional<ProcedureRecord>(ReadProcedure(*result, 0));
}

Result<std::vector<Episode>> PostgresRegistryStore::EpisodesOfPatient(const std::string& patient) {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run(fmt::format("SELECT {} FROM episodes WHERE patient = $1 ORDER BY start_date, key",
                                                          kEpisodeColumns),
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
    auto episodes = impl_->Run(fmt::format("SELECT {} FROM episodes WHERE {} ORDER BY key COLLATE \"C\"", kEpisodeColumns, filter),
                               params, "read episodes");
    if (!episodes) return episodes.error();
    for (int row = 0; row < (*episodes)->rows(); ++row) cohort.episodes.push_back(ReadEpisode(**episodes, row));
    auto procedures = impl_->Run(fmt::format("SELECT {} FROM procedures WHERE episode_key IN (SELECT key FROM episodes WHERE {}) "
                                             "ORDER BY episode_key COLLATE \"C\", date COLLATE \"C\", key COLLATE \"C\"",
                                             kProcedureColumns, filter),
                                 params, "read procedures");
    if (!procedures) return procedures.error();
    for (int row = 0; row < (*procedures)->rows(); ++row) cohort.procedures.push_back(ReadProcedure(**procedures, row));
    auto outcomes = impl_->Run(fmt::format("SELECT key, patient, instrument, date, value FROM outcomes WHERE {} ORDER BY "
                                           "patient COLLATE \"C\", instrument COLLATE \"C\", date COLLATE \"C\"",
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
  RP_ASSIGN_OR_RETURN(auto result, impl_->Run("SELECT id, recorded, actor, action, entity_type, entity, outcome FROM audit "
                                              "ORDER BY id DESC LIMIT $1",
                                              {std::to_string(limit)}, "read the audit trail"));
  std::vector<AuditRow> rows;
  for (int row = 0; row < result->rows(); ++row) {
    rows.push_back(AuditRow{result->Int(row, 0), result->Text(row, 1), result->Text(row, 2), result->Text(row, 3),
                            result->Text(row, 4), result->Text(row, 5), result->Text(row, 6)});
  }
  return rows;
}

}  // namespace regenpath::registry
