#include "screen/screener.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include "common/json_string.h"
#include "engine/engine.h"
#include "fhir/entry_names.h"
#include "fhir/parser.h"
#include "screen/compartment.h"
#include "screen/grouper.h"
#include "screen/input_files.h"
#include "screen/input_pieces.h"
#include "screen/line_reader.h"
#include "screen/output_writer.h"
#include "screen/patient_line.h"
#include "screen/patient_order.h"
#include "screen/run_facts.h"
#include "screen/run_on_threads.h"
#include "screen/shared_resources.h"
#include "screen/shuffle_manifest.h"
#include "screen/thread_cpu.h"

namespace regenpath::screen {

namespace {

namespace fs = std::filesystem;

size_t JobCount(size_t requested) {
  if (requested > 0) return requested;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

// The slices a run's lines held in memory are assessed in (Grouper): one
// alone leaves nothing to overlap with; with more jobs, four slices a job
// (each slice's last patients leave threads idle in turn), at most 64.
size_t HeldSlices(size_t jobs) { return jobs <= 1 ? 1 : std::min<size_t>(4 * jobs, 64); }

// The RunOnThreads options of the run on this thread (kept by RunClock):
// where the CPU time of the threads started goes (the callers' own is
// measured by RunClock), for ScreenReport::cpu_seconds; the most threads a
// phase could not start, for ScreenReport::threads_not_started;
// how threads are started (ScreenOptions::start_thread).
thread_local const RunOptions* run_threads = nullptr;

// RunOnThreads' options for a phase of the run whose workers stop once
// `failed` is set.
RunOptions PhaseOptions(std::atomic<bool>& failed) {
  RunOptions options = run_threads != nullptr ? *run_threads : RunOptions();
  options.failed = &failed;
  return options;
}

// What one scanning thread counted.
struct ScanCounts {
  uint64_t lines = 0, patient_resources = 0;
  std::map<std::string, uint64_t> outside, no_patient;  // outside: shared resources included
  std::vector<LineIssue> issues;
  std::vector<SharedLine> shared;  // the shared resources' lines
};

}  // namespace

Result<size_t> ParseSize(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) {
    return Fail(InvalidArgument(fmt::format("'{}' is not a size (e.g. 512M, 2G)", text)));
  }
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t multiplier = 1;
  if (unit == "K" || unit == "k" || unit == "KB" || unit == "KiB") multiplier = 1ull << 10;
  else if (unit == "M" || unit == "m" || unit == "MB" || unit == "MiB") multiplier = 1ull << 20;
  else if (unit == "G" || unit == "g" || unit == "GB" || unit == "GiB") multiplier = 1ull << 30;
  else if (!unit.empty() && unit != "B") return Fail(InvalidArgument(fmt::format("'{}': unknown unit '{}'", text, unit)));
  if (value == 0) return Fail(InvalidArgument(fmt::format("'{}': the size must be positive", text)));
  if (value > std::numeric_limits<size_t>::max() / multiplier) {
    return Fail(InvalidArgument(fmt::format("'{}': the size is too large", text)));
  }
  return static_cast<size_t>(value * multiplier);
}

Status CheckMemory(size_t bytes) {
  if (bytes < kMinimumMemory) return InvalidArgument("the memory budget must be at least 16M");
  return Status();
}

Status CheckJobs(int64_t jobs) {
  if (jobs < 0 || static_cast<uint64_t>(jobs) > kMaximumJobs) {
    return InvalidArgument(fmt::format("jobs must be 0 (every core) to {}, not {}", kMaximumJobs, jobs));
  }
  return Status();
}

Result<std::pair<uint32_t, uint32_t>> ParseShard(std::string_view text) {
  size_t slash = text.find('/');
  uint32_t index = 0, count = 0;
  // Each number whole ("1/2x" is not shard 1 of 2).
  auto whole_number = [](std::string_view digits, uint32_t& value) {
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return error == std::errc() && end == digits.data() + digits.size();
  };
  if (slash == std::string_view::npos || !whole_number(text.substr(0, slash), index) ||
      !whole_number(text.substr(slash + 1), count) || count == 0 || index >= count) {
    return Fail(InvalidArgument(fmt::format("'{}': expected I/N with 0 <= I < N", text)));
  }
  return std::pair{index, count};
}

namespace {

// CPU time of a run: the calling thread's and that of every thread
// RunOnThreads starts while it lives; and the threads it could not start.
class RunClock {
 public:
  explicit RunClock(const ScreenOptions& options)
      : started_(std::chrono::steady_clock::now()), cpu_started_(ThreadCpuNanos()) {
    threads_.cpu_nanos = &helper_cpu_;
    threads_.not_started = &not_started_;
    threads_.start_thread = options.start_thread;
    run_threads = &threads_;
  }
  ~RunClock() { run_threads = nullptr; }
  RunClock(const RunClock&) = delete;
  RunClock& operator=(const RunClock&) = delete;

  // `grouper`'s read-ahead thread counts too.
  void Fill(ScreenReport& report, const Grouper& grouper) const {
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    report.cpu_seconds = static_cast<double>(ThreadCpuNanos() - cpu_started_ + helper_cpu_.load()) / 1e9 +
                         grouper.reader_cpu_seconds();
    report.threads_not_started = not_started_.load();
    report.held_bytes_peak = grouper.held_bytes_peak();
  }

