// HttpRequest, HttpResponse and HttpHandler: what the HTTP transport
// (http_server.h, on Boost.Beast) hands to the application and gets back. No
// Beast types here, so the routing logic builds and tests without them.
#ifndef REGENPATH_SERVER_HTTP_TYPES_H_
#define REGENPATH_SERVER_HTTP_TYPES_H_

#include <any>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regenpath::server {

// Header fields as received or to send: (name, value) pairs in order.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first field named `name` (case-insensitive), or
// null. The pointer is valid as long as `headers` is not modified.
const std::string* FindHeader(const HeaderList& headers, std::string_view name);

// The media type of a Content-Type value without its parameters, trimmed of
// spaces and in lower case ("" when there is no header).
std::string MediaType(const std::string* content_type);

// The value of `name` in the query string of `target`, "" when absent (no
// percent-decoding: callers decode what may be encoded).
std::string QueryValue(const std::string& target, std::string_view name);

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // the request-target, e.g. "/cds-services?x=1"
  HeaderList headers;
  // The announced Content-Length; empty for a chunked body or none.
  std::optional<uint64_t> content_length;
  bool chunked = false;
  std::string body;  // filled before HttpHandler::Handle only
  std::string remote_address;
  // Whatever the handler wants to carry from OnHeader to Handle/Completed.
  std::any state;

  const std::string* Header(std::string_view name) const { return FindHeader(headers, name); }
  // The target without its query string.
  std::string_view Path() const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
  // Close the connection after this response.
  bool close = false;
};

// Why a request ended without a response from the handler, or why a
// connection failed before a request could be formed.
enum class TransportError {
  kHeaderTimeout,   // the request header did not arrive in time
  kBodyTimeout,     // the body did not arrive in time
  kWriteTimeout,    // the client did not read the response in time
  kBadRequest,      // not HTTP/1.x, or a malformed header
  kHeaderTooLarge,  // the header exceeds the limit
  kBodyTooLarge,    // a chunked body grew past the limit
  kTlsHandshake,    // the TLS handshake failed or timed out
  kAborted,         // the client went away mid-request
  kBadFraming,      // ambiguous framing or repeated identity fields (request_framing.h)
  kBadChunk,        // a malformed chunked body (bad size, overrun, missing CRLF)
  kBodyBudget,      // the bodies in flight would exceed the server's budget
};
std::string_view TransportErrorName(TransportError error);

// The application side of the HTTP server. Calls for one connection come one
// at a time, but calls for different connections come from several threads at
// once: implementations must be thread-safe. None of them may throw (the
// transport answers 500 if one does).
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // The header of a request is in. Returns a response to send at once (the
  // body, if any, is then not read and the connection is closed), or nullopt
  // to have the body read and Handle called. `request.body` is empty here.
  virtual std::optional<HttpResponse> OnHeader(HttpRequest& request) = 0;

  // The whole request is in (after OnHeader returned nullopt).
  virtual HttpResponse Handle(HttpRequest& request) = 0;

  // The same, answered through `done`: exactly once, from any thread, at
  // once or later (work that waits on others belongs off the request
  // threads). `request` stays valid until `done` is called. The default calls
  // Handle, then `done`.
  virtual void HandleAsync(HttpRequest& request, std::function<void(HttpResponse)> done) {
    done(Handle(request));
  }

  // A chunked body grew past the limit (kBodyTooLarge) or is malformed
  // (kBadChunk), or the body would exceed the server's budget for bodies in
  // flight (kBodyBudget, before any of it is read): the response to send before closing. (A body that times out
  // or is cut off ends the request without a response: OnTransportError,
  // then Completed with status 0.)
  virtual HttpResponse OnBodyError(HttpRequest& request, TransportError error) = 0;

  // The header of a request is in but its framing is refused
  // (CheckRequestFraming: `reason`); called instead of OnHeader. The
  // response to send (a 400) before closing. Completed follows as usual.
  virtual HttpResponse OnBadFraming(HttpRequest& request, std::string_view reason) = 0;

  // Called exactly once for every request that reached OnHeader, after its
  // response was written (`status`) or when it could not be (`status` 0):
  // the time since the header was in, in seconds.
  virtual void Completed(const HttpRequest& request, int status, double seconds) = 0;

  // A connection failed outside any request (or before one was formed).
  virtual void OnTransportError(TransportError error) = 0;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_HTTP_TYPES_H_
