// HttpFieldCheck: what may go into an outgoing HTTP/1.1 request line or header
// field (RFC 9110 section 5). Values built from a caller's data (a bearer
// token, a URL from a FHIR server's `next` link) are checked with these before
// they are written, so no CR, LF or other control character can end a line
// and start a smuggled request.
#ifndef REGENPATH_SERVER_HTTP_FIELD_CHECK_H_
#define REGENPATH_SERVER_HTTP_FIELD_CHECK_H_

#include <string_view>

namespace regenpath::server {

// True iff `name` is a non-empty RFC 9110 token.
bool IsFieldName(std::string_view name);

// True iff `value` has only visible ASCII, spaces, tabs and bytes >= 0x80
// (obs-text), and does not begin or end with whitespace.
bool IsSafeFieldValue(std::string_view value);

// True iff `target` is a non-empty origin-form target starting with '/' made of
// visible ASCII only (no spaces, controls or bytes >= 0x80).
bool IsSafeRequestTarget(std::string_view target);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_HTTP_FIELD_CHECK_H_
