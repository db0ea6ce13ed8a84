#include "screen/grouper.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/resource.h>

#include "screen/compartment.h"
#include "screen/thread_cpu.h"

namespace regenpath::screen {

LineBatch::LineBatch(size_t capacity) {
  constexpr size_t kHugePage = size_t{2} << 20;
  capacity_ = (std::max(capacity, size_t{1}) + kHugePage - 1) / kHugePage * kHugePage;
  // Mapped from the kernel, not taken from the allocator: unmapped when the
  // batch goes (spilled, or visited), its memory leaves the process at once.
  // From the allocator, the lines held before a spill (half the budget) were
  // kept by it for the rest of the run, and the partitions read back then
  // came on top (peak RSS 283 + 70 MB at 10k patients). Mapped with a huge
  // page of slack, whose unaligned ends are unmapped at once. (Each batch is
  // a mapping of its own: the Grouper holds no more than MaxHeldBatches.)
  const size_t mapped = capacity_ + kHugePage;
  void* raw = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = start + mapped;
  if (end > aligned + capacity_) ::munmap(reinterpret_cast<void*>(aligned + capacity_), end - aligned - capacity_);
  data_ = std::unique_ptr<char, Unmap>(reinterpret_cast<char*>(aligned), Unmap{capacity_});
  madvise(data_.get(), capacity_, MADV_HUGEPAGE);
}

void LineBatch::Unmap::operator()(char* data) const { ::munmap(data, size); }

size_t MaxHeldBatches() {
  // A process may hold vm.max_map_count mappings (65530 by default); a
  // quarter of them leaves room for everything else (libraries, threads'
  // stacks, the allocator, partitions read back).
  static const size_t most = [] {
    size_t count = 65530;
    if (std::FILE* file = std::fopen("/proc/sys/vm/max_map_count", "r")) {
      unsigned long long read = 0;
      if (std::fscanf(file, "%llu", &read) == 1 && read > 0) count = static_cast<size_t>(read);
      std::fclose(file);
    }
    return std::max<size_t>(count / 4, 64);
  }();
  return most;
}

LineBatch& LineBatch::operator=(LineBatch&& other) noexcept {
  if (this == &other) return *this;
  data_ = std::move(other.data_);
  capacity_ = std::exchange(other.capacity_, 0);
  size_ = std::exchange(other.size_, 0);
  entries_ = std::move(other.entries_);
  other.entries_.clear();
  slice_begin_ = std::move(other.slice_begin_);
  other.slice_begin_.clear();
  return *this;
}

void LineBatch::Add(std::string_view patient_id, uint32_t file, uint64_t line, std::string_view text) {
  if (!slice_begin_.empty()) slice_begin_.clear();  // no longer sorted
  entries_.push_back(Entry{PatientHash(patient_id), line, size_, file,
                           static_cast<uint32_t>(patient_id.size()), static_cast<uint32_t>(text.size())});
  std::memcpy(data_.get() + size_, patient_id.data(), patient_id.size());
  std::memcpy(data_.get() + size_ + patient_id.size(), text.data(), text.size());
  size_ += patient_id.size() + text.size();
}

void LineBatch::ForEach(const std::function<void(const PatientLine&, uint64_t hash)>& visit) const {
  for (const Entry& entry : entries_) visit(LineOf(entry), entry.hash);
}

std::vector<LineBatch::Entry>& LineBatch::ThreadScratch() {
  thread_local std::vector<Entry> scratch;
  return scratch;
}

void LineBatch::ReleaseThreadScratch() { std::vector<Entry>().swap(ThreadScratch()); }

void LineBatch::SortBySlice(size_t slices) {
  // slice_begin_ is set last: if an allocation throws, the batch is left
  // as it was (unsorted, and not marked sorted).
  std::vector<size_t> begin(slices + 1, 0);
  for (const Entry& entry : entries_) ++begin[SliceOf(entry.hash, slices) + 1];
  for (size_t i = 1; i <= slices; ++i) begin[i] += begin[i - 1];
  std::vector<size_t> next(begin.begin(), begin.end() - 1);
  // Sorted into a vector the thread keeps, which then takes the batch's
  // old one for its next batch: a vector allocated per batch, the old one
  // freed, left 8 MB more with the allocator at the spill (peak RSS at 10k
  // patients 300 against 291 MB).
  std::vector<Entry>& sorted = ThreadScratch();
  sorted.resize(entries_.size());
  for (const Entry& entry : entries_) sorted[next[SliceOf(entry.hash, slices)]++] = entry;
  entries_.swap(sorted);
  slice_begin_ = std::move(begin);
}

bool LineBatch::SortedBy(size_t slices) const { return slices == 1 || slice_begin_.size() == slices + 1; }

std::pair<size_t, size_t> LineBatch::SliceRange(size_t slice, size_t slices) const {
  if (slices == 1) return {0, entries_.size()};
  return {slice_begin_[slice], slice_begin_[slice + 1]};
}

void LineBatch::AppendSliceTo(std::vector<PatientLine>& lines, size_t slice, size_t slices) const {
  const auto [begin, end] = SliceRange(slice, slices);
  for (size_t i = begin; i < end; ++i) lines.push_back(LineOf(entries_[i]));
}

Grouper::Grouper(size_t budget_bytes, uint64_t expected_bytes, std::string spill_dir, size_t max_held_batches,
                 size_t held_slices)
    : budget_bytes_(budget_bytes),
      max_held_batches_(max_held_batches),
      expected_bytes_(expected_bytes),
      spill_dir_(std::move(spill_dir)),
      held_slices_(std::max<size_t>(held_slices, 1)) {}

Grouper::~Grouper() {
  for (std::FILE* file : partitions_) {
    if (file != nullptr) std::fclose(file);
  }
  if (!keep_files_) {
    for (const std::string& path : partition_paths_) std::remove(path.c_str());
  }
}

namespace {

// At most 1024 partition files, and never more than the open-file limit
// leaves room for (each partition holds a file open until it is read back).
uint64_t MostOpenPartitions() {
  uint64_t most = 1024;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    most = std::clamp<uint64_t>(limit.rlim_cur > 128 ? limit.rlim_cur - 128 : 2, 2, most);
  }
  return most;
}

}  // namespace

