#include "server/http_types.h"

#include <strings.h>

namespace regenpath::server {

const std::string* FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (field.size() == name.size() && strncasecmp(field.data(), name.data(), name.size()) == 0)
      return &value;
  }
  return nullptr;
}

std::string_view HttpRequest::Path() const {
  std::string_view path = target;
  size_t query = path.find_first_of("?#");
  return query == std::string_view::npos ? path : path.substr(0, query);
}

std::string_view TransportErrorName(TransportError error) {
  switch (error) {
    case TransportError::kHeaderTimeout:
      return "header_timeout";
    case TransportError::kBodyTimeout:
      return "body_timeout";
    case TransportError::kWriteTimeout:
      return "write_timeout";
    case TransportError::kBadRequest:
      return "bad_request";
    case TransportError::kHeaderTooLarge:
      return "header_too_large";
    case TransportError::kBodyTooLarge:
      return "body_too_large";
    case TransportError::kTlsHandshake:
      return "tls_handshake";
    case TransportError::kAborted:
      return "aborted";
    case TransportError::kBadFraming:
      return "bad_framing";
    case TransportError::kBadChunk:
      return "bad_chunk";
    case TransportError::kBodyBudget:
      return "body_budget";
  }
  return "unknown";
}

}  // namespace regenpath::server
