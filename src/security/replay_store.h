// ReplayStore: where the ids of accepted JWTs are remembered until their
// tokens expire, so that a captured token is refused the second time. The
// in-memory JtiCache is one; SqliteReplayStore keeps them in a database file
// so they survive a restart (and a PostgreSQL one, shared by replicas, can
// implement the same interface). Implementations must be thread-safe.
#ifndef REGENPATH_SECURITY_REPLAY_STORE_H_
#define REGENPATH_SECURITY_REPLAY_STORE_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace regenpath::security {

class ReplayStore {
 public:
  virtual ~ReplayStore() = default;

  // Records `key` (the verifier's "<len(iss)>:<iss><jti>") as used until
  // `expires_ms` (milliseconds since the epoch). kInvalidInput ("token
  // already used") when it is recorded and not expired at `now_ms`;
  // kResourceExhausted when the store is full of live entries; kUnavailable
  // when the store cannot be read or written (the token is then refused:
  // failing open would reopen the replay window). Nothing is recorded on a
  // failure. An `expires_ms` at or before `now_ms` records nothing: OK.
  virtual Status Remember(std::string_view key, int64_t expires_ms, int64_t now_ms) = 0;
};

// The 128-bit digest a store keeps instead of the key (SHA-256, first 16
// bytes): fixed size, and no token id is written anywhere.
std::array<uint8_t, 16> ReplayDigest(std::string_view key);

}  // namespace regenpath::security

#endif  // REGENPATH_SECURITY_REPLAY_STORE_H_
