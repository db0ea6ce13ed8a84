// Clock: where "now" comes from. The engine never reads the system time
// itself; the CLI and the service pass a Clock's reading in, and tests use a
// FixedClock.
#ifndef REGENPATH_COMMON_CLOCK_H_
#define REGENPATH_COMMON_CLOCK_H_

#include "common/date_time.h"

namespace regenpath {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current instant as a DateTime with millisecond precision, carrying
  // the clock's time-zone offset. Thread-safe.
  virtual DateTime Now() const = 0;
};

// The system's clock and local time-zone offset.
class SystemClock : public Clock {
 public:
  DateTime Now() const override;
};

// Always returns the instant it was given.
class FixedClock : public Clock {
 public:
  explicit FixedClock(const DateTime& now) : now_(now) {}
  DateTime Now() const override { return now_; }

 private:
  DateTime now_;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_CLOCK_H_
