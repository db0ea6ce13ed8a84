// Absolute http(s) URLs split into what a client connects to.
#ifndef REGENPATH_SERVER_URL_H_
#define REGENPATH_SERVER_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace regenpath::server {

struct HttpUrl {
  bool https = false;
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit, or 80/443
  std::string target;  // path and query, at least "/"
  // "host" or "host:port" as the Host header wants it.
  std::string HostHeader() const;
};

// Parses "http[s]://host[:port][/path][?query]". No user info, no fragment
// kept. kInvalidArgument naming the problem otherwise.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// True iff `host` names the loopback interface: "localhost", 127.0.0.0/8 or
// ::1 (brackets allowed).
bool IsLoopbackHost(std::string_view host);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_URL_H_
