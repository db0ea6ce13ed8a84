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
// and returns the first failure, in worker order, once all have finished.
// `fn` must share its work out as it goes (each worker takes the next item
// while any is left), so that fewer workers still do all of it: when the
// system will not start a thread, the run goes on with the threads it has.
// A worker that runs out of memory (std::bad_alloc from `fn`) fails with
// ResourceExhausted instead of ending the process; other exceptions from
// worker 0 propagate (after the other threads are joined), and from the
// others end the process. `cpu_nanos`, when given, is advanced by the CPU
// time of the threads started here (not the caller's). `failed`, when
// given, is set as soon as a worker fails, so that the others can stop
// taking work.
Status RunOnThreads(size_t jobs, const std::function<Status(size_t worker)>& fn,
                    std::atomic<uint64_t>* cpu_nanos = nullptr, std::atomic<bool>* failed = nullptr);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_RUN_ON_THREADS_H_
