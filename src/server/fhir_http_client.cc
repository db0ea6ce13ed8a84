#include "server/fhir_http_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/url.h"

namespace regenpath::server {

namespace {

// The host of `url` for a log line (never the path: it holds patient ids).
std::string HostOf(const std::string& url) {
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  return parsed.has_value() ? parsed->host : std::string("?");
}

HeaderList RequestHeaders(const std::string& bearer_token) {
  HeaderList headers = {{"Accept", "application/fhir+json"}};
  if (!bearer_token.empty()) headers.emplace_back("Authorization", "Bearer " + bearer_token);
  return headers;
}

}  // namespace

Status FhirHttpClient::CheckServer(const std::string& fhir_server) {
  if (allowlist_ == nullptr || allowlist_->Allows(issuer_, fhir_server)) return Status::Ok();
  spdlog::warn("fhirServer on {} refused for issuer {}: not on its fhir_servers allowlist", HostOf(fhir_server),
               issuer_.empty() ? "-" : issuer_);
  return InvalidArgument("fhirServer is not on the allowlist");
}

void FhirHttpClient::Prefetch(const std::vector<std::string>& urls, const std::string& bearer_token) {
  std::vector<Result<HttpClientResponse>> responses = http_->GetMany(urls, RequestHeaders(bearer_token), deadline_);
  for (size_t index = 0; index < urls.size(); ++index) {
    prefetched_.insert_or_assign(std::make_pair(urls[index], bearer_token),
                                 BodyOf(urls[index], std::move(responses[index])));
  }
}

Result<std::string> FhirHttpClient::Get(const std::string& url, const std::string& bearer_token) {
  auto ready = prefetched_.find(std::make_pair(url, bearer_token));
  if (ready != prefetched_.end()) {
    Result<std::string> body = std::move(ready->second);
    prefetched_.erase(ready);
    return body;
  }
  return BodyOf(url, http_->Get(url, RequestHeaders(bearer_token), deadline_));
}

Result<std::string> FhirHttpClient::BodyOf(const std::string& url, Result<HttpClientResponse> response) const {
  if (!response.has_value()) {
    spdlog::info("FHIR fetch from {} failed: {}", HostOf(url), response.error().message());
    return Fail(response.error());
  }
  Status failure = Status::Ok();
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  if (response->status >= 300 && response->status < 400) {
    failure =
        Unavailable(fmt::format("FHIR server answered {} (redirects are not followed)", response->status));
  } else if (response->status >= 400 && response->status < 500) {
    failure = InvalidArgument(fmt::format("FHIR server answered {}", response->status));
  } else {
    failure = Unavailable(fmt::format("FHIR server answered {}", response->status));
  }
  spdlog::info("FHIR fetch from {} failed: {}", HostOf(url), failure.message());
  return Fail(failure);
}

}  // namespace regenpath::server
