// Arena: a bump allocator for many small, immutable objects that all die together.
//
// Used for parsed FHIR documents (nodes and unescaped strings) and for the
// per-evaluation scratch of FHIRPath. Only trivially destructible types may be
// allocated: the arena never runs destructors. Memory is returned when the
// arena is destroyed or Reset().
//
// Thread-safety: none; an arena belongs to one thread at a time.
#ifndef REGENPATH_COMMON_ARENA_H_
#define REGENPATH_COMMON_ARENA_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>
#include <vector>

namespace regenpath {

class Arena {
 public:
  explicit Arena(size_t first_block_bytes = 4096) : next_block_bytes_(first_block_bytes) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  // Returns `bytes` of uninitialized memory aligned to `align`, valid until the
  // arena is destroyed or Reset().
  void* Allocate(size_t bytes, size_t align = alignof(std::max_align_t)) {
    size_t offset = (used_ + align - 1) & ~(align - 1);
    if (current_ == nullptr || offset + bytes > capacity_) {
      NewBlock(bytes + align);
      offset = (used_ + align - 1) & ~(align - 1);
    }
    used_ = offset + bytes;
    bytes_allocated_ += bytes;
    return current_ + offset;
  }

  // Constructs a T in the arena. T must be trivially destructible.
  template <typename T, typename... Args>
  T* New(Args&&... args) {
    static_assert(std::is_trivially_destructible_v<T>, "the arena never runs destructors");
    return new (Allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }

  // Returns an uninitialized array of `count` T (T trivially destructible).
  template <typename T>
  T* NewArray(size_t count) {
    static_assert(std::is_trivially_destructible_v<T>, "the arena never runs destructors");
    if (count == 0) return nullptr;
    return static_cast<T*>(Allocate(sizeof(T) * count, alignof(T)));
  }

  // Copies `text` into the arena; the view stays valid as long as the arena.
  std::string_view CopyString(std::string_view text) {
    if (text.empty()) return std::string_view();
    char* data = static_cast<char*>(Allocate(text.size(), 1));
    std::memcpy(data, text.data(), text.size());
    return std::string_view(data, text.size());
  }

  // Frees every block but the largest, which is kept for reuse.
  void Reset();

  // Bytes handed out since construction or the last Reset().
  size_t bytes_allocated() const { return bytes_allocated_; }

 private:
  void NewBlock(size_t min_bytes);

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* current_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
  size_t next_block_bytes_;
  size_t bytes_allocated_ = 0;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_ARENA_H_
