// HttpClient: a small HTTP/1.1 client (HTTP and HTTPS) on Boost.Beast for
// what the service reads from elsewhere: the EHR's FHIR server (prefetch
// fallback) and JWK Sets. One request per connection; an overall deadline;
// a response size limit; optionally public addresses only; TLS verified against the system CA store (or a
// given CA file) with the host name checked; redirects are not followed.
//
// All of Beast and Asio is confined to beast_http.cc.
#ifndef REGENPATH_SERVER_HTTP_CLIENT_H_
#define REGENPATH_SERVER_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/http_types.h"

namespace regenpath::server {

struct HttpClientOptions {
  // For the whole exchange: connect, TLS handshake, request, response.
  std::chrono::milliseconds timeout{10'000};
  // Largest accepted response body.
  size_t max_response_bytes = 16 * 1024 * 1024;
  // Plain http:// URLs are refused unless this is set (tests, local demos).
  bool allow_http = false;
  // A PEM bundle of CA certificates to trust instead of the system store.
  std::string ca_file;
  // Connect only to public addresses (AddressPolicy::PublicOnly), plus these
  // networks ("10.2.0.0/16", "127.0.0.1"); checked on every resolved address
  // and again on the one connected to. Off: any address (URLs the operator
  // configured, such as JWK Sets).
  bool public_addresses_only = false;
  std::vector<std::string> allowed_private_networks;
  // TLS 1.2 cipher suites (OpenSSL names, ':'-separated); TLS 1.3 suites are
  // OpenSSL's (all AEAD with forward secrecy).
  std::string tls12_ciphers;
};

struct HttpClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;
};

class HttpClient {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  virtual ~HttpClient() = default;
  // GET `url` with the extra `headers`, giving up at the options' timeout or
  // at `deadline`, whichever comes first. Any status is a response (the
  // caller decides); failures: kInvalidArgument for a URL that is not
  // absolute http(s) (or http when not allowed) or a header value or URL
  // with characters that could split the request, kUnavailable for DNS,
  // connection, TLS, timeout or protocol failures, kResourceExhausted when
  // the body exceeds the limit, kInvalidInput when every address of the host
  // is refused by the address policy. Thread-safe.
  virtual Result<HttpClientResponse> Get(const std::string& url, const HeaderList& headers,
                                         Deadline deadline) const = 0;
  Result<HttpClientResponse> Get(const std::string& url, const HeaderList& headers) const {
    return Get(url, headers, Deadline::max());
  }
  // POST `body` (its Content-Type among `headers`) to `url`; failures as Get.
  // The default refuses (kInternal): only the Beast client sends bodies.
  virtual Result<HttpClientResponse> Post(const std::string& url, const HeaderList& headers, std::string body,
                                          Deadline deadline) const {
    (void)url, (void)headers, (void)body, (void)deadline;
    return Fail(Internal("this HTTP client cannot POST"));
  }

  // GET every URL of `urls` (same headers, same deadline), concurrently when
  // the implementation can (the Beast one does, on one io_context); one result
  // per URL, in order. The default runs Get one after the other.
  virtual std::vector<Result<HttpClientResponse>> GetMany(const std::vector<std::string>& urls,
                                                          const HeaderList& headers, Deadline deadline) const {
    std::vector<Result<HttpClientResponse>> results;
    results.reserve(urls.size());
    for (const std::string& url : urls) results.push_back(Get(url, headers, deadline));
    return results;
  }
};

// The Beast implementation. Fails (kInvalidArgument) if the CA file cannot be
// loaded.
Result<std::unique_ptr<HttpClient>> CreateBeastHttpClient(HttpClientOptions options);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_HTTP_CLIENT_H_
