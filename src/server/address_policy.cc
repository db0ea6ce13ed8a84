#include "server/address_policy.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace regenpath::server {

namespace {

using Bytes = std::array<uint8_t, 16>;

// IPv4 is kept as an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
std::optional<Bytes> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string copy(text);
  Bytes bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    std::memcpy(&bytes[12], &v4, 4);
    return bytes;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    return bytes;
  }
  return std::nullopt;
}

bool InPrefix(const Bytes& address, const Bytes& network, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(address.data(), network.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address[full] & mask) == (network[full] & mask);
}

bool IsMappedV4(const Bytes& bytes) {
  static const Bytes kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return InPrefix(bytes, kMapped, 96);
}

bool V4InPrefix(const Bytes& bytes, uint8_t a, uint8_t b, uint8_t c, uint8_t d, int prefix) {
  Bytes network{};
  network[10] = 0xff;
  network[11] = 0xff;
  network[12] = a;
  network[13] = b;
  network[14] = c;
  network[15] = d;
  return InPrefix(bytes, network, 96 + prefix);
}

bool IsPublicV4(const Bytes& b) {
  return !(V4InPrefix(b, 0, 0, 0, 0, 8) ||          // "this network"
           V4InPrefix(b, 10, 0, 0, 0, 8) ||         // private
           V4InPrefix(b, 100, 64, 0, 0, 10) ||      // shared (carrier-grade NAT)
           V4InPrefix(b, 127, 0, 0, 0, 8) ||        // loopback
           V4InPrefix(b, 169, 254, 0, 0, 16) ||     // link-local (cloud metadata)
           V4InPrefix(b, 172, 16, 0, 0, 12) ||      // private
           V4InPrefix(b, 192, 0, 0, 0, 24) ||       // IETF protocol assignments
           V4InPrefix(b, 192, 0, 2, 0, 24) ||       // documentation
           V4InPrefix(b, 192, 88, 99, 0, 24) ||     // 6to4 relay
           V4InPrefix(b, 192, 168, 0, 0, 16) ||     // private
           V4InPrefix(b, 198, 18, 0, 0, 15) ||      // benchmarking
           V4InPrefix(b, 198, 51, 100, 0, 24) ||    // documentation
           V4InPrefix(b, 203, 0, 113, 0, 24) ||     // documentation
           V4InPrefix(b, 224, 0, 0, 0, 4) ||        // multicast
           V4InPrefix(b, 240, 0, 0, 0, 4));         // reserved, broadcast
}

bool V6InPrefix(const Bytes& bytes, std::initializer_list<uint8_t> leading, int prefix) {
  Bytes network{};
  size_t index = 0;
  for (uint8_t byte : leading) network[index++] = byte;
  return InPrefix(bytes, network, prefix);
}

bool IsPublicBytes(const Bytes& b) {
  if (IsMappedV4(b)) return IsPublicV4(b);
  return !(V6InPrefix(b, {}, 96) ||                          // ::/96: unspecified, loopback, IPv4-compatible
           V6InPrefix(b, {0, 0x64, 0xff, 0x9b}, 32) ||       // NAT64 64:ff9b::/96 and 64:ff9b:1::/48
           V6InPrefix(b, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64) ||  // discard-only
           V6InPrefix(b, {0x20, 0x01, 0x00}, 23) ||          // IETF protocol assignments (Teredo, ...)
           V6InPrefix(b, {0x20, 0x01, 0x0d, 0xb8}, 32) ||    // documentation
           V6InPrefix(b, {0x20, 0x02}, 16) ||                // 6to4 (embeds any IPv4)
           V6InPrefix(b, {0x3f, 0xff}, 20) ||                // documentation (RFC 9637)
           V6InPrefix(b, {0xfc}, 7) ||                       // unique local
           V6InPrefix(b, {0xfe, 0x80}, 10) ||                // link-local
           V6InPrefix(b, {0xfe, 0xc0}, 10) ||                // site-local (deprecated)
           V6InPrefix(b, {0xff}, 8));                        // multicast
}

}  // namespace

AddressPolicy AddressPolicy::AllowAll() {
  AddressPolicy policy;
  policy.allow_all_ = true;
  return policy;
}

Result<AddressPolicy> AddressPolicy::PublicOnly(const std::vector<std::string>& allowed_networks) {
  AddressPolicy policy;
  for (const std::string& entry : allowed_networks) {
    std::string_view text = entry;
    size_t slash = text.find('/');
    std::optional<Bytes> address = ParseAddress(text.substr(0, slash));
    if (!address) return Fail(InvalidArgument(fmt::format("'{}' is not an IP address or network", entry)));
    const bool v4 = IsMappedV4(*address);
    int prefix = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > (v4 ? 32 : 128)) {
        return Fail(InvalidArgument(fmt::format("'{}' has an invalid prefix length", entry)));
      }
    }
    policy.allowed_.push_back(Network{*address, v4 ? prefix + 96 : prefix});
  }
  return policy;
}

bool AddressPolicy::Allows(std::string_view address) const {
  std::optional<Bytes> bytes = ParseAddress(address);
  if (!bytes) return false;
  if (allow_all_) return true;
  for (const Network& network : allowed_) {
    if (InPrefix(*bytes, network.bytes, network.prefix)) return true;
  }
  return IsPublicBytes(*bytes);
}

bool IsPublicAddress(std::string_view address) {
  std::optional<Bytes> bytes = ParseAddress(address);
  return bytes && IsPublicBytes(*bytes);
}

}  // namespace regenpath::server
