#include "server/fallback_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace regenpath::server {

FallbackExecutor::FallbackExecutor(size_t max_in_flight, size_t max_per_issuer)
    : max_in_flight_(std::max<size_t>(1, max_in_flight)), max_per_issuer_(std::max<size_t>(1, max_per_issuer)) {
  threads_.reserve(max_in_flight_);
  for (size_t index = 0; index < max_in_flight_; ++index) threads_.emplace_back([this] { Run(); });
}

FallbackExecutor::~FallbackExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

bool FallbackExecutor::TrySubmit(const std::string& issuer, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || in_flight_ >= max_in_flight_) return false;
    size_t& mine = per_issuer_[issuer];
    if (mine >= max_per_issuer_) return false;
    ++mine;
    ++in_flight_;
    queue_.emplace_back(issuer, std::move(task));
  }
  ready_.notify_one();
  return true;
}

size_t FallbackExecutor::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_flight_;
}

void FallbackExecutor::Run() {
  for (;;) {
    std::pair<std::string, std::function<void()>> item;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing admitted is left
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      item.second();
    } catch (const std::exception& error) {
      spdlog::error("fallback task failed: {}", error.what());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
    if (--per_issuer_[item.first] == 0) per_issuer_.erase(item.first);
  }
}

}  // namespace regenpath::server
