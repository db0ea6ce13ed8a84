// SQLite behind RegistryStore. One connection serialized by a mutex: SQLite
// has a single writer anyway, and reports read whole cohorts at once.
#include "registry/sqlite_registry_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <mutex>

#include "registry/audit_entities.h"
#include "registry/batch_rows.h"
#include "registry/due_windows.h"
#include "registry/registry_schema.h"
#include "registry/registry_sql.h"

namespace regenpath::registry {

namespace {

// A prepared statement with positional binding (1-based) and typed reads.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    prepared_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return prepared_ == SQLITE_OK; }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_ = 1;
  }
  Statement& Bind(const std::string& text) {
    sqlite3_bind_text(stmt_, next_++, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // `text` must stay unchanged until the statement is stepped and reset
  // (a row of the batch being written): bound without a copy.
  Statement& BindRef(const std::string& text) {
    sqlite3_bind_text(stmt_, next_++, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& Bind(int64_t value) {
    sqlite3_bind_int64(stmt_, next_++, value);
    return *this;
  }
  Statement& Bind(const std::optional<double>& value) {
    if (value) {
      sqlite3_bind_double(stmt_, next_++, *value);
    } else {
      sqlite3_bind_null(stmt_, next_++);
    }
    return *this;
  }
  Statement& BindBlob(const std::string& bytes) {
    sqlite3_bind_blob(stmt_, next_++, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), static_cast<size_t>(size));
  }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  // The column's bytes in SQLite's own buffer: valid until the next Step().
  std::string_view View(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(data), static_cast<size_t>(size));
  }
  std::optional<double> OptionalDouble(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt_, column);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int prepared_ = SQLITE_ERROR;
  int next_ = 1;
};

Status ErrorOf(sqlite3* db, int code, std::string_view what) {
  std::string message = fmt::format("registry database: {}: {}", what, sqlite3_errmsg(db));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CANTOPEN || code == SQLITE_IOERR ||
      code == SQLITE_FULL) {
    return Unavailable(std::move(message));
  }
  return Internal(std::move(message));
}

Episode ReadEpisode(const Statement& row) {
  Episode episode;
  episode.key = row.Text(0);
  episode.patient = row.Text(1);
  episode.option_id = row.Text(2);
  episode.therapy = row.Text(3);
  episode.target = row.Text(4);
  episode.condition = row.Text(5);
  episode.side = row.Text(6);
  episode.start_date = row.Text(7);
  episode.assessment_stage = row.Text(8);
  episode.option_status = row.Text(9);
  episode.kb_version = row.Text(10);
  episode.feedback = row.Text(11);
  episode.override_reason = row.Text(12);
  episode.synthetic = row.Int(13) != 0;
  return episode;
}

ProcedureRecord ReadProcedure(const Statement& row) {
  ProcedureRecord procedure;
  procedure.key = row.Text(0);
  procedure.episode_key = row.Text(1);
  procedure.patient = row.Text(2);
  procedure.date = row.Text(3);
  procedure.kind = row.Text(4);
  procedure.image_guidance = row.Text(5);
  procedure.prp_leukocytes = row.Text(6);
  procedure.volume_ml = row.OptionalDouble(7);
  procedure.platelet_concentration = row.OptionalDouble(8);
  procedure.bmc_nucleated_cells = row.OptionalDouble(9);
  procedure.dextrose_percent = row.OptionalDouble(10);
  procedure.series_number = static_cast<int>(row.Int(11));
  return procedure;
}

// The plain INSERT of an upsert statement: "... ON CONFLICT(key) DO NOTHING".
std::string InsertOnly(const char* upsert) {
  std::string sql(upsert);
  sql.resize(sql.find("ON CONFLICT(key)"));
  return sql + "ON CONFLICT(key) DO NOTHING";
}

// Row positions of `rows` in ascending byte order of their keys; rows with
// equal keys keep their batch order (the later one is the update). Sorted
// on the 16 bytes after the keys' common prefix first (a batch's keys share
// a long one, "Observation|<system>|"), as two big-endian integers whose
// order is the bytes' order, so the rows themselves are read only for
// ties, not at every comparison (at 1.4 M rows, each one a cache miss).
template <typename Row>
std::vector<uint32_t> KeyOrder(const std::vector<Row>& rows) {
  std::vector<uint32_t> order(rows.size());
  for (uint32_t index = 0; index < order.size(); ++index) order[index] = index;
  auto by_key = [&](uint32_t a, uint32_t b) { return rows[a].key < rows[b].key; };
  if (std::is_sorted(order.begin(), order.end(), by_key)) return order;
  std::string_view first = rows.front().key;
  size_t common = first.size();
  for (const Row& row : rows) {
    std::string_view key = row.key;
    size_t same = 0;
    for (size_t limit = std::min(common, key.size()); same < limit && key[same] == first[same];) ++same;
    common = same;
  }
  struct Entry {
    uint64_t high;
    uint64_t low;
    uint32_t index;
  };
  auto bytes_at = [&](std::string_view key, size_t from) {
    uint64_t value = 0;
    for (size_t at = from; at < from + 8; ++at) {
      value = (value << 8) | (at < key.size() ? static_cast<unsigned char>(key[at]) : 0u);
    }
    return value;
  };
  std::vector<Entry> entries(rows.size());
  for (uint32_t index = 0; index < rows.size(); ++index) {
    std::string_view key = rows[index].key;
    entries[index] = Entry{bytes_at(key, common), bytes_at(key, common + 8), index};
  }
  // A shorter key is padded with zero bytes: equal prefixes are then told
  // apart by the whole keys, so the order is exactly (key, batch position).
  std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
    if (a.high != b.high) return a.high < b.high;
    if (a.low != b.low) return a.low < b.low;
    int compared = std::string_view(rows[a.index].key).compare(rows[b.index].key);
    return compared != 0 ? compared < 0 : a.index < b.index;
  });
  for (size_t at = 0; at < entries.size(); ++at) order[at] = entries[at].index;
  return order;
}

