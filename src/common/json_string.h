// JSON string literals written by hand (the paths that do not build a
// Boost.JSON value). Output is always valid UTF-8 and valid JSON: quotes,
// backslashes and control characters are escaped, and a byte that does not
// start a valid UTF-8 sequence becomes U+FFFD. Pure functions; thread-safe.
#ifndef REGENPATH_COMMON_JSON_STRING_H_
#define REGENPATH_COMMON_JSON_STRING_H_

#include <string>
#include <string_view>

namespace regenpath {

// Appends `text` as a quoted JSON string literal to `out`.
void AppendJsonString(std::string_view text, std::string& out);

// `text` as a quoted JSON string literal.
std::string JsonQuoted(std::string_view text);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_JSON_STRING_H_
