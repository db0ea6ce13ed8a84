// Reads an NDJSON file, plain or gzip-compressed, line by line in bounded
// memory (a buffer of a few MB that grows only for a longer line).
#ifndef REGENPATH_SCREEN_LINE_READER_H_
#define REGENPATH_SCREEN_LINE_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace regenpath::screen {

// Called for every non-blank line: its 1-based number, its text (no newline,
// no trailing '\r'; the file's first line without a UTF-8 byte-order mark,
// which `regenpath assess` allows too), and `capacity`, the bytes readable from line.data()
// (always at least line.size() + 64: simdjson may read that far).
using LineVisitor = std::function<void(uint64_t line_number, std::string_view line, size_t capacity)>;

// Reads `path` (gzip when its content starts with the gzip magic, else
// plain) and calls `visit` for each line. `bytes_read`, when given, is
// advanced by the uncompressed bytes as they are read (for progress).
// Fails, naming the file, when it cannot be opened or read (a truncated or
// corrupt gzip stream included).
Status ForEachLine(const std::string& path, const LineVisitor& visit, uint64_t* bytes_read = nullptr);

// The same over bytes [begin, end) of a plain (not gzip) file, where both
// are line starts (0, a byte after a newline, or the file's size): lines
// are numbered from 1 at `begin`. `lines`, when given, gets how many lines
// (blank ones included) the range held. Fails, naming the file, when it
// ends before `end` (cut since its size was taken).
Status ForEachLineInRange(const std::string& path, uint64_t begin, uint64_t end, const LineVisitor& visit,
                          uint64_t* bytes_read = nullptr, uint64_t* lines = nullptr);

// `line` (without its newline) as the readers above give it: its content as
// fhir::NdjsonLineContent reads it (as `assess` reads the line), without
// trailing '\r', spaces and tabs, nor leading ones or byte-order marks.
// Empty for a blank line (which they do not give).
std::string_view TrimLine(std::string_view line);

// Each thread keeps one read buffer (4 MB) between the calls above, so that
// a file's pieces read into memory already paged in. A thread that reads
// no more but lives on (the one that ran a scan and goes on to assess)
// frees its buffer with this.
void ReleaseReadBuffer();

// The whole text of `path` ("-": standard input), uncompressed when it
// starts with the gzip magic (as ForEachLine reads it: the same failures),
// read from start to end (a pipe will do). At most `max_bytes` + 1 bytes of
// text are held: a longer text fails (kResourceExhausted) once it is found
// longer. (For `fhirpath`, which reads what `screen` reads;
// fhir::ReadFileToString is the record parser's reader of plain files.)
Result<std::string> ReadWholeText(const std::string& path, size_t max_bytes);

// True iff `path` is gzip-compressed (starts with the gzip magic). False
// for a file that cannot be read (ForEachLine then says why).
bool IsGzip(const std::string& path);

// The bytes of the lines that start in [begin, end) of the plain file
// `path` of `size` bytes (a line starts at 0 and after each newline): from
// the first such start to the first line start at or after `end` (or
// `size`); {end, end} (end capped at size) when no line starts there. The
// ranges of consecutive [begin, end) that hold a line start follow one
// another, whoever looks them up, since each depends only on the file; a
// range inside a line longer than end - begin is empty. Reads at most
// end - begin bytes to find the start and then up to the next newline (and
// the rest of the window that holds it, at most 1 MB), so that looking up
// every range of a file reads it about twice. A file that
// changed since `size` was taken is read as far as it goes, capped at size.
Result<std::pair<uint64_t, uint64_t>> LinesStartingIn(const std::string& path, uint64_t size, uint64_t begin,
                                                      uint64_t end);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_LINE_READER_H_
