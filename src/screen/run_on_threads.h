// Runs one piece of work on several threads at once, for the scan and the
// assessment of `regenpath screen`.
#ifndef REGENPATH_SCREEN_RUN_ON_THREADS_H_
#define REGENPATH_SCREEN_RUN_ON_THREADS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/status.h"

namespace regenpath::screen {

// Runs fn(worker) on `jobs` threads, the caller's among them (worker 0),
// and returns the first failure, in worker order. `fn` must share its work
// out as it goes (each worker takes the next item while any is left), so
// that fewer workers still do all of it: when the system will not start a
// thread, the run goes on with the threads it has. A worker that runs out of
// memory (std::bad_alloc) fails with ResourceExhausted instead of ending the
// process. `cpu_nanos`, when given, is advanced by the CPU time of the
// threads started here (the caller's own is not counted).
Status RunOnThreads(size_t jobs, const std::function<Status(size_t worker)>& fn,
                    std::atomic<uint64_t>* cpu_nanos = nullptr);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_RUN_ON_THREADS_H_