 private:
  std::chrono::steady_clock::time_point started_;
  uint64_t cpu_started_;
  std::atomic<uint64_t> helper_cpu_{0};
  std::atomic<size_t> not_started_{0};
  RunOptions threads_;
};

// Bytes of line text the files will give (a .gz file about kGzipTextRatio
// times its size).
uint64_t ExpectedText(const std::vector<InputFile>& files) {
  uint64_t expected = 0;
  for (const InputFile& file : files) expected += file.gzip ? file.size * kGzipTextRatio : file.size;
  return expected;
}

Status CreateDirectory(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return InvalidInput(fmt::format("{}: cannot create: {}", dir, error.message()));
  return Status();
}

// A piece of the input (InputPiece) as the scan reads it, and what it held.
struct ScanPiece {
  InputPiece input;
  ScanCounts counts;
  uint64_t lines = 0;  // blank ones included
};

std::vector<ScanPiece> ScanPieces(const std::vector<InputPiece>& pieces) {
  std::vector<ScanPiece> scan(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) scan[i].input = pieces[i];
  return scan;
}

// 1. Scan: reads `pieces` (of `listing`'s files) on up to `jobs` threads,
// in ScanOrder, routing each line; the patient resources of
// shard `shard` of `shards` (all of them when shards == 1) go to `grouper`,
// those `skeletons` passes over (when not null) as their skeleton lines
// (compartment.h: the assessment then builds the same skeleton as from the
// whole line, without the whole line being copied, grouped and read again).
// Each piece gets what it held (its lines numbered within it: CountsByFile
// and NumberInFiles). `record_options`: those the records will be parsed
// with, which judge a line the router's DOM refuses for a number alone.
Status ScanFiles(const InputListing& listing, std::vector<ScanPiece>& pieces, size_t jobs, uint32_t shard,
                 uint32_t shards, const fhir::ResourceFilter* skeletons,
                 const fhir::ParseOptions& record_options,
                 const std::set<std::string, std::less<>>& shared_types, Grouper& grouper,
                 Progress& progress) {
  std::vector<InputPiece> inputs;
  for (const ScanPiece& piece : pieces) inputs.push_back(piece.input);
  const std::vector<size_t> order = ScanOrder(inputs);
  std::atomic<size_t> next_piece{0};
  std::vector<std::atomic<uint32_t>> pieces_left(listing.files.size());
  for (const ScanPiece& piece : pieces) ++pieces_left[piece.input.file];
  std::atomic<bool> failed{false};  // a scanning thread failed: the others stop
  Status scanned = RunOnThreads(
      std::min(jobs, std::max<size_t>(pieces.size(), 1)),
      [&](size_t) -> Status {
        LineRouter router(&record_options, &shared_types);
        // One batch for the thread's pieces: once the grouper spills, Add
        // hands its memory back and the next lines fill it again.
        LineBatch batch;
        // The input bytes this thread scanned since its last Add (Grouper::Add's
        // early spill): every line, kept or not.
        uint64_t scanned_bytes = 0;
        // The shared resources' bytes this thread kept since its last Add
        // (charged to the grouper's budget then: one lock per batch, not per line).
        uint64_t shared_bytes = 0;
        // The thread's vector for sorting batches goes when it is done (worker 0
        // is the caller's thread, which may live on).
        struct ReleaseScratch {
          ~ReleaseScratch() { LineBatch::ReleaseThreadScratch(); }
        } release_scratch;
        for (size_t slot = next_piece++; slot < order.size() && !failed; slot = next_piece++) {
          ScanPiece& piece = pieces[order[slot]];
          const uint32_t file_index = piece.input.file;
          const uint64_t line_base = piece.input.whole() ? 0 : uint64_t{piece.input.ordinal} << kPieceShift;
          ScanCounts& count = piece.counts;
          Status status;
          uint64_t read = 0;
          auto visit = [&](uint64_t line_in_piece, std::string_view line, size_t capacity) {
            if (!status.ok()) return;
            const uint64_t line_number = line_base | line_in_piece;
            ++count.lines;
            scanned_bytes += line.size() + 1;
            if (shards > 1) {
              // Lines of the other shards' patients are only looked at, not
              // parsed: their shard checks them (a malformed one is that
              // shard's issue; `screen merge` takes the union).
              // First a raw look at the first fields, then (for shapes it
              // does not read) simdjson On-Demand.
              const FastPatient fast = FastPatientOf(line);
              if (fast.look == FastLook::kPatient) {
                if (PatientHash(fast.patient_id) % shards != shard) {
                  ++count.patient_resources;
                  return;
                }
              } else if (fast.look == FastLook::kUnknown) {
                std::optional<std::string> patient = router.QuickPatient(line, capacity);
                if (patient && PatientHash(*patient) % shards != shard) {
                  ++count.patient_resources;
                  return;
                }
              }
            }
            LineRouting routing = router.Route(line, capacity, skeletons);
            switch (routing.kind) {
              case LineKind::kMalformed:
                count.issues.push_back({file_index, line_number, std::move(routing.message)});
                return;
              case LineKind::kOutsideCompartment:
                ++count.outside[routing.resource_type];
                return;
              case LineKind::kSharedResource:
                // (A message: malformed, the record parser refuses it; the
                // run's issue too, and the records that reference it refuse
                // it again.)
                if (!routing.message.empty()) {
                  count.issues.push_back({file_index, line_number, std::move(routing.message)});
                }
                ++count.outside[routing.resource_type];
                // Held until the run ends: charged to the budget (the lines
                // held spill sooner), with the thread's next batch.
                shared_bytes += line.size() + routing.resource_type.size() + routing.shared_id.size();
                count.shared.push_back({file_index, line_number, std::move(routing.resource_type),
                                        std::move(routing.shared_id), std::string(line)});
                return;
              case LineKind::kNoPatient:
                ++count.no_patient[routing.resource_type];
                return;
              case LineKind::kPatientResource:
                if (!routing.message.empty()) {
                  // Malformed, naming its patient: the run's issue, and
                  // their record's (the line goes on whole).
                  count.issues.push_back({file_index, line_number, std::move(routing.message)});
                } else {
                  ++count.patient_resources;
                }
                if (shards > 1 && PatientHash(routing.patient_id) % shards != shard) return;
                const std::string_view text = routing.skeleton.empty() ? line : routing.skeleton;
                if (const size_t needed = routing.patient_id.size() + text.size(); !batch.Fits(needed)) {
                  if (!batch.empty()) {
                    grouper.HoldElsewhere(std::exchange(shared_bytes, 0));
                    status = grouper.Add(batch, scanned_bytes);
                    scanned_bytes = 0;
                  }
                  if (!batch.Fits(needed)) batch = LineBatch(std::max(needed, LineBatch::kDefaultCapacity));
                }
                batch.Add(routing.patient_id, file_index, line_number, text);
                return;
            }
          };
          const std::string& path = listing.files[file_index].path;
          RP_RETURN_IF_ERROR(
              ResolvePiece(listing.files[file_index], piece.input));  // (its bytes: nominal until now)
          // (A whole file's lines are numbered in it already: its count is not needed.)
          Status read_status =
              piece.input.whole()
                  ? ForEachLine(path, visit, &read)
                  : ForEachLineInRange(path, piece.input.begin, piece.input.end, visit, &read, &piece.lines);
          progress.bytes_read += read;
          RP_RETURN_IF_ERROR(read_status);
          RP_RETURN_IF_ERROR(status);
          // A plain file read whole gives its size as listed, unless it changed
          // since (a download still being written): its lines would not be the
          // ones listed, or another reader's pieces would miss or repeat some.
          // (A pieced file's reader fails on its own when the file is cut.)
          if (const InputFile& file = listing.files[file_index];
              piece.input.whole() && read != file.size && !piece.input.gzip && !IsGzip(path)) {
            return InvalidInput(
                fmt::format("{}: {} bytes read where it had {} when listed (the file changed while "
                            "being read?)",
                            path, read, file.size));
          }
          if (--pieces_left[file_index] == 0) ++progress.files_done;
        }
        grouper.HoldElsewhere(std::exchange(shared_bytes, 0));
        if (!batch.empty()) RP_RETURN_IF_ERROR(grouper.Add(batch, scanned_bytes));
        return Status();
      },
      PhaseOptions(failed));
  ReleaseReadBuffer();  // this thread scanned too (RunOnThreads), and goes on to assess
  RP_RETURN_IF_ERROR(scanned);
  // Every file read has the size it was listed with: one grown since (a
  // large file read in pieces reads only as far as its listed size) or
  // rewritten is not the file listed.
  std::set<uint32_t> read_files;
  for (const ScanPiece& piece : pieces) read_files.insert(piece.input.file);
  for (uint32_t index : read_files) {
    const InputFile& file = listing.files[index];
    std::error_code error;
    const uint64_t now = fs::file_size(file.path, error);
    if (error || now != file.size) {
      return InvalidInput(
          fmt::format("{}: {} bytes where it had {} when listed (the file changed while being "
                      "read?)",
                      file.path, error ? 0 : now, file.size));
    }
  }
  return Status();
}

// What `pieces` held, added up per file (of `files`); their malformed lines
// as numbered within their pieces (NumberInFiles numbers them in the files).
std::vector<ScanCounts> CountsByFile(size_t files, std::vector<ScanPiece>& pieces) {
  std::vector<ScanCounts> counts(files);
  for (ScanPiece& piece : pieces) {
    ScanCounts& into = counts[piece.input.file];
    for (LineIssue& issue : piece.counts.issues) into.issues.push_back(std::move(issue));
    piece.counts.issues.clear();
    into.lines += piece.counts.lines;
    into.patient_resources += piece.counts.patient_resources;
    for (const auto& [type, n] : piece.counts.outside) into.outside[type] += n;
    for (const auto& [type, n] : piece.counts.no_patient) into.no_patient[type] += n;
  }
  return counts;
}

// The shared resources' lines the scan kept (moved out of `pieces`), indexed.
void TakeShared(std::vector<ScanPiece>& pieces, SharedResources& shared) {
  for (ScanPiece& piece : pieces) {
    for (SharedLine& line : piece.counts.shared) shared.Add(std::move(line));
    piece.counts.shared.clear();
  }
  shared.Finish();
}

std::vector<PieceLines> LinesOf(const std::vector<ScanPiece>& pieces) {
  std::vector<PieceLines> lines;
  for (const ScanPiece& piece : pieces) {
    lines.push_back(PieceLines{piece.input.file, piece.input.ordinal, piece.input.of, piece.input.begin,
                               piece.input.end, piece.lines});
  }
  return lines;
}

// What the scan counted, as run facts (without `now` and the knowledge
// base, which the assessment adds).
RunFacts FactsOf(const InputListing& listing, const std::vector<ScanCounts>& counts) {
  RunFacts facts;
  for (const InputFile& file : listing.files) facts.inputs.emplace_back(file.path, file.size);
  facts.skipped_files = listing.skipped;
  for (const ScanCounts& count : counts) {
    facts.lines += count.lines;
    facts.patient_resources += count.patient_resources;
    facts.malformed_lines += count.issues.size();
    for (const auto& [type, n] : count.outside) facts.outside_compartment[type] += n;
    for (const auto& [type, n] : count.no_patient) facts.no_patient[type] += n;
  }
  return facts;
}

// The malformed lines the scan found, in input order (file, then line).
std::vector<LineIssue> IssuesOf(std::vector<ScanCounts>& counts) {
  std::vector<LineIssue> issues;
  for (ScanCounts& count : counts) {
    for (LineIssue& issue : count.issues) issues.push_back(std::move(issue));
  }
  return issues;
}

// issues.ndjson: one line per malformed line, as given.
std::string IssuesNdjson(const std::vector<std::pair<std::string, uint64_t>>& inputs,
                         const std::vector<LineIssue>& issues) {
  std::string issues_ndjson;
  for (const LineIssue& issue : issues) {
    issues_ndjson += "{\"file\":";
    AppendJsonString(inputs[issue.file].first, issues_ndjson);
    issues_ndjson += fmt::format(",\"line\":{},\"message\":", issue.line);
    AppendJsonString(issue.message, issues_ndjson);
    issues_ndjson += "}\n";
  }
  return issues_ndjson;
}

// The run facts of `options`' assessment: what was scanned, `now` and the
// knowledge base.
void AddAssessmentFacts(const ScreenOptions& options, RunFacts& facts) {
  facts.now = options.now_text;
  facts.kb_name = options.kb->name();
  facts.kb_version = options.kb->version();
}

// The engine names a record's resources by their place in it
// ("Bundle.entry[3].resource": the record is one synthetic Bundle of its
// lines). In a screened record those places exist nowhere a user can look:
// each is named instead by the export file and line its resource came from.
// `origin_at` gives the line (piece-numbered, as the scan numbered it) of a
// byte offset into the record's text; `base` is that text's start.
std::string NameEntriesByExportLines(std::string_view message, const fhir::Document& document,
                                     const char* base,
                                     const std::function<std::optional<LineIssue>(size_t)>& origin_at,
                                     const RunFacts& facts, const std::vector<PieceLines>& piece_lines) {
  return fhir::NameBundleEntries(message, [&](size_t entry) -> std::optional<std::string> {
    if (entry >= document.resources().size()) return std::nullopt;
    const std::string_view raw = document.resources()[entry]->raw_json();
    if (raw.empty() || raw.data() < base) return std::nullopt;
    std::optional<LineIssue> origin = origin_at(static_cast<size_t>(raw.data() - base));
    if (!origin || origin->file >= facts.inputs.size()) return std::nullopt;
    std::vector<LineIssue> numbered{*origin};
    if (!NumberInFiles(numbered, piece_lines).ok()) return std::nullopt;
    return fmt::format("{}:{}", facts.inputs[numbered[0].file].first, numbered[0].line);
  });
}

// A record none of whose lines could be read fails its parse with
// "<reference>: line N: <what is wrong>", N a line of the record, which
// exists nowhere: said instead as every line being malformed, the first
// named by its export file and line (`origin_of_line` gives a record line's,
// piece-numbered), its column kept.
std::string NameFirstBadLine(std::string_view message, std::string_view reference,
                             const std::function<std::optional<LineIssue>(size_t)>& origin_of_line,
                             const RunFacts& facts, const std::vector<PieceLines>& piece_lines) {
  std::string_view rest = message;
  if (rest.starts_with(reference) && rest.substr(reference.size()).starts_with(": ")) {
    rest.remove_prefix(reference.size() + 2);
  }
  constexpr std::string_view kLine = "line ";
  const size_t colon = rest.find(": ");
  if (!rest.starts_with(kLine) || colon == std::string_view::npos) return std::string(message);
  size_t number = 0;
  const auto [end, error] = std::from_chars(rest.data() + kLine.size(), rest.data() + colon, number);
  if (error != std::errc() || end != rest.data() + colon) return std::string(message);
  const std::string what = LineAloneMessage(std::string(rest.substr(colon + 2)));
  std::optional<LineIssue> origin = origin_of_line(number);
  std::vector<LineIssue> numbered;
  if (origin) numbered.push_back(*origin);
  if (!origin || origin->file >= facts.inputs.size() || !NumberInFiles(numbered, piece_lines).ok()) {
    return std::string(message);
  }
  return fmt::format("no line of the record could be read (see issues.ndjson); the first, {}:{}: {}",
                     facts.inputs[numbered[0].file].first, numbered[0].line, what);
}

// 2. Assess, partition by partition; each partition's patient lines, in
// patient order, go to a file of its own in `work_dir`. 3. Output: those
// files merged in patient order, the summaries and `extra` files.
Result<uint64_t> AssessAndWrite(const ScreenOptions& options, const engine::Engine& engine, Grouper& grouper,
                                const SharedResources& shared, size_t jobs, const std::string& work_dir,
                                Progress& progress, OutputWriter& writer, const RunFacts& facts,
                                const std::vector<PieceLines>& piece_lines, std::string_view issues_ndjson,
                                const std::map<std::string, std::string>& extra) {
  progress.partitions_total = grouper.visits();
  progress.assessing = true;
  // The parser `regenpath assess` uses (cli/assess_command.cc).
  const fhir::ParseOptions parse_options = engine.RecordParseOptions();
  std::vector<std::string> result_files;
  uint64_t patients = 0;
  // Each worker's record parser, made by its first patient and kept from one
  // partition to the next (a slice of a run held in memory is a partition):
  // made again for each, its buffers were fresh memory again, and with
  // them the page faults.
  std::vector<std::unique_ptr<fhir::Parser>> parsers(std::max<size_t>(jobs, 1));
  std::vector<std::vector<uint32_t>> referenced_by(std::max<size_t>(jobs, 1));  // each worker's scratch
  RP_RETURN_IF_ERROR(grouper.ForEachPartition([&](std::vector<PatientLine>& lines,
                                                   const std::vector<PatientGroup>& groups) -> Status {
    progress.patients_total += groups.size();
    ++progress.partitions_started;
    std::vector<std::string> results(groups.size());
    // Largest first: the patients left at the end of a partition, while
    // the other threads wait, are the smallest.
    const std::vector<uint32_t> order = LargestFirst(lines, groups);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};  // an assessing thread failed: the others stop
    RP_RETURN_IF_ERROR(RunOnThreads(std::min(jobs, std::max<size_t>(groups.size(), 1)), [&](size_t worker) -> Status {
      if (parsers[worker] == nullptr) parsers[worker] = std::make_unique<fhir::Parser>(parse_options);
      fhir::Parser& parser = *parsers[worker];
      for (size_t taken = next++; taken < groups.size() && !failed; taken = next++) {
        const size_t g = order[taken];
        const PatientGroup& group = groups[g];
        OrderWithinPatient(std::span<PatientLine>(lines).subspan(group.begin, group.end - group.begin));
        // The shared resources the patient's lines reference join them, in
        // input order: the patient's own file.
        std::vector<uint32_t>& referenced = referenced_by[worker];
        referenced.clear();
        if (!shared.empty()) {
          for (size_t i = group.begin; i < group.end; ++i) shared.ReferencedBy(lines[i].text, referenced);
          std::sort(referenced.begin(), referenced.end());
          referenced.erase(std::unique(referenced.begin(), referenced.end()), referenced.end());
        }
        // The record's lines in the order they are written: the patient's
        // own, each shared one referenced before the first of them that
        // follows it in the input (`take(text, file, line)` per line). The
        // record is built by it; on a failure it is walked again to name a
        // line by the export's file and line.
        auto walk_record = [&](auto&& take) {
          size_t shared_next = 0;
          for (size_t i = group.begin; i < group.end; ++i) {
            for (; shared_next < referenced.size(); ++shared_next) {
              const SharedLine& before = shared.lines()[referenced[shared_next]];
              if (std::tie(before.file, before.line) > std::tie(lines[i].file, lines[i].line)) break;
              take(before.text, before.file, before.line);
            }
            take(lines[i].text, lines[i].file, lines[i].line);
          }
          for (; shared_next < referenced.size(); ++shared_next) {
            const SharedLine& after = shared.lines()[referenced[shared_next]];
            take(after.text, after.file, after.line);
          }
        };
        // The record is written straight into the buffer the document keeps
        // (no second copy of the text in the parser).
        size_t record_size = 0;
        for (size_t i = group.begin; i < group.end; ++i) record_size += lines[i].text.size() + 1;
        for (uint32_t r : referenced) record_size += shared.lines()[r].text.size() + 1;
        std::unique_ptr<char[]> record(new char[record_size + fhir::Parser::kBufferPadding]);
        const char* const base = record.get();
        char* out = record.get();
        walk_record([&out](std::string_view text, uint32_t, uint64_t) {
          std::memcpy(out, text.data(), text.size());
          out += text.size();
          *out++ = '\n';
        });
        std::memset(out, ' ', fhir::Parser::kBufferPadding);
        const std::string reference = "Patient/" + std::string(group.patient_id);
        Result<fhir::Document> document = parser.ParseNdjson(std::move(record), record_size, reference);
        if (!document.has_value()) {
          // Every line of the record is malformed: the first one named.
          auto origin_of_line = [&](size_t number) -> std::optional<LineIssue> {
            size_t at = 0;
            std::optional<LineIssue> found;
            walk_record([&](std::string_view, uint32_t file, uint64_t line) {
              if (++at == number) found = LineIssue{file, line, {}};
            });
            return found;
          };
          results[g] = UnreadableRecordLine(reference, NameFirstBadLine(document.error().message(), reference,
                                                                        origin_of_line, facts, piece_lines));
        } else {
          // The group holds one patient's resources: assessed as that patient, as
          // `assess --patient` would.
          Result<engine::Assessment> assessment =
              engine.Assess(*document, options.now, {std::string(group.patient_id)});
          if (!assessment.has_value()) {
            // The line a byte offset of the record falls in.
            auto origin_at = [&](size_t offset) -> std::optional<LineIssue> {
              size_t at = 0;
              std::optional<LineIssue> found;
              walk_record([&](std::string_view text, uint32_t file, uint64_t line) {
                if (!found && offset >= at && offset < at + text.size()) found = LineIssue{file, line, {}};
                at += text.size() + 1;
              });
              return found;
            };
            results[g] = UnreadableRecordLine(
                reference, NameEntriesByExportLines(assessment.error().message(), *document, base, origin_at,
                                                    facts, piece_lines));
          } else {
            results[g] = ScreeningLine(reference, *assessment);
          }
        }
        ++progress.patients_done;
      }
      return Status();
    }, PhaseOptions(failed)));
    const std::string path = fmt::format("{}/results-{:04}.ndjson", work_dir, result_files.size());
    std::ofstream out(path, std::ios::binary);
    for (const std::string& result : results) out << result << '\n';
    out.close();
    if (!out) return InvalidInput(fmt::format("{}: cannot write", path));
    result_files.push_back(path);
    patients += groups.size();
    return Status();
  }));
  parsers.clear();  // their buffers may be as large as the largest record
  RP_RETURN_IF_ERROR(MergePatientFiles(result_files, [&](std::string_view line) { return writer.AddPatient(line); }));
  RP_RETURN_IF_ERROR(writer.Finish(
      facts, issues_ndjson, extra,
      options.shards > 1 ? std::optional(std::pair(options.shard, options.shards)) : std::nullopt));
  return patients;
}

// shard.json, for `screen merge`: written by every shard of a --shard run
// and by every reduce task (a shuffle of one shard is merged too).
std::map<std::string, std::string> ShardFile(const ScreenOptions& options, bool always = false) {
  std::map<std::string, std::string> extra;
  if (options.shards > 1 || always) {
    extra["shard.json"] = fmt::format("{{\"shard\": {}, \"shards\": {}}}\n", options.shard, options.shards);
  }
  return extra;
}

// options.engine, or `kb` compiled now; fails when options.engine is not
// `kb`'s (the run's facts name `kb`).
Result<std::shared_ptr<const engine::Engine>> EngineOf(const ScreenOptions& options) {
  if (options.engine != nullptr) {
    if (&options.engine->kb() != options.kb.get()) {
      return Fail(InvalidArgument("the engine given is not the knowledge base's"));
    }
    return options.engine;
  }
  RP_ASSIGN_OR_RETURN(engine::Engine engine, engine::Engine::Create(options.kb));
  return std::make_shared<const engine::Engine>(std::move(engine));
}

}  // namespace

