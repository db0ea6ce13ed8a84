// The physical floor of screening: a bare simdjson parse of every line of
// NDJSON files (plain or .gz, read as `regenpath screen` reads them), one
// thread. Prints bytes, lines, seconds and MB/s, for bench/screen_bench.sh to
// compare with `regenpath screen --jobs 1` on the same files in the same run.
//
//   build/bench/ndjson_floor FILE_OR_DIR...
#include <simdjson.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "screen/input_files.h"
#include "screen/line_reader.h"

int main(int argc, char** argv) {
  std::vector<std::string> inputs(argv + 1, argv + argc);
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: ndjson_floor FILE_OR_DIR...\n");
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
  std::printf("floor: %llu bytes (%llu on disk), %llu lines (%llu bad) in %.3f s: %.1f MB/s; cpu %.3f s: %.1f MB/s\n",
              static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(on_disk),
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(bad), seconds,
              static_cast<double>(bytes) / 1e6 / seconds, cpu, static_cast<double>(bytes) / 1e6 / cpu);
  return 0;
}
