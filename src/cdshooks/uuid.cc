#include "cdshooks/uuid.h"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <memory>

namespace regenpath::cdshooks {

namespace {

// A fixed namespace for regenpath's CDS Hooks identifiers (any UUID would do;
// it only has to stay the same).
constexpr std::array<uint8_t, 16> kNamespace = {0x7c, 0x1e, 0x52, 0x0a, 0x93, 0x4b, 0x4e, 0x61,
                                                0xb2, 0x58, 0x0d, 0x6f, 0x3a, 0xc4, 0x91, 0x2e};

std::array<uint8_t, 20> Sha1(std::string_view name) {
  std::array<uint8_t, 20> digest{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned int length = 0;
  // SHA-1 is what RFC 9562 prescribes for version 5; it is not used for security here.
  if (context == nullptr || EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), kNamespace.data(), kNamespace.size()) != 1 ||
      EVP_DigestUpdate(context.get(), name.data(), name.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    // OpenSSL cannot fail on these inputs short of running out of memory; a
    // zero digest still gives a well-formed UUID.
    digest.fill(0);
  }
  return digest;
}

}  // namespace

std::string NameBasedUuid(std::string_view name) {
  std::array<uint8_t, 20> digest = Sha1(name);
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3f) | 0x80);  // RFC 9562 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (int index = 0; index < 16; ++index) {
    if (index == 4 || index == 6 || index == 8 || index == 10) text.push_back('-');
    text.push_back(kHex[digest[index] >> 4]);
    text.push_back(kHex[digest[index] & 0x0f]);
  }
  return text;
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t index = 0; index < text.size(); ++index) {
    const bool dash = index == 8 || index == 13 || index == 18 || index == 23;
    if (dash ? text[index] != '-' : !std::isxdigit(static_cast<unsigned char>(text[index]))) return false;
  }
  return true;
}

}  // namespace regenpath::cdshooks
