// Card and suggestion identifiers (RFC 9562 UUIDs).
//
// Cards carry name-based UUIDs (version 5, SHA-1) computed from the call
// (service, hookInstance, patient) and the card's position and content: the
// same call gives the same identifiers (a retried hook keeps its card ids, and
// an audit can recompute them), while different cards or calls get different
// ones as long as hookInstance is unique, as the specification requires.
#ifndef REGENPATH_CDSHOOKS_UUID_H_
#define REGENPATH_CDSHOOKS_UUID_H_

#include <string>
#include <string_view>

namespace regenpath::cdshooks {

// The version-5 UUID of `name` in regenpath's card namespace, lower-case
// "xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx". Thread-safe.
std::string NameBasedUuid(std::string_view name);

// True iff `text` is a UUID in its canonical textual form (8-4-4-4-12
// hexadecimal digits, either case), without a "urn:uuid:" prefix.
bool IsUuid(std::string_view text);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_UUID_H_
