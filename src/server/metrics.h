// Metrics: the service's counters, rendered in the Prometheus text exposition
// format (version 0.0.4) for GET /metrics. Thread-safe.
#ifndef REGENPATH_SERVER_METRICS_H_
#define REGENPATH_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace regenpath::server {

class Metrics {
 public:
  // Upper bounds of the latency histogram's buckets, in seconds (+Inf added).
  static constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  // A request began (header read) / ended. `route` is a bounded label
  // ("/cds-services/{id}" forms with known ids only); `status` 0 when no
  // response could be sent.
  void RequestStarted();
  void RequestFinished(std::string_view route, int status, double seconds);
  // An error outside the request/response accounting: a transport failure
  // ("header_timeout", ...), or a server-side failure ("feedback_store").
  void Error(std::string_view kind);
  // An authentication failure, by category ("missing", "invalid-input", ...).
  void AuthFailure(std::string_view category);
  void FeedbackStored(int64_t items);

  int64_t in_flight() const { return in_flight_.load(); }

  // The exposition text. Adds process_resident_memory_bytes (from /proc).
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};  // not cumulative
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, uint64_t> auth_failures_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> feedback_stored_{0};
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_METRICS_H_