size_t Grouper::PartitionsFor(uint64_t expected_bytes, size_t budget_bytes) {
  // Each partition, read back, should take at most an eighth of the budget:
  // two are in memory at a time (one assessed, the next read ahead).
  const uint64_t target = std::max<uint64_t>(budget_bytes / 8, 1);
  return static_cast<size_t>(std::max<uint64_t>((expected_bytes + target - 1) / target, 1));
}

size_t Grouper::PlannedPartitions() const {
  const uint64_t expected = std::max<uint64_t>(expected_bytes_, held_bytes_ * 2);
  return static_cast<size_t>(
      std::clamp<uint64_t>(PartitionsFor(expected, budget_bytes_), 2, MostOpenPartitions()));
}

std::string Grouper::ShuffleFileName(uint32_t shard, size_t partition) {
  return fmt::format("s{:04}-p{:04}.bin", shard, partition);
}

Result<std::unique_ptr<Grouper>> Grouper::ForShuffle(uint32_t shards, size_t partitions_per_shard, std::string dir) {
  if (shards == 0 || partitions_per_shard == 0) return Fail(InvalidArgument("a shuffle needs shards and partitions"));
  const uint64_t files = uint64_t{shards} * partitions_per_shard;
  if (files > MostOpenPartitions()) {
    return Fail(InvalidArgument(fmt::format(
        "{} shards x {} partitions = {} spill files, more than the open-file limit allows ({}): use fewer shards, "
        "a larger --memory, or raise `ulimit -n`",
        shards, partitions_per_shard, files, MostOpenPartitions())));
  }
  std::unique_ptr<Grouper> grouper(new Grouper(0, 0, std::move(dir)));
  grouper->keep_files_ = true;
  grouper->shards_ = shards;
  RP_RETURN_IF_ERROR(grouper->OpenPartitions(files, [&](size_t i) {
    return grouper->spill_dir_ + "/" + ShuffleFileName(static_cast<uint32_t>(i / partitions_per_shard), i % partitions_per_shard);
  }));
  return grouper;
}

