// Issue 13, 7: the TLS 1.2 suites the running server accepts, probed with
// `openssl s_client`: ECDHE with AES-GCM or ChaCha20 only; CBC, SHA-1 and
// static-RSA suites are refused; tls.ciphers narrows the list.
#include <stdio.h>

#include <array>
#include <string>

#include <gtest/gtest.h>

#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

// The suite `openssl s_client` negotiated offering only `ciphers` over TLS
// 1.2, or "(NONE)" when the handshake failed.
std::string Negotiated(uint16_t port, const std::string& ciphers) {
  std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                        " -tls1_2 -cipher '" + ciphers + "' </dev/null 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string output;
  std::array<char, 4096> chunk{};
  while (fgets(chunk.data(), static_cast<int>(chunk.size()), pipe) != nullptr) output += chunk.data();
  pclose(pipe);
  size_t at = output.find("Cipher is ");
  if (at == std::string::npos) return "(NONE)";
  size_t end = output.find('\n', at);
  return output.substr(at + 10, end - at - 10);
}

class TlsCipherTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -keyout '" + (dir_.path() / "key.pem").string() + "' -out '" +
        (dir_.path() / "cert.pem").string() + "' 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0);
    config_.tls_cert_file = (dir_.path() / "cert.pem").string();
    config_.tls_key_file = (dir_.path() / "key.pem").string();
  }
};

TEST_F(TlsCipherTest, OnlyEcdheWithAeadIsNegotiatedOverTls12) {
  StartServer();
  EXPECT_EQ(Negotiated(port(), "ECDHE-ECDSA-AES128-GCM-SHA256"), "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(Negotiated(port(), "ECDHE-ECDSA-CHACHA20-POLY1305"), "ECDHE-ECDSA-CHACHA20-POLY1305");
  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256",
                           "AES128-SHA:AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384"}) {
    EXPECT_EQ(Negotiated(port(), weak), "(NONE)") << weak;
  }
}

TEST_F(TlsCipherTest, TheConfiguredListNarrowsIt) {
  config_.tls12_ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
  StartServer();
  EXPECT_EQ(Negotiated(port(), "ECDHE-ECDSA-AES128-GCM-SHA256"), "(NONE)");
  EXPECT_EQ(Negotiated(port(), "ECDHE-ECDSA-CHACHA20-POLY1305"), "ECDHE-ECDSA-CHACHA20-POLY1305");
}

TEST_F(TlsCipherTest, AWeakConfiguredListIsRefusedAtStartUp) {
  config_.tls12_ciphers = "ECDHE-ECDSA-AES128-SHA";
  Result<std::unique_ptr<CdsServer>> created = CdsServer::Create(config_, &clock_);
  ASSERT_FALSE(created.has_value());
  EXPECT_NE(created.error().message().find("ECDHE-ECDSA-AES128-SHA"), std::string::npos)
      << created.error().message();
}

}  // namespace
}  // namespace regenpath::server::testing
