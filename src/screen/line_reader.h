// Reads an NDJSON file, plain or gzip-compressed, line by line in bounded
// memory (a buffer of a few MB that grows only for a longer line).
#ifndef REGENPATH_SCREEN_LINE_READER_H_
#define REGENPATH_SCREEN_LINE_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace regenpath::screen {

// Called for every non-blank line: its 1-based number, its text (no newline,
// no trailing '\r'), and `capacity`, the bytes readable from line.data()
// (always at least line.size() + 64: simdjson may read that far).
using LineVisitor = std::function<void(uint64_t line_number, std::string_view line, size_t capacity)>;

// Reads `path` (gzip when its content starts with the gzip magic, else
// plain) and calls `visit` for each line. `bytes_read`, when given, is
// advanced by the uncompressed bytes as they are read (for progress).
// Fails, naming the file, when it cannot be opened or read (a truncated or
// corrupt gzip stream included).
Status ForEachLine(const std::string& path, const LineVisitor& visit, uint64_t* bytes_read = nullptr);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_LINE_READER_H_
