// JtiCache: the short-term memory of JWT ids already accepted, so a captured
// token cannot be presented twice (CDS Hooks: "jti ... used to protect
// against replay attacks"; best practices: keep each id while its token could
// still be accepted).
//
// Entries are kept until their own expiry instant and dropped after it. The
// cache is bounded: when it holds `capacity` live entries, new ids are
// refused (kResourceExhausted) rather than forgetting a live one, which would
// reopen the replay window. Thread-safe.
//
// An id is remembered by a 128-bit digest of it (SHA-256, truncated), not by
// its text: an entry costs about 70 bytes whatever the id's length, so a
// million live tokens (five minutes of calls at 3,300 a second) fit in
// ~70 MB. Two ids with one digest (odds about 2^-128 per pair) would make the
// second look replayed: refused, never wrongly accepted.
#ifndef REGENPATH_SECURITY_JTI_CACHE_H_
#define REGENPATH_SECURITY_JTI_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "security/replay_store.h"

namespace regenpath::security {

class JtiCache : public ReplayStore {
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
  Status Remember(std::string_view id, int64_t expires_ms, int64_t now_ms) override;

  // The number of entries held, expired ones not yet dropped included.
  size_t size() const;

 private:
  void DropExpiredLocked(int64_t now_ms);

  struct Digest {
    uint64_t high = 0;
    uint64_t low = 0;
    bool operator==(const Digest&) const = default;
  };
  struct DigestHash {
    size_t operator()(const Digest& digest) const { return static_cast<size_t>(digest.low); }
  };
  struct Expiring {
    int64_t expires_ms;
    Digest digest;
    bool operator>(const Expiring& other) const { return expires_ms > other.expires_ms; }
  };
  static Digest DigestOf(std::string_view id);

  const size_t capacity_;
  mutable std::mutex mutex_;
  // digest -> expiry; and a min-heap by expiry, to drop the oldest first.
  std::unordered_map<Digest, int64_t, DigestHash> expiry_by_id_;  // GUARDED_BY(mutex_)
  std::priority_queue<Expiring, std::vector<Expiring>, std::greater<Expiring>>
      by_expiry_;  // GUARDED_BY(mutex_)
};

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_JTI_CACHE_H_
