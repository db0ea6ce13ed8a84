#include "security/replay_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace regenpath::security {

std::array<uint8_t, 16> ReplayDigest(std::string_view key) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  std::array<uint8_t, 16> digest{};
  if (EVP_Digest(key.data(), key.size(), hash, &length, EVP_sha256(), nullptr) != 1 || length < 16) {
    // Not expected; the same key still gives the same digest (at worst more
    // false "replays", never a missed one for the same key).
    std::memcpy(digest.data(), key.data(), std::min<size_t>(key.size(), 8));
    uint64_t size = key.size();
    std::memcpy(digest.data() + 8, &size, 8);
    return digest;
  }
  std::memcpy(digest.data(), hash, 16);
  return digest;
}

}  // namespace regenpath::security
