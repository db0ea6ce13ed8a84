// RegistryStore: where the outcomes registry keeps its rows. One interface,
// two implementations (SQLite: sqlite_registry_store.h; PostgreSQL:
// postgres_registry_store.h, libpq loaded at run time) and a fault-injecting fake in the tests.
//
// Contracts shared by every implementation:
// - Write() is all or nothing: every row of the batch, one audit row per
//   row and the stale marks (or the facts, WriteContext::facts) of its
//   patients are committed in one transaction, and Write() returns only after the
//   commit is durable (acknowledging the caller after it returns is safe).
// - Rows are upserted by their key: writing the same batch twice creates no
//   duplicate (the second write counts as updates).
// - A store holds either real or synthetic (demo) data, never both: a batch
//   whose `synthetic` differs from the store's first batch fails with
//   kInvalidArgument and writes nothing.
// - Failures: kUnavailable when the database cannot be reached or is busy
//   (callers may retry), kInternal for anything else the database reports.
// - Thread-safe: implementations serialize calls internally.
#ifndef REGENPATH_REGISTRY_REGISTRY_STORE_H_
#define REGENPATH_REGISTRY_REGISTRY_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/registry_records.h"

namespace regenpath::registry {

// How RegistryStore::ScanFacts() reads the facts: what its caller needs.
struct FactsScan {
  // True: ordered by option, then episode key (as ForEachFacts()). False:
  // in whatever order the database gives them, each row handed over as it
  // arrives (PostgreSQL then neither holds the result nor orders it).
  bool ordered = true;
  // False: the caller does not read the group values; a store may then
  // leave FactsRowView::groups out (has_groups false), which PostgreSQL
  // does (a fifth of the bytes of a row).
  bool groups = true;
};

// How to compute report facts (registry_facts.h, FactsOfNewPatients()):
// `compute` appends the facts rows and worklist candidates of every episode
// of `cohort` (rows in the order LoadPatients() gives) under the knowledge
// base whose FactsFingerprint() is `fingerprint`.
struct FactsComputer {
  std::string fingerprint;
  std::function<void(const Cohort& cohort, std::vector<FactsRow>& rows, std::vector<DueRow>& due)> compute;
};

// Who is writing, and when (an instant, "2026-12-05T17:00:00Z").
struct WriteContext {
  std::string actor;
  std::string recorded;
  // Optional. When set, Write() may store the report facts of the patients
  // it creates in its own transaction, computed from the batch, instead of
  // marking them stale for the next RefreshFacts(): only when every row of
  // the batch is new (no update), and only for patients without a row before
  // the write (so the batch holds all of their rows, and the facts equal
  // those a re-read would give), and only when the store's facts
  // fingerprint is `facts->fingerprint` (or none is recorded yet: it is
  // then recorded, as StalePatients() would). An implementation may ignore
  // it and mark every patient stale.
  std::shared_ptr<const FactsComputer> facts = nullptr;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // Applies every migration not yet applied (versioned; each in its own
  // transaction, recorded in schema_migrations and the audit trail).
  // Returns the schema version reached.
  virtual Result<int> Migrate(const WriteContext& context) = 0;
  // The schema version of the database (0: empty).
  virtual Result<int> SchemaVersion() = 0;

  // Writes `batch` (see the contracts above).
  virtual Result<WriteSummary> Write(const WriteBatch& batch, const WriteContext& context) = 0;

  // The procedure stored under `key`, if any (to check references across
  // imports: an outcome that points to another patient's procedure).
  virtual Result<std::optional<ProcedureRecord>> FindProcedure(const std::string& key) = 0;
  // The patient's episodes (any option), oldest first.
  virtual Result<std::vector<Episode>> EpisodesOfPatient(const std::string& patient) = 0;

  // Every row of the episodes of `option_id` (every option when empty), with
  // the outcomes and adverse events of their patients.
  virtual Result<Cohort> LoadCohort(const std::string& option_id) = 0;

  // Whether the store holds synthetic data (nullopt: empty).
  virtual Result<std::optional<bool>> Synthetic() = 0;

  // The last `limit` audit rows, newest first.
  virtual Result<std::vector<AuditRow>> Audit(int limit) = 0;

  // Report facts (episode_facts.h; kept up to date by registry_facts.h).
  // Write() marks every patient it touches stale in its own transaction, so
  // a crash never leaves facts that look current but are not.
  //
  // Up to `limit` stale patients. When the stored fingerprint differs from
  // `fingerprint` (the knowledge base changed), first marks every patient
  // stale and records `fingerprint`, in one transaction.
  virtual Result<std::vector<StalePatient>> StalePatients(const std::string& fingerprint, int limit) = 0;
  // Every row of `patients` (all their episodes, procedures, outcomes and
  // adverse events), in the order LoadCohort() gives.
  virtual Result<Cohort> LoadPatients(const std::vector<std::string>& patients) = 0;
  // In one transaction: replaces the facts of the episodes of the `stale`
  // patients by `rows` and their worklist candidates by `due` (each
  // episode's candidates together, as DueCandidates() gives them:
  // ForEachDueEpisode()), and clears
  // each patient's stale mark unless a write came in since (its version
  // changed).
  virtual Status ReplaceFacts(const std::vector<StalePatient>& stale, const std::vector<FactsRow>& rows,
                              const std::vector<DueRow>& due) = 0;
  // The stored worklist candidates that answer `query` (registry_records.h),
  // in the worklist's order; read as windows (an episode's candidates
  // ending on one day, due_windows.h) through an index on window_last, the
  // ties of a day sorted by episode_key, option_id, so a page costs its own
  // windows and one day's.
  virtual Result<std::vector<DueRow>> LoadDue(const DueQuery& query) = 0;
  // The stored facts of the episodes of `option_id` (every option when
  // empty), in no particular order.
  virtual Result<std::vector<FactsRow>> LoadFacts(const std::string& option_id) = 0;
  // Calls `visit` with the stored facts of each episode of `option_id`
  // (every option when empty), ordered by option, then episode key, without
  // copying them (the views are valid during the call only); stops at, and
  // returns, the first error of `visit` or of the store. ScanFacts() with
  // an ordered scan reads the facts this way. The default
  // implementation reads LoadFacts() and sorts it; the stores stream their
  // own rows.
  virtual Status ForEachFacts(const std::string& option_id, const std::function<Status(const FactsRowView&)>& visit);
  // ForEachFacts() as `scan` asks: in no particular order when
  // !scan.ordered, perhaps without the group values when !scan.groups (see
  // FactsScan). Stops at, and returns, the first error of `visit` or of the
  // store: a store that fails mid-way (a lost connection) returns its error
  // after the rows already handed over, so the caller must drop what it
  // built from them. ForEachEpisodeFacts() reads this way; reports ask for
  // no order (LoadCohortReport). The default implementation is
  // ForEachFacts().
  virtual Status ScanFacts(const std::string& option_id, const FactsScan& scan,
                           const std::function<Status(const FactsRowView&)>& visit);
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_STORE_H_