// A write of at least this many rows into a table may defer the table's
// secondary indexes (DeferIndexes()): below, a rebuild saves little, and
// each one changes the schema (other connections prepare their statements
// again).
constexpr int64_t kDeferIndexesFrom = 1000;

}  // namespace

struct SqliteRegistryStore::Impl {
  std::string path;
  sqlite3* db = nullptr;
  std::mutex mutex;

  ~Impl() { sqlite3_close(db); }

  Status Exec(const char* sql, std::string_view what) {
    char* error = nullptr;
    int code = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    sqlite3_free(error);
    if (code != SQLITE_OK) return ErrorOf(db, code, what);
    return Status::Ok();
  }

  // Drops the secondary indexes of `table` (not the primary key's) when
  // `rows` rows are about to be inserted into it and they are at least as
  // many as it holds (`size`, an SQL expression over the table: its largest
  // rowid, kRowsByRowid; count(*) for a table without one; for
  // due_windows the number of episodes its ids span, each episode's
  // windows counting as one, as `rows` counts patients), and at least
  // kDeferIndexesFrom: their SQL is
  // appended to `recreate`, to be run by the same transaction after the
  // inserts. Building an index from the finished table sorts its entries
  // once, where a million inserts into it each descend and split a B-tree
  // at a random place. Within the transaction: a reader sees the indexes
  // and rows of before until the commit, and a rollback restores them.
  static constexpr std::string_view kRowsByRowid = "coalesce(max(rowid), 0)";
  Status DeferIndexes(const char* table, int64_t rows, std::string_view size_sql, std::vector<std::string>& recreate) {
    if (rows < kDeferIndexesFrom) return Status::Ok();
    {
      Statement size(db, fmt::format("SELECT {} FROM {}", size_sql, table).c_str());
      if (!size.ok() || size.Step() != SQLITE_ROW) return ErrorOf(db, SQLITE_ERROR, "read a table's size");
      if (size.Int(0) > rows) return Status::Ok();
    }  // (no statement may be reading while an index is dropped)
    Statement indexes(db, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT "
                          "NULL ORDER BY name");
    if (!indexes.ok()) return ErrorOf(db, SQLITE_ERROR, "read the indexes");
    indexes.Bind(std::string(table));
    std::vector<std::string> names;
    int code;
    while ((code = indexes.Step()) == SQLITE_ROW) {
      names.push_back(indexes.Text(0));
      recreate.push_back(indexes.Text(1));
    }
    if (code != SQLITE_DONE) return ErrorOf(db, code, "read the indexes");
    for (const std::string& name : names) {
      RP_RETURN_IF_ERROR(Exec(fmt::format("DROP INDEX \"{}\"", name).c_str(), "drop an index for a bulk write"));
    }
    return Status::Ok();
  }

