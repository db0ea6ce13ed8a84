// Base64url (RFC 4648 section 5) without padding, as JOSE uses it
// (RFC 7515 section 2, "Base64url Encoding").
//
// Decoding is strict so that one byte string has exactly one accepted text:
// only the characters A-Z a-z 0-9 '-' '_' are allowed (no '=', no
// whitespace, no '+' or '/'), a length of 1 modulo 4 is rejected, and the
// unused low bits of the last character must be zero. Both functions are pure
// and thread-safe.
#ifndef REGENPATH_SECURITY_BASE64URL_H_
#define REGENPATH_SECURITY_BASE64URL_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace regenpath::security {

// Returns the decoded bytes, or kInvalidInput ("invalid base64url") when
// `text` is not canonical unpadded base64url. The empty text decodes to "".
Result<std::string> Base64UrlDecode(std::string_view text);

// Returns the unpadded base64url text of `bytes`.
std::string Base64UrlEncode(std::string_view bytes);

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_BASE64URL_H_
