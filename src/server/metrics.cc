#include "server/metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

namespace regenpath::server {

namespace {

// Label values are ours (routes, fixed kinds), but escape them as the format
// requires anyway.
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  if (!(statm >> size >> resident)) return -1;
  return resident * sysconf(_SC_PAGESIZE);
}

}  // namespace

void Metrics::RequestStarted() { in_flight_.fetch_add(1); }

void Metrics::RequestFinished(std::string_view route, int status, double seconds) {
  in_flight_.fetch_sub(1);
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{std::string(route), status}];
  if (status == 0 || status >= 500) ++errors_[status == 0 ? "no_response" : "server_error"];
  Histogram& histogram = latency_[std::string(route)];
  for (size_t index = 0; index < kLatencyBuckets.size(); ++index) {
    if (seconds <= kLatencyBuckets[index]) {
      ++histogram.buckets[index];
      break;
    }
  }
  ++histogram.count;
  histogram.sum += seconds;
}

void Metrics::Error(std::string_view kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[std::string(kind)];
}

void Metrics::AuthFailure(std::string_view category) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++auth_failures_[std::string(category)];
}

void Metrics::FeedbackStored(int64_t items) { feedback_stored_.fetch_add(items); }

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  out += "# HELP regenpath_http_requests_total HTTP requests by route and status (0: no response sent).\n";
  out += "# TYPE regenpath_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out += fmt::format("regenpath_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", Escape(key.first),
                       key.second, count);
  }
  out +=
      "# HELP regenpath_http_request_duration_seconds Time from the request header to the response "
      "written.\n";
  out += "# TYPE regenpath_http_request_duration_seconds histogram\n";
  for (const auto& [route, histogram] : latency_) {
    uint64_t cumulative = 0;
    for (size_t index = 0; index < kLatencyBuckets.size(); ++index) {
      cumulative += histogram.buckets[index];
      out += fmt::format("regenpath_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                         Escape(route), kLatencyBuckets[index], cumulative);
    }
    out += fmt::format("regenpath_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                       Escape(route), histogram.count);
    out += fmt::format("regenpath_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", Escape(route),
                       histogram.sum);
    out += fmt::format("regenpath_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", Escape(route),
                       histogram.count);
  }
  out += "# HELP regenpath_http_requests_in_flight Requests being read, processed or answered.\n";
  out += "# TYPE regenpath_http_requests_in_flight gauge\n";
  out += fmt::format("regenpath_http_requests_in_flight {}\n", in_flight_.load());
  out +=
      "# HELP regenpath_errors_total Failures by kind: transport (timeouts, malformed HTTP), 5xx responses, "
      "storage.\n";
  out += "# TYPE regenpath_errors_total counter\n";
  for (const auto& [kind, count] : errors_) {
    out += fmt::format("regenpath_errors_total{{kind=\"{}\"}} {}\n", Escape(kind), count);
  }
  out += "# HELP regenpath_auth_failures_total Requests refused with 401, by category.\n";
  out += "# TYPE regenpath_auth_failures_total counter\n";
  for (const auto& [category, count] : auth_failures_) {
    out += fmt::format("regenpath_auth_failures_total{{category=\"{}\"}} {}\n", Escape(category), count);
  }
  out += "# HELP regenpath_feedback_stored_total Feedback items committed to the registry.\n";
  out += "# TYPE regenpath_feedback_stored_total counter\n";
  out += fmt::format("regenpath_feedback_stored_total {}\n", feedback_stored_.load());
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  out += fmt::format("process_resident_memory_bytes {}\n", ResidentBytes());
  return out;
}

}  // namespace regenpath::server
