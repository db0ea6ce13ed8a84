#include "server/request_framing.h"

#include <strings.h>

#include <cctype>
#include <string_view>

namespace regenpath::server {

namespace {

bool NameIs(const std::string& field, std::string_view name) {
  return field.size() == name.size() && strncasecmp(field.data(), name.data(), name.size()) == 0;
}

size_t CountFields(const HttpRequest& request, std::string_view name) {
  size_t count = 0;
  for (const auto& [field, value] : request.headers) count += NameIs(field, name) ? 1 : 0;
  return count;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::string> CheckRequestFraming(const HttpRequest& request, unsigned http_version) {
  const size_t encodings = CountFields(request, "Transfer-Encoding");
  const size_t lengths = CountFields(request, "Content-Length");
  if (encodings > 0) {
    if (http_version < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request";
    if (encodings > 1) return "Transfer-Encoding appears more than once";
    if (lengths > 0) return "a request must not have both Transfer-Encoding and Content-Length";
    std::string_view value = Trim(*request.Header("Transfer-Encoding"));
    if (value.size() != 7 || strncasecmp(value.data(), "chunked", 7) != 0) {
      return "the only transfer coding accepted is a single 'chunked'";
    }
  }
  if (lengths > 1) return "Content-Length appears more than once";
  if (http_version >= 11 && CountFields(request, "Host") != 1) {
    return "an HTTP/1.1 request needs exactly one Host header";
  }
  if (CountFields(request, "Authorization") > 1) return "Authorization appears more than once";
  return std::nullopt;
}

}  // namespace regenpath::server
