// AddressPolicy: which IP addresses an outgoing request (the prefetch
// fallback to a caller-named fhirServer) may connect to. Only public unicast
// addresses, unless an operator lists a network explicitly: loopback,
// private (RFC 1918, fc00::/7), link-local (169.254.0.0/16 -- cloud metadata --
// and fe80::/10), shared, reserved, documentation, benchmarking, multicast,
// unspecified, and IPv6 forms that embed an IPv4 address (mapped, NAT64,
// 6to4) are refused. Checked on the address actually connected to, so a
// name that resolves to an internal address at call time is refused too.
#ifndef REGENPATH_SERVER_ADDRESS_POLICY_H_
#define REGENPATH_SERVER_ADDRESS_POLICY_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace regenpath::server {

class AddressPolicy {
 public:
  // Every address allowed (the policy of a client that reaches only
  // operator-configured URLs, such as JWK Sets).
  static AddressPolicy AllowAll();
  // Public addresses plus `allowed_networks` ("10.1.0.0/16", "127.0.0.1",
  // "fd00::/8"). kInvalidArgument naming an entry that is not an address or
  // CIDR network.
  static Result<AddressPolicy> PublicOnly(const std::vector<std::string>& allowed_networks);

  // True iff a connection to `address` (textual IPv4 or IPv6, no brackets) is
  // allowed. Text that is not an address is refused.
  bool Allows(std::string_view address) const;

 private:
  struct Network {
    std::array<uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
    int prefix = 0;                   // in bits of the 128
  };
  bool allow_all_ = false;
  std::vector<Network> allowed_;
};

// True iff `address` (textual IPv4 or IPv6) is a public unicast address (none
// of the ranges listed above).
bool IsPublicAddress(std::string_view address);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_ADDRESS_POLICY_H_
