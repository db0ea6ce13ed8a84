#include "screen/line_reader.h"

#include <fmt/format.h>
#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "fhir/parser.h"

namespace regenpath::screen {

namespace {

constexpr size_t kPadding = 64;
constexpr size_t kChunk = size_t{4} << 20;

// An open file descriptor, closed when it goes.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

// read(2) and pread(2) that retry when interrupted.
ssize_t ReadRetrying(int fd, void* into, size_t size) {
  ssize_t got = 0;
  do {
    got = ::read(fd, into, size);
  } while (got < 0 && errno == EINTR);
  return got;
}
ssize_t PreadRetrying(int fd, void* into, size_t size, uint64_t offset) {
  ssize_t got = 0;
  do {
    got = ::pread(fd, into, size, static_cast<off_t>(offset));
  } while (got < 0 && errno == EINTR);
  return got;
}

// Whether the `size` bytes at `head` are the gzip magic.
bool IsGzipMagic(const char* head, size_t size) {
  return size == 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

// Whether the file open as `fd` starts with the gzip magic; -1 (errno set)
// when it cannot be read.
int StartsWithGzipMagic(int fd) {
  char magic[2] = {0, 0};
  const ssize_t got = PreadRetrying(fd, magic, 2, 0);
  if (got < 0) return -1;
  return IsGzipMagic(magic, static_cast<size_t>(got)) ? 1 : 0;
}

// Up to `room` bytes of the file open as `fd` (named `name`) from where it
// stands: the count, 0 at its end.
Result<size_t> ReadPlain(int fd, const std::string& name, char* into, size_t room) {
  const ssize_t got = ReadRetrying(fd, into, room);
  if (got < 0) return Fail(InvalidInput(fmt::format("{}: read error: {}", name, std::strerror(errno))));
  return static_cast<size_t>(got);
}

// A gzip file's text, read with zlib's inflate: one member after another
// (as gzip writes them when files are concatenated), then at most zero
// bytes (padding), and nothing else, so that bytes after a member that do
// not begin another (text appended, a damaged member) fail the read instead
// of ending it early, as gzread does.
class GzipText {
 public:
  // `seed`: bytes of the file already read from `fd` (at most kInput), its
  // first; the rest is read from `fd` as it stands.
  GzipText(int fd, const std::string& path, std::string_view seed = {})
      : fd_(fd), path_(path), input_(new unsigned char[kInput]) {
    if (!seed.empty()) std::memcpy(input_.get(), seed.data(), std::min(seed.size(), kInput));
    stream_.next_in = input_.get();
    stream_.avail_in = static_cast<unsigned>(std::min(seed.size(), kInput));
  }
  ~GzipText() {
    if (started_) inflateEnd(&stream_);
  }
  GzipText(const GzipText&) = delete;
  GzipText& operator=(const GzipText&) = delete;

  // Up to `room` bytes of text into `into`: the count, 0 at the end.
  Result<size_t> Read(char* into, size_t room) {
    if (!started_) {
      if (inflateInit2(&stream_, 15 + 16) != Z_OK)
        return Fail(InvalidInput(fmt::format("{}: out of memory", path_)));
      started_ = true;
    }
    stream_.next_out = reinterpret_cast<unsigned char*>(into);
    stream_.avail_out = static_cast<unsigned>(std::min<size_t>(room, 1u << 30));
    const unsigned wanted = stream_.avail_out;
    while (stream_.avail_out == wanted) {
      if (stream_.avail_in == 0 && !file_end_) {
        const ssize_t got = ReadRetrying(fd_, input_.get(), kInput);
        if (got < 0)
          return Fail(InvalidInput(fmt::format("{}: read error: {}", path_, std::strerror(errno))));
        if (got == 0) file_end_ = true;
        stream_.next_in = input_.get();
        stream_.avail_in = static_cast<unsigned>(got);
      }
      if (stream_.avail_in == 0 && file_end_) {
        if (in_member_) {
          return Fail(InvalidInput(
              fmt::format("{}: the gzip data ends early, at byte {} (a truncated file?)", path_, consumed_)));
        }
        break;
      }
      if (!in_member_) {
        // Zero bytes after a member (padding, as some tools write to a
        // block size) end the text, as gzip takes them.
        while (stream_.avail_in > 0 && *stream_.next_in == 0) {
          ++stream_.next_in;
          --stream_.avail_in;
          ++consumed_;
        }
        if (stream_.avail_in == 0) continue;
        // Another member begins here (inflate checks its header).
        if (inflateReset(&stream_) != Z_OK)
          return Fail(InvalidInput(fmt::format("{}: out of memory", path_)));
        in_member_ = true;
        member_start_ = consumed_;
      }
      const unsigned before = stream_.avail_in;
      const int code = inflate(&stream_, Z_NO_FLUSH);
      consumed_ += before - stream_.avail_in;
      if (code == Z_STREAM_END) {
        in_member_ = false;
      } else if (code == Z_DATA_ERROR && member_start_ > 0 && consumed_ - member_start_ <= 10) {
        return Fail(InvalidInput(fmt::format(
            "{}: the bytes after the gzip data (from byte {}) are not gzip: a damaged or appended part",
            path_, member_start_)));
      } else if (code != Z_OK && code != Z_BUF_ERROR) {
        return Fail(InvalidInput(fmt::format("{}: corrupt gzip data near byte {}: {}", path_, consumed_,
                                             stream_.msg != nullptr ? stream_.msg : "inflate failed")));
      }
    }
    return static_cast<size_t>(wanted - stream_.avail_out);
  }

 private:
  static constexpr size_t kInput = size_t{256} << 10;
  int fd_;
  const std::string& path_;
  std::unique_ptr<unsigned char[]> input_;
  z_stream stream_{};
  bool started_ = false;
  bool file_end_ = false;
  bool in_member_ = false;
  uint64_t consumed_ = 0;      // bytes of the file given to inflate
  uint64_t member_start_ = 0;  // where the current member began
};

}  // namespace

bool IsGzip(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  FdCloser closer{fd};
  return StartsWithGzipMagic(fd) == 1;
}

namespace {

// The first newline in [from, to) of `fd` (`path` names it in errors), or
// nullopt. Reads 4 KB, then windows twice as large up to 1 MB (a line may be
// long; most bounds are found in the first).
Result<std::optional<uint64_t>> FindNewline(int fd, const std::string& path, uint64_t from, uint64_t to) {
  std::vector<char> window(4096);
  for (uint64_t at = from; at < to;) {
    const size_t wanted = static_cast<size_t>(std::min<uint64_t>(window.size(), to - at));
    const ssize_t got = PreadRetrying(fd, window.data(), wanted, at);
    if (got < 0) return Fail(InvalidInput(fmt::format("{}: read error: {}", path, std::strerror(errno))));
    if (got == 0) break;  // (the file is shorter now)
    if (const void* newline = std::memchr(window.data(), '\n', static_cast<size_t>(got))) {
      return std::optional<uint64_t>(
          at + static_cast<uint64_t>(static_cast<const char*>(newline) - window.data()));
    }
    at += static_cast<uint64_t>(got);
    if (window.size() < (size_t{1} << 20)) window.resize(window.size() * 2);
  }
  return std::optional<uint64_t>();
}

}  // namespace

Result<std::pair<uint64_t, uint64_t>> LinesStartingIn(const std::string& path, uint64_t size, uint64_t begin,
                                                      uint64_t end) {
  end = std::min(end, size);
  if (begin >= end) return std::pair<uint64_t, uint64_t>(end, end);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  FdCloser closer{fd};
  // The first line start in [begin, end): `begin` itself when it is one.
  uint64_t first = 0;
  if (begin > 0) {
    RP_ASSIGN_OR_RETURN(std::optional<uint64_t> newline, FindNewline(fd, path, begin - 1, end - 1));
    if (!newline) return std::pair<uint64_t, uint64_t>(end, end);
    first = *newline + 1;
  }
  // The first line start at or after `end`.
  uint64_t last = size;
  if (end < size) {
    RP_ASSIGN_OR_RETURN(std::optional<uint64_t> newline, FindNewline(fd, path, end - 1, size));
    if (newline) last = std::min(size, *newline + 1);
  }
  return std::pair<uint64_t, uint64_t>(first, last);
}

namespace {

struct SpareBuffer {
  std::unique_ptr<char[]> buffer;
  size_t capacity = 0;
};

SpareBuffer& Spare() {
  thread_local SpareBuffer spare;
  return spare;
}

// A thread's read buffer, kept between files and pieces: a fresh 4 MB
// buffer per piece cost the kernel a zeroed page per 4 kB touched (7-8 % of
// a screen's CPU in profiles). Not zero-filled either: the bytes a visitor
// may read past a line are set after each read instead. A reader nested in
// another's visitor finds the slot empty and allocates its own.
class ChunkBuffer {
 public:
  ChunkBuffer() : buffer_(std::move(Spare().buffer)), capacity_(Spare().capacity) {
    Spare().capacity = 0;
    if (buffer_ == nullptr || capacity_ < kChunk + kPadding) {
      capacity_ = kChunk + kPadding;
      buffer_.reset(new char[capacity_]);
    }
  }
  ~ChunkBuffer() {
    // Only a buffer of the usual size is kept: one very long line does not
    // hold its memory for the thread's life.
    if (capacity_ == kChunk + kPadding) {
      Spare().buffer = std::move(buffer_);
      Spare().capacity = capacity_;
    }
  }
  ChunkBuffer(const ChunkBuffer&) = delete;
  ChunkBuffer& operator=(const ChunkBuffer&) = delete;

