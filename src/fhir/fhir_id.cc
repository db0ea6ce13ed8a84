#include "fhir/fhir_id.h"

#include <array>

namespace regenpath::fhir {

namespace {

// [A-Za-z0-9\-.] by byte (every resource's id is checked: a table, not four ranges a byte).
constexpr std::array<bool, 256> kIdByte = [] {
  std::array<bool, 256> allowed{};
  for (int c = 0; c < 256; ++c) {
    allowed[c] =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  }
  return allowed;
}();

}  // namespace

bool IsFhirId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  bool valid = true;
  for (char c : text) valid &= kIdByte[static_cast<unsigned char>(c)];
  return valid;
}

}  // namespace regenpath::fhir
