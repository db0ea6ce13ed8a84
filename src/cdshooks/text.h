// Text helpers for cards: GitHub-flavoured-markdown escaping, one-line plain
// text with a length limit in characters (not bytes), and URL checks.
//
// Everything that comes from a request or a record is escaped before it
// enters a card's markdown, so that a resource id or a display cannot inject
// links, images or raw HTML into the CDS client.
#ifndef REGENPATH_CDSHOOKS_TEXT_H_
#define REGENPATH_CDSHOOKS_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace regenpath::cdshooks {

// `text` as literal GFM inline text: markdown punctuation and HTML-significant
// characters are backslash-escaped (or written as entities), line breaks and
// other control characters become spaces. Safe inside a table cell.
std::string EscapeMarkdown(std::string_view text);

// `text` on one line (control characters and runs of whitespace become one
// space, trimmed), cut to at most `max_chars` Unicode characters: a cut text
// ends at a word boundary where possible, with "…". Invalid UTF-8 bytes
// become U+FFFD.
std::string OneLine(std::string_view text, size_t max_chars);

// Number of Unicode characters (code points) in valid UTF-8 `text`; each
// invalid byte counts as one.
size_t CountChars(std::string_view text);

// True iff `url` is an absolute http or https URL with a host, no
// whitespace, control characters, quotes or angle brackets.
bool IsAbsoluteHttpUrl(std::string_view url);

// Percent-encodes the characters of `text` that may not appear in a URL
// (anything but RFC 3986 unreserved and reserved characters; '%' too).
std::string EncodeUrlText(std::string_view text);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_TEXT_H_
