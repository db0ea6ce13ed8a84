// Retry-After (RFC 9110 §10.2.3) and the HTTP-date it may carry (§5.6.7),
// for the waits of the Bulk Data client.
#ifndef REGENPATH_BULK_RETRY_AFTER_H_
#define REGENPATH_BULK_RETRY_AFTER_H_

#include <chrono>
#include <optional>
#include <string_view>

namespace regenpath::bulk {

// An HTTP-date in any of the three forms a recipient must accept:
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850
// ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years
// after `now` is taken as the century before) and asctime
// ("Sun Nov  6 08:49:37 1994"). Empty when `text` is none of them. The day
// name is not checked against the date.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text,
                                                                   std::chrono::system_clock::time_point now);

// How long a Retry-After value asks to wait, measured from `now`: its
// delay-seconds (saturating, never overflowing), or the time from `now` to its
// HTTP-date (zero when that date has passed). Surrounding spaces and tabs are
// ignored. Empty when the value is neither. Not capped: the caller decides.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now);

}  // namespace regenpath::bulk

#endif  // REGENPATH_BULK_RETRY_AFTER_H_