Result<ScreenReport> Screen(const ScreenOptions& options) {
  RunClock clock(options);
  if (options.kb == nullptr) return Fail(InvalidArgument("no knowledge base"));
  if (options.shards == 0 || options.shard >= options.shards) return Fail(InvalidArgument("bad shard"));
  RP_ASSIGN_OR_RETURN(std::shared_ptr<const engine::Engine> engine, EngineOf(options));
  RP_ASSIGN_OR_RETURN(InputListing listing, ListInputs(options.inputs));
  const size_t jobs = JobCount(options.jobs);
  Progress local_progress;
  Progress& progress = options.progress != nullptr ? *options.progress : local_progress;
  const uint64_t expected_text = ExpectedText(listing.files);
  progress.files_total = listing.files.size();
  progress.bytes_total = expected_text;

  RP_ASSIGN_OR_RETURN(std::unique_ptr<OutputWriter> writer, OutputWriter::Open(options.output_dir));
  const std::string work_dir = options.output_dir + "/.partial/work";
  RP_RETURN_IF_ERROR(CreateDirectory(work_dir));

  Grouper grouper(options.memory_bytes, expected_text, work_dir, MaxHeldBatches(), HeldSlices(jobs));
  grouper.set_start_thread(options.start_thread);
  std::vector<ScanPiece> pieces = ScanPieces(PlanPieces(listing));
  const fhir::ParseOptions record_options = engine->RecordParseOptions();
  RP_RETURN_IF_ERROR(ScanFiles(listing, pieces, jobs, options.shard, options.shards,
                               engine->resource_filter(), record_options, engine->shared_resource_types(),
                               grouper, progress));
  SharedResources shared;
  TakeShared(pieces, shared);
  std::vector<ScanCounts> counts = CountsByFile(listing.files.size(), pieces);
  RunFacts facts = FactsOf(listing, counts);
  AddAssessmentFacts(options, facts);
  std::vector<LineIssue> malformed = IssuesOf(counts);
  const std::vector<PieceLines> piece_lines = LinesOf(pieces);
  RP_RETURN_IF_ERROR(NumberInFiles(malformed, piece_lines));
  const std::string issues = IssuesNdjson(facts.inputs, malformed);
  RP_ASSIGN_OR_RETURN(uint64_t patients,
                      AssessAndWrite(options, *engine, grouper, shared, jobs, work_dir, progress, *writer,
                                     facts, piece_lines, issues, ShardFile(options)));

  ScreenReport report;
  report.patients = patients;
  report.files = listing.files.size();
  for (const InputFile& file : listing.files) report.bytes += file.size;
  report.lines = facts.lines;
  report.malformed_lines = facts.malformed_lines;
  report.partitions = grouper.partition_count();
  report.ndjson_not_read = listing.ndjson_skipped;
  clock.Fill(report, grouper);
  return report;
}

