#include "bulk/smart_auth.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>

#include "bulk/export_url.h"
#include "common/json_string.h"
#include "security/base64url.h"

namespace regenpath::bulk {

namespace {

using security::Base64UrlEncode;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct SigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// application/x-www-form-urlencoded value.
std::string FormEncode(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

Result<std::string> MakeClientAssertion(const std::string& key_pem, const std::string& key_id,
                                        const std::string& client_id, const std::string& audience,
                                        std::chrono::system_clock::time_point now, std::chrono::seconds lifetime) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Fail(InvalidInput("the SMART key is not a PEM private key"));
  std::string alg;
  size_t coordinate = 0;  // ES384: bytes of r and of s
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    if (EVP_PKEY_get_bits(key.get()) < 2048) return Fail(InvalidInput("the SMART RSA key is shorter than 2048 bits"));
    alg = "RS384";
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {};
    size_t group_size = 0;
    if (!EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof(group), &group_size) ||
        std::string_view(group) != "secp384r1") {
      return Fail(InvalidInput("the SMART EC key is not on P-384 (ES384)"));
    }
    alg = "ES384";
    coordinate = 48;
  } else {
    return Fail(InvalidInput("the SMART key is neither RSA (RS384) nor EC P-384 (ES384)"));
  }
  unsigned char jti_bytes[16];
  if (RAND_bytes(jti_bytes, sizeof(jti_bytes)) != 1) return Fail(Internal("no random bytes for the jti"));
  std::string jti;
  for (unsigned char b : jti_bytes) jti += fmt::format("{:02x}", b);
  const long long issued = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  std::string header = "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\",\"kid\":";
  AppendJsonString(key_id, header);
  header += "}";
  std::string claims = "{\"iss\":";
  AppendJsonString(client_id, claims);
  claims += ",\"sub\":";
  AppendJsonString(client_id, claims);
  claims += ",\"aud\":";
  AppendJsonString(audience, claims);
  claims += fmt::format(",\"exp\":{},\"jti\":\"{}\"}}", issued + lifetime.count(), jti);
  const std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Fail(Internal("cannot sign the SMART client assertion"));
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    return Fail(Internal("cannot sign the SMART client assertion"));
  }
  signature.resize(size);
  if (coordinate > 0) {
    // JWS wants r || s, each of fixed size; OpenSSL gives DER.
    const unsigned char* der = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())));
    if (!sig) return Fail(Internal("cannot sign the SMART client assertion"));
    std::string raw(2 * coordinate, '\0');
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()),
                     static_cast<int>(coordinate)) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + coordinate,
                     static_cast<int>(coordinate)) < 0) {
      return Fail(Internal("cannot sign the SMART client assertion"));
    }
    signature = std::move(raw);
  }
  return signing_input + "." + Base64UrlEncode(signature);
}

Result<std::unique_ptr<SmartTokenSource>> SmartTokenSource::Create(const server::HttpClient& client,
                                                                   SmartAuthOptions options) {
  if (options.client_id.empty()) return Fail(InvalidArgument("SMART Backend Services: no client id"));
  if (options.key_id.empty()) return Fail(InvalidArgument("SMART Backend Services: no key id (kid)"));
  std::ifstream in(options.key_file, std::ios::binary);
  if (!in) return Fail(InvalidInput(fmt::format("{}: cannot open", options.key_file)));
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  // Checked now, so that a bad key fails before any request.
  Result<std::string> probe = MakeClientAssertion(pem, options.key_id, options.client_id, "probe",
                                                  std::chrono::system_clock::now());
  if (!probe.has_value()) return Fail(probe.error().WithPrefix(options.key_file));
  return std::unique_ptr<SmartTokenSource>(new SmartTokenSource(client, std::move(options), std::move(pem)));
}

Result<std::string> SmartTokenSource::TokenEndpoint() {
  if (!options_.token_endpoint.empty()) return options_.token_endpoint;
  // The configuration is the FHIR base's, also for a Group or Patient export URL.
  const std::string url = FhirBase(options_.fhir_base) + "/.well-known/smart-configuration";
  Result<server::HttpClientResponse> response = client_.Get(url, {{"Accept", "application/json"}});
  if (!response.has_value()) return Fail(response.error().WithPrefix("SMART configuration"));
  if (response->status != 200) {
    return Fail(InvalidInput(fmt::format("SMART configuration: {} answered HTTP {}", url, response->status)));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view endpoint;
  if (parser.parse(response->body).get(root) || root["token_endpoint"].get_string().get(endpoint) ||
      endpoint.empty()) {
    return Fail(InvalidInput(fmt::format("SMART configuration: {} has no token_endpoint", url)));
  }
  options_.token_endpoint = std::string(endpoint);
  return options_.token_endpoint;
}

Result<std::string> SmartTokenSource::Token(bool refresh) {
  const auto now = std::chrono::steady_clock::now();
  if (!refresh && !token_.empty() && now < expires_) return token_;
  RP_ASSIGN_OR_RETURN(std::string endpoint, TokenEndpoint());
  RP_ASSIGN_OR_RETURN(std::string assertion, MakeClientAssertion(key_pem_, options_.key_id, options_.client_id,
                                                                 endpoint, std::chrono::system_clock::now()));
  const std::string body = "grant_type=client_credentials&scope=" + FormEncode(options_.scope) +
                           "&client_assertion_type=" +
                           FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                           "&client_assertion=" + assertion;
  ++tokens_requested_;
  Result<server::HttpClientResponse> response =
      client_.Post(endpoint, {{"Accept", "application/json"}}, "application/x-www-form-urlencoded", body);
  if (!response.has_value()) return Fail(response.error().WithPrefix("SMART token request"));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const bool json = !parser.parse(response->body).get(root);
  if (response->status != 200) {
    // OAuth errors: {"error": "invalid_client", "error_description": "..."}.
    std::string_view error, description;
    if (json) {
      if (root["error"].get_string().get(error) != simdjson::SUCCESS) error = {};
      if (root["error_description"].get_string().get(description) != simdjson::SUCCESS) description = {};
    }
    return Fail(InvalidInput(fmt::format("SMART token request: HTTP {}{}{}{}", response->status,
                                         error.empty() ? "" : ": ", error,
                                         description.empty() ? std::string() : fmt::format(" ({})", description))));
  }
  std::string_view access_token;
  if (!json || root["access_token"].get_string().get(access_token) || access_token.empty()) {
    return Fail(InvalidInput("SMART token request: the answer has no access_token"));
  }
  int64_t expires_in = 300;
  if (root["expires_in"].get_int64().get(expires_in) != simdjson::SUCCESS) expires_in = 300;
  token_ = std::string(access_token);
  // Renewed 30 s (or, for short-lived tokens, half their life) early.
  const int64_t margin = std::min<int64_t>(30, expires_in / 2);
  expires_ = now + std::chrono::seconds(std::max<int64_t>(expires_in - margin, 0));
  return token_;
}

}  // namespace regenpath::bulk