  Result<Statement*> Prepare(std::unique_ptr<Statement>& holder, const char* sql) {
    holder = std::make_unique<Statement>(db, sql);
    if (!holder->ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "prepare"));
    return holder.get();
  }

  Result<int> Version() {
    Statement exists(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists.ok() || exists.Step() != SQLITE_ROW) return Fail(ErrorOf(db, SQLITE_ERROR, "read the schema version"));
    if (exists.Int(0) == 0) return 0;
    Statement version(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!version.ok() || version.Step() != SQLITE_ROW) return Fail(ErrorOf(db, SQLITE_ERROR, "read the schema version"));
    return static_cast<int>(version.Int(0));
  }

  Status AddAudit(Statement& insert, const WriteContext& context, std::string_view action, std::string_view type,
                  const std::string& entity) {
    insert.Reset();
    insert.Bind(context.recorded).Bind(context.actor).Bind(std::string(action)).Bind(std::string(type))
        .Bind(AuditEntityOf(entity));
    insert.Bind(std::string("success"));
    int code = insert.Step();
    if (code != SQLITE_DONE) return ErrorOf(db, code, "write the audit trail");
    return Status::Ok();
  }

  Status AddAuditEntry(Statement& insert, const WriteContext& context, const AuditEntry& entry) {
    insert.Reset();
    insert.Bind(context.recorded).Bind(context.actor).Bind(entry.action).Bind(entry.entity_type).Bind(entry.entity)
        .Bind(int64_t{entry.entity_count}).Bind(std::string("success"));
    int code = insert.Step();
    if (code != SQLITE_DONE) return ErrorOf(db, code, "write the audit trail");
    return Status::Ok();
  }

  Result<std::optional<bool>> StoredSynthetic() {
    Statement read(db, "SELECT value FROM meta WHERE name = 'synthetic'");
    if (!read.ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "read meta"));
    int code = read.Step();
    if (code == SQLITE_DONE) return std::optional<bool>();
    if (code != SQLITE_ROW) return Fail(ErrorOf(db, code, "read meta"));
    return std::optional<bool>(read.Text(0) == "1");
  }

  // The statements that store report facts and worklist candidates.
  struct FactsStatements {
    explicit FactsStatements(sqlite3* db)
        : facts(db, sql::kInsertFacts),
          due_episode(db, sql::kInsertDueEpisode),
          due_window(db, sql::kInsertDueWindowSqlite) {}
    bool ok() const { return facts.ok() && due_episode.ok() && due_window.ok(); }
    Statement facts;
    Statement due_episode;
    Statement due_window;
  };

  // Inserts the facts and worklist candidates of `patients` (who have none
  // stored) computed from `batch`, 500 patients at a time.
  Status InsertFactsOf(const WriteBatch& batch, const std::vector<std::string>& patients, const FactsComputer& facts) {
    FactsStatements insert(db);
    if (!insert.ok()) return ErrorOf(db, SQLITE_ERROR, "prepare the facts");
    BatchRows by_patient(batch);
    constexpr size_t kChunk = 500;
    std::vector<FactsRow> rows;
    std::vector<DueRow> due;
    for (size_t begin = 0; begin < patients.size(); begin += kChunk) {
      std::vector<std::string> chunk(patients.begin() + begin,
                                     patients.begin() + std::min(patients.size(), begin + kChunk));
      rows.clear();
      due.clear();
      facts.compute(by_patient.Of(chunk), rows, due);
      RP_RETURN_IF_ERROR(InsertFacts(insert, rows, due));
    }
    return Status::Ok();
  }

  // `due` holds each episode's candidates one after the other (as
  // DueCandidates() gives them): one due_episodes row per run of the same
  // episode, then its windows (due_windows.h) in that row's range of ids.
  Status InsertFacts(FactsStatements& insert, const std::vector<FactsRow>& rows, const std::vector<DueRow>& due) {
    RP_RETURN_IF_ERROR(ForEachDueEpisode(due, [&](const DueRow& keys, const std::vector<DueWindow>& windows) -> Status {
      insert.due_episode.Reset();
      insert.due_episode.BindRef(keys.patient).BindRef(keys.episode_key).BindRef(keys.option_id).BindRef(keys.procedure);
      if (int code = insert.due_episode.Step(); code != SQLITE_DONE) {
        return ErrorOf(db, code, "write worklist candidates");
      }
      int64_t first_id = sqlite3_last_insert_rowid(db) * kDueWindowsPerEpisode;
      for (size_t index = 0; index < windows.size(); ++index) {
        const DueWindow& window = windows[index];
        insert.due_window.Reset();
        insert.due_window.Bind(first_id + static_cast<int64_t>(index)).Bind(int64_t{window.window_last})
            .Bind(int64_t{window.window_first}).Bind(int64_t{window.any_unseen ? 1 : 0}).BindRef(window.candidates);
        if (int code = insert.due_window.Step(); code != SQLITE_DONE) {
          return ErrorOf(db, code, "write worklist candidates");
        }
      }
      return Status::Ok();
    }));
    for (const FactsRow& row : rows) {
      insert.facts.Reset();
      insert.facts.BindRef(row.option_id).BindRef(row.episode_key).BindRef(row.patient)
          .Bind(int64_t{row.synthetic ? 1 : 0}).BindRef(row.groups).BindBlob(row.data);
      if (int code = insert.facts.Step(); code != SQLITE_DONE) return ErrorOf(db, code, "write facts");
    }
    return Status::Ok();
  }

  Result<WriteSummary> WriteLocked(const WriteBatch& batch, const WriteContext& context) {
    RP_ASSIGN_OR_RETURN(int version, Version());
    if (version < static_cast<int>(RegistryMigrations().size())) {
      return Fail(Unavailable(fmt::format("registry database {} is at schema version {}, not {}: run `regenpath "
                                          "registry migrate`",
                                          path, version, RegistryMigrations().size())));
    }
    RP_ASSIGN_OR_RETURN(std::optional<bool> synthetic, StoredSynthetic());
    if (synthetic && *synthetic != batch.synthetic) {
      return Fail(InvalidArgument(fmt::format(
          "registry database {} holds {} data: {} data is never mixed with it", path,
          *synthetic ? "synthetic (demo)" : "real", batch.synthetic ? "synthetic" : "real")));
    }
    Statement insert_meta(db, sql::kInsertMeta);
    Statement insert_patient(db, sql::kInsertPatient);
    const std::string insert_episode_sql = InsertOnly(sql::kUpsertEpisode);
    const std::string insert_procedure_sql = InsertOnly(sql::kUpsertProcedure);
    const std::string insert_outcome_sql = InsertOnly(sql::kUpsertOutcome);
    const std::string insert_event_sql = InsertOnly(sql::kUpsertAdverseEvent);
    Statement insert_episode(db, insert_episode_sql.c_str());
    Statement upsert_episode(db, sql::kUpsertEpisode);
    Statement insert_procedure(db, insert_procedure_sql.c_str());
    Statement upsert_procedure(db, sql::kUpsertProcedure);
    Statement insert_outcome(db, insert_outcome_sql.c_str());
    Statement upsert_outcome(db, sql::kUpsertOutcome);
    Statement insert_event(db, insert_event_sql.c_str());
    Statement upsert_event(db, sql::kUpsertAdverseEvent);
    Statement insert_audit(db, sql::kInsertAuditEntities);
    Statement mark_stale(db, sql::kMarkStale);
    for (const Statement* statement : {&insert_meta, &insert_patient, &insert_episode, &upsert_episode, &insert_procedure,
                                       &upsert_procedure, &insert_outcome, &upsert_outcome, &insert_event, &upsert_event,
                                       &insert_audit, &mark_stale}) {
      if (!statement->ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "prepare the write"));
    }

    WriteSummary summary;
    AuditEntities audit;
    // Writes `rows` in ascending key order (each key B-tree then grows at its
    // right edge, in pages already cached, instead of at a random place):
    // a plain insert, and the upsert only when the key is already stored
    // (then it counts, and is audited, as an update). Counted and audited in
    // the batch's order, as they come.
    auto write_all = [&](const auto& rows, Statement& insert, Statement& upsert, auto&& bind,
                         std::string_view type) -> Status {
      std::vector<char> updated(rows.size());
      for (uint32_t index : KeyOrder(rows)) {
        bind(insert, rows[index]);
        int code = insert.Step();
        if (code != SQLITE_DONE) return ErrorOf(db, code, fmt::format("write a {}", type));
        bool update = sqlite3_changes(db) == 0;
        if (update) {
          bind(upsert, rows[index]);
          code = upsert.Step();
          if (code != SQLITE_DONE) return ErrorOf(db, code, fmt::format("write a {}", type));
        }
        updated[index] = update;
      }
      for (size_t index = 0; index < rows.size(); ++index) {
        bool update = updated[index] != 0;
        ++(update ? summary.updated : summary.created);
        if (auto full = audit.Add(update ? "update" : "create", type, rows[index].key)) {
          RP_RETURN_IF_ERROR(AddAuditEntry(insert_audit, context, *full));
        }
      }
      return Status::Ok();
    };

    RP_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", "begin"));
    auto body = [&]() -> Status {
      // Whether this write may store the facts of the patients it creates
      // (WriteContext::facts): only under the facts' fingerprint. With none
      // recorded yet, records it as StalePatients() would (every patient
      // already stored is marked stale first).
      bool facts_here = false;
      if (context.facts) {
        Statement read(db, sql::kReadFingerprint);
        if (!read.ok()) return ErrorOf(db, SQLITE_ERROR, "read the facts fingerprint");
        int code = read.Step();
        if (code == SQLITE_ROW) {
          facts_here = read.Text(0) == context.facts->fingerprint;
        } else if (code == SQLITE_DONE) {
          RP_RETURN_IF_ERROR(Exec(sql::kMarkAllStale, "mark the report facts stale"));
          Statement record(db, sql::kWriteFingerprint);
          record.Bind(context.facts->fingerprint);
          if (int written = record.Step(); written != SQLITE_DONE) return ErrorOf(db, written, "write meta");
          facts_here = true;
        } else {
          return ErrorOf(db, code, "read the facts fingerprint");
        }
      }
      insert_meta.Bind(std::string(batch.synthetic ? "1" : "0"));
      if (int code = insert_meta.Step(); code != SQLITE_DONE) return ErrorOf(db, code, "write meta");
      std::vector<std::string> created_patients;
      for (const auto& [pseudonym, is_synthetic] : batch.patients) {
        insert_patient.Reset();
        insert_patient.Bind(pseudonym).Bind(int64_t{is_synthetic ? 1 : 0});
        if (int code = insert_patient.Step(); code != SQLITE_DONE) return ErrorOf(db, code, "write a patient");
        if (sqlite3_changes(db) == 1) created_patients.push_back(pseudonym);
      }
      // A bulk write defers the secondary indexes of the tables it fills
      // (DeferIndexes()); they are rebuilt below, before the commit.
      std::vector<std::string> recreate;
      RP_RETURN_IF_ERROR(DeferIndexes("episodes", static_cast<int64_t>(batch.episodes.size()), kRowsByRowid, recreate));
      RP_RETURN_IF_ERROR(DeferIndexes("procedures", static_cast<int64_t>(batch.procedures.size()), kRowsByRowid, recreate));
      RP_RETURN_IF_ERROR(DeferIndexes("outcomes", static_cast<int64_t>(batch.outcomes.size()), kRowsByRowid, recreate));
      RP_RETURN_IF_ERROR(
          DeferIndexes("adverse_events", static_cast<int64_t>(batch.adverse_events.size()), kRowsByRowid, recreate));
      RP_RETURN_IF_ERROR(write_all(
          batch.episodes, insert_episode, upsert_episode,
          [](Statement& statement, const Episode& episode) {
            statement.Reset();
            statement.BindRef(episode.key).BindRef(episode.patient).BindRef(episode.option_id).BindRef(episode.therapy)
                .BindRef(episode.target).BindRef(episode.condition).BindRef(episode.side).BindRef(episode.start_date)
                .BindRef(episode.assessment_stage).BindRef(episode.option_status).BindRef(episode.kb_version)
                .BindRef(episode.feedback).BindRef(episode.override_reason).Bind(int64_t{episode.synthetic ? 1 : 0});
          },
          "Episode"));
      RP_RETURN_IF_ERROR(write_all(
          batch.procedures, insert_procedure, upsert_procedure,
          [](Statement& statement, const ProcedureRecord& procedure) {
            statement.Reset();
            statement.BindRef(procedure.key).BindRef(procedure.episode_key).BindRef(procedure.patient)
                .BindRef(procedure.date).BindRef(procedure.kind).BindRef(procedure.image_guidance)
                .BindRef(procedure.prp_leukocytes)
                .Bind(procedure.volume_ml).Bind(procedure.platelet_concentration).Bind(procedure.bmc_nucleated_cells)
                .Bind(procedure.dextrose_percent).Bind(int64_t{procedure.series_number});
          },
          "Procedure"));
      RP_RETURN_IF_ERROR(write_all(
          batch.outcomes, insert_outcome, upsert_outcome,
          [](Statement& statement, const OutcomeRecord& outcome) {
            statement.Reset();
            statement.BindRef(outcome.key).BindRef(outcome.patient).BindRef(outcome.instrument).BindRef(outcome.date)
                .Bind(std::optional<double>(outcome.value));
          },
          "Outcome"));
      RP_RETURN_IF_ERROR(write_all(
          batch.adverse_events, insert_event, upsert_event,
          [](Statement& statement, const AdverseEventRecord& event) {
            statement.Reset();
            statement.BindRef(event.key).BindRef(event.patient).BindRef(event.episode_key)
                .Bind(std::string(AdverseEventCategoryCode(event.category))).Bind(int64_t{event.serious ? 1 : 0})
                .BindRef(event.onset).BindRef(event.resolved).BindRef(event.relatedness);
          },
          "AdverseEvent"));
      for (const AuditEntry& entry : audit.Flush()) RP_RETURN_IF_ERROR(AddAuditEntry(insert_audit, context, entry));
      // The facts of the patients created here, from the batch: every row
      // of the batch is new and these patients had no row before, so the
      // store now holds exactly their batch rows (BatchRows).
      std::vector<std::string> fresh;
      if (facts_here && summary.updated == 0) fresh = std::move(created_patients);
      std::sort(fresh.begin(), fresh.end());
      // The report facts of every other patient written to are now out of date.
      for (const std::string& patient : TouchedPatients(batch)) {
        if (std::binary_search(fresh.begin(), fresh.end(), patient)) continue;
        mark_stale.Reset();
        mark_stale.Bind(patient);
        if (int code = mark_stale.Step(); code != SQLITE_DONE) return ErrorOf(db, code, "mark the report facts stale");
      }
      if (!fresh.empty()) {
        // At least a facts row and usually several worklist candidates per
        // patient: the number of patients is a low estimate of both.
        int64_t patients = static_cast<int64_t>(fresh.size());
        RP_RETURN_IF_ERROR(DeferIndexes("episode_facts", patients, "count(*)", recreate));
        RP_RETURN_IF_ERROR(DeferIndexes("due_episodes", patients, kRowsByRowid, recreate));
        RP_RETURN_IF_ERROR(DeferIndexes("due_windows", patients,
                                        fmt::format("{} / {}", kRowsByRowid, kDueWindowsPerEpisode), recreate));
        RP_RETURN_IF_ERROR(InsertFactsOf(batch, fresh, *context.facts));
      }
      for (const std::string& index : recreate) RP_RETURN_IF_ERROR(Exec(index.c_str(), "rebuild an index"));
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

SqliteRegistryStore::SqliteRegistryStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteRegistryStore::~SqliteRegistryStore() = default;

Result<std::unique_ptr<SqliteRegistryStore>> SqliteRegistryStore::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // No SQLite mutex: every use of the connection holds Impl::mutex.
  int code = sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
  if (code != SQLITE_OK) {
    return Fail(Unavailable(fmt::format("cannot open the registry database {}: {}", path,
                                        impl->db ? sqlite3_errmsg(impl->db) : "out of memory")));
  }
  sqlite3_busy_timeout(impl->db, 5000);
  // The settings (kConnectionPragmas): the 64 MB page cache because the
  // default 2 MB thrashes on the text-keyed B-trees of a cohort of 100,000
  // episodes; 16 KiB pages because a bulk write then appends and checkpoints
  // a quarter as many WAL frames, each a write call, and the text-keyed
  // B-trees are shallower (bench/README.md, run H).
  for (const char* pragma : kConnectionPragmas) {
    Status status = impl->Exec(pragma, pragma);
    if (!status.ok()) return Fail(Unavailable(fmt::format("{}: {}", path, status.message())));
  }
  return std::unique_ptr<SqliteRegistryStore>(new SqliteRegistryStore(std::move(impl)));
}

