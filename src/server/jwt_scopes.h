// SMART-style system scopes of a bearer token the JwtVerifier has already
// accepted ("scope": "system/*.read system/*.write"). Reading the payload
// again is safe only after Verify() succeeded on the same header.
#ifndef REGENPATH_SERVER_JWT_SCOPES_H_
#define REGENPATH_SERVER_JWT_SCOPES_H_

#include <string>
#include <string_view>
#include <vector>

namespace regenpath::server {

// The space-separated "scope" claim of the token in `authorization_header`
// ("Bearer <jwt>"); empty when absent or unreadable.
std::vector<std::string> TokenScopes(std::string_view authorization_header);

// Whether `scopes` grant `access` ("read" or "write") on every resource type
// at system level: system/*.<access>, system/*.* or the SMART v2 forms
// system/*.rs (read) and system/*.cud (write).
bool GrantsSystemAccess(const std::vector<std::string>& scopes, std::string_view access);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_JWT_SCOPES_H_
