#include "server/http_types.h"

#include <strings.h>

#include <algorithm>
#include <cctype>

namespace regenpath::server {

const std::string* FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (field.size() == name.size() && strncasecmp(field.data(), name.data(), name.size()) == 0)
      return &value;
  }
  return nullptr;
}

std::string MediaType(const std::string* content_type) {
  if (content_type == nullptr) return "";
  std::string_view value = *content_type;
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  std::string media(value);
  std::transform(media.begin(), media.end(), media.begin(), [](unsigned char c) { return std::tolower(c); });
  return media;
}

std::string QueryValue(const std::string& target, std::string_view name) {
  size_t question = target.find('?');
  if (question == std::string::npos) return "";
  std::string_view query = std::string_view(target).substr(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t equals = pair.find('=');
    if (pair.substr(0, equals) == name) return equals == std::string_view::npos ? "" : std::string(pair.substr(equals + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
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
