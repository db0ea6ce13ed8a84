// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF). Pure functions; thread-safe.
#ifndef REGENPATH_COMMON_UTF8_H_
#define REGENPATH_COMMON_UTF8_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace regenpath {

// The length (1-4) of the valid UTF-8 sequence starting at text[i], or 0
// when the bytes there do not form one.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// The offset of the first byte that does not belong to a valid sequence, or
// nullopt when `text` is valid UTF-8.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_UTF8_H_
