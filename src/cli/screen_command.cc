#include "cli/screen_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "bulk/bulk_export.h"
#include "bulk/smart_auth.h"
#include "bulk/types_read.h"
#include "cli/exit_codes.h"
#include "common/now_option.h"
#include "knowledge/knowledge_base.h"
#include "screen/screener.h"
#include "server/http_client.h"
#include "server/url.h"

namespace regenpath::cli {

namespace {

std::string Megabytes(uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

// Redraws one status line on a terminal every quarter second until stopped.
class ProgressBar {
 public:
  ProgressBar(const screen::Progress& progress, std::ostream& err) : progress_(progress), err_(err) {
    try {
      thread_ = std::thread([this] { Loop(); });
    } catch (...) {
      // No thread for it (the system's thread or memory limit): the run
      // goes on without a bar.
    }
  }
  ~ProgressBar() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (!thread_.joinable()) return;
    thread_.join();
    err_ << "\r\033[K" << std::flush;
  }

 private:
  void Loop() {
    const auto started = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    // Drawn at once, then every quarter second.
    do {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::string line;
      if (!progress_.assessing) {
        const uint64_t total = std::max<uint64_t>(progress_.bytes_total, 1);
        const double fraction = std::min(1.0, static_cast<double>(progress_.bytes_read) / static_cast<double>(total));
        const int filled = static_cast<int>(fraction * 30);
        line = fmt::format("reading [{}{}] files {}/{} {} / {} {:.1f} MB/s", std::string(filled, '#'),
                           std::string(30 - filled, '.'), progress_.files_done.load(), progress_.files_total.load(),
                           Megabytes(progress_.bytes_read), Megabytes(total),
                           static_cast<double>(progress_.bytes_read) / 1e6 / std::max(seconds, 1e-3));
      } else {
        // The patients of the partitions not yet started are estimated from
        // those started (partitions are about equal: a hash splits them).
        const uint64_t done = progress_.patients_done, begun = progress_.partitions_started;
        const uint64_t partitions = std::max<uint64_t>(progress_.partitions_total, begun);
        const bool estimated = begun < partitions;
        uint64_t total = progress_.patients_total;
        if (begun > 0 && estimated) total = total * partitions / begun;
        total = std::max<uint64_t>(total, 1);
        if (assess_started_ < 0) assess_started_ = seconds, assess_done_at_start_ = done;
        const double rate = static_cast<double>(done - assess_done_at_start_) / std::max(seconds - assess_started_, 1e-3);
        const double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : 0;
        const int filled = static_cast<int>(std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) * 30);
        const std::string total_text = begun == 0 ? "?" : fmt::format("{}{}", estimated ? "~" : "", total);
        line = fmt::format("assessing [{}{}] patients {}/{} {:.0f}/s ETA {:.0f} s", std::string(filled, '#'),
                           std::string(30 - filled, '.'), done, total_text, rate, eta);
      }
      err_ << "\r\033[K" << line << std::flush;
    } while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; }));
  }

  const screen::Progress& progress_;
  std::ostream& err_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  double assess_started_ = -1;
  uint64_t assess_done_at_start_ = 0;
  std::thread thread_;
};

void FinalLine(const screen::ScreenReport& report, const std::string& output_dir, std::ostream& err) {
  err << fmt::format(
      "regenpath screen: {} patients from {} files ({}) in {:.2f} s ({:.0f} patients/s, {:.1f} MB/s); "
      "{} malformed lines skipped; output in {}\n",
      report.patients, report.files, Megabytes(report.bytes), report.seconds,
      static_cast<double>(report.patients) / std::max(report.seconds, 1e-6),
      static_cast<double>(report.bytes) / 1e6 / std::max(report.seconds, 1e-6), report.malformed_lines, output_dir);
}

// A warning when the system would not start every thread --jobs asked for
// (the run went on with fewer: slower, not wrong).
void ThreadsWarning(const screen::ScreenReport& report, std::string_view command, std::ostream& err) {
  if (report.threads_not_started == 0) return;
  err << fmt::format(
      "{}: warning: the system would not start {} of the threads --jobs asked for (thread or memory limit); "
      "the run went on with fewer\n",
      command, report.threads_not_started);
}

