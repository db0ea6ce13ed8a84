#include "screen/line_reader.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace regenpath::screen {

namespace {

constexpr size_t kPadding = 64;
constexpr size_t kChunk = size_t{4} << 20;

// gzread reads plain files as they are, so one reader serves both.
class GzFile {
 public:
  explicit GzFile(gzFile file) : file_(file) {}
  ~GzFile() {
    if (file_ != nullptr) gzclose(file_);
  }
  gzFile get() const { return file_; }

 private:
  gzFile file_;
};

}  // namespace

Status ForEachLine(const std::string& path, const LineVisitor& visit, uint64_t* bytes_read) {
  gzFile raw = gzopen(path.c_str(), "rb");
  if (raw == nullptr) {
    return InvalidInput(fmt::format("{}: cannot open: {}", path, errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  GzFile file(raw);
  gzbuffer(raw, 256 << 10);
  // Not zero-filled (that showed in profiles: 4 MB per file): the bytes a
  // visitor may read past a line are set after each read instead.
  size_t capacity = kChunk + kPadding;
  std::unique_ptr<char[]> buffer(new char[capacity]);
  size_t filled = 0;       // bytes of buffer holding data
  uint64_t line_number = 0;
  bool at_end = false;
  while (!at_end) {
    if (filled + kPadding >= capacity) {  // one very long line
      std::unique_ptr<char[]> larger(new char[capacity * 2]);
      std::memcpy(larger.get(), buffer.get(), filled);
      buffer = std::move(larger);
      capacity *= 2;
    }
    const size_t room = capacity - kPadding - filled;
    int got = gzread(raw, buffer.get() + filled, static_cast<unsigned>(std::min<size_t>(room, 1u << 30)));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(raw, &code);
      return InvalidInput(fmt::format("{}: read error: {}", path,
                                      code == Z_ERRNO ? std::strerror(errno) : std::string(message)));
    }
    if (got == 0) {
      int code = 0;
      const char* message = gzerror(raw, &code);
      if (code != Z_OK && code != Z_STREAM_END) {
        return InvalidInput(fmt::format("{}: read error: {}", path, message));
      }
      at_end = true;
    }
    if (bytes_read != nullptr) *bytes_read += static_cast<uint64_t>(got);
    filled += static_cast<size_t>(got);
    // simdjson may read up to kPadding bytes past a line: the bytes after the
    // data are defined (their value does not matter).
    std::memset(buffer.get() + filled, 0, kPadding);
    // Lines complete in the buffer (all of it at the end of the file).
    size_t start = 0;
    while (start < filled) {
      const char* newline = static_cast<const char*>(std::memchr(buffer.get() + start, '\n', filled - start));
      if (newline == nullptr && !at_end) break;
      size_t end = newline == nullptr ? filled : static_cast<size_t>(newline - buffer.get());
      ++line_number;
      std::string_view line(buffer.get() + start, end - start);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
      }
      size_t first = line.find_first_not_of(" \t");
      if (first != std::string_view::npos) {
        line.remove_prefix(first);
        visit(line_number, line, filled + kPadding - static_cast<size_t>(line.data() - buffer.get()));
      }
      start = end + 1;
    }
    if (start >= filled) {
      filled = 0;
    } else if (start > 0) {
      std::memmove(buffer.get(), buffer.get() + start, filled - start);
      filled -= start;
    }
  }
  // A truncated gzip member reads as a short file: zlib reports it here.
  int code = 0;
  const char* message = gzerror(raw, &code);
  if (code != Z_OK && code != Z_STREAM_END) return InvalidInput(fmt::format("{}: read error: {}", path, message));
  return Status();
}

}  // namespace regenpath::screen
