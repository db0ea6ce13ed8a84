// FhirServerAllowlist: which fhirServer base URLs the service may read for a
// caller (the prefetch fallback sends the caller's bearer token there and
// connects on its behalf, so an unchecked URL is a server-side request
// forgery). Configured per trusted issuer (auth.issuers[].fhir_servers) and
// for every caller (fhir_client.allowed_servers, also the only list under
// --insecure-dev).
//
// An entry matches a fhirServer (trailing '/' removed) when it is equal to it
// (trailing '/' of the entry ignored), or, for an entry ending in '/*', when
// the fhirServer starts with what precedes the '*' ("https://ehr.example.org/
// fhir/*" allows every tenant base under it; the '/' keeps a host name from
// being extended). Scheme and host are compared
// case-insensitively, the rest exactly.
#ifndef REGENPATH_SERVER_FHIR_SERVER_ALLOWLIST_H_
#define REGENPATH_SERVER_FHIR_SERVER_ALLOWLIST_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace regenpath::server {

class FhirServerAllowlist {
 public:
  FhirServerAllowlist() = default;

  // Checks every entry (an absolute http(s) URL without query or fragment,
  // optionally ending in '/*'): kInvalidArgument naming the first bad one.
  static Result<FhirServerAllowlist> Create(std::vector<std::string> for_everyone,
                                            std::map<std::string, std::vector<std::string>> by_issuer);

  // True iff `fhir_server` may be read for a caller authenticated as
  // `issuer` (empty: no authentication, --insecure-dev).
  bool Allows(std::string_view issuer, std::string_view fhir_server) const;

 private:
  std::vector<std::string> for_everyone_;
  std::map<std::string, std::vector<std::string>, std::less<>> by_issuer_;
};

// True iff allowlist entry `entry` matches `fhir_server` (see above).
bool FhirServerEntryMatches(std::string_view entry, std::string_view fhir_server);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_FHIR_SERVER_ALLOWLIST_H_
