// The rows of a WriteBatch grouped by patient, for computing report facts
// from a batch instead of re-reading the store (WriteContext::facts): for
// patients that had no row before the batch, and a batch whose rows are all
// new, the rows a store holds after the write are exactly these.
#ifndef REGENPATH_REGISTRY_BATCH_ROWS_H_
#define REGENPATH_REGISTRY_BATCH_ROWS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/registry_records.h"

namespace regenpath::registry {

class BatchRows {
 public:
  // Keeps a reference: `batch` must outlive this.
  explicit BatchRows(const WriteBatch& batch);

  // The rows of `patients` as RegistryStore::LoadPatients() gives them from
  // a store holding exactly the batch's rows: their episodes (by key), the
  // procedures of those episodes (by episode key, date, key), their outcomes
  // (by patient, instrument, date, key) and adverse events (by patient,
  // onset, key). Keys are compared as bytes (the stores' order).
  Cohort Of(const std::vector<std::string>& patients) const;

 private:
  using Index = std::unordered_map<std::string_view, std::vector<uint32_t>>;
  const WriteBatch& batch_;
  Index episodes_;    // by patient
  Index procedures_;  // by episode key
  Index outcomes_;    // by patient
  Index events_;      // by patient
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_BATCH_ROWS_H_
