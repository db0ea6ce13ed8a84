// RunOnThreads (screen/run_on_threads.h): work shared out, failures in
// worker order, running out of memory as a failure rather than the end of
// the process, and the CPU time of the threads it starts.
#include "screen/run_on_threads.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <system_error>
#include <thread>

namespace regenpath::screen {
namespace {

using ::testing::HasSubstr;

TEST(RunOnThreadsTest, EveryWorkerRunsAndTheWorkIsSharedOut) {
  for (size_t jobs : {0, 1, 2, 4}) {
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::set<size_t> workers;
    std::mutex mutex;
    Status status = RunOnThreads(jobs, [&](size_t worker) -> Status {
      {
        std::lock_guard<std::mutex> lock(mutex);
        workers.insert(worker);
      }
      for (size_t item = next++; item < 1000; item = next++) ++done;
      return Status();
    });
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(done.load(), 1000u) << jobs << " jobs";
    EXPECT_EQ(workers.size(), std::max<size_t>(jobs, 1)) << jobs << " jobs";
  }
}

TEST(RunOnThreadsTest, TheFirstFailureInWorkerOrderIsReturnedAfterAllFinish) {
  std::atomic<size_t> finished{0};
  Status status = RunOnThreads(3, [&](size_t worker) -> Status {
    ++finished;
    if (worker == 0) return Status();
    return InvalidInput("worker " + std::to_string(worker));
  });
  EXPECT_EQ(finished.load(), 3u);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "worker 1");
}

// A worker that runs out of memory fails the run with a message; the others
// finish their work (and the process goes on).
TEST(RunOnThreadsTest, RunningOutOfMemoryIsAFailureNotTheEnd) {
  for (size_t failing : {0, 1}) {
    std::atomic<size_t> finished{0};
    Status status = RunOnThreads(2, [&](size_t worker) -> Status {
      if (worker == failing) throw std::bad_alloc();
      ++finished;
      return Status();
    });
    ASSERT_FALSE(status.ok()) << "worker " << failing;
    EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
    EXPECT_THAT(status.message(), HasSubstr("out of memory"));
    EXPECT_EQ(finished.load(), 1u);
  }
}

TEST(RunOnThreadsTest, TheStartedThreadsCpuTimeIsCounted) {
  std::atomic<uint64_t> sink{0};
  auto busy = [&](size_t) -> Status {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < 20'000'000; ++i) sum += i * i;
    sink += sum;
    return Status();
  };
  std::atomic<uint64_t> cpu{0};
  ASSERT_TRUE(RunOnThreads(2, busy, {.cpu_nanos = &cpu}).ok());
  EXPECT_GT(cpu.load(), 0u);  // the one thread started here
  // The calling thread's own time is not counted: with one job, nothing is.
  std::atomic<uint64_t> alone{0};
  ASSERT_TRUE(RunOnThreads(1, busy, {.cpu_nanos = &alone}).ok());
  EXPECT_EQ(alone.load(), 0u);
}

// `failed` is set as soon as one worker fails (or runs out of memory), so
// that the others stop taking work; it stays clear when all succeed.
TEST(RunOnThreadsTest, AFailureIsSignalledToTheOtherWorkers) {
  for (bool out_of_memory : {false, true}) {
    std::atomic<bool> failed{false};
    std::atomic<bool> seen{false};
    Status status = RunOnThreads(
        2,
        [&](size_t worker) -> Status {
          if (worker == 1) {
            if (out_of_memory) throw std::bad_alloc();
            return InvalidInput("stop");
          }
          // Worker 0 waits (10 s at most) for worker 1's failure to show.
          for (int spin = 0; spin < 10'000 && !failed; ++spin) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          seen = failed.load();
          return Status();
        },
        {.failed = &failed});
    EXPECT_FALSE(status.ok());
    EXPECT_TRUE(seen.load()) << (out_of_memory ? "out of memory" : "failure");
  }
  std::atomic<bool> failed{false};
  ASSERT_TRUE(RunOnThreads(3, [](size_t) { return Status(); }, {.failed = &failed}).ok());
  EXPECT_FALSE(failed.load());
}

// A thread the system will not start (here the second of four: std::thread
// throws std::system_error at the thread limit) leaves the work to the
// workers already running, which do all of it; the workers that never
// started are counted, and the run does not fail.
TEST(RunOnThreadsTest, ThreadsThatCannotStartLeaveTheirWorkToTheOthers) {
  size_t starts = 0;
  auto start_one_only = [&](std::function<void()> work) -> std::thread {
    if (starts++ > 0) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    return std::thread(std::move(work));
  };
  std::atomic<size_t> next{0}, done{0}, not_started{0};
  std::set<size_t> workers;
  std::mutex mutex;
  Status status = RunOnThreads(
      4,
      [&](size_t worker) -> Status {
        {
          std::lock_guard<std::mutex> lock(mutex);
          workers.insert(worker);
        }
        for (size_t item = next++; item < 1000; item = next++) ++done;
        return Status();
      },
      {.not_started = &not_started, .start_thread = start_one_only});
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(done.load(), 1000u);
  EXPECT_EQ(workers, (std::set<size_t>{0, 1}));
  EXPECT_EQ(not_started.load(), 2u);
  // Shared by several calls, it holds the largest shortfall of any one, not
  // their sum.
  starts = 0;
  ASSERT_TRUE(RunOnThreads(
                  3, [](size_t) { return Status(); }, {.not_started = &not_started, .start_thread = start_one_only})
                  .ok());
  EXPECT_EQ(not_started.load(), 2u);
  starts = 0;
  ASSERT_TRUE(RunOnThreads(
                  5, [](size_t) { return Status(); }, {.not_started = &not_started, .start_thread = start_one_only})
                  .ok());
  EXPECT_EQ(not_started.load(), 3u);
  // A starter that never fails counts nothing.
  not_started = 0;
  ASSERT_TRUE(RunOnThreads(
                  3, [](size_t) { return Status(); },
                  {.not_started = &not_started, .start_thread = [](std::function<void()> work) {
                     return std::thread(std::move(work));
                   }})
                  .ok());
  EXPECT_EQ(not_started.load(), 0u);
}

}  // namespace
}  // namespace regenpath::screen