Result<int> SqliteRegistryStore::Migrate(const WriteContext& context) {
  std::lock_guard lock(impl_->mutex);
  RP_RETURN_IF_ERROR(impl_->Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
      "applied_at TEXT NOT NULL)",
      "create schema_migrations"));
  RP_ASSIGN_OR_RETURN(int version, impl_->Version());
  for (const Migration& migration : RegistryMigrations()) {
    if (migration.version <= version) continue;
    RP_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE", "begin"));
    Status status = impl_->Exec(MigrationSql(migration, SqlDialect::kSqlite).c_str(),
                                fmt::format("migration {}", migration.version));
    if (status.ok()) {
      Statement record(impl_->db, "INSERT INTO schema_migrations(version, description, applied_at) VALUES (?,?,?)");
      record.Bind(int64_t{migration.version}).Bind(std::string(migration.description)).Bind(context.recorded);
      if (int code = record.Step(); code != SQLITE_DONE) status = ErrorOf(impl_->db, code, "record the migration");
    }
    if (status.ok()) {
      Statement audit(impl_->db, sql::kInsertAudit);
      status = impl_->AddAudit(audit, context, "migrate", "Schema", std::to_string(migration.version));
    }
    if (!status.ok()) {
      impl_->Exec("ROLLBACK", "rollback");
      return Fail(status);
    }
    RP_RETURN_IF_ERROR(impl_->Exec("COMMIT", "commit"));
    version = migration.version;
  }
  return version;
}