namespace {

// The size of a shuffle's spill file, checked against what its map task
// wrote.
Result<size_t> ShuffleFileSize(const std::string& path, uint64_t written) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    return Fail(InvalidInput(fmt::format("{}: cannot open a spill file: {}", path, std::strerror(errno))));
  }
  if (static_cast<uint64_t>(status.st_size) != written) {
    return Fail(InvalidInput(
        fmt::format("{}: a spill file of {} bytes, where its map task wrote {}: cut short or changed since "
                    "(run the map task again)",
                    path, status.st_size, written)));
  }
  return static_cast<size_t>(status.st_size);
}

}  // namespace

Result<std::unique_ptr<Grouper>> Grouper::FromFiles(std::vector<std::vector<std::string>> files,
                                                    std::vector<std::vector<uint64_t>> sizes) {
  if (sizes.size() != files.size()) return Fail(InvalidArgument("FromFiles: a size per file"));
  for (size_t i = 0; i < files.size(); ++i) {
    if (sizes[i].size() != files[i].size()) return Fail(InvalidArgument("FromFiles: a size per file"));
    for (size_t j = 0; j < files[i].size(); ++j) {
      RP_RETURN_IF_ERROR(ShuffleFileSize(files[i][j], sizes[i][j]));
    }
  }
  std::unique_ptr<Grouper> grouper(new Grouper(0, 0, std::string()));
  grouper->keep_files_ = true;
  grouper->partitions_.assign(files.size(), nullptr);
  grouper->per_shard_ = files.size();
  grouper->partition_paths_.resize(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    grouper->partition_paths_[i] = files[i].empty() ? std::string("(no file)") : files[i].front();
  }
  grouper->partition_sources_ = std::move(files);
  grouper->source_sizes_ = std::move(sizes);
  return grouper;
}

Status Grouper::Close() {
  for (size_t i = 0; i < partitions_.size(); ++i) {
    if (partitions_[i] == nullptr) continue;
    const bool flushed = std::fflush(partitions_[i]) == 0;
    const bool closed = std::fclose(partitions_[i]) == 0;
    partitions_[i] = nullptr;
    if (!flushed || !closed) {
      return InvalidInput(fmt::format("{}: cannot write a spill file: {}", partition_paths_[i], std::strerror(errno)));
    }
  }
  return Status();
}

Status Grouper::Add(LineBatch& batch, uint64_t scanned_bytes) {
  // Sorted by slice by the scanning thread, before the lock, so that
  // gathering a slice copies one range of each batch instead of looking at
  // every line held once per slice. (Once spilling, order does not matter.
  // A batch sorted just before the spill starts is spilled all the same.)
  if (held_slices_ > 1 && !spilling_.load(std::memory_order_relaxed)) batch.SortBySlice(held_slices_);
  std::vector<LineBatch> held;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    scanned_bytes_ += scanned_bytes;
    if (partitions_.empty()) {
      // (Sorted above: spilling_ is only ever set, with partitions_.)
      if (!batch.SortedBy(held_slices_)) batch.SortBySlice(held_slices_);
      held_bytes_ += batch.bytes();
      held_bytes_peak_ = std::max<uint64_t>(held_bytes_peak_, held_bytes_);
      held_.push_back(std::move(batch));  // leaves `batch` without memory
      // (A very large budget would hold more batches than a process may
      // have mappings: past MaxHeldBatches, the grouper spills too.)
      if (held_bytes_ + elsewhere_bytes_ <= budget_bytes_ / 2 && held_.size() <= max_held_batches_ &&
          !WillNotFit()) {
        return Status();
      }
      RP_RETURN_IF_ERROR(OpenPartitions(PlannedPartitions(), [this](size_t i) {
        return fmt::format("{}/partition-{:04}.bin", spill_dir_, i);
      }));
      // The lines held so far are spilled below, outside the lock, while
      // the other threads spill theirs (order within a partition file does
      // not matter: partitions are grouped by patient when read back).
      held.swap(held_);
      held_bytes_ = 0;
    }
  }
  // Spilling: partitions_ no longer changes (it was set under mutex_, which
  // this thread has taken since).
  if (!held.empty()) {
    for (const LineBatch& taken : held) RP_RETURN_IF_ERROR(Spill(taken));
    batch = std::move(held.back());  // the one handed in (its lines were the last held)
  } else {
    RP_RETURN_IF_ERROR(Spill(batch));
  }
  // Only a batch of the usual size is handed back: one made for a very long
  // line would make every later Spill of this thread as large.
  if (batch.capacity() <= LineBatch::kDefaultCapacity) {
    batch.Clear();
  } else {
    LineBatch dropped = std::move(batch);  // leaves `batch` without memory
  }
  return Status();
}

