// The physical floor of screening: a bare simdjson parse of every line of
// NDJSON files (plain or .gz, read as `regenpath screen` reads them), one
// thread. Prints bytes, lines, seconds and MB/s, for bench/screen_bench.sh to
// compare with `regenpath screen --jobs 1` on the same files in the same run.
// With --mapped, plain files are mapped and parsed where they lie instead
// (no copy by the kernel into a read buffer): the parse alone, a lower floor
// than any reader that copies, for reference.
//
//   build/bench/ndjson_floor [--mapped] FILE_OR_DIR...
#include <simdjson.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "screen/input_files.h"
#include "screen/line_reader.h"

namespace {

// Parses every line of the plain file `path`, mapped; false when it cannot be
// mapped (the caller reads it instead).
bool ParseMapped(const std::string& path, simdjson::dom::parser& parser, uint64_t& bytes, uint64_t& lines,
                 uint64_t& bad) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat status {};
  if (::fstat(fd, &status) != 0 || status.st_size <= 0) {
    ::close(fd);
    return false;
  }
  const size_t size = static_cast<size_t>(status.st_size);
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) return false;
  const char* data = static_cast<const char*>(mapped);
  for (size_t start = 0; start < size;) {
    const char* newline = static_cast<const char*>(std::memchr(data + start, '\n', size - start));
    const size_t end = newline == nullptr ? size : static_cast<size_t>(newline - data);
    // The line as ForEachLine gives it; a blank line is no line.
    const std::string_view line = regenpath::screen::TrimLine(std::string_view(data + start, end - start));
    if (!line.empty()) {
      ++lines;
      simdjson::dom::element root;
      // simdjson reads up to SIMDJSON_PADDING bytes past a line: the last
      // lines of the file are copied (realloc_if_needed) instead.
      const size_t first = static_cast<size_t>(line.data() - data);
      if (parser
              .parse(reinterpret_cast<const uint8_t*>(line.data()), line.size(),
                     size - first < line.size() + simdjson::SIMDJSON_PADDING)
              .get(root)) {
        ++bad;
      }
    }
    start = end + 1;
  }
  bytes += size;
  ::munmap(mapped, size);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs(argv + 1, argv + argc);
  const bool mapped = !inputs.empty() && inputs.front() == "--mapped";
  if (mapped) inputs.erase(inputs.begin());
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: ndjson_floor [--mapped] FILE_OR_DIR...\n");
    return 2;
  }
  auto listing = regenpath::screen::ListInputs(inputs);
  if (!listing.has_value()) {
    std::fprintf(stderr, "ndjson_floor: %s\n", listing.error().message().c_str());
    return 3;
  }
  simdjson::dom::parser parser;
  uint64_t bytes = 0, lines = 0, bad = 0, on_disk = 0;
  const auto started = std::chrono::steady_clock::now();
  for (const auto& file : listing->files) {
    on_disk += file.size;
    if (mapped && !regenpath::screen::IsGzip(file.path) && ParseMapped(file.path, parser, bytes, lines, bad)) continue;
    regenpath::Status status = regenpath::screen::ForEachLine(
        file.path,
        [&](uint64_t, std::string_view line, size_t capacity) {
          ++lines;
          simdjson::dom::element root;
          if (parser.parse(reinterpret_cast<const uint8_t*>(line.data()), line.size(),
                           capacity < line.size() + simdjson::SIMDJSON_PADDING)
                  .get(root)) {
            ++bad;
          }
        },
        &bytes);
    if (!status.ok()) {
      std::fprintf(stderr, "ndjson_floor: %s\n", status.message().c_str());
      return 3;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // CPU time (user + sys) of the whole process, which a loaded machine does
  // not inflate the way it inflates wall-clock time.
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("%s: %llu bytes (%llu on disk), %llu lines (%llu bad) in %.3f s: %.1f MB/s; cpu %.3f s: %.1f MB/s\n",
              mapped ? "floor (mapped)" : "floor", static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(on_disk),
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(bad), seconds,
              static_cast<double>(bytes) / 1e6 / seconds, cpu, static_cast<double>(bytes) / 1e6 / cpu);
  return 0;
}
