#include "cdshooks/correlation_id.h"

#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace regenpath::cdshooks {

std::string NewCorrelationId() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    static std::atomic<uint64_t> counter{0};
    uint64_t now = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    uint64_t count = counter.fetch_add(1);
    for (size_t index = 0; index < 8; ++index) {
      bytes[index] = static_cast<unsigned char>(now >> (8 * index));
      bytes[8 + index] = static_cast<unsigned char>(count >> (8 * index));
    }
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

}  // namespace regenpath::cdshooks
