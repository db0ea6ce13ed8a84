// Pseudonymizer: the only way a patient enters the registry. A patient is
// stored as HMAC-SHA256(site secret, "<identifier system>|<identifier value>")
// in lower-case hex; names, addresses and the identifier itself are never
// stored. The same identifier gives the same pseudonym at one site (so
// follow-up links up) and an unrelated one at a site with another secret.
// Immutable after Create(); thread-safe.
#ifndef REGENPATH_REGISTRY_PSEUDONYMIZER_H_
#define REGENPATH_REGISTRY_PSEUDONYMIZER_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace regenpath::registry {

class Pseudonymizer {
 public:
  // At least 32 bytes of secret (256 bits); kInvalidArgument otherwise.
  static Result<Pseudonymizer> Create(std::string secret);
  // Reads the secret from a file (trailing newline removed); the message
  // names the file, never its content.
  static Result<Pseudonymizer> FromFile(const std::string& path);

  // 64 hex digits. `system` may be empty; `value` may not (callers check).
  std::string Pseudonym(std::string_view system, std::string_view value) const;

 private:
  explicit Pseudonymizer(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_PSEUDONYMIZER_H_
