// The only file that includes Boost.Beast and Boost.Asio (heavy headers): the
// HTTP server (http_server.h) and the HTTP client (http_client.h).
//
// Server: one strand per connection, so a connection's handlers never run
// concurrently while the pool's threads serve many connections. A connection
// waits for the first byte of a request under the idle timeout (the header
// timeout for its first request), reads the header under the header timeout,
// asks the handler (which may answer at once, e.g. 401, 413), then reads the
// body under the body timeout, and writes the response under the write
// timeout. Closing is lingering: after an early answer the unread body is
// discarded for a moment, so the client sees the response and not a reset.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "cdshooks/correlation_id.h"
#include "server/address_policy.h"
#include "server/http_client.h"
#include "server/http_field_check.h"
#include "server/http_server.h"
#include "server/request_framing.h"
#include "server/tls_ciphers.h"
#include "server/url.h"

namespace regenpath::server {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kFirstReadBytes = 8 * 1024;
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 1024 * 1024;

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t index = 0; index < a.size(); ++index) {
    if (std::tolower(static_cast<unsigned char>(a[index])) !=
        std::tolower(static_cast<unsigned char>(b[index]))) {
      return false;
    }
  }
  return true;
}

// A connection as the server's registry sees it.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection if it is waiting for a request (posted to its strand).
  virtual void CloseIfIdle() = 0;
  // Closes the connection whatever it is doing (posted to its strand).
  virtual void ForceClose() = 0;
  // True while it waits for a next request on a kept-alive connection
  // (read from any thread; a hint, the close re-checks on the strand).
  virtual bool KeptAliveIdle() const = 0;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler* handler = nullptr;

  // Declared before the io_context: sessions destroyed with it unregister here.
  mutable std::mutex mutex;
  std::condition_variable sessions_changed;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::unordered_map<std::string, size_t> connections_by_address;  // remote address -> open connections
  std::unordered_map<SessionBase*, std::string> address_of;
  // Bytes reserved for request bodies being read or held (body budget).
  std::atomic<size_t> body_bytes_reserved{0};
  std::atomic<bool> draining{false};
  std::optional<ssl::context> tls;

  net::io_context io_context;
  net::strand<net::io_context::executor_type> accept_strand{net::make_strand(io_context)};
  tcp::acceptor acceptor{accept_strand};
  net::steady_timer accept_retry{accept_strand};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool listening = false;
  bool started = false;
  bool stopped = false;

  void Accept();
  void OnAccept(const beast::error_code& ec, tcp::socket socket);

  void Register(SessionBase* session, std::weak_ptr<SessionBase> weak, const std::string& address) {
    std::lock_guard<std::mutex> lock(mutex);
    sessions.emplace(session, std::move(weak));
    address_of.emplace(session, address);
    ++connections_by_address[address];
  }
  void Unregister(SessionBase* session) {
    std::lock_guard<std::mutex> lock(mutex);
    sessions.erase(session);
    if (auto found = address_of.find(session); found != address_of.end()) {
      auto count = connections_by_address.find(found->second);
      if (count != connections_by_address.end() && --count->second == 0) connections_by_address.erase(count);
      address_of.erase(found);
    }
    sessions_changed.notify_all();
  }
  // Reserves `bytes` of the body budget; false (nothing reserved) beyond it.
  bool ReserveBody(size_t bytes) {
    size_t current = body_bytes_reserved.load();
    do {
      if (current + bytes > options.body_budget_bytes) return false;
    } while (!body_bytes_reserved.compare_exchange_weak(current, current + bytes));
    return true;
  }
  void ReleaseBody(size_t bytes) { body_bytes_reserved.fetch_sub(bytes); }
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(HttpServer::Impl& server, tcp::socket&& socket, Args&... args)
      : server_(server), options_(server.options), stream_(std::move(socket), args...) {}

  ~Session() override {
    FinishRequest(0);
    server_.Unregister(this);
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->DoStart(); });
  }

  void CloseIfIdle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->CloseNow();
    });
  }

  bool KeptAliveIdle() const override { return kept_alive_idle_.load(); }

  void ForceClose() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->CloseNow(); });
  }

 private:
  auto& Lowest() { return beast::get_lowest_layer(stream_); }
  HttpHandler& handler() { return *server_.handler; }

  void DoStart() {
    beast::error_code ec;
    tcp::endpoint remote = Lowest().socket().remote_endpoint(ec);
    if (!ec) remote_address_ = remote.address().to_string();
    if constexpr (kTls) {
      Lowest().expires_after(options_.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](const beast::error_code& ec) {
                                if (ec) {
                                  self->handler().OnTransportError(TransportError::kTlsHandshake);
                                  return self->CloseNow();
                                }
                                self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

  // Between requests: wait for the first byte under the idle timeout.
  void WaitForRequest() {
    if (closed_) return;
    if (server_.draining.load()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit_bytes));
    // The handler judges Content-Length itself (413 without reading); the
    // limit for chunked bodies is set before the body is read.
    parser_->body_limit(boost::none);
    if (buffer_.size() > 0) return ReadHeader();
    idle_ = true;
    kept_alive_idle_ = !first_request_;
    Lowest().expires_after(first_request_ ? options_.header_timeout : options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = this->shared_from_this()](const beast::error_code& ec, size_t bytes) {
                              self->OnFirstBytes(ec, bytes);
                            });
  }

  void OnFirstBytes(const beast::error_code& ec, size_t bytes) {
    idle_ = false;
    kept_alive_idle_ = false;
    if (ec) {
      // An idle keep-alive connection timing out is routine; a new connection
      // that never sends a request is not.
      if (IsTimeout(ec) && first_request_) handler().OnTransportError(TransportError::kHeaderTimeout);
      return CloseNow();
    }
    buffer_.commit(bytes);
    ReadHeader();
  }

  void ReadHeader() {
    Lowest().expires_after(options_.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const beast::error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const beast::error_code& ec) {
    if (ec) {
      if (IsTimeout(ec)) {
        handler().OnTransportError(TransportError::kHeaderTimeout);
        return CloseNow();
      }
      if (ec == http::error::header_limit) {
        handler().OnTransportError(TransportError::kHeaderTooLarge);
        return WriteBare(431, "request header too large");
      }
      if (IsHttpParseError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
        handler().OnTransportError(TransportError::kBadRequest);
        return WriteBare(400, "malformed HTTP request");
      }
      if (ec != http::error::end_of_stream && ec != net::error::eof) {
        handler().OnTransportError(TransportError::kAborted);
      }
      return CloseNow();
    }
    first_request_ = false;
    const auto& header = parser_->get();
    request_ = HttpRequest();
    request_.method = std::string(header.method_string());
    request_.target = std::string(header.target());
    for (const auto& field : header) {
      request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (parser_->content_length()) request_.content_length = *parser_->content_length();
    request_.chunked = parser_->chunked();
    request_.remote_address = remote_address_;
    version_ = header.version();
    keep_alive_ = header.keep_alive();
    started_ = SteadyClock::now();
    in_request_ = true;

    if (std::optional<std::string> framing = CheckRequestFraming(request_, version_)) {
      // Never read on: the next bytes could be this body or a next request.
      HttpResponse refused;
      try {
        refused = handler().OnBadFraming(request_, *framing);
      } catch (const std::exception& error) {
        refused = InternalError("on a framing error", error);
      }
      return Respond(std::move(refused), /*force_close=*/true);
    }

    std::optional<HttpResponse> early;
    try {
      early = handler().OnHeader(request_);
    } catch (const std::exception& error) {
      early = InternalError("on a header", error);
    }
    if (early) return Respond(std::move(*early), /*force_close=*/!parser_->is_done());
    if (parser_->is_done()) return OnBody({});

    // The body will be held until the response is written: count it (a
    // chunked one at the limit) against the budget of all bodies in flight.
    size_t wanted = request_.content_length ? static_cast<size_t>(*request_.content_length)
                                            : options_.body_limit_bytes;
    if (!server_.ReserveBody(wanted)) {
      HttpResponse refused;
      try {
        refused = handler().OnBodyError(request_, TransportError::kBodyBudget);
      } catch (const std::exception& error) {
        refused = InternalError("on the body budget", error);
      }
      return Respond(std::move(refused), /*force_close=*/true);
    }
    body_reserved_ = wanted;

    const std::string* expect = request_.Header("Expect");
    if (expect != nullptr && EqualsIgnoreCase(*expect, "100-continue")) {
      // The client waits for this before sending the body.
      auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      Lowest().expires_after(options_.write_timeout);
      http::async_write(stream_, *interim,
                        [self = this->shared_from_this(), interim](const beast::error_code& ec, size_t) {
                          if (ec) {
                            self->FinishRequest(0);
                            return self->CloseNow();
                          }
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    parser_->body_limit(options_.body_limit_bytes);
    Lowest().expires_after(options_.body_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const beast::error_code& ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(const beast::error_code& ec) {
    if (ec) {
      const bool bad_chunk = IsHttpParseError(ec) && ec != http::error::body_limit &&
                             ec != http::error::end_of_stream && ec != http::error::partial_message;
      if (ec != http::error::body_limit && !bad_chunk) {
        // A timed-out stream is already closed by Beast, and an aborted one
        // has nobody to answer: count it and let go. The body budget goes
        // back first, so that whoever sees the count finds it back.
        ReleaseBodyReservation();
        handler().OnTransportError(IsTimeout(ec) ? TransportError::kBodyTimeout : TransportError::kAborted);
        FinishRequest(0);
        return CloseNow();
      }
      HttpResponse response;
      try {
        response = handler().OnBodyError(
            request_, bad_chunk ? TransportError::kBadChunk : TransportError::kBodyTooLarge);
      } catch (const std::exception& failure) {
        response = InternalError("on a body error", failure);
      }
      return Respond(std::move(response), /*force_close=*/true);
    }
    request_.body = std::move(parser_->get().body());
    // The handler may answer later from another thread: back to this
    // connection's strand then (inline when it answers at once).
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto done = [self = this->shared_from_this(), answered](HttpResponse response) {
      if (answered->exchange(true)) return;
      net::dispatch(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->Respond(std::move(response), /*force_close=*/false);
      });
    };
    try {
      handler().HandleAsync(request_, done);
    } catch (const std::exception& error) {
      done(InternalError("on a request", error));
    }
  }

  // The handler threw (it must not): a generic 500 whose correlation id is
  // in the log line written here.
  static HttpResponse InternalError(std::string_view where, const std::exception& error) {
    std::string id = cdshooks::NewCorrelationId();
    spdlog::error("request handler failed {} (correlation id {}): {}", where, id, error.what());
    HttpResponse response;
    response.status = 500;
    response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    response.headers.emplace_back("X-Correlation-Id", id);
    response.body = "internal error; correlation id " + id + "\n";
    response.close = true;
    return response;
  }

  void Respond(HttpResponse response, bool force_close) {
    close_after_write_ = force_close || response.close || !keep_alive_ || server_.draining.load();
    response_.emplace();
    response_->version(version_ == 10 ? 10 : 11);
    response_->result(static_cast<unsigned>(response.status));
    for (auto& [name, value] : response.headers) response_->insert(name, value);
    response_->body() = std::move(response.body);
    response_->keep_alive(!close_after_write_);
    response_->prepare_payload();
    status_ = response.status;
    Lowest().expires_after(options_.write_timeout);
    http::async_write(
        stream_, *response_,
        [self = this->shared_from_this()](const beast::error_code& ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const beast::error_code& ec) {
    response_.reset();
    if (ec && IsTimeout(ec)) handler().OnTransportError(TransportError::kWriteTimeout);
    FinishRequest(ec ? 0 : status_);
    if (ec) return CloseNow();
    if (close_after_write_) return Close();
    WaitForRequest();
  }

  // A response outside any request (the header could not be parsed), then close.
  void WriteBare(int status, std::string_view text) {
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(11);
    response->result(static_cast<unsigned>(status));
    response->set(http::field::content_type, "text/plain; charset=utf-8");
    response->body() = std::string(text) + "\n";
    response->keep_alive(false);
    response->prepare_payload();
    Lowest().expires_after(options_.write_timeout);
    http::async_write(stream_, *response,
                      [self = this->shared_from_this(), response](const beast::error_code& ec, size_t) {
                        if (ec) return self->CloseNow();
                        self->Close();
                      });
  }

  void ReleaseBodyReservation() {
    if (body_reserved_ > 0) {
      server_.ReleaseBody(body_reserved_);
      body_reserved_ = 0;
    }
  }

  void FinishRequest(int status) {
    ReleaseBodyReservation();
    if (!in_request_) return;
    in_request_ = false;
    double seconds = std::chrono::duration<double>(SteadyClock::now() - started_).count();
    try {
      server_.handler->Completed(request_, status, seconds);
    } catch (const std::exception& error) {
      spdlog::error("request handler failed on completion: {}", error.what());
    }
  }

  // Graceful close: TLS close_notify, or a TCP half-close followed by
  // discarding what the client still sends (bounded), so that a response sent
  // before the body was read is not lost to a reset.
  void Close() {
    if (closed_) return;
    closed_ = true;
    idle_ = false;
    kept_alive_idle_ = false;
    Lowest().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown(
          [self = this->shared_from_this()](const beast::error_code&) { self->CloseNow(); });
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return CloseNow();
      Linger();
    }
  }

  void Linger() {
    Lowest().async_read_some(net::buffer(linger_buffer_),
                             [self = this->shared_from_this()](const beast::error_code& ec, size_t bytes) {
                               self->lingered_ += bytes;
                               if (ec || self->lingered_ > kLingerMaxBytes) return self->CloseNow();
                               self->Linger();
                             });
  }

  void CloseNow() {
    closed_ = true;
    idle_ = false;
    kept_alive_idle_ = false;
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  HttpServer::Impl& server_;
  const HttpServerOptions& options_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  HttpRequest request_;
  std::string remote_address_;
  SteadyClock::time_point started_;
  unsigned version_ = 11;
  int status_ = 0;
  size_t lingered_ = 0;
  std::array<char, 4096> linger_buffer_{};
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool in_request_ = false;
  bool idle_ = false;
  std::atomic<bool> kept_alive_idle_{false};
  size_t body_reserved_ = 0;
  bool closed_ = false;
  bool first_request_ = true;
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(
      net::make_strand(io_context),
      [this](const beast::error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void HttpServer::Impl::OnAccept(const beast::error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Typically out of file descriptors: back off instead of spinning.
    spdlog::warn("accept failed: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](const beast::error_code& wait_ec) {
      if (!wait_ec) Accept();
    });
    return;
  }
  beast::error_code address_ec;
  tcp::endpoint remote = socket.remote_endpoint(address_ec);
  std::string address = address_ec ? std::string() : remote.address().to_string();
  bool refuse = draining.load();
  std::shared_ptr<SessionBase> to_close;
  if (!refuse) {
    std::lock_guard<std::mutex> lock(mutex);
    auto mine = connections_by_address.find(address);
    if (mine != connections_by_address.end() && mine->second >= options.max_connections_per_client) {
      refuse = true;
    } else if (sessions.size() >= options.max_connections) {
      // At the limit: a kept-alive connection waiting for its next request
      // makes room (it can reconnect); otherwise the newcomer is refused.
      for (auto& [raw, weak] : sessions) {
        if (raw->KeptAliveIdle()) {
          to_close = weak.lock();
          if (to_close) break;
        }
      }
      refuse = to_close == nullptr;
    }
  }
  if (to_close) to_close->CloseIfIdle();  // outside the lock: may drop the last reference
  to_close.reset();
  if (refuse) {
    beast::error_code close_ec;
    socket.close(close_ec);
  } else {
    beast::error_code option_ec;
    socket.set_option(tcp::no_delay(true), option_ec);
    if (tls) {
      auto session = std::make_shared<TlsSession>(*this, std::move(socket), *tls);
      Register(session.get(), session, address);
      session->Start();
    } else {
      auto session = std::make_shared<PlainSession>(*this, std::move(socket));
      Register(session.get(), session, address);
      session->Start();
    }
  }
  Accept();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_->started && !impl_->stopped) Shutdown(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options, HttpHandler* handler) {
  if (handler == nullptr) return Fail(InvalidArgument("HttpServer needs a handler"));
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Fail(InvalidArgument("TLS needs both a certificate file and a key file"));
  }
  if (options.threads < 0) return Fail(InvalidArgument("threads must not be negative"));
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->handler = handler;
  if (!impl->options.tls_cert_file.empty()) {
    try {
      impl->tls.emplace(ssl::context::tls_server);
      impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                             ssl::context::single_dh_use);
    } catch (const boost::system::system_error& error) {
      return Fail(Internal(fmt::format("cannot set up TLS: {}", error.what())));
    }
    RP_RETURN_IF_ERROR(SetTls12Ciphers(impl->tls->native_handle(), impl->options.tls12_ciphers));
    beast::error_code ec;
    impl->tls->use_certificate_chain_file(impl->options.tls_cert_file, ec);
    if (ec) {
      return Fail(InvalidInput(
          fmt::format("cannot load the TLS certificate {}: {}", impl->options.tls_cert_file, ec.message())));
    }
    impl->tls->use_private_key_file(impl->options.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return Fail(InvalidInput(
          fmt::format("cannot load the TLS key {}: {}", impl->options.tls_key_file, ec.message())));
    }
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Status HttpServer::Listen() {
  Impl& impl = *impl_;
  if (impl.listening) return Status::Ok();
  std::string host = impl.options.host == "localhost" ? "127.0.0.1" : impl.options.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec)
    return InvalidArgument(fmt::format("host '{}' is not an IP address (or localhost)", impl.options.host));
  tcp::endpoint endpoint(address, impl.options.port);
  std::string where = fmt::format("{}:{}", impl.options.host, impl.options.port);
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable(fmt::format("cannot listen on {}: {}", where, ec.message()));
  impl.port = impl.acceptor.local_endpoint(ec).port();
  impl.listening = true;
  return Status::Ok();
}

Status HttpServer::Start() {
  Impl& impl = *impl_;
  if (impl.started) return Internal("HttpServer::Start called twice");
  RP_RETURN_IF_ERROR(Listen());
  impl.work.emplace(impl.io_context.get_executor());
  impl.Accept();
  int count = impl.options.threads > 0 ? impl.options.threads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int index = 0; index < count; ++index) {
    impl.threads.emplace_back([&impl] {
      for (;;) {
        try {
          impl.io_context.run();
          return;
        } catch (const std::exception& error) {
          spdlog::error("server thread: uncaught exception: {}", error.what());
        }
      }
    });
  }
  impl.started = true;
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->port; }
bool HttpServer::tls() const { return impl_->tls.has_value(); }

size_t HttpServer::connection_count() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->sessions.size();
}

size_t HttpServer::Shutdown(std::chrono::milliseconds deadline) {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return 0;
  impl.draining = true;
  net::post(impl.accept_strand, [&impl] {
    beast::error_code ec;
    impl.acceptor.close(ec);
    impl.accept_retry.cancel();
  });
  auto for_each_session = [&impl](auto&& action) {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> lock(impl.mutex);
      for (auto& [raw, weak] : impl.sessions) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    // Released outside the lock: dropping the last reference unregisters.
    for (auto& session : live) action(*session);
  };
  for_each_session([](SessionBase& session) { session.CloseIfIdle(); });
  impl.work.reset();
  size_t cut = 0;
  {
    std::unique_lock<std::mutex> lock(impl.mutex);
    impl.sessions_changed.wait_for(lock, deadline, [&impl] { return impl.sessions.empty(); });
    cut = impl.sessions.size();
  }
  if (cut > 0) {
    for_each_session([](SessionBase& session) { session.ForceClose(); });
    std::unique_lock<std::mutex> lock(impl.mutex);
    impl.sessions_changed.wait_for(lock, std::chrono::milliseconds(500),
                                   [&impl] { return impl.sessions.empty(); });
  }
  impl.io_context.stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
  impl.stopped = true;
  return cut;
}

// ---------------------------------------------------------------------------
// Client

namespace {

// One GET on its own connection, driven by the io_context it was made with:
// resolve (addresses filtered by the policy), connect (the connected address
// checked again), TLS handshake, write, read; all under one deadline.
class ExchangeBase {
 public:
  virtual ~ExchangeBase() = default;
  virtual void Start() = 0;
  virtual Result<HttpClientResponse> Finish() = 0;
};

template <class Stream>
class Exchange : public ExchangeBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Exchange(net::io_context& io_context, HttpUrl target, http::request<http::string_body> request,
           SteadyClock::time_point deadline, const HttpClientOptions& options, const AddressPolicy& policy,
           Args&... args)
      : stream_(io_context, args...),
        resolver_(io_context),
        resolve_timer_(io_context),
        target_(std::move(target)),
        request_(std::move(request)),
        deadline_(deadline),
        options_(options),
        policy_(policy) {
    parser_.body_limit(options_.max_response_bytes);
    parser_.header_limit(64 * 1024);
  }

  Stream& stream() { return stream_; }

  void Start() override {
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait([this](const beast::error_code& ec) {
      if (!ec) resolver_.cancel();
    });
    resolver_.async_resolve(target_.host, std::to_string(target_.port),
                            [this](const beast::error_code& ec, const tcp::resolver::results_type& results) {
                              OnResolve(ec, results);
                            });
  }

  Result<HttpClientResponse> Finish() override {
    auto& lowest = beast::get_lowest_layer(stream_);
    if (refused_) {
      beast::error_code ignored;
      lowest.socket().close(ignored);
      return Fail(InvalidInput(fmt::format("{} has no address this service may connect to", target_.host)));
    }
    if (failure_) {
      if (failure_ == http::error::body_limit) {
        return Fail(ResourceExhausted(
            fmt::format("response from {} exceeds {} bytes", target_.host, options_.max_response_bytes)));
      }
      if (IsTimeout(failure_)) {
        return Fail(Unavailable(fmt::format("request to {} timed out while {}", target_.host, stage_)));
      }
      return Fail(Unavailable(
          fmt::format("request to {} failed while {}: {}", target_.host, stage_, failure_.message())));
    }
    if (!parser_.is_done()) {
      return Fail(Unavailable(fmt::format("request to {} did not complete", target_.host)));
    }
    HttpClientResponse out;
    auto message = parser_.release();
    out.status = static_cast<int>(message.result_int());
    for (const auto& field : message)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = std::move(message.body());
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return out;
  }

 private:
  void OnResolve(const beast::error_code& ec, const tcp::resolver::results_type& results) {
    resolve_timer_.cancel();
    if (ec) {
      failure_ = ec == net::error::operation_aborted ? beast::error_code(beast::error::timeout) : ec;
      return;
    }
    for (const auto& entry : results) {
      if (policy_.Allows(entry.endpoint().address().to_string())) endpoints_.push_back(entry.endpoint());
    }
    if (endpoints_.empty()) {
      refused_ = true;
      return;
    }
    stage_ = "connecting";
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_at(deadline_);
    lowest.async_connect(endpoints_, [this](const beast::error_code& connect_ec, const tcp::endpoint& endpoint) {
      OnConnect(connect_ec, endpoint);
    });
  }

  void OnConnect(const beast::error_code& ec, const tcp::endpoint& endpoint) {
    if (ec) {
      failure_ = ec;
      return;
    }
    // The address actually connected to, whatever the name said.
    if (!policy_.Allows(endpoint.address().to_string())) {
      refused_ = true;
      return;
    }
    if constexpr (kTls) {
      stage_ = "the TLS handshake";
      stream_.async_handshake(ssl::stream_base::client,
                              [this](const beast::error_code& handshake_ec) { OnHandshake(handshake_ec); });
    } else {
      OnHandshake({});
    }
  }

  void OnHandshake(const beast::error_code& ec) {
    if (ec) {
      failure_ = ec;
      return;
    }
    stage_ = "sending the request";
    http::async_write(stream_, request_, [this](const beast::error_code& write_ec, size_t) {
      if (write_ec) {
        failure_ = write_ec;
        return;
      }
      stage_ = "reading the response";
      http::async_read(stream_, buffer_, parser_, [this](const beast::error_code& read_ec, size_t) {
        if (read_ec) failure_ = read_ec;
      });
    });
  }

  Stream stream_;
  tcp::resolver resolver_;
  net::steady_timer resolve_timer_;
  HttpUrl target_;
  http::request<http::string_body> request_;
  SteadyClock::time_point deadline_;
  const HttpClientOptions& options_;
  const AddressPolicy& policy_;
  http::response_parser<http::string_body> parser_;
  beast::flat_buffer buffer_;
  beast::error_code failure_;
  bool refused_ = false;
  std::vector<tcp::endpoint> endpoints_;
  std::string stage_ = "resolving the host";
};

class BeastHttpClient : public HttpClient {
 public:
  explicit BeastHttpClient(HttpClientOptions options) : options_(std::move(options)) {}

  Status Init() {
    if (options_.public_addresses_only) {
      RP_ASSIGN_OR_RETURN(policy_, AddressPolicy::PublicOnly(options_.allowed_private_networks));
    }
    try {
      tls_.emplace(ssl::context::tls_client);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    } catch (const boost::system::system_error& error) {
      return Internal(fmt::format("cannot set up TLS: {}", error.what()));
    }
    RP_RETURN_IF_ERROR(SetTls12Ciphers(tls_->native_handle(), options_.tls12_ciphers));
    beast::error_code ec;
    if (options_.ca_file.empty()) {
      tls_->set_default_verify_paths(ec);
    } else {
      tls_->load_verify_file(options_.ca_file, ec);
    }
    if (ec) return InvalidArgument(fmt::format("cannot load CA certificates: {}", ec.message()));
    tls_->set_verify_mode(ssl::verify_peer, ec);
    if (ec) return Internal(fmt::format("cannot set up TLS verification: {}", ec.message()));
    return Status::Ok();
  }

  using HttpClient::Get;
  using HttpClient::Post;

  Result<HttpClientResponse> Get(const std::string& url, const HeaderList& headers,
                                 Deadline deadline) const override {
    std::vector<Result<HttpClientResponse>> results = GetMany({url}, headers, deadline);
    return std::move(results.front());
  }

  Result<HttpClientResponse> Post(const std::string& url, const HeaderList& headers, const std::string& content_type,
                                  const std::string& body, Deadline deadline) const override {
    if (!IsSafeFieldValue(content_type)) {
      return Fail(InvalidArgument("request not sent: the content type has characters not allowed in a field"));
    }
    net::io_context io_context;
    RP_ASSIGN_OR_RETURN(std::unique_ptr<ExchangeBase> exchange,
                        Prepare(io_context, url, headers, deadline, http::verb::post, &content_type, &body));
    exchange->Start();
    try {
      io_context.run();
    } catch (const std::exception& error) {
      return Fail(Unavailable(fmt::format("request failed: {}", error.what())));
    }
    return exchange->Finish();
  }

  // The exchanges run concurrently on one io_context in the calling thread.
  std::vector<Result<HttpClientResponse>> GetMany(const std::vector<std::string>& urls, const HeaderList& headers,
                                                  Deadline deadline) const override {
    std::vector<Result<HttpClientResponse>> results(urls.size(), Fail(Internal("not run")));
    // Before the exchanges: their sockets and timers must go first.
    net::io_context io_context;
    std::vector<std::unique_ptr<ExchangeBase>> exchanges(urls.size());
    for (size_t index = 0; index < urls.size(); ++index) {
      Result<std::unique_ptr<ExchangeBase>> exchange = Prepare(io_context, urls[index], headers, deadline);
      if (exchange.has_value()) {
        exchanges[index] = std::move(*exchange);
        exchanges[index]->Start();
      } else {
        results[index] = Fail(exchange.error());
      }
    }
    try {
      io_context.run();
    } catch (const std::exception& error) {
      for (size_t index = 0; index < urls.size(); ++index) {
        if (exchanges[index]) results[index] = Fail(Unavailable(fmt::format("request failed: {}", error.what())));
      }
      return results;
    }
    for (size_t index = 0; index < urls.size(); ++index) {
      if (exchanges[index]) results[index] = exchanges[index]->Finish();
    }
    return results;
  }

 private:
  // A GET, or with `verb` post, a POST of `body` as `content_type`.
  Result<std::unique_ptr<ExchangeBase>> Prepare(net::io_context& io_context, const std::string& url,
                                                const HeaderList& headers, Deadline deadline,
                                                http::verb verb = http::verb::get,
                                                const std::string* content_type = nullptr,
                                                const std::string* body = nullptr) const {
    RP_ASSIGN_OR_RETURN(HttpUrl target, ParseHttpUrl(url));
    deadline = std::min(deadline, SteadyClock::now() + options_.timeout);
    if (deadline <= SteadyClock::now()) {
      return Fail(Unavailable(fmt::format("request to {} not sent: no time left", target.host)));
    }
    if (!target.https && !options_.allow_http) {
      return Fail(InvalidArgument("plain http URLs are not allowed (https only)"));
    }
    // Nothing that could end a line or a field goes out (request splitting).
    if (!IsSafeRequestTarget(target.target)) {
      return Fail(InvalidArgument("request not sent: the URL has characters not allowed in a request line"));
    }
    for (const auto& [name, value] : headers) {
      if (!IsFieldName(name) || !IsSafeFieldValue(value)) {
        return Fail(InvalidArgument(
            fmt::format("request not sent: header '{}' has characters not allowed in a field",
                        IsFieldName(name) ? name : std::string("?"))));
      }
    }
    http::request<http::string_body> request{verb, target.target, 11};
    request.set(http::field::host, target.HostHeader());
    request.set(http::field::user_agent, "regenpath");
    request.set(http::field::connection, "close");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (body != nullptr) {
      request.set(http::field::content_type, *content_type);
      request.body() = *body;
      request.prepare_payload();
    }
    if (target.https) {
      std::string host = target.host;
      auto exchange = std::make_unique<Exchange<beast::ssl_stream<beast::tcp_stream>>>(
          io_context, std::move(target), std::move(request), deadline, options_, policy_, *tls_);
      // SNI, and the certificate must name the host.
      beast::error_code ignored;
      net::ip::make_address(host, ignored);
      if (ignored && !SSL_set_tlsext_host_name(exchange->stream().native_handle(), host.c_str())) {
        return Fail(Unavailable(fmt::format("TLS set-up for {} failed", host)));
      }
      exchange->stream().set_verify_callback(ssl::host_name_verification(host));
      return std::unique_ptr<ExchangeBase>(std::move(exchange));
    }
    return std::unique_ptr<ExchangeBase>(std::make_unique<Exchange<beast::tcp_stream>>(
        io_context, std::move(target), std::move(request), deadline, options_, policy_));
  }

  HttpClientOptions options_;
  AddressPolicy policy_ = AddressPolicy::AllowAll();
  // Only read once set up (SSL objects are made from it), which OpenSSL
  // allows from several threads; Asio's wrapper wants it non-const.
  mutable std::optional<ssl::context> tls_;
};

}  // namespace

Result<std::unique_ptr<HttpClient>> CreateBeastHttpClient(HttpClientOptions options) {
  auto client = std::make_unique<BeastHttpClient>(std::move(options));
  RP_RETURN_IF_ERROR(client->Init());
  return std::unique_ptr<HttpClient>(std::move(client));
}

}  // namespace regenpath::server