void Grouper::HoldElsewhere(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  elsewhere_bytes_ += bytes;
}

bool Grouper::WillNotFit() const {
  const uint64_t read = scanned_bytes_;
  // Judged once an eighth of the input is scanned, or a quarter of the
  // budget if that is less (before half the budget can be held: at 100k
  // patients an eighth is 2.5 GB). (Each thread's batch being filled is
  // not held yet, nor are the bytes that filled it counted.)
  if (expected_bytes_ == 0 || read == 0) return false;
  if (read < std::min<uint64_t>(expected_bytes_ / 8, budget_bytes_ / 4)) return false;
  const double whole =
      static_cast<double>(held_bytes_) * static_cast<double>(expected_bytes_) / static_cast<double>(read);
  // More than twice what the lines may hold (half the budget, less what is
  // held elsewhere, which is not scaled: it is no share of the lines).
  return whole > 2 * (static_cast<double>(budget_bytes_) / 2 - static_cast<double>(elsewhere_bytes_));
}

Status Grouper::OpenPartitions(size_t count, const std::function<std::string(size_t)>& name) {
  // All or none: partitions_ is what tells Add it spills, so it is set only
  // once every file is open and the mutexes exist (another scanning thread
  // may call Add after a failure here). Files opened before a failure, or
  // before an allocation throws, are closed and removed.
  std::vector<std::FILE*> files;
  std::vector<std::string> paths;
  files.reserve(count);
  paths.reserve(count);
  struct Undo {
    std::vector<std::FILE*>& files;
    std::vector<std::string>& paths;
    bool keep = false;
    ~Undo() {
      if (keep) return;
      for (size_t j = 0; j < files.size(); ++j) {
        std::fclose(files[j]);
        std::remove(paths[j].c_str());
      }
    }
  } undo{files, paths};
  for (size_t i = 0; i < count; ++i) {
    paths.push_back(name(i));
    std::FILE* file = std::fopen(paths.back().c_str(), "w+b");
    if (file == nullptr) {
      const int error = errno;
      std::string path = std::move(paths.back());
      paths.pop_back();
      return InvalidInput(fmt::format("{}: cannot create a spill file: {}", path, std::strerror(error)));
    }
    files.push_back(file);
  }
  partition_mutexes_ = std::make_unique<std::mutex[]>(count);
  partition_bytes_.assign(count, 0);
  if (per_shard_ == 0) per_shard_ = count / shards_;
  partitions_ = std::move(files);
  partition_paths_ = std::move(paths);
  spilling_ = true;
  undo.keep = true;
  return Status();
}