Result<int> SqliteRegistryStore::SchemaVersion() {
  std::lock_guard lock(impl_->mutex);
  return impl_->Version();
}

Result<WriteSummary> SqliteRegistryStore::Write(const WriteBatch& batch, const WriteContext& context) {
  std::lock_guard lock(impl_->mutex);
  return impl_->WriteLocked(batch, context);
}

Result<std::optional<ProcedureRecord>> SqliteRegistryStore::FindProcedure(const std::string& key) {
  std::lock_guard lock(impl_->mutex);
  Statement read(impl_->db, fmt::format("SELECT {} FROM procedures WHERE key = ?", sql::kProcedureColumns).c_str());
  if (!read.ok()) return Fail(ErrorOf(impl_->db, SQLITE_ERROR, "read procedures"));
  read.Bind(key);
  int code = read.Step();
  if (code == SQLITE_DONE) return std::optional<ProcedureRecord>();
  if (code != SQLITE_ROW) return Fail(ErrorOf(impl_->db, code, "read procedures"));
  return std::optional<ProcedureRecord>(ReadProcedure(read));
}

Result<std::vector<Episode>> SqliteRegistryStore::EpisodesOfPatient(const std::string& patient) {
  std::lock_guard lock(impl_->mutex);
  Statement read(impl_->db,
                 fmt::format("SELECT {} FROM episodes WHERE patient = ? ORDER BY start_date, key", sql::kEpisodeColumns).c_str());
  if (!read.ok()) return Fail(ErrorOf(impl_->db, SQLITE_ERROR, "read episodes"));
  read.Bind(patient);
  std::vector<Episode> episodes;
  int code;
  while ((code = read.Step()) == SQLITE_ROW) episodes.push_back(ReadEpisode(read));
  if (code != SQLITE_DONE) return Fail(ErrorOf(impl_->db, code, "read episodes"));
  return episodes;
}

