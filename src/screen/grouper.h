// Groups resources by patient in bounded memory.
//
// Scanning threads hand in batches of routed lines. While the lines held fit
// in half the memory budget (in at most MaxHeldBatches batches) they stay in
// memory, unless, part of the input scanned, they will clearly not
// (see Add); past that, every line held and every line after it is appended
// to one of P partition files on disk, chosen by a hash of the patient id,
// so that a patient's lines are all in one partition and each partition
// fits the budget when read back.
// Partitions are then visited one at a time.
//
// A shuffle (ScreenMap / ScreenReduce, screen/screener.h) uses the same
// partition files across tasks: a map task's Grouper (ForShuffle) spills
// every line at once into one file per (shard, partition), and a shard's
// reduce task visits partitions made of the map tasks' files (FromFiles).
#ifndef REGENPATH_SCREEN_GROUPER_H_
#define REGENPATH_SCREEN_GROUPER_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "screen/patient_order.h"

namespace regenpath::screen {

// Lines routed by one scanning thread, in one mapping of a fixed capacity
// (returned to the system when the batch goes): 2 MiB-aligned and marked
// for transparent huge pages, since the text of every line is copied here
// once and page faults on fresh memory otherwise dominate the scan.
class LineBatch {
 public:
  static constexpr size_t kDefaultCapacity = size_t{2} << 20;

  explicit LineBatch(size_t capacity = kDefaultCapacity);
  // A moved-from batch has no memory (capacity 0: nothing fits).
  LineBatch(LineBatch&& other) noexcept { *this = std::move(other); }
  LineBatch& operator=(LineBatch&& other) noexcept;

  // True when a line of `bytes` (id and text) fits in what is left.
  bool Fits(size_t bytes) const { return size_ + bytes <= capacity_; }
  // The line must fit (see Fits).
  void Add(std::string_view patient_id, uint32_t file, uint64_t line, std::string_view text);
  size_t bytes() const { return capacity_ + entries_.capacity() * sizeof(Entry); }
  size_t capacity() const { return capacity_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // Forgets the lines, keeping the memory.
  void Clear() {
    size_ = 0;
    entries_.clear();
    slice_begin_.clear();
  }
  // Calls visit for each line (views valid while the batch lives) with
  // PatientHash of its patient id (computed once, by Add).
  void ForEach(const std::function<void(const PatientLine&, uint64_t hash)>& visit) const;
  // Orders the lines by their slice of `slices` (SliceOf), so that
  // AppendSliceTo copies one range (the order of a batch's lines does not
  // matter: OrderWithinPatient puts each patient's in input order). Keeps a
  // vector per thread for the next call (ReleaseThreadScratch frees it).
  void SortBySlice(size_t slices);
  // Frees the calling thread's SortBySlice vector (a scanning thread that
  // is done: the caller's own thread may live on, e.g. in Python).
  static void ReleaseThreadScratch();
  // True when the lines are in slice order for `slices` (always for one):
  // SortBySlice(slices) has run since the last Add.
  bool SortedBy(size_t slices) const;
  // [begin, end) of the lines of slice `slice` of `slices` (those whose
  // SliceOf(hash, slices) is `slice`), in line order. Requires SortedBy(slices).
  std::pair<size_t, size_t> SliceRange(size_t slice, size_t slices) const;
  // Appends to `lines` (the same views) the lines of SliceRange(slice, slices).
  void AppendSliceTo(std::vector<PatientLine>& lines, size_t slice, size_t slices) const;
  // The slice of `slices` a patient id's lines belong to: the bits of the
  // hash a partition uses too, so a patient is in one slice.
  static size_t SliceOf(uint64_t hash, size_t slices) { return static_cast<size_t>((hash >> 32) % slices); }

 private:
  struct Entry {
    uint64_t hash;  // PatientHash of the id
    uint64_t line;
    size_t offset;  // of the id, followed by the text
    uint32_t file;
    uint32_t id_size;
    uint32_t text_size;
  };
  PatientLine LineOf(const Entry& entry) const {
    return {std::string_view(data_.get() + entry.offset, entry.id_size), entry.file, entry.line,
            std::string_view(data_.get() + entry.offset + entry.id_size, entry.text_size)};
  }
  static std::vector<Entry>& ThreadScratch();
  struct Unmap {
    size_t size;  // (value-initialized by unique_ptr)
    void operator()(char* data) const;
  };
  std::unique_ptr<char, Unmap> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  std::vector<Entry> entries_;
  // After SortBySlice(n): slice i's entries are [slice_begin_[i], slice_begin_[i + 1]).
  std::vector<size_t> slice_begin_;
};

// How many batches a Grouper holds at most before it spills, whatever its
// budget: each batch is a mapping, and a process may hold only
// vm.max_map_count of them (a quarter of it, at least 64).
size_t MaxHeldBatches();

class Grouper {
 public:
  // `budget_bytes`: the memory budget of the run; `expected_bytes`: about how
  // much line text will come (for the number of partitions); `spill_dir`: an
  // existing directory for the partition files (removed by the caller).
  // `max_held_batches`: spill past that many batches held, whatever the
  // budget (tests lower it). `held_slices`: when nothing is spilled, the
  // lines held are visited in that many slices by a hash of the patient id
  // (see ForEachPartition), so that grouping one slice overlaps the visit
  // of the one before instead of the whole grouping running alone.
  Grouper(size_t budget_bytes, uint64_t expected_bytes, std::string spill_dir,
          size_t max_held_batches = MaxHeldBatches(), size_t held_slices = 1);
  ~Grouper();