Result<ScreenReport> ScreenMap(const ScreenOptions& options, const ShuffleTask& task) {
  RunClock clock(options);
  if (task.maps == 0 || task.map >= task.maps) return Fail(InvalidArgument("bad map task: expected 0 <= map < maps"));
  if (options.shards == 0) return Fail(InvalidArgument("a shuffle needs at least one shard"));
  if (task.dir.empty()) return Fail(InvalidArgument("a shuffle needs a shuffle directory"));
  RP_ASSIGN_OR_RETURN(InputListing listing, ListInputs(options.inputs));
  Progress local_progress;
  Progress& progress = options.progress != nullptr ? *options.progress : local_progress;
  const std::vector<InputPiece> planned = PlanPieces(listing);
  std::vector<ScanPiece> pieces;
  std::set<uint32_t> files;  // those this task reads (some maybe in part)
  for (uint32_t index : ShareOfPieces(planned, task.map, task.maps)) {
    pieces.push_back(ScanPiece{planned[index], {}, 0});
    files.insert(planned[index].file);
  }
  progress.files_total = files.size();
  // Planned from the whole run (the same in every map task): a shard's
  // partitions are read back by its reduce task within the budget.
  const uint64_t shard_text = (ExpectedText(listing.files) + options.shards - 1) / options.shards;
  const size_t per_shard = Grouper::PartitionsFor(shard_text, options.memory_bytes);

  const std::string final_dir = MapDirectory(task.dir, task.map);
  const std::string partial = final_dir + ".partial";
  std::error_code fs_error;
  fs::remove_all(partial, fs_error);  // left by an earlier attempt of this task
  RP_RETURN_IF_ERROR(CreateDirectory(partial));
  RP_ASSIGN_OR_RETURN(std::unique_ptr<Grouper> grouper,
                      Grouper::ForShuffle(options.shards, per_shard, partial));
  // With a knowledge base, the resources its engine passes over go to the
  // reduce tasks as skeleton lines, which they assess only with the same
  // filter (the manifest names it).
  const fhir::ResourceFilter* skeletons = nullptr;
  std::shared_ptr<const engine::Engine> engine;
  if (options.kb != nullptr) {
    RP_ASSIGN_OR_RETURN(engine, EngineOf(options));
    skeletons = engine->resource_filter();
  }
  // (Without a knowledge base, lines are judged with the default options: a
  // line's validity does not depend on what a filter builds of it.)
  const fhir::ParseOptions record_options =
      engine != nullptr ? engine->RecordParseOptions() : fhir::ParseOptions();
  // The shared resources the records reference: those of the knowledge
  // base's engine (a reduce checks it has the same).
  const std::set<std::string, std::less<>> no_shared_types;
  const std::set<std::string, std::less<>>& shared_types =
      engine != nullptr ? engine->shared_resource_types() : no_shared_types;
  RP_RETURN_IF_ERROR(ScanFiles(listing, pieces, JobCount(options.jobs), 0, 1, skeletons, record_options,
                               shared_types, *grouper, progress));
  RP_RETURN_IF_ERROR(grouper->Close());
  std::vector<ScanCounts> counts = CountsByFile(listing.files.size(), pieces);

  MapManifest manifest;
  manifest.map = task.map;
  manifest.maps = task.maps;
  manifest.shards = options.shards;
  manifest.partitions_per_shard = per_shard;
  manifest.pieces = LinesOf(pieces);  // in file order, then piece order
  for (size_t partition = 0; partition < size_t{options.shards} * per_shard; ++partition) {
    manifest.spill_bytes.push_back(grouper->partition_bytes(partition));
  }
  manifest.facts = FactsOf(listing, counts);
  manifest.issues = IssuesOf(counts);
  if (skeletons != nullptr) manifest.skeletons = skeletons->fingerprint();  // "" when it passes nothing over
  manifest.shared_types.assign(shared_types.begin(), shared_types.end());
  {
    SharedResources shared;
    TakeShared(pieces, shared);
    manifest.shared = shared.lines();
  }
  {
    const std::string path = partial + "/" + std::string(MapManifest::kFileName);
    std::ofstream out(path, std::ios::binary);
    out << manifest.ToJson();
    out.close();
    if (!out) return Fail(InvalidInput(fmt::format("{}: cannot write", path)));
  }
  // In place only once whole: a reduce task never sees half a map's output.
  fs::remove_all(final_dir, fs_error);
  fs::rename(partial, final_dir, fs_error);
  if (fs_error) return Fail(InvalidInput(fmt::format("{}: cannot move into place: {}", final_dir, fs_error.message())));

  ScreenReport report;
  report.files = files.size();
  for (const ScanPiece& piece : pieces) report.bytes += piece.input.end - piece.input.begin;
  report.lines = manifest.facts.lines;
  report.malformed_lines = manifest.facts.malformed_lines;
  report.partitions = per_shard;
  report.ndjson_not_read = listing.ndjson_skipped;
  clock.Fill(report, *grouper);
  return report;
}

