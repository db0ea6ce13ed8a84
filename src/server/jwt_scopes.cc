#include "server/jwt_scopes.h"

#include <simdjson.h>

#include <sstream>

#include "security/base64url.h"

namespace regenpath::server {

std::vector<std::string> TokenScopes(std::string_view authorization_header) {
  std::vector<std::string> scopes;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization_header.size() <= kBearer.size()) return scopes;
  std::string_view token = authorization_header.substr(kBearer.size());
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return scopes;
  auto payload = security::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload) return scopes;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view scope;
  if (parser.parse(*payload).get(root) != simdjson::SUCCESS || root["scope"].get(scope) != simdjson::SUCCESS) {
    return scopes;
  }
  std::istringstream words{std::string(scope)};
  std::string word;
  while (words >> word) scopes.push_back(word);
  return scopes;
}

bool GrantsSystemAccess(const std::vector<std::string>& scopes, std::string_view access) {
  for (const std::string& scope : scopes) {
    if (scope == "system/*.*") return true;
    if (scope == "system/*." + std::string(access)) return true;
    if (access == "read" && scope == "system/*.rs") return true;
    if (access == "write" && scope == "system/*.cud") return true;
  }
  return false;
}

}  // namespace regenpath::server