  // The map side of a shuffle: nothing is held; every line goes at once to
  // the file ShuffleFileName(s, p) in `dir` (an existing directory), where s
  // = PatientHash(id) % shards (the shard of `--shard`) and p =
  // (PatientHash(id) >> 32) % partitions_per_shard (as a Grouper of that
  // shard alone would partition it). All shards × partitions_per_shard
  // files are created, empty or not, and kept: call Close after the last
  // Add. Fails when the files cannot be created or exceed the open-file
  // limit.
  static Result<std::unique_ptr<Grouper>> ForShuffle(uint32_t shards, size_t partitions_per_shard, std::string dir);
  static std::string ShuffleFileName(uint32_t shard, size_t partition);
  // The reduce side: partition i is the concatenation of the spill files
  // `files[i]` (written by ForShuffle Groupers), which are kept, of
  // `sizes[i]` bytes each (what their writers' partition_bytes() said; the
  // two of the same shape). A file of another size (cut short, between two
  // blocks too, or changed) is refused here, before any partition is
  // visited, and again when its partition is read. Add must not be called.
  static Result<std::unique_ptr<Grouper>> FromFiles(std::vector<std::vector<std::string>> files,
                                                    std::vector<std::vector<uint64_t>> sizes);
  // How many partitions `expected_bytes` of line text need so that each
  // read back takes about an eighth of `budget_bytes` (at least 1).
  static size_t PartitionsFor(uint64_t expected_bytes, size_t budget_bytes);

  // Flushes and closes the spill files (a shuffle's map side keeps them).
  Status Close();
  Grouper(const Grouper&) = delete;
  Grouper& operator=(const Grouper&) = delete;

  // Takes the lines of `batch` and leaves it empty: with its memory when
  // they went to disk and it has the default capacity, so that the
  // scanning thread fills it again (fresh memory costs a zeroed page per
  // 4 kB: 30 % of the page faults at 10k patients were new batches);
  // without (capacity 0) when the grouper holds them. Thread-safe. Fails
  // when a partition file cannot be written. Once spilling, the batch is
  // split by partition without any lock and each partition's part is
  // appended under that partition's own lock, so scanning threads write to
  // disk side by side.
  //
  // `scanned_bytes`: the input bytes (uncompressed, in the unit of
  // `expected_bytes`) the calling thread scanned since its last Add, every
  // line counted, kept or not, so that what is held and what was scanned
  // to make it grow together. Once an eighth of the expected input is
  // scanned in all (or a quarter of the budget, if less), a Grouper whose
  // lines held, scaled to the whole input, would need more than twice what
  // it may hold (half the budget) spills at once, instead of holding lines
  // it would write to disk anyway (fresh memory the kernel zeroes, and
  // peak RSS). Given 0 throughout, it holds lines up to half the budget.
  Status Add(LineBatch& batch, uint64_t scanned_bytes = 0);

  // Counts `bytes` the run holds in memory elsewhere until its end (the
  // shared resources' lines, which every record may need) against the half
  // of the budget the lines held may take, so that the grouper spills that
  // much sooner and the run stays within its budget. Thread-safe; takes
  // effect from the next Add.
  void HoldElsewhere(uint64_t bytes);

  // Calls `visit` once per partition, in partition order, with all the
  // lines of that partition's patients grouped by patient (GroupByPatient:
  // `patients` gives each one's range, in id order; a patient's lines are
  // not yet in input order, see OrderWithinPatient). When nothing was
  // spilled, the lines held are visited as `held_slices` partitions, each
  // the patients of one slice (LineBatch::SliceOf), some maybe empty. The
  // views are valid until `visit` returns, which may reorder lines within a
  // patient's range. Call once, after the last Add. While `visit` runs, the
  // next partition is read back (or gathered) and grouped on another
  // thread (so at most two partitions are in memory: a quarter of the
  // budget).
  Status ForEachPartition(
      const std::function<Status(std::vector<PatientLine>& lines, const std::vector<PatientGroup>& patients)>& visit);

  // How ForEachPartition starts its read-ahead thread (empty: std::thread;
  // tests give one that fails, as the system does at its thread limit).
  // When it will not start, each partition is read just before its visit.
  void set_start_thread(std::function<std::thread(std::function<void()>)> start_thread) {
    start_thread_ = std::move(start_thread);
  }

