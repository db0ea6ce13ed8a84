#include "server/tls_ciphers.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <memory>

namespace regenpath::server {

namespace {

// The enabled TLS 1.2 suites of `context`, or the first that is not ECDHE+AEAD.
Result<std::vector<std::string>> CheckSuites(SSL_CTX* context) {
  std::vector<std::string> names;
  STACK_OF(SSL_CIPHER)* suites = SSL_CTX_get_ciphers(context);
  for (int index = 0; index < sk_SSL_CIPHER_num(suites); ++index) {
    const SSL_CIPHER* suite = sk_SSL_CIPHER_value(suites, index);
    // TLS 1.3 suites (key exchange "any") are set apart by OpenSSL.
    if (SSL_CIPHER_get_kx_nid(suite) == NID_kx_any) continue;
    std::string name = SSL_CIPHER_get_name(suite);
    if (SSL_CIPHER_get_kx_nid(suite) != NID_kx_ecdhe || SSL_CIPHER_is_aead(suite) != 1) {
      return Fail(InvalidArgument(
          fmt::format("TLS 1.2 cipher suite {} is not allowed: only ECDHE with AES-GCM or ChaCha20-Poly1305",
                      name)));
    }
    names.push_back(std::move(name));
  }
  if (names.empty()) return Fail(InvalidArgument("the TLS 1.2 cipher list enables no suite"));
  return names;
}

}  // namespace

Status SetTls12Ciphers(SSL_CTX* context, std::string_view ciphers) {
  std::string list(ciphers.empty() ? kDefaultTls12Ciphers : ciphers);
  if (SSL_CTX_set_cipher_list(context, list.c_str()) != 1) {
    ERR_clear_error();
    return InvalidArgument(fmt::format("TLS 1.2 cipher list '{}' names no cipher suite OpenSSL knows", list));
  }
  Result<std::vector<std::string>> suites = CheckSuites(context);
  if (!suites.has_value()) return suites.error();
  // The server picks from its own list (the client's order does not matter).
  SSL_CTX_set_options(context, SSL_OP_CIPHER_SERVER_PREFERENCE);
  return Status::Ok();
}

Result<std::vector<std::string>> Tls12CipherNames(std::string_view ciphers) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
  if (context == nullptr) return Fail(Internal("cannot create an OpenSSL context"));
  RP_RETURN_IF_ERROR(SetTls12Ciphers(context.get(), ciphers));
  return CheckSuites(context.get());
}

}  // namespace regenpath::server
