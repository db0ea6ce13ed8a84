// Runs one piece of work on several threads at once, for the scan and the
// assessment of `regenpath screen`.
#ifndef REGENPATH_SCREEN_RUN_ON_THREADS_H_
#define REGENPATH_SCREEN_RUN_ON_THREADS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>

#include "common/status.h"

namespace regenpath::screen {

// What RunOnThreads reports back, and how it starts threads.
struct RunOptions {
  // Advanced by the CPU time of the threads started (not the caller's).
  std::atomic<uint64_t>* cpu_nanos = nullptr;
  // Set as soon as a worker fails, so that the others can stop taking work.
  std::atomic<bool>* failed = nullptr;
  // Raised to the number of workers asked for that the system would not
  // start, when that is more (shared by several calls, it holds the
  // largest shortfall of any one).
  std::atomic<size_t>* not_started = nullptr;
  // Starts a thread running its argument, or throws; std::thread when empty
  // (tests give one that fails, as the system does at its thread limit).
  // The thread returned must be joinable.
  std::function<std::thread(std::function<void()>)> start_thread;
};

// Runs fn(worker) on `jobs` threads, the caller's among them (worker 0),
// and returns the first failure, in worker order, once all have finished.
// `fn` must share its work out as it goes (each worker takes the next item
// while any is left), so that fewer workers still do all of it: when the
// system will not start a thread, the run goes on with the threads it has
// (see options.not_started). A worker that runs out of memory
// (std::bad_alloc from `fn`) fails with ResourceExhausted instead of ending
// the process; other exceptions from worker 0 propagate (after the other
// threads are joined), and from the others end the process.
Status RunOnThreads(size_t jobs, const std::function<Status(size_t worker)>& fn, const RunOptions& options = {});

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_RUN_ON_THREADS_H_
