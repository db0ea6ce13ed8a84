#include "server/fhir_server_allowlist.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "server/url.h"

namespace regenpath::server {

namespace {

std::string_view WithoutTrailingSlashes(std::string_view text) {
  while (text.ends_with('/')) text.remove_suffix(1);
  return text;
}

// "scheme://host[:port]" lower-cased, then the rest as is.
std::string Canonical(std::string_view url) {
  std::string out(url);
  size_t scheme_end = out.find("://");
  if (scheme_end == std::string::npos) return out;
  size_t authority_end = out.find('/', scheme_end + 3);
  if (authority_end == std::string::npos) authority_end = out.size();
  std::transform(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(authority_end), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status CheckEntry(const std::string& entry) {
  std::string_view url = entry;
  if (url.ends_with('*')) {
    // "https://ehr.example.org*" would also match https://ehr.example.org.evil.com.
    if (!url.ends_with("/*")) {
      return InvalidArgument(fmt::format("fhir server '{}': a prefix entry must end in '/*'", entry));
    }
    url.remove_suffix(1);
  }
  Result<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.has_value() || url.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument(
        fmt::format("fhir server '{}' must be an absolute http(s) base URL (optionally ending in '*')", entry));
  }
  return Status::Ok();
}

}  // namespace

bool FhirServerEntryMatches(std::string_view entry, std::string_view fhir_server) {
  std::string server = Canonical(WithoutTrailingSlashes(fhir_server));
  if (entry.ends_with('*')) {
    entry.remove_suffix(1);
    return server.starts_with(Canonical(entry));
  }
  return server == Canonical(WithoutTrailingSlashes(entry));
}

Result<FhirServerAllowlist> FhirServerAllowlist::Create(
    std::vector<std::string> for_everyone, std::map<std::string, std::vector<std::string>> by_issuer) {
  for (const std::string& entry : for_everyone) RP_RETURN_IF_ERROR(CheckEntry(entry));
  for (const auto& [issuer, entries] : by_issuer) {
    for (const std::string& entry : entries) RP_RETURN_IF_ERROR(CheckEntry(entry));
  }
  FhirServerAllowlist list;
  list.for_everyone_ = std::move(for_everyone);
  for (auto& [issuer, entries] : by_issuer) list.by_issuer_.emplace(issuer, std::move(entries));
  return list;
}

bool FhirServerAllowlist::Allows(std::string_view issuer, std::string_view fhir_server) const {
  auto matches = [&](const std::vector<std::string>& entries) {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const std::string& entry) { return FhirServerEntryMatches(entry, fhir_server); });
  };
  if (matches(for_everyone_)) return true;
  auto found = by_issuer_.find(issuer);
  return found != by_issuer_.end() && matches(found->second);
}

}  // namespace regenpath::server