  char* get() const { return buffer_.get(); }
  size_t capacity() const { return capacity_; }
  // Doubles the buffer, keeping its first `filled` bytes.
  void Grow(size_t filled) {
    std::unique_ptr<char[]> larger(new char[capacity_ * 2]);
    std::memcpy(larger.get(), buffer_.get(), filled);
    buffer_ = std::move(larger);
    capacity_ *= 2;
  }

 private:
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
};

// Splits what `read` gives (up to n bytes into a buffer: the count, 0 at the
// end, or a failed Result) into lines for `visit`. (A byte-order mark
// before any line, the file's first or another, is left out of it: TrimLine.)
template <typename Read>
Status SplitLines(Read&& read, const LineVisitor& visit, uint64_t* bytes_read, uint64_t* lines) {
  ChunkBuffer buffer;
  size_t filled = 0;       // bytes of buffer holding data
  uint64_t line_number = 0;
  bool at_end = false;
  while (!at_end) {
    if (filled + kPadding >= buffer.capacity()) buffer.Grow(filled);  // one very long line
    const size_t room = buffer.capacity() - kPadding - filled;
    Result<size_t> read_now = read(buffer.get() + filled, room);
    if (!read_now.has_value()) return read_now.error();
    const size_t got = *read_now;
    if (got == 0) at_end = true;
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
      const std::string_view line = TrimLine(std::string_view(buffer.get() + start, end - start));
      if (!line.empty()) {
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
  if (lines != nullptr) *lines = line_number;
  return Status();
}

}  // namespace

void ReleaseReadBuffer() { Spare() = SpareBuffer{}; }

std::string_view TrimLine(std::string_view line) { return fhir::NdjsonLineContent(line); }

Status ForEachLine(const std::string& path, const LineVisitor& visit, uint64_t* bytes_read) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  FdCloser closer{fd};
  const int gzip = StartsWithGzipMagic(fd);
  if (gzip < 0) return InvalidInput(fmt::format("{}: read error: {}", path, std::strerror(errno)));
  if (gzip == 1) {
    GzipText text(fd, path);
    return SplitLines([&](char* into, size_t room) { return text.Read(into, room); }, visit, bytes_read,
                      nullptr);
  }
  return SplitLines([&](char* into, size_t room) { return ReadPlain(fd, path, into, room); }, visit,
                    bytes_read, nullptr);
}

Result<std::string> ReadWholeText(const std::string& path, size_t max_bytes) {
  const bool in = path == "-";
  const std::string name = in ? "<stdin>" : path;
  const int fd = in ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(InvalidInput(fmt::format("{}: cannot open: {}", name, std::strerror(errno))));
  std::optional<FdCloser> closer;
  if (!in) closer.emplace(fd);  // (in place: a copy would close it twice)
  struct stat info;
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    return Fail(InvalidInput(fmt::format("{}: is a directory, not a file", name)));
  }
  // Read on until `read` gives nothing more, growing `text` a chunk at a
  // time, at most max_bytes + 1 bytes held.
  std::string text;
  auto fill = [&](auto&& read) -> Status {
    for (;;) {
      const size_t filled = text.size();
      if (filled > max_bytes) {
        return ResourceExhausted(fmt::format("{}: the text is larger than {} bytes", name, max_bytes));
      }
      const size_t room = std::min(std::max<size_t>(filled, size_t{1} << 20), max_bytes + 1 - filled);
      // Grown here, not by the string's doubling, which would pass max_bytes
      // by up to as much again: doubled while below it, then to it.
      if (filled + room > text.capacity()) {
        const size_t doubled = std::max(2 * text.capacity(), filled + room);
        text.reserve(doubled >= max_bytes ? max_bytes + 1 : doubled);
      }
      text.resize(filled + room);
      Result<size_t> got = read(text.data() + filled, room);
      if (!got.has_value()) return got.error();
      text.resize(filled + *got);
      if (*got == 0) return Status();
    }
  };
  auto plain = [&](char* into, size_t room) { return ReadPlain(fd, name, into, room); };
  // The first bytes say which (read, not looked at in place: a pipe will do).
  char head[2];
  size_t head_size = 0;
  while (head_size < 2) {
    Result<size_t> got = plain(head + head_size, 2 - head_size);
    if (!got.has_value()) return Fail(got.error());
    if (*got == 0) break;
    head_size += *got;
  }
  if (IsGzipMagic(head, head_size)) {
    GzipText gzip(fd, name, std::string_view(head, 2));
    RP_RETURN_IF_ERROR(fill([&](char* into, size_t room) { return gzip.Read(into, room); }));
  } else {
    text.assign(head, head_size);
    RP_RETURN_IF_ERROR(fill(plain));
  }
  return text;
}

Status ForEachLineInRange(const std::string& path, uint64_t begin, uint64_t end, const LineVisitor& visit,
                          uint64_t* bytes_read, uint64_t* lines) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  FdCloser closer{fd};
  uint64_t offset = begin;
  auto read = [&](char* into, size_t room) -> Result<size_t> {
    const size_t wanted = static_cast<size_t>(std::min<uint64_t>(room, end - offset));
    if (wanted == 0) return size_t{0};
    const ssize_t got = PreadRetrying(fd, into, wanted, offset);
    if (got < 0) return Fail(InvalidInput(fmt::format("{}: read error: {}", path, std::strerror(errno))));
    if (got == 0) {
      return Fail(InvalidInput(fmt::format(
          "{}: ends at byte {}, before byte {} (the file changed while being read?)", path, offset, end)));
    }
    offset += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  };
  return SplitLines(read, visit, bytes_read, lines);
}

}  // namespace regenpath::screen
