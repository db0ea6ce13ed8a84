#include "registry/pseudonymizer.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>

namespace regenpath::registry {

namespace {
constexpr size_t kMinSecretBytes = 32;
}

Result<Pseudonymizer> Pseudonymizer::Create(std::string secret) {
  if (secret.size() < kMinSecretBytes) {
    return Fail(InvalidArgument(fmt::format("the registry's site secret must be at least {} bytes (it has {})",
                                            kMinSecretBytes, secret.size())));
  }
  return Pseudonymizer(std::move(secret));
}

Result<Pseudonymizer> Pseudonymizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(InvalidArgument(fmt::format("{}: cannot read the registry's site secret", path)));
  std::stringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  auto created = Create(std::move(secret));
  if (!created) return Fail(created.error().WithPrefix(path));
  return created;
}

std::string Pseudonymizer::Pseudonym(std::string_view system, std::string_view value) const {
  std::string message;
  message.reserve(system.size() + value.size() + 1);
  message.append(system).append("|").append(value);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int index = 0; index < length; ++index) hex += fmt::format("{:02x}", digest[index]);
  return hex;
}

}  // namespace regenpath::registry