// A warning naming the files of an input directory named as NDJSON but not
// as an export's (they are not read; run.json lists every skipped entry).
void NotReadWarning(const screen::ScreenReport& report, std::string_view command, std::ostream& err) {
  if (report.ndjson_not_read.empty()) return;
  err << fmt::format(
      "{}: warning: {} file(s) named .ndjson not read, not named as an export's resource NDJSON "
      "(<Type>[.<n>].ndjson, <n>.<Type>.ndjson, <Type>-<n>-<n>.ndjson): {}{}; give them by name to read "
      "them\n",
      command, report.ndjson_not_read.size(), report.ndjson_not_read.front(),
      report.ndjson_not_read.size() > 1 ? ", ..." : "");
}

}  // namespace

namespace {

// Runs the Bulk Data export of --fhir-server into the download directory and
// returns it as the screening input; exit code on failure.
int RunExport(const ScreenCommandOptions& options, const knowledge::KnowledgeBase& kb, std::string& input,
              std::ostream& err) {
  Result<server::HttpUrl> url = server::ParseHttpUrl(*options.fhir_server);
  if (!url.has_value()) {
    err << "regenpath screen: --fhir-server: " << url.error().message() << "\n";
    return kExitUsage;
  }
  server::HttpClientOptions client_options;
  client_options.timeout = std::chrono::minutes(30);
  client_options.max_response_bytes = size_t{4} << 30;
  // Plain HTTP only to this machine (tests, a local server); https elsewhere.
  client_options.allow_http = server::IsLoopbackHost(url->host);
  Result<std::unique_ptr<server::HttpClient>> client = server::CreateBeastHttpClient(client_options);
  if (!client.has_value()) {
    err << "regenpath screen: " << client.error().message() << "\n";
    return kExitUsage;
  }
  bulk::BulkExportOptions export_options;
  export_options.url = *options.fhir_server;
  export_options.types = bulk::ResourceTypesRead(kb);
  export_options.download_dir = options.download_dir.value_or(options.output_dir + "/bulk-download");
  export_options.note = [&err](const std::string& line) { err << "regenpath screen: " << line << "\n"; };
  if (options.bearer_token_file) {
    std::ifstream in(*options.bearer_token_file, std::ios::binary);
    if (!in) {
      err << "regenpath screen: " << *options.bearer_token_file << ": cannot open\n";
      return kExitInvalidInput;
    }
    std::ostringstream token;
    token << in.rdbuf();
    export_options.bearer_token = token.str();
    while (!export_options.bearer_token.empty() && std::isspace(static_cast<unsigned char>(export_options.bearer_token.back()))) {
      export_options.bearer_token.pop_back();
    }
  }
  std::unique_ptr<bulk::SmartTokenSource> smart;
  if (options.smart_client_id || options.smart_key_file || options.smart_key_id || options.smart_token_endpoint) {
    if (options.bearer_token_file) {
      err << "regenpath screen: give either --bearer-token-file or the --smart-* options, not both\n";
      return kExitUsage;
    }
    if (!options.smart_client_id || !options.smart_key_file || !options.smart_key_id) {
      err << "regenpath screen: SMART Backend Services needs --smart-client-id, --smart-key-file and --smart-key-id\n";
      return kExitUsage;
    }
    bulk::SmartAuthOptions smart_options;
    smart_options.fhir_base = *options.fhir_server;
    smart_options.token_endpoint = options.smart_token_endpoint.value_or("");
    smart_options.client_id = *options.smart_client_id;
    smart_options.key_file = *options.smart_key_file;
    smart_options.key_id = *options.smart_key_id;
    Result<std::unique_ptr<bulk::SmartTokenSource>> source = bulk::SmartTokenSource::Create(**client, smart_options);
    if (!source.has_value()) {
      err << "regenpath screen: " << source.error().message() << "\n";
      return source.error().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInvalidInput;
    }
    smart = std::move(*source);
    export_options.access_token = [&smart](bool refresh) { return smart->Token(refresh); };
  }
  Result<bulk::BulkExportReport> report = bulk::RunBulkExport(**client, export_options);
  if (!report.has_value()) {
    err << "regenpath screen: " << report.error().message() << "\n";
    return kExitInvalidInput;
  }
  err << fmt::format("regenpath screen: bulk export: {} files ({} downloaded, {} already complete), {} retries",
                     report->files.size(), report->downloaded, report->reused, report->retries);
  if (smart) {
    err << fmt::format("; SMART: {} access tokens, {} after a 401", smart->tokens_requested(), report->token_refreshes);
  }
  err << "\n";
  input = export_options.download_dir;
  return kExitOk;
}

}  // namespace

