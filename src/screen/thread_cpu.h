// CPU time (user + sys) of the calling thread, for a run's cpu_seconds
// (screen/screener.h): each thread a run starts adds its own at its end.
#ifndef REGENPATH_SCREEN_THREAD_CPU_H_
#define REGENPATH_SCREEN_THREAD_CPU_H_

#include <time.h>

#include <cstdint>

namespace regenpath::screen {

// Nanoseconds of CPU the calling thread has used.
inline uint64_t ThreadCpuNanos() {
  struct timespec now {};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_THREAD_CPU_H_
