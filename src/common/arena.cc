#include "common/arena.h"

#include <algorithm>

namespace regenpath {

void Arena::NewBlock(size_t min_bytes) {
  // Blocks double up to 1 MiB so that small documents stay small and large
  // ones do not pay for thousands of blocks.
  size_t size = std::max(min_bytes, next_block_bytes_);
  next_block_bytes_ = std::min<size_t>(next_block_bytes_ * 2, size_t{1} << 20);
  blocks_.push_back(std::unique_ptr<char[]>(new char[size]));
  current_ = blocks_.back().get();
  capacity_ = size;
  used_ = 0;
}

void Arena::Reset() {
  if (blocks_.empty()) return;
  // Keep the last (largest) block: evaluations of similar size reuse it.
  std::unique_ptr<char[]> keep = std::move(blocks_.back());
  blocks_.clear();
  blocks_.push_back(std::move(keep));
  current_ = blocks_.back().get();
  used_ = 0;
  bytes_allocated_ = 0;
}

}  // namespace regenpath
