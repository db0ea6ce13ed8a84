// JtiCache: the short-term memory of JWT ids already accepted, so a captured
// token cannot be presented twice (CDS Hooks: "jti ... used to protect
// against replay attacks"; best practices: keep each id while its token could
// still be accepted).
//
// Entries are kept until their own expiry instant and dropped after it. The
// cache is bounded: when it holds `capacity` live entries, new ids are
// refused (kResourceExhausted) rather than forgetting a live one, which would
// reopen the replay window. Thread-safe.
#ifndef REGENPATH_SECURITY_JTI_CACHE_H_
#define REGENPATH_SECURITY_JTI_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace regenpath::security {

class JtiCache {
 public:
  // `capacity` must be at least 1.
  explicit JtiCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  JtiCache(const JtiCache&) = delete;
  JtiCache& operator=(const JtiCache&) = delete;

  // Records `id` as used until `expires_ms` (milliseconds since the epoch),
  // after first dropping every entry whose expiry is at or before `now_ms`.
  // Returns kInvalidInput ("token already used") if `id` is still
  // remembered, kResourceExhausted if the cache is full of live entries
  // (nothing is recorded in either case), OK otherwise. An `expires_ms` at
  // or before `now_ms` is recorded for nothing and returns OK.
  Status Remember(std::string_view id, int64_t expires_ms, int64_t now_ms);

  // The number of entries held, expired ones not yet dropped included.
  size_t size() const;

 private:
  void DropExpiredLocked(int64_t now_ms);

  const size_t capacity_;
  mutable std::mutex mutex_;
  // id -> expiry; and expiry -> id, to drop the oldest first.
  std::unordered_map<std::string, int64_t> expiry_by_id_;  // GUARDED_BY(mutex_)
  std::multimap<int64_t, std::string> ids_by_expiry_;      // GUARDED_BY(mutex_)
};

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_JTI_CACHE_H_
