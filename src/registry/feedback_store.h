// FeedbackStore: durable storage of CDS Hooks feedback in an embedded SQLite
// database file (the start of the outcomes registry).
//
// Record() returns only after the transaction holding the items is committed
// (WAL journal, synchronous=FULL), so acknowledging the HTTP request after it
// returns is safe. Thread-safe: calls are serialized internally.
#ifndef REGENPATH_REGISTRY_FEEDBACK_STORE_H_
#define REGENPATH_REGISTRY_FEEDBACK_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "cdshooks/feedback.h"
#include "common/status.h"

namespace regenpath::registry {

class FeedbackStore {
 public:
  // Opens (creating if needed) the database at `path` and its schema.
  // Fails with a clear message naming the path.
  static Result<std::unique_ptr<FeedbackStore>> Open(const std::string& path);
  ~FeedbackStore();

  // Stores every item in one transaction, with the time it was received
  // (`received_at`, an instant). All or nothing.
  Status Record(const std::vector<cdshooks::Feedback>& items, const std::string& received_at);

  // Number of stored feedback items (for tests and metrics).
  Result<int64_t> Count() const;

 private:
  struct Impl;
  explicit FeedbackStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_FEEDBACK_STORE_H_
