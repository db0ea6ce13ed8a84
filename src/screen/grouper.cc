#include "screen/grouper.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <new>

#include <sys/mman.h>
#include <sys/resource.h>

#include "screen/compartment.h"

namespace regenpath::screen {

LineBatch::LineBatch(size_t capacity) {
  constexpr size_t kHugePage = size_t{2} << 20;
  capacity_ = (std::max(capacity, size_t{1}) + kHugePage - 1) / kHugePage * kHugePage;
  data_.reset(static_cast<char*>(std::aligned_alloc(kHugePage, capacity_)));
  if (data_ == nullptr) throw std::bad_alloc();
  madvise(data_.get(), capacity_, MADV_HUGEPAGE);
}

void LineBatch::Add(std::string_view patient_id, uint32_t file, uint64_t line, std::string_view text) {
  entries_.push_back(Entry{file, static_cast<uint32_t>(patient_id.size()), line, size_,
                           static_cast<uint32_t>(text.size())});
  std::memcpy(data_.get() + size_, patient_id.data(), patient_id.size());
  std::memcpy(data_.get() + size_ + patient_id.size(), text.data(), text.size());
  size_ += patient_id.size() + text.size();
}

void LineBatch::ForEach(const std::function<void(const PatientLine&)>& visit) const {
  for (const Entry& entry : entries_) {
    std::string_view id(data_.get() + entry.offset, entry.id_size);
    std::string_view text(data_.get() + entry.offset + entry.id_size, entry.text_size);
    visit(PatientLine{id, entry.file, entry.line, text});
  }
}

Grouper::Grouper(size_t budget_bytes, uint64_t expected_bytes, std::string spill_dir)
    : budget_bytes_(budget_bytes), expected_bytes_(expected_bytes), spill_dir_(std::move(spill_dir)) {}

Grouper::~Grouper() {
  for (std::FILE* file : partitions_) {
    if (file != nullptr) std::fclose(file);
  }
  for (const std::string& path : partition_paths_) std::remove(path.c_str());
}

Status Grouper::Add(LineBatch batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!partitions_.empty()) return Spill(batch);
  held_bytes_ += batch.bytes();
  held_.push_back(std::move(batch));
  if (held_bytes_ > budget_bytes_ / 2) return StartSpilling();
  return Status();
}

Status Grouper::StartSpilling() {
  // Each partition, read back, should take at most a quarter of the budget.
  const uint64_t target = std::max<uint64_t>(budget_bytes_ / 4, 1);
  const uint64_t expected = std::max<uint64_t>(expected_bytes_, held_bytes_ * 2);
  // At most 1024 partitions, and never more than the open-file limit leaves
  // room for (each partition holds a file open until it is read back).
  uint64_t most = 1024;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    most = std::clamp<uint64_t>(limit.rlim_cur > 128 ? limit.rlim_cur - 128 : 2, 2, most);
  }
  const size_t count = static_cast<size_t>(std::clamp<uint64_t>((expected + target - 1) / target, 2, most));
  for (size_t i = 0; i < count; ++i) {
    std::string path = fmt::format("{}/partition-{:04}.bin", spill_dir_, i);
    std::FILE* file = std::fopen(path.c_str(), "w+b");
    if (file == nullptr) {
      return InvalidInput(fmt::format("{}: cannot create a spill file: {}", path, std::strerror(errno)));
    }
    partitions_.push_back(file);
    partition_paths_.push_back(std::move(path));
  }
  for (const LineBatch& batch : held_) RP_RETURN_IF_ERROR(Spill(batch));
  held_.clear();
  held_.shrink_to_fit();
  held_bytes_ = 0;
  return Status();
}

namespace {

template <typename T>
void AppendRaw(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
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
  std::vector<std::string> buffers(partitions_.size());
  batch.ForEach([&](const PatientLine& line) {
    std::string& out = buffers[(PatientHash(line.patient_id) >> 32) % partitions_.size()];
    AppendRaw<uint32_t>(out, static_cast<uint32_t>(line.patient_id.size()));
    out.append(line.patient_id);
    AppendRaw<uint32_t>(out, line.file);
    AppendRaw<uint64_t>(out, line.line);
    AppendRaw<uint32_t>(out, static_cast<uint32_t>(line.text.size()));
    out.append(line.text);
  });
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].empty()) continue;
    if (std::fwrite(buffers[i].data(), 1, buffers[i].size(), partitions_[i]) != buffers[i].size()) {
      return InvalidInput(fmt::format("{}: cannot write a spill file: {}", partition_paths_[i], std::strerror(errno)));
    }
    spilled_bytes_ += buffers[i].size();
  }
  return Status();
}

Status Grouper::ForEachPartition(const std::function<Status(std::vector<PatientLine>&)>& visit) {
  std::vector<PatientLine> lines;
  if (partitions_.empty()) {
    for (const LineBatch& batch : held_) batch.ForEach([&](const PatientLine& line) { lines.push_back(line); });
    RP_RETURN_IF_ERROR(visit(lines));
    held_.clear();
    return Status();
  }
  // One buffer serves every partition, grown (never zero-filled) to the
  // largest: a fresh ~budget/4 allocation per partition left the allocator
  // holding freed ones beside the new one, and peak RSS grew with the
  // number of partitions.
  std::unique_ptr<char[]> buffer;
  size_t buffer_capacity = 0;
  for (size_t i = 0; i < partitions_.size(); ++i) {
    std::FILE* file = partitions_[i];
    if (std::fflush(file) != 0 || std::fseek(file, 0, SEEK_END) != 0) {
      return InvalidInput(fmt::format("{}: cannot read back a spill file", partition_paths_[i]));
    }
    long size = std::ftell(file);
    std::rewind(file);
    const size_t data_size = static_cast<size_t>(std::max(size, 0L));
    if (data_size > buffer_capacity) {
      buffer.reset();  // the old one goes before the new one comes
      buffer_capacity = data_size + data_size / 16;
      buffer.reset(new char[buffer_capacity]);
    }
    std::string_view data(buffer.get(), data_size);
    if (data_size > 0 && std::fread(buffer.get(), 1, data_size, file) != data_size) {
      return InvalidInput(fmt::format("{}: cannot read back a spill file", partition_paths_[i]));
    }
    std::fclose(file);
    partitions_[i] = nullptr;
    std::remove(partition_paths_[i].c_str());
    lines.clear();
    const char* cursor = data.data();
    const char* end = data.data() + data.size();
    while (cursor < end) {
      PatientLine line;
      uint32_t id_size = ReadRaw<uint32_t>(cursor);
      line.patient_id = std::string_view(cursor, id_size);
      cursor += id_size;
      line.file = ReadRaw<uint32_t>(cursor);
      line.line = ReadRaw<uint64_t>(cursor);
      uint32_t text_size = ReadRaw<uint32_t>(cursor);
      line.text = std::string_view(cursor, text_size);
      cursor += text_size;
      lines.push_back(line);
    }
    RP_RETURN_IF_ERROR(visit(lines));
  }
  return Status();
}

}  // namespace regenpath::screen