namespace {

template <typename T>
void WriteRaw(char*& cursor, T value) {
  std::memcpy(cursor, &value, sizeof(value));
  cursor += sizeof(value);
}

// A spill file is a run of blocks, one per write (a batch's lines of one
// partition): u32 kBlockMagic, u32 record count, u64 bytes of records, u64
// bytes of text; then the records, each u32 id size, u32 file, u64 line,
// u32 text size and the id; then the texts, in the records' order. The
// records of a block are read back one after another in a few pages,
// instead of one record per line of text: reading each record beside its
// text (the format before) missed the cache and the TLB once per line, 5 %
// of the CPU time of a spilled run at 10k patients.
constexpr uint32_t kBlockMagic = 0x31425052;  // "RPB1" on a little-endian machine
constexpr size_t kBlockHead = 2 * sizeof(uint32_t) + 2 * sizeof(uint64_t);
constexpr size_t kRecordHead = 3 * sizeof(uint32_t) + sizeof(uint64_t);

// GroupByPatient's limit.
constexpr size_t kMaxPartitionLines = size_t{0xffffffff};

Status TooManyLines(std::string_view where) {
  return ResourceExhausted(fmt::format("{}: more than {} lines in one partition: give a smaller --memory", where,
                                       kMaxPartitionLines - 1));
}

template <typename T>
T ReadRaw(const char*& cursor) {
  T value;
  std::memcpy(&value, cursor, sizeof(value));
  cursor += sizeof(value);
  return value;
}

}  // namespace

Status Grouper::Spill(const LineBatch& batch) {
  // Fresh per batch: buffers kept per thread from batch to batch doubled
  // the peak RSS (measured: 277 MB against 148 MB at 10k with 128M).
  // Each block is sized once, and not zero-filled.
  struct Block {
    uint32_t count = 0;
    uint64_t record_bytes = 0, text_bytes = 0;
    std::unique_ptr<char[]> bytes;
    char* record_at = nullptr;  // where the next record goes
    char* text_at = nullptr;    // where the next text goes
    size_t size() const { return kBlockHead + record_bytes + text_bytes; }
  };
  std::vector<uint32_t> partition_of;
  partition_of.reserve(batch.size());
  std::vector<Block> blocks(partitions_.size());
  batch.ForEach([&](const PatientLine& line, uint64_t hash) {
    const size_t partition = (hash % shards_) * per_shard_ + (hash >> 32) % per_shard_;
    partition_of.push_back(static_cast<uint32_t>(partition));
    Block& block = blocks[partition];
    ++block.count;
    block.record_bytes += kRecordHead + line.patient_id.size();
    block.text_bytes += line.text.size();
  });
  for (Block& block : blocks) {
    if (block.count == 0) continue;
    block.bytes = std::make_unique_for_overwrite<char[]>(block.size());
    block.record_at = block.bytes.get();
    WriteRaw<uint32_t>(block.record_at, kBlockMagic);
    WriteRaw<uint32_t>(block.record_at, block.count);
    WriteRaw<uint64_t>(block.record_at, block.record_bytes);
    WriteRaw<uint64_t>(block.record_at, block.text_bytes);
    block.text_at = block.record_at + block.record_bytes;
  }
  size_t next = 0;
  batch.ForEach([&](const PatientLine& line, uint64_t) {
    Block& block = blocks[partition_of[next++]];
    WriteRaw<uint32_t>(block.record_at, static_cast<uint32_t>(line.patient_id.size()));
    WriteRaw<uint32_t>(block.record_at, line.file);
    WriteRaw<uint64_t>(block.record_at, line.line);
    WriteRaw<uint32_t>(block.record_at, static_cast<uint32_t>(line.text.size()));
    std::memcpy(block.record_at, line.patient_id.data(), line.patient_id.size());
    block.record_at += line.patient_id.size();
    std::memcpy(block.text_at, line.text.data(), line.text.size());
    block.text_at += line.text.size();
  });
  for (size_t i = 0; i < partitions_.size(); ++i) {
    const Block& block = blocks[i];
    if (block.count == 0) continue;
    // A block is written whole under its partition's lock, so blocks of
    // two threads never interleave; their order in the file does not matter
    // (each partition is grouped by patient when it is read back).
    std::lock_guard<std::mutex> lock(partition_mutexes_[i]);
    if (std::fwrite(block.bytes.get(), 1, block.size(), partitions_[i]) != block.size()) {
      return InvalidInput(fmt::format("{}: cannot write a spill file: {}", partition_paths_[i], std::strerror(errno)));
    }
    spilled_bytes_ += block.size();
    partition_bytes_[i] += block.size();
  }
  return Status();
}

