// PostgresRegistryStore: the registry in a PostgreSQL server (libpq), for a
// clinic that runs one. Same contracts as every store (registry_store.h);
// durability is the server's: COMMIT returns after the WAL is flushed with
// the default synchronous_commit = on, which Open() checks.
#ifndef REGENPATH_REGISTRY_POSTGRES_REGISTRY_STORE_H_
#define REGENPATH_REGISTRY_POSTGRES_REGISTRY_STORE_H_

#include <memory>
#include <string>

#include "registry/registry_store.h"

namespace regenpath::registry {

class PostgresRegistryStore final : public RegistryStore {
 public:
  // Connects with a libpq connection string ("host=/run/pg dbname=registry"
  // or "postgresql://..."); does not migrate. kUnavailable when the server
  // cannot be reached (the message never includes a password), kInvalidArgument
  // when synchronous_commit is off.
  static Result<std::unique_ptr<PostgresRegistryStore>> Open(const std::string& conninfo);
  ~PostgresRegistryStore() override;

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
  // Unordered: the rows are streamed (COPY ... TO STDOUT in binary) and
  // each is handed over as it arrives, while the server is still scanning;
  // nothing is held. A failure mid-stream (the connection lost, the query cancelled
  // or failed) is returned as kUnavailable / kInternal after the rows
  // already handed over; a visitor's error cancels the query, and the
  // connection stays usable either way.
  Status ScanFacts(const std::string& option_id, const FactsScan& scan,
                   const std::function<Status(const FactsRowView&)>& visit) override;

 private:
  struct Impl;
  explicit PostgresRegistryStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_POSTGRES_REGISTRY_STORE_H_
