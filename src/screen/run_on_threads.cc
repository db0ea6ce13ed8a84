#include "screen/run_on_threads.h"

#include <new>
#include <thread>
#include <vector>

#include "screen/thread_cpu.h"

namespace regenpath::screen {

namespace {

Status RunWorker(const std::function<Status(size_t)>& fn, size_t worker, std::atomic<bool>* failed) {
  Status status;
  try {
    status = fn(worker);
  } catch (const std::bad_alloc&) {
    status = ResourceExhausted("out of memory");
  }
  if (!status.ok() && failed != nullptr) *failed = true;
  return status;
}

}  // namespace

Status RunOnThreads(size_t jobs, const std::function<Status(size_t worker)>& fn, const RunOptions& options) {
  std::atomic<uint64_t>* cpu_nanos = options.cpu_nanos;
  std::atomic<bool>* failed = options.failed;
  if (jobs == 0) jobs = 1;
  std::vector<Status> statuses(jobs);
  std::vector<std::thread> threads;
  threads.reserve(jobs - 1);
  // Whatever leaves this function, the threads started are joined first.
  struct JoinAll {
    std::vector<std::thread>& threads;
    ~JoinAll() {
      for (std::thread& thread : threads) {
        if (thread.joinable()) thread.join();
      }
    }
  } join_all{threads};
  for (size_t i = 1; i < jobs; ++i) {
    auto work = [&, i] {
      statuses[i] = RunWorker(fn, i, failed);
      if (cpu_nanos != nullptr) *cpu_nanos += ThreadCpuNanos();
    };
    try {
      threads.push_back(options.start_thread ? options.start_thread(work) : std::thread(work));
    } catch (...) {
      // No more threads (std::system_error, or no memory for one): those
      // started share the work.
      if (options.not_started != nullptr) {
        const size_t shortfall = jobs - i;
        size_t most = options.not_started->load();
        while (most < shortfall && !options.not_started->compare_exchange_weak(most, shortfall)) {
        }
      }
      break;
    }
  }
  statuses[0] = RunWorker(fn, 0, failed);
  for (std::thread& thread : threads) thread.join();
  for (Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return Status();
}

}  // namespace regenpath::screen