Grouper::MappedFile& Grouper::MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    MappedFile released(std::move(*this));
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Grouper::MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

Status Grouper::ReadPartition(size_t index, ReadBack& into) {
  // The partition's files: a shuffle's partition is the map tasks' files,
  // one after another (kept: a reduce task that fails can run again); a
  // spilled one is this Grouper's own file (removed once read).
  const bool own = partition_sources_.empty();
  const std::vector<std::string> own_path = own ? std::vector<std::string>{partition_paths_[index]}
                                                : std::vector<std::string>();
  const std::vector<std::string>& paths = own ? own_path : partition_sources_[index];
  // The previous partition's views go first, then its mapping (its buffer
  // is kept for this one).
  into.lines.clear();
  into.patients.clear();
  into.mapped = MappedFile();
  auto cannot_read = [](const std::string& path, int error) {
    return InvalidInput(fmt::format("{}: cannot read back a spill file: {}", path, std::strerror(error)));
  };
  auto cut_short = [](const std::string& path) {
    return InvalidInput(fmt::format("{}: a spill file is cut short (or not one)", path));
  };
  // Each file's size, and so the bytes the partition needs.
  std::vector<size_t> sizes;
  sizes.reserve(paths.size());
  const char* data = nullptr;
  if (own) {
    // This Grouper's own spill file is mapped: its pages are in the page
    // cache already, just written, and a read copied them all once more.
    if (partitions_[index] == nullptr) return InvalidInput(fmt::format("{}: already read back", paths[0]));
    if (std::fflush(partitions_[index]) != 0) {
      return InvalidInput(fmt::format("{}: cannot write a spill file: {}", paths[0], std::strerror(errno)));
    }
    const int fd = fileno(partitions_[index]);
    struct stat status {};
    if (::fstat(fd, &status) != 0) return cannot_read(paths[0], errno);
    sizes.push_back(static_cast<size_t>(status.st_size));
    if (sizes[0] > 0) {
      void* mapped = ::mmap(nullptr, sizes[0], PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (mapped != MAP_FAILED) {
        into.mapped = MappedFile(static_cast<const char*>(mapped), sizes[0]);
        data = into.mapped.data();
      }
    }
  } else {
    for (size_t i = 0; i < paths.size(); ++i) {
      // (Checked by FromFiles too; the file may have changed since.)
      RP_ASSIGN_OR_RETURN(size_t size, ShuffleFileSize(paths[i], source_sizes_[index][i]));
      sizes.push_back(size);
    }
  }
  size_t total = 0;
  for (size_t size : sizes) total += size;
  if (data == nullptr) {
    // A shuffle's files come from other processes, maybe over a shared file
    // system, where a mapped file that fails or shrinks would kill the
    // process (SIGBUS) instead of failing the read: they are read, one at a
    // time (a reduce of many map tasks opens one at once), into a buffer
    // reused (grown, never zero-filled) from partition to partition, since a
    // fresh one per partition costs a zeroed page per 4 kB. So is a spill
    // file the kernel will not map.
    if (total > into.capacity) {
      into.buffer.reset();  // the old one goes before the new one comes
      into.buffer.reset(new char[total + total / 16]);
      into.capacity = total + total / 16;
    }
    size_t offset = 0;
    for (size_t i = 0; i < paths.size(); ++i) {
      const int fd = own ? ::fcntl(fileno(partitions_[index]), F_DUPFD_CLOEXEC, 0)
                         : ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return InvalidInput(fmt::format("{}: cannot open a spill file: {}", paths[i], std::strerror(errno)));
      }
      struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
      } closer{fd};
      for (size_t done = 0; done < sizes[i];) {
        const ssize_t got =
            ::pread(fd, into.buffer.get() + offset + done, sizes[i] - done, static_cast<off_t>(done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return cannot_read(paths[i], errno);
        if (got == 0) return cut_short(paths[i]);  // shorter than it was a moment ago
        done += static_cast<size_t>(got);
      }
      offset += sizes[i];
    }
    data = into.buffer.get();
  }
  // Blocks are checked against the end of their own file (a shuffle file
  // comes from another process and may have been cut short), and their
  // records against the block's sizes.
  auto corrupt = [](const std::string& path, size_t at) {
    return InvalidInput(
        fmt::format("{}: a spill file is not one of this version, or is damaged, at byte {}", path, at));
  };
  size_t offset = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    const char* const file_start = data + offset;
    const char* cursor = file_start;
    const char* const end = cursor + sizes[i];
    offset += sizes[i];
    while (cursor < end) {
      const size_t block_at = static_cast<size_t>(cursor - file_start);
      if (static_cast<size_t>(end - cursor) < kBlockHead) return cut_short(paths[i]);
      if (ReadRaw<uint32_t>(cursor) != kBlockMagic) return corrupt(paths[i], block_at);
      const uint32_t count = ReadRaw<uint32_t>(cursor);
      const uint64_t record_bytes = ReadRaw<uint64_t>(cursor);
      const uint64_t text_bytes = ReadRaw<uint64_t>(cursor);
      const size_t left = static_cast<size_t>(end - cursor);
      if (record_bytes > left || text_bytes > left - record_bytes) return cut_short(paths[i]);
      const char* record = cursor;
      const char* const records_end = cursor + record_bytes;
      const char* text = records_end;
      const char* const texts_end = records_end + text_bytes;
      for (uint32_t k = 0; k < count; ++k) {
        if (static_cast<size_t>(records_end - record) < kRecordHead) return corrupt(paths[i], block_at);
        PatientLine line;
        const uint32_t id_size = ReadRaw<uint32_t>(record);
        line.file = ReadRaw<uint32_t>(record);
        line.line = ReadRaw<uint64_t>(record);
        const uint32_t text_size = ReadRaw<uint32_t>(record);
        if (static_cast<size_t>(records_end - record) < id_size ||
            static_cast<size_t>(texts_end - text) < text_size) {
          return corrupt(paths[i], block_at);
        }
        line.patient_id = std::string_view(record, id_size);
        record += id_size;
        line.text = std::string_view(text, text_size);
        text += text_size;
        into.lines.push_back(line);
      }
      if (record != records_end || text != texts_end) return corrupt(paths[i], block_at);
      cursor = texts_end;
    }
  }
  if (own) {
    std::fclose(partitions_[index]);
    partitions_[index] = nullptr;
    std::remove(partition_paths_[index].c_str());  // the mapping keeps its pages until released
  }
  return Status();
}