Result<Cohort> SqliteRegistryStore::LoadCohort(const std::string& option_id) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  Cohort cohort;
  // One read transaction: the four reads see the same snapshot.
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN", "begin"));
  auto body = [&]() -> Status {
    std::string filter = option_id.empty() ? "1 = 1" : "option_id = ?1";
    std::string in_cohort = option_id.empty() ? "1 = 1" : "patient IN (SELECT patient FROM episodes WHERE option_id = ?1)";
    int code;
    Statement episodes(db, fmt::format("SELECT {} FROM episodes WHERE {} ORDER BY key", sql::kEpisodeColumns, filter).c_str());
    if (!episodes.ok()) return ErrorOf(db, SQLITE_ERROR, "read episodes");
    if (!option_id.empty()) episodes.Bind(option_id);
    while ((code = episodes.Step()) == SQLITE_ROW) cohort.episodes.push_back(ReadEpisode(episodes));
    if (code != SQLITE_DONE) return ErrorOf(db, code, "read episodes");

    Statement procedures(db, fmt::format("SELECT {} FROM procedures WHERE episode_key IN (SELECT key FROM episodes "
                                         "WHERE {}) ORDER BY episode_key, date, key",
                                         sql::kProcedureColumns, filter).c_str());
    if (!procedures.ok()) return ErrorOf(db, SQLITE_ERROR, "read procedures");
    if (!option_id.empty()) procedures.Bind(option_id);
    while ((code = procedures.Step()) == SQLITE_ROW) cohort.procedures.push_back(ReadProcedure(procedures));
    if (code != SQLITE_DONE) return ErrorOf(db, code, "read procedures");

    Statement outcomes(db, fmt::format("SELECT key, patient, instrument, date, value FROM outcomes WHERE {} "
                                       "ORDER BY patient, instrument, date, key", in_cohort).c_str());
    if (!outcomes.ok()) return ErrorOf(db, SQLITE_ERROR, "read outcomes");
    if (!option_id.empty()) outcomes.Bind(option_id);
    while ((code = outcomes.Step()) == SQLITE_ROW) {
      cohort.outcomes.push_back(
          OutcomeRecord{outcomes.Text(0), outcomes.Text(1), outcomes.Text(2), outcomes.Text(3), outcomes.Double(4)});
    }
    if (code != SQLITE_DONE) return ErrorOf(db, code, "read outcomes");

    Statement events(db, fmt::format("SELECT key, patient, episode_key, category, serious, onset, resolved, relatedness "
                                     "FROM adverse_events WHERE {} ORDER BY patient, onset, key", in_cohort).c_str());
    if (!events.ok()) return ErrorOf(db, SQLITE_ERROR, "read adverse events");
    if (!option_id.empty()) events.Bind(option_id);
    while ((code = events.Step()) == SQLITE_ROW) {
      AdverseEventRecord event;
      event.key = events.Text(0);
      event.patient = events.Text(1);
      event.episode_key = events.Text(2);
      event.category = ParseAdverseEventCategory(events.Text(3)).value_or(AdverseEventCategory::kOther);
      event.serious = events.Int(4) != 0;
      event.onset = events.Text(5);
      event.resolved = events.Text(6);
      event.relatedness = events.Text(7);
      cohort.adverse_events.push_back(std::move(event));
    }
    if (code != SQLITE_DONE) return ErrorOf(db, code, "read adverse events");
    return Status::Ok();
  };
  Status status = body();
  impl_->Exec("COMMIT", "end the read");
  if (!status.ok()) return Fail(status);
  return cohort;
}

