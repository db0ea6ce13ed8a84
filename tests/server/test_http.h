// Test-only HTTP over raw sockets (no Beast in the tests): a client that
// sends exactly the bytes a test wants and reads responses one at a time, and
// a raw TCP server that answers with whatever bytes a test gives it.
#ifndef REGENPATH_TESTS_SERVER_TEST_HTTP_H_
#define REGENPATH_TESTS_SERVER_TEST_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace regenpath::server::testing {

using namespace std::chrono_literals;

inline std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct TestResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first value of `name` (any case), or "".
  std::string Header(std::string_view name) const {
    std::string key = LowerAscii(name);
    for (const auto& [field, value] : headers) {
      if (field == key) return value;
    }
    return "";
  }
  bool HasHeader(std::string_view name) const {
    std::string key = LowerAscii(name);
    for (const auto& header : headers) {
      if (header.first == key) return true;
    }
    return false;
  }
};

// "METHOD target HTTP/1.1" with Host, the given headers, and Content-Length
// when there is a body.
inline std::string BuildRequest(std::string_view method, std::string_view target,
                                const std::vector<std::pair<std::string, std::string>>& headers = {},
                                std::string_view body = "", bool add_length = true) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (add_length && (!body.empty() || method == "POST"))
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

class TestConnection {
 public:
  explicit TestConnection(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~TestConnection() {
    if (fd_ >= 0) close(fd_);
  }
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t sent = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      data.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  // Reads one response (Content-Length or chunked body; none for 1xx, 204,
  // 304). nullopt if the connection closes or `timeout` passes first.
  std::optional<TestResponse> ReadResponse(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    TestResponse response;
    std::string_view head(buffer_.data(), header_end);
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(std::string(status_line.substr(9, 3)));
    size_t position = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (position < head.size()) {
      size_t next = head.find("\r\n", position);
      if (next == std::string_view::npos) next = head.size();
      std::string_view line = head.substr(position, next - position);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        response.headers.emplace_back(LowerAscii(line.substr(0, colon)), std::string(value));
      }
      position = next + 2;
    }
    buffer_.erase(0, header_end + 4);
    if (response.status < 200 || response.status == 204 || response.status == 304) return response;
    if (LowerAscii(response.Header("Transfer-Encoding")).find("chunked") != std::string::npos) {
      for (;;) {
        size_t size_end;
        while ((size_end = buffer_.find("\r\n")) == std::string::npos) {
          if (!Fill(deadline)) return std::nullopt;
        }
        size_t size = std::stoul(buffer_.substr(0, size_end), nullptr, 16);
        while (buffer_.size() < size_end + 2 + size + 2) {
          if (!Fill(deadline)) return std::nullopt;
        }
        response.body += buffer_.substr(size_end + 2, size);
        buffer_.erase(0, size_end + 2 + size + 2);
        if (size == 0) return response;
      }
    }
    std::string length_text = response.Header("Content-Length");
    size_t length = length_text.empty() ? 0 : std::stoul(length_text);
    while (buffer_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // True iff the peer closes (EOF or reset) within `timeout`, discarding
  // whatever it sends before.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = Poll(deadline);
      if (status <= 0) return false;
      char chunk[4096];
      ssize_t got = recv(fd_, chunk, sizeof(chunk), 0);
      if (got <= 0) return true;
    }
  }

  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

 private:
  int Poll(std::chrono::steady_clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    pollfd item{fd_, POLLIN, 0};
    return poll(&item, 1, static_cast<int>(left.count()));
  }

  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (Poll(deadline) <= 0) return false;
    char chunk[16384];
    ssize_t got = recv(fd_, chunk, sizeof(chunk), 0);
    if (got <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(got));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// One request on a fresh connection.
inline std::optional<TestResponse> Exchange(uint16_t port, const std::string& request,
                                            std::chrono::milliseconds timeout = 10s) {
  TestConnection connection(port);
  if (!connection.connected() || !connection.Send(request)) return std::nullopt;
  return connection.ReadResponse(timeout);
}

// A TCP server on an ephemeral loopback port that reads what the client sends
// (up to the end of a header) and answers `reply(request)` raw, then closes.
class RawServer {
 public:
  explicit RawServer(std::function<std::string(const std::string&)> reply) : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 16);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~RawServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  void Run() {
    while (!stop_) {
      pollfd item{fd_, POLLIN, 0};
      if (poll(&item, 1, 50) <= 0) continue;
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char chunk[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd wait{client, POLLIN, 0};
        if (poll(&wait, 1, 2000) <= 0) break;
        ssize_t got = recv(client, chunk, sizeof(chunk), 0);
        if (got <= 0) break;
        request.append(chunk, static_cast<size_t>(got));
      }
      std::string answer = reply_(request);
      send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      shutdown(client, SHUT_WR);
      close(client);
    }
  }

  std::function<std::string(const std::string&)> reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A port that was free a moment ago (for child processes).
inline uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace regenpath::server::testing

#endif  // REGENPATH_TESTS_SERVER_TEST_HTTP_H_
