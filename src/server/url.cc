#include "server/url.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace regenpath::server {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string HttpUrl::HostHeader() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if ((https && port == 443) || (!https && port == 80)) return name;
  return fmt::format("{}:{}", name, port);
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string scheme_end = "://";
  size_t colon = url.find(scheme_end);
  if (colon == std::string_view::npos) return Fail(InvalidArgument("URL is not absolute"));
  std::string scheme = Lower(url.substr(0, colon));
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return Fail(InvalidArgument(fmt::format("URL scheme '{}' is not http or https", scheme)));
  }
  std::string_view rest = url.substr(colon + scheme_end.size());
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) return Fail(InvalidArgument("URL has user information"));
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail(InvalidArgument("URL has an unterminated IPv6 address"));
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Fail(InvalidArgument("URL has junk after the IPv6 address"));
      port_text = after.substr(1);
    }
  } else {
    size_t port_colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) port_text = authority.substr(port_colon + 1);
  }
  if (out.host.empty()) return Fail(InvalidArgument("URL has no host"));
  for (char c : out.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '\\') {
      return Fail(InvalidArgument("URL host is malformed"));
    }
  }
  out.port = out.https ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return Fail(InvalidArgument("URL port is not a number in 1-65535"));
    }
    out.port = static_cast<uint16_t>(value);
  }
  out.target = target.empty() ? "/" : std::string(target);
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  for (char c : out.target) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f)
      return Fail(InvalidArgument("URL contains a space or a control character"));
  }
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (Lower(host) == "localhost") return true;
  std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace regenpath::server
