#include "common/config_text.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/line_breaks.h"

namespace regenpath {

Result<std::string> ReadConfigText(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(InvalidInput(fmt::format("{}: not a readable file", path)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return Fail(InvalidInput(fmt::format("{}: not a readable file", path)));
  }
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Fail(InvalidInput(fmt::format("{}: cannot be read: {}", path, std::strerror(errno))));
    if (got == 0) break;
    text.append(chunk, static_cast<size_t>(got));
    if (text.size() > max_bytes)
      return Fail(InvalidInput(fmt::format("{}: larger than {} bytes", path, max_bytes)));
  }
  return LoneCrAsLf(std::move(text));
}

}  // namespace regenpath