namespace {

// --jobs, --memory and (with `needs_kb`) the knowledge base of `screen`,
// `screen map` or `screen reduce` into `screen_options`; exit code on
// failure, with the message.
int ReadCommonOptions(const ScreenCommandOptions& options, const char* command, bool needs_kb,
                      screen::ScreenOptions& screen_options, std::ostream& err) {
  Result<size_t> memory = screen::ParseSize(options.memory);
  if (!memory.has_value()) {
    err << command << ": " << memory.error().message() << "\n";
    return kExitUsage;
  }
  if (Status enough = screen::CheckMemory(*memory); !enough.ok()) {
    err << command << ": --memory: " << enough.message() << "\n";
    return kExitUsage;
  }
  screen_options.memory_bytes = *memory;
  screen_options.jobs = options.jobs;
  screen_options.start_thread = options.start_thread;
  if (needs_kb) {
    Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb = options.kb_dir
                                                                    ? knowledge::KnowledgeBase::LoadDirectory(*options.kb_dir)
                                                                    : knowledge::KnowledgeBase::Embedded();
    if (!kb.has_value()) {
      err << command << ": " << kb.error().message() << "\n";
      return kExitInvalidInput;
    }
    screen_options.kb = *kb;
  }
  return kExitOk;
}

// A screening run that failed: its message, and exit 2 for bad options, 3
// for an unreadable input or unwritable output.
int RunFailed(const Status& status, const char* command, std::ostream& err) {
  err << command << ": " << status.message() << "\n";
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInvalidInput;
}

}  // namespace

int RunScreen(const ScreenCommandOptions& options, std::ostream& err) {
  if (options.fhir_server && !options.inputs.empty()) {
    err << "regenpath screen: give either --fhir-server or INPUT, not both\n";
    return kExitUsage;
  }
  if (options.inputs.empty() && !options.fhir_server) {
    err << "regenpath screen: no INPUT (a Bulk Data directory or NDJSON files)\n";
    return kExitUsage;
  }
  if (options.output_dir.empty()) {
    err << "regenpath screen: --output DIR is required\n";
    return kExitUsage;
  }
  constexpr const char* kCommand = "regenpath screen";
  screen::ScreenOptions screen_options;
  Result<DateTime> now = ParseNowOption(options.now);
  if (!now.has_value()) {
    err << kCommand << ": " << now.error().message() << "\n";
    return kExitUsage;
  }
  if (options.shard) {
    Result<std::pair<uint32_t, uint32_t>> shard = screen::ParseShard(*options.shard);
    if (!shard.has_value()) {
      err << kCommand << ": --shard: " << shard.error().message() << "\n";
      return kExitUsage;
    }
    screen_options.shard = shard->first;
    screen_options.shards = shard->second;
  }
  if (int code = ReadCommonOptions(options, kCommand, true, screen_options, err); code != kExitOk) return code;
  screen_options.inputs = options.inputs;
  if (options.fhir_server) {
    std::string downloaded;
    if (int code = RunExport(options, *screen_options.kb, downloaded, err); code != kExitOk) return code;
    screen_options.inputs = {downloaded};
  }
  screen_options.now = *now;
  screen_options.now_text = now->ToString();
  screen_options.output_dir = options.output_dir;
  screen::Progress progress;
  screen_options.progress = &progress;
  Result<screen::ScreenReport> report;
  {
    std::optional<ProgressBar> bar;
    // The bar on the terminal itself: its sequences are its own (`err` may
    // be common/terminal_text.h's stream, which would spell them out).
    if (isatty(STDERR_FILENO)) bar.emplace(progress, std::cerr);
    report = screen::Screen(screen_options);
  }
  if (!report.has_value()) return RunFailed(report.error(), kCommand, err);
  ThreadsWarning(*report, kCommand, err);
  NotReadWarning(*report, kCommand, err);
  FinalLine(*report, options.output_dir, err);
  if (options.fhir_server) {
    // The export has served its purpose: the next run starts a new one
    // instead of screening these files again.
    if (Status status = bulk::MarkBulkExportScreened(screen_options.inputs.front()); !status.ok()) {
      err << kCommand
          << ": the output is complete, but the next run would screen the same download: " << status.message()
          << "\n";
      return kExitInvalidInput;
    }
  }
  return kExitOk;
}

