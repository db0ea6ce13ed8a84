#include "screen/run_on_threads.h"

#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "screen/thread_cpu.h"

namespace regenpath::screen {

namespace {

Status RunWorker(const std::function<Status(size_t)>& fn, size_t worker) {
  try {
    return fn(worker);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory: give a smaller --memory or fewer --jobs");
  }
}

}  // namespace

Status RunOnThreads(size_t jobs, const std::function<Status(size_t worker)>& fn,
                    std::atomic<uint64_t>* cpu_nanos) {
  if (jobs == 0) jobs = 1;
  std::vector<Status> statuses(jobs);
  std::vector<std::thread> threads;
  threads.reserve(jobs - 1);
  for (size_t i = 1; i < jobs; ++i) {
    try {
      threads.emplace_back([&, i] {
        statuses[i] = RunWorker(fn, i);
        if (cpu_nanos != nullptr) *cpu_nanos += ThreadCpuNanos();
      });
    } catch (const std::system_error&) {
      break;  // no more threads: those started (and this one) share the work
    }
  }
  statuses[0] = RunWorker(fn, 0);
  for (std::thread& thread : threads) thread.join();
  for (Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return Status();
}

}  // namespace regenpath::screen
