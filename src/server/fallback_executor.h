// FallbackExecutor: where service calls that must read the EHR's FHIR server
// (the prefetch fallback) run, so that a FHIR server that accepts and never
// answers holds one of these threads, never a request thread of the HTTP
// server: /healthz and calls with full prefetch keep their latency while
// fetches hang (issue 13). Admission is capped in total and per issuer; a
// call beyond a cap is not queued (the caller answers 503 with Retry-After).
#ifndef REGENPATH_SERVER_FALLBACK_EXECUTOR_H_
#define REGENPATH_SERVER_FALLBACK_EXECUTOR_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace regenpath::server {

class FallbackExecutor {
 public:
  // `max_in_flight` threads (at least 1), at most `max_per_issuer` tasks of
  // one issuer at a time.
  FallbackExecutor(size_t max_in_flight, size_t max_per_issuer);
  // Runs the tasks already admitted to completion, then joins the threads.
  ~FallbackExecutor();
  FallbackExecutor(const FallbackExecutor&) = delete;
  FallbackExecutor& operator=(const FallbackExecutor&) = delete;

  // Runs `task` on a thread of the executor if both caps allow one more for
  // `issuer`; returns false (and drops `task`) otherwise. Thread-safe.
  bool TrySubmit(const std::string& issuer, std::function<void()> task);

  // Tasks admitted and not yet finished.
  size_t in_flight() const;

 private:
  void Run();

  const size_t max_in_flight_;
  const size_t max_per_issuer_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<std::string, std::function<void()>>> queue_;
  std::map<std::string, size_t> per_issuer_;
  size_t in_flight_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_FALLBACK_EXECUTOR_H_
