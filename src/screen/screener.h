// Population screening: every patient of a FHIR Bulk Data export assessed as
// `regenpath assess` would assess a file holding only that patient's
// resources, on every core, in bounded memory (docs/screening.md).
//
//   1. scan: the input files are read (in parallel, by pieces: input_pieces.h) and
//      each line routed to its patient (screen/compartment.h); malformed
//      lines are kept as issues with file:line; the lines of the shard's
//      patients go to a Grouper (in memory, or spilled to partitions on disk
//      past half the memory budget);
//   2. assess: per partition, each patient's lines, in input order (files
//      sorted by path, then line number), form that patient's NDJSON record,
//      parsed and assessed exactly as `assess` does; the JSON assessment is
//      projected to the patient's screening line; jobs threads share the
//      patients of a partition;
//   3. output: the lines, in patient order, go to an OutputWriter.
// Output depends only on the inputs, --now, the knowledge base and the shard:
// not on --jobs or --memory.
#ifndef REGENPATH_SCREEN_SCREENER_H_
#define REGENPATH_SCREEN_SCREENER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/date_time.h"
#include "common/status.h"
#include "engine/engine.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::screen {

// Counters a progress display reads while a run goes (all atomics).
struct Progress {
  std::atomic<uint64_t> files_total{0}, files_done{0};
  std::atomic<uint64_t> bytes_total{0}, bytes_read{0};  // bytes_read counts uncompressed bytes
  // patients_total counts the patients of the partitions started so far
  // (a run's patients are known partition by partition); partitions_total
  // and partitions_started let a reader extrapolate.
  std::atomic<uint64_t> patients_total{0}, patients_done{0};
  std::atomic<uint64_t> partitions_total{0}, partitions_started{0};
  std::atomic<bool> assessing{false};
};

struct ScreenOptions {
  std::vector<std::string> inputs;  // directories and files
  DateTime now;
  std::string now_text;             // `now` as the user gave it (written to run.json)
  size_t jobs = 0;                  // 0: every core
  size_t memory_bytes = size_t{512} << 20;
  uint32_t shard = 0, shards = 1;   // screen the patients whose id hash % shards == shard
  std::string output_dir;
  std::shared_ptr<const knowledge::KnowledgeBase> kb;
  // Optional: `kb` compiled (Engine::Create(kb)), shared with other runs (an
  // Engine is immutable and thread-safe), e.g. the Python module's per-process
  // cache. Null: Screen and ScreenReduce compile `kb` themselves.
  std::shared_ptr<const engine::Engine> engine;
  Progress* progress = nullptr;     // optional
  // Optional: starts each worker thread and the read-ahead of partitions
  // (RunOptions::start_thread: a joinable thread, or throws); empty,
  // std::thread. Tests give one that fails, as the system does at its
  // thread limit.
  std::function<std::thread(std::function<void()>)> start_thread;
};

struct ScreenReport {
  uint64_t patients = 0;
  uint64_t files = 0;  // a map task: the files it read all or part of
  uint64_t bytes = 0;  // bytes of the input files on disk (a map task: of its pieces)
  uint64_t lines = 0;
  uint64_t malformed_lines = 0;
  size_t partitions = 1;       // > 1 when the groups were spilled to disk
  // The most memory the lines held took at once while scanning
  // (Grouper::held_bytes_peak), Screen only (0 for a shuffle's tasks and a
  // merge): up to half the budget and the batch that tipped it over (a
  // batch made for one very long line may be larger than the budget), and
  // far less when the scan saw early that the lines would not fit.
  uint64_t held_bytes_peak = 0;
  double seconds = 0;
  double cpu_seconds = 0;      // user + sys of the run's threads (Screen only)
  // The most threads asked for (--jobs) that the system would not start in
  // any one of the run's parallel phases (each went on with the threads it
  // had): 0 when every phase had all it asked for.
  size_t threads_not_started = 0;
  // Entries of an input directory named .ndjson or .ndjson.gz but not as an
  // export's resource NDJSON (InputListing::ndjson_skipped): not read.
  std::vector<std::string> ndjson_not_read;
};

// Screens the inputs into options.output_dir. Fails (naming the file) only
// for an unreadable input or output; bad data never fails it.
Result<ScreenReport> Screen(const ScreenOptions& options);

// A shuffle (docs/screening.md, "Shuffled"): the scan and the assessment of
// one run split into tasks that run anywhere sharing a directory `dir`:
//   - map task m of M (ScreenMap) reads its share of the input's pieces
//     (input_pieces.h, ShareOfPieces), routes every line once and writes the lines of each
//     shard's patients to files of its own under dir/map-MMMM/, with what it
//     counted and the malformed lines it found (map.json);
//   - once every map task has finished, the reduce task of shard s of N
//     (ScreenReduce) reads shard s's lines from every map task's files,
//     partition by partition within the memory budget, and writes that
//     shard's output, as `Screen` with --shard s/N would (run.json and
//     issues.ndjson those of the whole run);
//   - MergeShards combines the shards' outputs.
// Every line is read and routed once in the whole cluster (with --shard,
// every shard reads every line). The files under `dir` are kept for reduce
// tasks run again; the caller removes `dir` after the merge.
struct ShuffleTask {
  std::string dir;
  uint32_t map = 0;   // ScreenMap: this task's index
  uint32_t maps = 1;  // how many map tasks the run has
};

// options: inputs, jobs, memory_bytes (plans the shards' partitions), shards.
// Writes dir/map-MMMM (replacing an earlier attempt's). Fails for an
// unreadable input or an unwritable `dir`, naming it.
Result<ScreenReport> ScreenMap(const ScreenOptions& options, const ShuffleTask& task);
// options: shard, shards, now, now_text, kb, jobs, memory_bytes, output_dir.
// Fails, naming the file, when a map task has not finished or the map
// tasks disagree (another run's, another split).
Result<ScreenReport> ScreenReduce(const ScreenOptions& options, const ShuffleTask& task);

// Combines the output directories of the shards 0..N-1 of one run (each
// given once) into `output_dir`: byte for byte the output of the same run
// unsharded.
Result<ScreenReport> MergeShards(const std::vector<std::string>& shard_dirs, const std::string& output_dir);

// "512M", "2G", "100000K", "1048576": a size in bytes (K, M, G are 1024-based).
Result<size_t> ParseSize(std::string_view text);

// The least memory budget a run takes (below it, a batch of lines alone
// would not fit), and the most threads it starts (--jobs; 0: every core).
inline constexpr size_t kMinimumMemory = size_t{16} << 20;
inline constexpr size_t kMaximumJobs = 4096;

// A memory budget (--memory, or a binding's "memory"): kInvalidArgument
// below kMinimumMemory, naming the least.
Status CheckMemory(size_t bytes);

// A thread count (--jobs, or a binding's "jobs"): kInvalidArgument beyond
// kMaximumJobs or below 0.
Status CheckJobs(int64_t jobs);

// "I/N" with 0 <= I < N (a shard, or a map task); the message does not name
// the option.
Result<std::pair<uint32_t, uint32_t>> ParseShard(std::string_view text);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_SCREENER_H_