int RunScreenMerge(const ScreenCommandOptions& options, std::ostream& err) {
  if (options.inputs.empty() || options.output_dir.empty()) {
    err << "regenpath screen merge: give --output DIR and the shards' output directories\n";
    return kExitUsage;
  }
  Result<screen::ScreenReport> report = screen::MergeShards(options.inputs, options.output_dir);
  if (!report.has_value()) {
    err << "regenpath screen merge: " << report.error().message() << "\n";
    return kExitInvalidInput;
  }
  err << fmt::format("regenpath screen merge: {} patients from {} shards; output in {}\n", report->patients,
                     options.inputs.size(), options.output_dir);
  return kExitOk;
}

int RunScreenMap(const ScreenCommandOptions& options, std::ostream& err) {
  constexpr const char* kCommand = "regenpath screen map";
  if (options.inputs.empty() || !options.map || options.shards == 0 || options.shuffle_dir.empty()) {
    err << kCommand << ": give --map I/K, --shards N (N >= 1), --shuffle-dir DIR and INPUT\n";
    return kExitUsage;
  }
  Result<std::pair<uint32_t, uint32_t>> map = screen::ParseShard(*options.map);
  if (!map.has_value()) {
    err << kCommand << ": --map: " << map.error().message() << "\n";
    return kExitUsage;
  }
  screen::ScreenOptions screen_options;
  if (int code = ReadCommonOptions(options, kCommand, true, screen_options, err); code != kExitOk) return code;
  screen_options.inputs = options.inputs;
  screen_options.shards = options.shards;
  const screen::ShuffleTask task{options.shuffle_dir, map->first, map->second};
  Result<screen::ScreenReport> report = screen::ScreenMap(screen_options, task);
  if (!report.has_value()) return RunFailed(report.error(), kCommand, err);
  ThreadsWarning(*report, kCommand, err);
  NotReadWarning(*report, kCommand, err);
  err << fmt::format("{}: map task {} of {}: {} files ({}), {} lines into {} shards in {:.2f} s; {} malformed lines\n",
                     kCommand, map->first, map->second, report->files, Megabytes(report->bytes), report->lines,
                     options.shards, report->seconds, report->malformed_lines);
  return kExitOk;
}

int RunScreenReduce(const ScreenCommandOptions& options, std::ostream& err) {
  constexpr const char* kCommand = "regenpath screen reduce";
  if (!options.shard || options.maps == 0 || options.shuffle_dir.empty() || options.output_dir.empty()) {
    err << kCommand << ": give --shard I/N, --maps K (K >= 1), --shuffle-dir DIR and --output DIR\n";
    return kExitUsage;
  }
  Result<std::pair<uint32_t, uint32_t>> shard = screen::ParseShard(*options.shard);
  if (!shard.has_value()) {
    err << kCommand << ": --shard: " << shard.error().message() << "\n";
    return kExitUsage;
  }
  Result<DateTime> now = ParseNowOption(options.now);
  if (!now.has_value()) {
    err << kCommand << ": " << now.error().message() << "\n";
    return kExitUsage;
  }
  screen::ScreenOptions screen_options;
  if (int code = ReadCommonOptions(options, kCommand, true, screen_options, err); code != kExitOk) return code;
  screen_options.shard = shard->first;
  screen_options.shards = shard->second;
  screen_options.now = *now;
  screen_options.now_text = now->ToString();
  screen_options.output_dir = options.output_dir;
  const screen::ShuffleTask task{options.shuffle_dir, 0, options.maps};
  Result<screen::ScreenReport> report = screen::ScreenReduce(screen_options, task);
  if (!report.has_value()) return RunFailed(report.error(), kCommand, err);
  ThreadsWarning(*report, kCommand, err);
  err << fmt::format("{}: shard {} of {}: {} patients in {:.2f} s; output in {}\n", kCommand, shard->first,
                     shard->second, report->patients, report->seconds, options.output_dir);
  return kExitOk;
}

}  // namespace regenpath::cli
