// SqliteRegistryStore: the registry in an embedded SQLite database file (the
// default, under the server's data_dir). WAL journal, synchronous=FULL: a
// Write() that returned is on disk and survives a crash of the process.
// Contracts: registry_store.h.
#ifndef REGENPATH_REGISTRY_SQLITE_REGISTRY_STORE_H_
#define REGENPATH_REGISTRY_SQLITE_REGISTRY_STORE_H_

#include <array>
#include <memory>
#include <string>

#include "registry/registry_store.h"

namespace regenpath::registry {

class SqliteRegistryStore final : public RegistryStore {
 public:
  // What every connection runs first, in order: pages of 16 KiB in a new
  // file (an existing one keeps its size; must precede WAL), WAL +
  // synchronous=FULL (a committed transaction is fsynced before COMMIT
  // returns, so an acknowledged write survives kill -9 and power loss), a
  // 64 MB page cache, foreign keys. bench/registry_bench's bare insert runs
  // the same settings, so that the ratio it reports compares work, not
  // configuration.
  static constexpr std::array<const char*, 5> kConnectionPragmas = {
      "PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA cache_size=-65536",
      "PRAGMA foreign_keys=ON"};

  // Opens (creating if needed) the database file at `path`; does not migrate
  // (call Migrate()). kUnavailable naming the path when it cannot be opened.
  static Result<std::unique_ptr<SqliteRegistryStore>> Open(const std::string& path);
  ~SqliteRegistryStore() override;

  Result<int> Migrate(const WriteContext& context) override;
  Result<int> SchemaVersion() override;
  Result<WriteSummary> Write(const WriteBatch& batch, const WriteContext& context) override;
  Result<std::optional<ProcedureRecord>> FindProcedure(const std::string& key) override;
  Result<std::vector<Episode>> EpisodesOfPatient(const std::string& patient) override;
  Result<Cohort> LoadCohort(const std::string& option_id) override;
  Result<std::optional<bool>> Synthetic() override;
  Result<std::vector<AuditRow>> Audit(int limit) override;
  Result<std::vector<StalePatient>> StalePatients(const std::string& fingerprint, int limit) override;
  Result<Cohort> LoadPatients(const std::vector<std::string>& patients) override;
  Status ReplaceFacts(const std::vector<StalePatient>& stale, const std::vector<FactsRow>& rows,
                      const std::vector<DueRow>& due) override;
  Result<std::vector<DueRow>> LoadDue(const DueQuery& query) override;
  Result<std::vector<FactsRow>> LoadFacts(const std::string& option_id) override;
  Status ForEachFacts(const std::string& option_id, const std::function<Status(const FactsRowView&)>& visit) override;

 private:
  struct Impl;
  explicit SqliteRegistryStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_SQLITE_REGISTRY_STORE_H_