Result<std::optional<bool>> SqliteRegistryStore::Synthetic() {
  std::lock_guard lock(impl_->mutex);
  RP_ASSIGN_OR_RETURN(int version, impl_->Version());
  if (version == 0) return std::optional<bool>();
  return impl_->StoredSynthetic();
}

Result<std::vector<AuditRow>> SqliteRegistryStore::Audit(int limit) {
  std::lock_guard lock(impl_->mutex);
  Statement read(impl_->db,
                 "SELECT id, recorded, actor, action, entity_type, entity, outcome, entity_count FROM audit ORDER BY id "
                 "DESC LIMIT ?");
  if (!read.ok()) return Fail(ErrorOf(impl_->db, SQLITE_ERROR, "read the audit trail"));
  read.Bind(int64_t{limit});
  std::vector<AuditRow> rows;
  int code;
  while ((code = read.Step()) == SQLITE_ROW) {
    rows.push_back(AuditRow{read.Int(0), read.Text(1), read.Text(2), read.Text(3), read.Text(4), read.Text(5), read.Text(6),
                            read.Int(7)});
  }
  if (code != SQLITE_DONE) return Fail(ErrorOf(impl_->db, code, "read the audit trail"));
  return rows;
}

Result<std::vector<StalePatient>> SqliteRegistryStore::StalePatients(const std::string& fingerprint, int limit) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  {
    Statement read(db, sql::kReadFingerprint);
    if (!read.ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "read the facts fingerprint"));
    int code = read.Step();
    if (code != SQLITE_ROW && code != SQLITE_DONE) return Fail(ErrorOf(db, code, "read the facts fingerprint"));
    if (code == SQLITE_DONE || read.Text(0) != fingerprint) {
      RP_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE", "begin"));
      Status status = impl_->Exec(sql::kMarkAllStale, "mark every patient's facts stale");
      if (status.ok()) {
        Statement write(db, sql::kWriteFingerprint);
        write.Bind(fingerprint);
        if (int written = write.Step(); written != SQLITE_DONE) status = ErrorOf(db, written, "write the facts fingerprint");
      }
      if (!status.ok()) {
        impl_->Exec("ROLLBACK", "rollback");
        return Fail(status);
      }
      RP_RETURN_IF_ERROR(impl_->Exec("COMMIT", "commit"));
    }
  }
  Statement read(db, sql::ForDialect(sql::kStalePatients, SqlDialect::kSqlite).c_str());
  if (!read.ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "read stale patients"));
  read.Bind(int64_t{limit});
  std::vector<StalePatient> stale;
  int code;
  while ((code = read.Step()) == SQLITE_ROW) stale.push_back(StalePatient{read.Text(0), read.Int(1)});
  if (code != SQLITE_DONE) return Fail(ErrorOf(db, code, "read stale patients"));
  return stale;
}

Result<Cohort> SqliteRegistryStore::LoadPatients(const std::vector<std::string>& patients) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  Cohort cohort;
  if (patients.empty()) return cohort;
  int count = static_cast<int>(patients.size());
  auto run = [&](const char* statement, const char* columns, std::string_view what, auto&& read_row) -> Status {
    Statement read(db, sql::ForDialect(sql::WithColumnsAndIn(statement, columns, count), SqlDialect::kSqlite).c_str());
    if (!read.ok()) return ErrorOf(db, SQLITE_ERROR, what);
    for (const std::string& patient : patients) read.Bind(patient);
    int code;
    while ((code = read.Step()) == SQLITE_ROW) read_row(read);
    if (code != SQLITE_DONE) return ErrorOf(db, code, what);
    return Status::Ok();
  };
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN", "begin"));
  auto body = [&]() -> Status {
    RP_RETURN_IF_ERROR(run(sql::kPatientsEpisodes, sql::kEpisodeColumns, "read episodes",
                           [&](const Statement& row) { cohort.episodes.push_back(ReadEpisode(row)); }));
    RP_RETURN_IF_ERROR(run(sql::kPatientsProcedures, sql::kProcedureColumns, "read procedures",
                           [&](const Statement& row) { cohort.procedures.push_back(ReadProcedure(row)); }));
    RP_RETURN_IF_ERROR(run(sql::kPatientsOutcomes, sql::kOutcomeColumns, "read outcomes", [&](const Statement& row) {
      cohort.outcomes.push_back(OutcomeRecord{row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Double(4)});
    }));
    return run(sql::kPatientsAdverseEvents, sql::kAdverseEventColumns, "read adverse events", [&](const Statement& row) {
      AdverseEventRecord event;
      event.key = row.Text(0);
      event.patient = row.Text(1);
      event.episode_key = row.Text(2);
      event.category = ParseAdverseEventCategory(row.Text(3)).value_or(AdverseEventCategory::kOther);
      event.serious = row.Int(4) != 0;
      event.onset = row.Text(5);
      event.resolved = row.Text(6);
      event.relatedness = row.Text(7);
      cohort.adverse_events.push_back(std::move(event));
    });
  };
  Status status = body();
  impl_->Exec("COMMIT", "end the read");
  if (!status.ok()) return Fail(status);
  return cohort;
}

