// The --now option of the commands that assess (assess, kb eval, screen, and
// the Python binding).
#ifndef REGENPATH_COMMON_NOW_OPTION_H_
#define REGENPATH_COMMON_NOW_OPTION_H_

#include <optional>
#include <string>

#include "common/date_time.h"
#include "common/status.h"

namespace regenpath {

// "--now" as a FHIR dateTime: a date alone is the start of that day in UTC;
// a time must give seconds and a time zone (a FHIR dateTime's rule: the
// value goes into FHIR resources); absent: the system clock.
Result<DateTime> ParseNowOption(const std::optional<std::string>& text);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_NOW_OPTION_H_