Result<ScreenReport> ScreenReduce(const ScreenOptions& options, const ShuffleTask& task) {
  RunClock clock(options);
  if (options.kb == nullptr) return Fail(InvalidArgument("no knowledge base"));
  if (options.shards == 0 || options.shard >= options.shards) return Fail(InvalidArgument("bad shard"));
  if (task.maps == 0) return Fail(InvalidArgument("a shuffle has at least one map task"));
  RP_ASSIGN_OR_RETURN(std::shared_ptr<const engine::Engine> engine, EngineOf(options));
  RP_ASSIGN_OR_RETURN(std::vector<MapManifest> manifests, ReadMapManifests(task.dir, task.maps, options.shards));
  for (const MapManifest& manifest : manifests) {
    const std::string& own = engine->resource_filter()->fingerprint();
    if (!manifest.skeletons.empty() && own != manifest.skeletons) {
      return Fail(InvalidInput(fmt::format(
          "map task {} passed over resources with another knowledge base's filter ({}; this reduce's: {}): run the "
          "map tasks with the reduce tasks' knowledge base",
          manifest.map, manifest.skeletons, own.empty() ? "none" : own)));
    }
    const std::set<std::string, std::less<>>& reads = engine->shared_resource_types();
    if (std::set<std::string, std::less<>>(manifest.shared_types.begin(), manifest.shared_types.end()) !=
        reads) {
      return Fail(InvalidInput(
          fmt::format("map task {} kept the shared resources of [{}] for the records, where this reduce's "
                      "knowledge base reads "
                      "[{}]: run the map tasks with the reduce tasks' knowledge base",
                      manifest.map, fmt::join(manifest.shared_types, ", "), fmt::join(reads, ", "))));
    }
  }
  // The shared resources every map task kept, for every shard's records.
  SharedResources shared;
  for (const MapManifest& manifest : manifests) {
    for (const SharedLine& line : manifest.shared) shared.Add(line);
  }
  shared.Finish();
  const size_t jobs = JobCount(options.jobs);
  Progress local_progress;
  Progress& progress = options.progress != nullptr ? *options.progress : local_progress;

  // The run's facts: the sums of the map tasks' counts; its issues, in input order.
  RunFacts facts = manifests.front().facts;
  facts.lines = facts.patient_resources = facts.malformed_lines = 0;
  facts.outside_compartment.clear();
  facts.no_patient.clear();
  std::vector<LineIssue> issues;
  std::vector<PieceLines> pieces;
  for (const MapManifest& manifest : manifests) {
    pieces.insert(pieces.end(), manifest.pieces.begin(), manifest.pieces.end());
    facts.lines += manifest.facts.lines;
    facts.patient_resources += manifest.facts.patient_resources;
    facts.malformed_lines += manifest.facts.malformed_lines;
    for (const auto& [type, n] : manifest.facts.outside_compartment) facts.outside_compartment[type] += n;
    for (const auto& [type, n] : manifest.facts.no_patient) facts.no_patient[type] += n;
    issues.insert(issues.end(), manifest.issues.begin(), manifest.issues.end());
  }
  // (ReadMapManifests checked that every piece was read once.)
  RP_RETURN_IF_ERROR(NumberInFiles(issues, pieces));
  AddAssessmentFacts(options, facts);

  // Partition p of this shard: the file (shard, p) of every map task.
  const size_t per_shard = manifests.front().partitions_per_shard;
  std::vector<std::vector<std::string>> partitions(per_shard);
  std::vector<std::vector<uint64_t>> sizes(per_shard);
  for (size_t p = 0; p < per_shard; ++p) {
    for (uint32_t map = 0; map < task.maps; ++map) {
      partitions[p].push_back(MapDirectory(task.dir, map) + "/" + Grouper::ShuffleFileName(options.shard, p));
      sizes[p].push_back(manifests[map].spill_bytes[options.shard * per_shard + p]);
    }
  }
  RP_ASSIGN_OR_RETURN(std::unique_ptr<Grouper> grouper,
                      Grouper::FromFiles(std::move(partitions), std::move(sizes)));
  grouper->set_start_thread(options.start_thread);

  RP_ASSIGN_OR_RETURN(std::unique_ptr<OutputWriter> writer, OutputWriter::Open(options.output_dir));
  const std::string work_dir = options.output_dir + "/.partial/work";
  RP_RETURN_IF_ERROR(CreateDirectory(work_dir));
  RP_ASSIGN_OR_RETURN(
      uint64_t patients,
      AssessAndWrite(options, *engine, *grouper, shared, jobs, work_dir, progress, *writer, facts, pieces,
                     IssuesNdjson(facts.inputs, issues), ShardFile(options, true)));
  ScreenReport report;
  report.patients = patients;
  report.files = facts.inputs.size();
  for (const auto& [path, bytes] : facts.inputs) report.bytes += bytes;
  report.lines = facts.lines;
  report.malformed_lines = facts.malformed_lines;
  report.partitions = per_shard;
  clock.Fill(report, *grouper);
  return report;
}