Status Grouper::GatherSlice(size_t slice, ReadBack& into) const {
  into.lines.clear();
  into.patients.clear();
  size_t count = 0;
  for (const LineBatch& batch : held_) {
    const auto [begin, end] = batch.SliceRange(slice, held_slices_);
    count += end - begin;
  }
  if (count >= kMaxPartitionLines) return TooManyLines("the lines held in memory");
  // Sized once: growing it (fresh pages, copies) showed between the scan
  // and the assessment.
  into.lines.reserve(count);
  for (const LineBatch& batch : held_) batch.AppendSliceTo(into.lines, slice, held_slices_);
  return Status();
}

Status Grouper::ForEachPartition(
    const std::function<Status(std::vector<PatientLine>& lines, const std::vector<PatientGroup>& patients)>&
        visit) {
  // Two ReadBacks take turns: partition i+1 is read back (or, nothing
  // spilled, slice i+1 of the lines held is gathered) while partition i is
  // visited (reading 2 GB back one partition after another was a
  // one-thread phase between the parallel ones; so was gathering and
  // grouping every line held: with it, 0.7-1.0 s of core time idle at 10k
  // patients held in memory and 2 jobs, 0.24-0.36 s without).
  // The reading thread also groups what it read, so that too is off the
  // visiting thread's path. One reader thread serves the whole run (a
  // thread per partition left more memory with the allocator: 320 threads
  // at 100k patients).
  const bool held = partitions_.empty();
  auto read_and_group = [&](size_t index, ReadBack& into) -> Status {
    try {
      if (held) {
        RP_RETURN_IF_ERROR(GatherSlice(index, into));
      } else {
        RP_RETURN_IF_ERROR(ReadPartition(index, into));
        if (into.lines.size() >= kMaxPartitionLines) return TooManyLines(partition_paths_[index]);
      }
      into.patients = GroupByPatient(into.lines);
    } catch (const std::bad_alloc&) {
      if (held) return ResourceExhausted("no memory to group the lines held");
      return ResourceExhausted(
          fmt::format("{}: no memory to read the partition back", partition_paths_[index]));
    }
    return Status();
  };
  const size_t count = visits();
  ReadBack buffers[2];
  RP_RETURN_IF_ERROR(read_and_group(0, buffers[0]));
  std::mutex mutex;
  std::condition_variable changed;
  size_t read_up_to = 1;     // partitions [0, read_up_to) are read and grouped
  size_t visited_up_to = 0;  // partitions [0, visited_up_to) are visited
  bool stop = false;
  Status read_status;
  auto read_ahead = [&] {
    // Its CPU time is the run's too (reader_cpu_seconds), whichever way it ends.
    struct CountCpu {
      std::atomic<uint64_t>& total;
      ~CountCpu() { total += ThreadCpuNanos(); }
    } count_cpu{reader_cpu_nanos_};
    for (size_t i = 1; i < count; ++i) {
      {
        // buffers[i % 2] is free once partition i - 2 has been visited.
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return stop || visited_up_to + 1 >= i; });
        if (stop) return;
      }
      Status status = read_and_group(i, buffers[i % 2]);
      std::lock_guard<std::mutex> lock(mutex);
      if (!status.ok()) {
        read_status = std::move(status);
        changed.notify_all();
        return;
      }
      read_up_to = i + 1;
      changed.notify_all();
    }
  };
  std::thread reader;
  if (count > 1) {
    try {
      reader = start_thread_ ? start_thread_(read_ahead) : std::thread(read_ahead);
    } catch (...) {
      // The system will not start it: each partition is read just before
      // its visit, on this thread.
    }
  }
  Status result;
  {
    // On every way out, an exception from `visit` included, the reader is
    // told to stop and joined (a joinable thread destroyed ends the process).
    struct StopReader {
      std::mutex& mutex;
      std::condition_variable& changed;
      bool& stop;
      std::thread& reader;
      ~StopReader() {
        {
          std::lock_guard<std::mutex> lock(mutex);
          stop = true;
          changed.notify_all();
        }
        if (reader.joinable()) reader.join();
      }
    } stop_reader{mutex, changed, stop, reader};
    for (size_t i = 0; i < count; ++i) {
      if (i > 0 && !reader.joinable()) {
        // buffers[i % 2] held partition i - 2, visited.
        if (Status status = read_and_group(i, buffers[i % 2]); !status.ok()) {
          result = std::move(status);
          break;
        }
        read_up_to = i + 1;
      }
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return read_up_to > i || !read_status.ok(); });
        if (read_up_to <= i) {
          result = read_status;
          break;
        }
      }
      Status visited = visit(buffers[i % 2].lines, buffers[i % 2].patients);
      std::lock_guard<std::mutex> lock(mutex);
      if (!visited.ok()) {
        result = std::move(visited);
        break;
      }
      visited_up_to = i + 1;
      changed.notify_all();
    }
  }
  if (held) {
    held_.clear();
    held_bytes_ = 0;
  }
  return result;
}

}  // namespace regenpath::screen
