// The --now option of the commands that assess (assess, kb eval, screen, and
// the Python binding).
#ifndef REGENPATH_COMMON_NOW_OPTION_H_
#define REGENPATH_COMMON_NOW_OPTION_H_

#include <optional>
#include <string>

#include "common/date_time.h"
#include "common/status.h"

namespace regenpath {

// "--now" as a dateTime; a date alone is the start of that day in UTC;
// absent: the system clock.
Result<DateTime> ParseNowOption(const std::optional<std::string>& text);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_NOW_OPTION_H_
