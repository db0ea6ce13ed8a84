// UnixTime: converts between regenpath's DateTime (what a Clock returns) and
// milliseconds since 1970-01-01T00:00:00Z (what JWT NumericDate claims are).
// Both functions are pure and thread-safe.
#ifndef REGENPATH_SECURITY_UNIX_TIME_H_
#define REGENPATH_SECURITY_UNIX_TIME_H_

#include <cstdint>

#include "common/date_time.h"
#include "common/status.h"

namespace regenpath::security {

// Returns the instant of `value` in milliseconds since the epoch (negative
// before 1970). Fields below the value's precision count as their least
// value; a value without a time-zone offset is taken as UTC. Returns
// kInvalidArgument for a Time (no date).
Result<int64_t> ToUnixMillis(const DateTime& value);

// Returns the UTC DateTime ("+00:00", millisecond precision) of `millis`
// since the epoch. Returns kInvalidArgument outside years 1-9999.
Result<DateTime> FromUnixMillis(int64_t millis);

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_UNIX_TIME_H_
