#include "security/jti_cache.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace regenpath::security {

JtiCache::Digest JtiCache::DigestOf(std::string_view id) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  Digest digest;
  if (EVP_Digest(id.data(), id.size(), hash, &length, EVP_sha256(), nullptr) != 1 || length < 16) {
    // Not expected; fall back on the id's first bytes and length so that the
    // same id still gives the same digest (at worst more false "replays").
    std::memcpy(&digest.high, id.data(), std::min<size_t>(id.size(), 8));
    digest.low = id.size();
    return digest;
  }
  std::memcpy(&digest.high, hash, 8);
  std::memcpy(&digest.low, hash + 8, 8);
  return digest;
}

void JtiCache::DropExpiredLocked(int64_t now_ms) {
  while (!by_expiry_.empty() && by_expiry_.top().expires_ms <= now_ms) {
    expiry_by_id_.erase(by_expiry_.top().digest);
    by_expiry_.pop();
  }
}

Status JtiCache::Remember(std::string_view id, int64_t expires_ms, int64_t now_ms) {
  const Digest digest = DigestOf(id);
  std::lock_guard<std::mutex> lock(mutex_);
  DropExpiredLocked(now_ms);
  if (expiry_by_id_.count(digest) != 0) return InvalidInput("token already used (jti replayed)");
  if (expires_ms <= now_ms) return Status::Ok();
  if (expiry_by_id_.size() >= capacity_) {
    return ResourceExhausted("too many recent tokens to remember; try again later");
  }
  expiry_by_id_.emplace(digest, expires_ms);
  by_expiry_.push(Expiring{expires_ms, digest});
  return Status::Ok();
}

size_t JtiCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return expiry_by_id_.size();
}

}  // namespace regenpath::security
