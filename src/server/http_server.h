// HttpServer: an HTTP/1.1 server (optionally over TLS) on Boost.Beast that
// hands requests to an HttpHandler. Asynchronous I/O on a pool of threads;
// keep-alive; limits on header and body size; header, body, idle and write
// timeouts; a graceful shutdown that drains requests in flight.
//
// All of Beast and Asio is confined to beast_http.cc.
#ifndef REGENPATH_SERVER_HTTP_SERVER_H_
#define REGENPATH_SERVER_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http_types.h"

namespace regenpath::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IP address or "localhost"
  uint16_t port = 8080;            // 0: an ephemeral port (see HttpServer::port)
  int threads = 0;                 // I/O and request threads; 0: one per core
  // PEM files; TLS is on iff both are set.
  std::string tls_cert_file;
  std::string tls_key_file;
  // TLS 1.2 cipher suites (tls_ciphers.h; empty: kDefaultTls12Ciphers, ECDHE
  // with AES-GCM or ChaCha20 only). Create fails on a list that enables anything else.
  std::string tls12_ciphers;
  size_t header_limit_bytes = 64 * 1024;
  // Chunked bodies are cut off at this size (the handler refuses a larger
  // Content-Length itself, before reading).
  size_t body_limit_bytes = 1024 * 1024;
  // From the first byte of a request to the end of its header (also the TLS
  // handshake).
  std::chrono::milliseconds header_timeout{10'000};
  // For reading the whole body once the header is in.
  std::chrono::milliseconds body_timeout{30'000};
  // How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // For writing a response.
  std::chrono::milliseconds write_timeout{30'000};
  // Connections beyond this many are closed at once, unless a kept-alive
  // idle connection can be closed to make room (it is, first).
  size_t max_connections = 10'000;
  // Connections from one remote address beyond this many are closed at once.
  size_t max_connections_per_client = 256;
  // Request bodies being read or held, all connections together (a chunked
  // body counts at body_limit_bytes): a request whose body would exceed it
  // gets HttpHandler::OnBodyError(kBodyBudget) (a 503) without being read.
  size_t body_budget_bytes = 256 * 1024 * 1024;
};

class HttpServer {
 public:
  // Checks the options and loads the TLS certificate and key. Nothing is
  // bound yet. `handler` is not owned and must outlive the server.
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options, HttpHandler* handler);
  ~HttpServer();  // Shuts down (without waiting for requests) if still running.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (connections queue until Start). kUnavailable when
  // the address cannot be bound (the message names it), kInvalidArgument
  // for a host that is not an IP address or "localhost".
  Status Listen();

  // Listens if not done yet, then starts the threads; returns once
  // connections are accepted.
  Status Start();

  // The bound port (after Listen).
  uint16_t port() const;
  bool tls() const;

  // Stops accepting, closes idle connections, lets requests in flight finish
  // (their connections close after the response), and returns when none is
  // left or `deadline` has passed, whichever comes first; then stops the
  // threads. Returns the number of connections cut at the deadline. Call
  // once, from any thread but a server thread.
  size_t Shutdown(std::chrono::milliseconds deadline);

  // Open connections right now (for tests and metrics).
  size_t connection_count() const;

  // The implementation (beast_http.cc); public only so its helpers can name it.
  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_HTTP_SERVER_H_
