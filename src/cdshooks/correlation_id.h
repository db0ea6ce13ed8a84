// CorrelationId: a random identifier that ties an internal error's log line to
// the response the caller got, so an operator can find one from the other
// without the response carrying any detail of the failure.
#ifndef REGENPATH_CDSHOOKS_CORRELATION_ID_H_
#define REGENPATH_CDSHOOKS_CORRELATION_ID_H_

#include <string>

namespace regenpath::cdshooks {

// 32 lower-case hexadecimal digits from OpenSSL's CSPRNG (a counter-based
// fallback, still unique within the process, if it fails). Thread-safe.
std::string NewCorrelationId();

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_CORRELATION_ID_H_