  bool spilled() const { return !partitions_.empty(); }
  // The bytes written to partition file `partition` (a ForShuffle
  // Grouper's file (shard s, partition p) is partition s *
  // partitions_per_shard + p); 0 for one not written or not spilling.
  // Only once no Add is running (e.g. after Close): not synchronized with
  // the scanning threads' writes.
  uint64_t partition_bytes(size_t partition) const {
    return partition < partition_bytes_.size() ? partition_bytes_[partition] : 0;
  }
  size_t partition_count() const { return partitions_.empty() ? 1 : partitions_.size(); }
  uint64_t spilled_bytes() const { return spilled_bytes_; }
  // The most memory (LineBatch::bytes: the capacity of the batches' buffers
  // and entries, mapped if not all touched) the grouper held at once in the
  // batches Add kept, not each scanning thread's batch being filled nor what
  // ForEachPartition reads back. Only once no Add is running.
  uint64_t held_bytes_peak() const { return held_bytes_peak_; }
  // How many times ForEachPartition calls `visit` (for a run not spilled:
  // held_slices, whether or not each slice holds lines).
  size_t visits() const { return partitions_.empty() ? held_slices_ : partitions_.size(); }
  // CPU time (user + sys) of the thread ForEachPartition reads ahead on.
  double reader_cpu_seconds() const { return static_cast<double>(reader_cpu_nanos_.load()) / 1e9; }

 private:
  // A spill file, mapped read-only (the lines read back view it).
  class MappedFile {
   public:
    MappedFile() = default;
    MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
    MappedFile(MappedFile&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    MappedFile& operator=(MappedFile&& other) noexcept;
    ~MappedFile();
    const char* data() const { return data_; }
    size_t size() const { return size_; }

   private:
    const char* data_ = nullptr;
    size_t size_ = 0;
  };
  // A partition read back, or a slice of the lines held, gathered: its
  // bytes (a spill file mapped, or a shuffle's files, or a spill file that
  // could not be mapped, read into `buffer`, which is kept from partition
  // to partition; none for a slice) and the lines that view them.
  struct ReadBack {
    MappedFile mapped;
    std::unique_ptr<char[]> buffer;
    size_t capacity = 0;
    std::vector<PatientLine> lines;
    std::vector<PatientGroup> patients;
  };

  // Creates `count` partition files named by `name(i)` (under mutex_, or
  // before any Add).
  Status OpenPartitions(size_t count, const std::function<std::string(size_t)>& name);
  // The partition count of a spill planned from the budget and the lines held.
  size_t PlannedPartitions() const;
  Status Spill(const LineBatch& batch);
  // Reads partition `index` into `into` (its previous lines and mapping are
  // released first; its buffer is reused) and removes the partition's file
  // when it is this Grouper's own.
  Status ReadPartition(size_t index, ReadBack& into);
  // Gathers into `into.lines` the lines held in slice `slice` (nothing spilled).
  Status GatherSlice(size_t slice, ReadBack& into) const;

  size_t budget_bytes_;
  size_t max_held_batches_;
  uint64_t expected_bytes_;
  std::string spill_dir_;
  std::mutex mutex_;
  std::vector<LineBatch> held_;
  size_t held_bytes_ = 0;
  uint64_t held_bytes_peak_ = 0;  // under mutex_
  uint64_t elsewhere_bytes_ = 0;  // under mutex_ (HoldElsewhere)
  size_t held_slices_;
  // Set once, under mutex_, when spilling starts; read-only after.
  std::vector<std::FILE*> partitions_;
  std::vector<std::string> partition_paths_;
  // A line's partition: (hash % shards_) * per_shard_ + (hash >> 32) % per_shard_.
  uint32_t shards_ = 1;
  size_t per_shard_ = 0;
  bool keep_files_ = false;    // a shuffle's files outlive the Grouper
  // FromFiles: the files each partition is read from (partitions_ then
  // holds a null FILE* per partition).
  std::vector<std::vector<std::string>> partition_sources_;
  std::vector<std::vector<uint64_t>> source_sizes_;  // FromFiles: each file's size
  // The bytes written to each partition file (under its own lock).
  std::vector<uint64_t> partition_bytes_;
  std::unique_ptr<std::mutex[]> partition_mutexes_;  // one per partition file
  std::atomic<uint64_t> spilled_bytes_{0};
  std::atomic<uint64_t> reader_cpu_nanos_{0};
  std::function<std::thread(std::function<void()>)> start_thread_;
  // Set (once, for good) when OpenPartitions sets partitions_ (Add's
  // spill, ForShuffle); read without the lock by Add, which need not sort
  // batches by slice once spilling.
  std::atomic<bool> spilling_{false};
  uint64_t scanned_bytes_ = 0;  // under mutex_: Add's scanned_bytes, summed
  // Under mutex_: true when the lines held so far, scaled to the whole
  // input, will not fit (see Add).
  bool WillNotFit() const;
};

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_GROUPER_H_