Result<ScreenReport> MergeShards(const std::vector<std::string>& shard_dirs, const std::string& output_dir) {
  const auto started = std::chrono::steady_clock::now();
  if (shard_dirs.empty()) return Fail(InvalidArgument("no shard directory to merge"));
  auto read = [](const std::string& path) -> Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(InvalidInput(fmt::format("{}: cannot open", path)));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  // A shard checks fully only the lines of its own patients (and those it
  // cannot route): its malformed lines and patient-resource count are its
  // own; everything else in run.json is the same in every shard of a run.
  auto shared_facts = [](RunFacts facts) {
    facts.malformed_lines = 0;
    facts.patient_resources = 0;
    return facts.ToJson();
  };
  std::string run_json, shared_run, first_now;
  std::vector<std::string> issue_lines;
  std::vector<bool> seen;
  std::vector<std::string> patient_files;
  for (const std::string& dir : shard_dirs) {
    if (std::error_code error; !fs::exists(dir + "/shard.json", error)) {
      return Fail(InvalidInput(fmt::format(
          "{}: not a shard's output (no shard.json: written by `screen --shard I/N` and `screen reduce`)",
          dir)));
    }
    RP_ASSIGN_OR_RETURN(std::string shard_json, read(dir + "/shard.json"));
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    uint64_t shard = 0, shards = 0;
    if (parser.parse(shard_json).get(root) || root["shard"].get_uint64().get(shard) ||
        root["shards"].get_uint64().get(shards) || shards == 0 || shard >= shards) {
      return Fail(InvalidInput(fmt::format("{}/shard.json: not a shard description", dir)));
    }
    if (seen.empty()) seen.assign(shards, false);
    if (seen.size() != shards) return Fail(InvalidInput(fmt::format("{}: a shard of another split ({} shards)", dir, shards)));
    if (seen[shard]) return Fail(InvalidInput(fmt::format("{}: shard {}/{} given twice", dir, shard, shards)));
    seen[shard] = true;
    RP_ASSIGN_OR_RETURN(std::string shard_run, read(dir + "/run.json"));
    RP_ASSIGN_OR_RETURN(std::string shard_issues, read(dir + "/issues.ndjson"));
    RP_ASSIGN_OR_RETURN(RunFacts shard_facts, RunFacts::FromJson(shard_run));
    std::string shard_shared = shared_facts(shard_facts);
    if (patient_files.empty()) {
      run_json = shard_run;
      shared_run = shard_shared;
      first_now = shard_facts.now;
    } else if (shard_facts.now != first_now) {
      // The usual cause: shards run without --now, each at its own time.
      return Fail(InvalidInput(fmt::format(
          "{}: a shard of another run: assessed as of {} where {} was assessed as of {} (give every "
          "shard the same --now)",
          dir, shard_facts.now, shard_dirs.front(), first_now)));
    } else if (shard_shared != shared_run) {
      return Fail(InvalidInput(fmt::format("{}: a shard of another run (its run.json differs)", dir)));
    }
    for (size_t begin = 0; begin < shard_issues.size();) {
      size_t end = shard_issues.find('\n', begin);
      if (end == std::string::npos) end = shard_issues.size();
      if (end > begin) issue_lines.emplace_back(shard_issues.substr(begin, end - begin));
      begin = end + 1;
    }
    patient_files.push_back(dir + "/patients.ndjson");
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return Fail(InvalidInput(fmt::format("shard {}/{} is missing", i, seen.size())));
  }
  RP_ASSIGN_OR_RETURN(RunFacts facts, RunFacts::FromJson(run_json));
  // The issues of the run: the union of the shards' (a line no shard could
  // route is in each), in input order (file, then line), as a single run
  // writes them.
  std::map<std::string_view, size_t> file_order;
  for (size_t i = 0; i < facts.inputs.size(); ++i) file_order.emplace(facts.inputs[i].first, i);
  struct IssueKey {
    size_t file;
    uint64_t line;
    std::string text;
  };
  std::vector<IssueKey> keyed;
  {
    simdjson::dom::parser parser;
    for (std::string& text : issue_lines) {
      simdjson::dom::element root;
      std::string_view file;
      uint64_t line = 0;
      if (parser.parse(text).get(root) || root["file"].get_string().get(file) || root["line"].get_uint64().get(line) ||
          !file_order.contains(file)) {
        return Fail(InvalidInput(fmt::format("a shard's issues.ndjson has a bad line: {}", text)));
      }
      keyed.push_back({file_order[file], line, std::move(text)});
    }
  }
  std::sort(keyed.begin(), keyed.end(), [](const IssueKey& a, const IssueKey& b) {
    if (a.file != b.file) return a.file < b.file;
    if (a.line != b.line) return a.line < b.line;
    return a.text < b.text;
  });
  std::string issues;
  uint64_t malformed = 0;
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i > 0 && keyed[i].file == keyed[i - 1].file && keyed[i].line == keyed[i - 1].line) continue;
    issues += keyed[i].text;
    issues += '\n';
    ++malformed;
  }
  facts.malformed_lines = malformed;
  uint64_t not_patient = malformed;
  for (const auto& [type, n] : facts.outside_compartment) not_patient += n;
  for (const auto& [type, n] : facts.no_patient) not_patient += n;
  facts.patient_resources = facts.lines >= not_patient ? facts.lines - not_patient : 0;
  RP_ASSIGN_OR_RETURN(std::unique_ptr<OutputWriter> writer, OutputWriter::Open(output_dir));
  RP_RETURN_IF_ERROR(MergePatientFiles(patient_files, [&](std::string_view line) { return writer->AddPatient(line); }));
  ScreenReport report;
  report.patients = writer->patients();
  RP_RETURN_IF_ERROR(writer->Finish(facts, issues));
  report.files = facts.inputs.size();
  for (const auto& [path, bytes] : facts.inputs) report.bytes += bytes;
  report.lines = facts.lines;
  report.malformed_lines = facts.malformed_lines;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace regenpath::screen
