// A configuration file's text, read whole and as its YAML reader must see
// it: each lone CR a line end (common/line_breaks.h). One reader for serve's
// and the registry's configuration files, so that their failures read alike.
#ifndef REGENPATH_COMMON_CONFIG_TEXT_H_
#define REGENPATH_COMMON_CONFIG_TEXT_H_

#include <cstddef>
#include <string>

#include "common/status.h"

namespace regenpath {

// kInvalidInput "FILE: not a readable file" for a path that is missing, not
// a regular file (a directory) or cannot be opened; "FILE: cannot be read:
// why" for a read error; "FILE: larger than N bytes" past `max_bytes`.
Result<std::string> ReadConfigText(const std::string& path, size_t max_bytes = size_t{16} << 20);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_CONFIG_TEXT_H_
