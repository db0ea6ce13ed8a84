// The server's log: one record per line, whatever text a message carries (an
// upstream FHIR server's or a database's error, a request's field). The
// message is written by the log-line rule of common/terminal_text.h:
// newlines, terminal escapes and bidirectional overrides become escapes a
// reader can decode, so no message can forge a record or drive a terminal.
#ifndef REGENPATH_SERVER_SAFE_LOG_H_
#define REGENPATH_SERVER_SAFE_LOG_H_

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace regenpath::server {

// A formatter of spdlog `pattern` whose message (%v) is made safe; the
// pattern's own parts (time, level, colours) are written as they are.
std::unique_ptr<spdlog::formatter> SafeLogFormatter(const std::string& pattern);

// Makes a logger named "regenpath" on stderr (coloured on a terminal) at
// `level` (spdlog's names: trace ... off) with SafeLogFormatter, the default
// logger; one made before is replaced. Call before threads log.
void SetUpServerLogging(const std::string& level);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_SAFE_LOG_H_
