// TlsCiphers: the TLS 1.2 cipher suites of the server and of the HTTP client.
// Only ECDHE key exchange (forward secrecy) with AEAD encryption (AES-GCM,
// ChaCha20-Poly1305) is accepted: no static RSA, no CBC, no SHA-1 MAC. TLS 1.3
// suites are OpenSSL's defaults (all of them are AEAD with forward secrecy).
// OpenSSL only (no Asio), so the check is testable on its own.
#ifndef REGENPATH_SERVER_TLS_CIPHERS_H_
#define REGENPATH_SERVER_TLS_CIPHERS_H_

#include <openssl/ssl.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace regenpath::server {

// The default: Mozilla's "intermediate" TLS 1.2 list without DHE.
inline constexpr std::string_view kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Sets the TLS 1.2 suites of `context` to `ciphers` (OpenSSL names,
// ':'-separated; empty: kDefaultTls12Ciphers). kInvalidArgument naming the
// problem when OpenSSL knows none of them, or when the list would enable a
// TLS 1.2 suite without ECDHE or without AEAD.
Status SetTls12Ciphers(SSL_CTX* context, std::string_view ciphers);

// The TLS 1.2 suites `ciphers` would enable (empty: the default), in order;
// kInvalidArgument as above. For tests and the documentation.
Result<std::vector<std::string>> Tls12CipherNames(std::string_view ciphers);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_TLS_CIPHERS_H_
