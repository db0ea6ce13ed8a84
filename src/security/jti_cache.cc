#include "security/jti_cache.h"

namespace regenpath::security {

void JtiCache::DropExpiredLocked(int64_t now_ms) {
  while (!ids_by_expiry_.empty() && ids_by_expiry_.begin()->first <= now_ms) {
    expiry_by_id_.erase(ids_by_expiry_.begin()->second);
    ids_by_expiry_.erase(ids_by_expiry_.begin());
  }
}

Status JtiCache::Remember(std::string_view id, int64_t expires_ms, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  DropExpiredLocked(now_ms);
  std::string key(id);
  if (expiry_by_id_.count(key) != 0) return InvalidInput("token already used (jti replayed)");
  if (expires_ms <= now_ms) return Status::Ok();
  if (expiry_by_id_.size() >= capacity_) {
    return ResourceExhausted("too many recent tokens to remember; try again later");
  }
  expiry_by_id_.emplace(key, expires_ms);
  ids_by_expiry_.emplace(expires_ms, std::move(key));
  return Status::Ok();
}

size_t JtiCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return expiry_by_id_.size();
}

}  // namespace regenpath::security