Status SqliteRegistryStore::ReplaceFacts(const std::vector<StalePatient>& stale, const std::vector<FactsRow>& rows,
                                         const std::vector<DueRow>& due) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  if (stale.empty()) return Status::Ok();
  RP_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE", "begin"));
  auto body = [&]() -> Status {
    Impl::FactsStatements insert(db);
    Statement clear(db, sql::kClearStale);
    if (!insert.ok() || !clear.ok()) return ErrorOf(db, SQLITE_ERROR, "prepare the facts");
    for (const sql::PatientsDelete& derived : sql::kDeletePatientsDerived) {
      Statement remove(db, sql::WithColumnsAndIn(derived.sql, "", static_cast<int>(stale.size())).c_str());
      if (!remove.ok()) return ErrorOf(db, SQLITE_ERROR, "prepare the facts");
      for (const StalePatient& patient : stale) remove.Bind(patient.patient);
      if (int code = remove.Step(); code != SQLITE_DONE) return ErrorOf(db, code, derived.what);
    }
    RP_RETURN_IF_ERROR(impl_->InsertFacts(insert, rows, due));
    for (const StalePatient& patient : stale) {
      clear.Reset();
      clear.Bind(patient.patient).Bind(patient.version);
      if (int code = clear.Step(); code != SQLITE_DONE) return ErrorOf(db, code, "clear the stale mark");
    }
    return Status::Ok();
  };
  Status status = body();
  if (!status.ok()) {
    impl_->Exec("ROLLBACK", "rollback");
    return status;
  }
  return impl_->Exec("COMMIT", "commit");
}

Result<std::vector<DueRow>> SqliteRegistryStore::LoadDue(const DueQuery& query) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  return LoadDueFromWindows(query, [db](int today, int last_bound, const std::optional<DueWindowStart>& start,
                                        int limit) -> Result<std::vector<StoredDueWindow>> {
    Statement read(db, sql::LoadDueWindowsStatement(start.has_value(), start && start->inclusive, limit > 0).c_str());
    if (!read.ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "read the worklist"));
    read.Bind(int64_t{last_bound}).Bind(int64_t{today}).Bind(int64_t{today});
    if (start) {
      read.Bind(int64_t{start->window_last}).Bind(int64_t{start->window_last}).Bind(start->episode_key)
          .Bind(start->option_id);
    }
    if (limit > 0) read.Bind(int64_t{limit});
    std::vector<StoredDueWindow> windows;
    int code;
    while ((code = read.Step()) == SQLITE_ROW) {
      windows.push_back(StoredDueWindow{static_cast<int>(read.Int(0)), read.Text(1), read.Text(2), read.Text(3),
                                        read.Text(4), read.Text(5)});
    }
    if (code != SQLITE_DONE) return Fail(ErrorOf(db, code, "read the worklist"));
    return windows;
  });
}

Result<std::vector<FactsRow>> SqliteRegistryStore::LoadFacts(const std::string& option_id) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  // The primary key (option_id, episode_key) clusters the table: no sort.
  Statement read(db, fmt::format("SELECT {} FROM episode_facts{} ORDER BY option_id, episode_key", sql::kFactsColumns,
                                 option_id.empty() ? "" : " WHERE option_id = ?").c_str());
  if (!read.ok()) return Fail(ErrorOf(db, SQLITE_ERROR, "read the report facts"));
  if (!option_id.empty()) read.Bind(option_id);
  std::vector<FactsRow> rows;
  int code;
  while ((code = read.Step()) == SQLITE_ROW) {
    rows.push_back(FactsRow{read.Text(0), read.Text(1), read.Text(2), read.Int(3) != 0, read.Text(4), read.Blob(5)});
  }
  if (code != SQLITE_DONE) return Fail(ErrorOf(db, code, "read the report facts"));
  return rows;
}

Status SqliteRegistryStore::ForEachFacts(const std::string& option_id,
                                         const std::function<Status(const FactsRowView&)>& visit) {
  std::lock_guard lock(impl_->mutex);
  sqlite3* db = impl_->db;
  // The primary key (option_id, episode_key) clusters the table: read in
  // that order, no sort; each row is seen in SQLite's page buffers.
  Statement read(db, fmt::format("SELECT {} FROM episode_facts{} ORDER BY option_id, episode_key", sql::kFactsColumns,
                                 option_id.empty() ? "" : " WHERE option_id = ?").c_str());
  if (!read.ok()) return ErrorOf(db, SQLITE_ERROR, "read the report facts");
  if (!option_id.empty()) read.Bind(option_id);
  FactsRowView row;
  int code;
  while ((code = read.Step()) == SQLITE_ROW) {
    row.option_id = read.View(0);
    row.episode_key = read.View(1);
    row.patient = read.View(2);
    row.synthetic = read.Int(3) != 0;
    row.groups = read.View(4);
    row.data = read.View(5);
    RP_RETURN_IF_ERROR(visit(row));
  }
  if (code != SQLITE_DONE) return ErrorOf(db, code, "read the report facts");
  return Status::Ok();
}

}  // namespace regenpath::registry
