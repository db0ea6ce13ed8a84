#include "server/smart_launch.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>

#include "security/base64url.h"

namespace regenpath::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(10);
constexpr size_t kMaxPending = 10'000;

std::string Field(simdjson::dom::element object, std::string_view name) {
  std::string_view value;
  if (object[name].get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

bool HasScope(const std::string& granted, std::string_view wanted) {
  size_t start = 0;
  while (start <= granted.size()) {
    size_t end = granted.find(' ', start);
    if (end == std::string::npos) end = granted.size();
    if (std::string_view(granted).substr(start, end - start) == wanted) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no entropy: nothing safe to do
  return security::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string PkceChallenge(const std::string& verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return security::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() + 0 &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void SmartLaunch::Expire() const {
  Clock::time_point now = Clock::now();
  std::erase_if(pending_, [now](const auto& item) { return item.second.expires < now; });
  std::erase_if(sessions_, [now](const auto& item) { return item.second.expires < now; });
}

Result<std::string> SmartLaunch::Begin(const std::string& iss, const std::string& launch,
                                       const std::string& redirect_uri) {
  if (!enabled()) return Fail(InvalidArgument("the SMART launch is not configured (smart.client_id)"));
  if (std::find(options_.issuers.begin(), options_.issuers.end(), iss) == options_.issuers.end()) {
    return Fail(InvalidArgument("iss is not a FHIR server this app may be launched from (smart.issuers)"));
  }
  Result<HttpClientResponse> configuration = client_->Get(
      iss + "/.well-known/smart-configuration", {{"Accept", "application/json"}}, Clock::now() + kDeadline);
  if (!configuration.has_value())
    return Fail(Unavailable("cannot read the EHR's SMART configuration: " + configuration.error().message()));
  if (configuration->status != 200) {
    return Fail(Unavailable(fmt::format("the EHR's SMART configuration answered {}", configuration->status)));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(configuration->body).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Fail(Unavailable("the EHR's SMART configuration is not JSON"));
  }
  std::string authorize = Field(root, "authorization_endpoint");
  std::string token = Field(root, "token_endpoint");
  if (authorize.empty() || token.empty())
    return Fail(Unavailable("the EHR's SMART configuration lacks its endpoints"));
  bool s256 = false;
  simdjson::dom::array methods;
  if (root["code_challenge_methods_supported"].get(methods) == simdjson::SUCCESS) {
    for (simdjson::dom::element method : methods) {
      std::string_view name;
      if (method.get(name) == simdjson::SUCCESS && name == "S256") s256 = true;
    }
  }
  if (!s256) return Fail(Unavailable("the EHR does not support PKCE S256"));
  std::string state = RandomToken();
  std::string verifier = RandomToken() + RandomToken();
  std::string scope = launch.empty() ? "launch/patient openid fhirUser patient/*.read"
                                     : "launch openid fhirUser patient/*.read";
  {
    std::lock_guard lock(mutex_);
    Expire();
    // Launches are cheap to start: bound the ones waiting for their callback.
    if (pending_.size() >= kMaxPending) return Fail(Unavailable("too many launches in progress; retry later"));
    pending_[state] = Pending{iss, verifier, token, Clock::now() + std::chrono::minutes(10)};
  }
  std::string url = fmt::format(
      "{}{}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&aud={}&code_challenge={}"
      "&code_challenge_method=S256",
      authorize, authorize.find('?') == std::string::npos ? "?" : "&", UrlEncode(options_.client_id),
      UrlEncode(redirect_uri), UrlEncode(scope), state, UrlEncode(iss), PkceChallenge(verifier));
  if (!launch.empty()) url += "&launch=" + UrlEncode(launch);
  return url;
}

Result<SmartSession> SmartLaunch::Complete(const std::string& code, const std::string& state,
                                           const std::string& redirect_uri) {
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    Expire();
    auto found = pending_.find(state);
    if (found == pending_.end()) return Fail(InvalidArgument("unknown, expired or used launch state"));
    pending = found->second;
    pending_.erase(found);
  }
  if (code.empty()) return Fail(InvalidArgument("the EHR sent no authorization code"));
  std::string form = fmt::format(
      "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}", UrlEncode(code),
      UrlEncode(redirect_uri), UrlEncode(options_.client_id), UrlEncode(pending.verifier));
  Result<HttpClientResponse> response =
      client_->Post(pending.token_endpoint, {{"Accept", "application/json"}}, "application/x-www-form-urlencoded",
                    form, Clock::now() + kDeadline);
  if (!response.has_value())
    return Fail(Unavailable("the token endpoint failed: " + response.error().message()));
  if (response->status != 200) {
    return Fail(InvalidInput(fmt::format("the token endpoint answered {}", response->status)));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(response->body).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Fail(InvalidInput("the token response is not JSON"));
  }
  SmartSession session;
  session.access_token = Field(root, "access_token");
  session.patient = Field(root, "patient");
  session.app_context = Field(root, "appContext");
  std::string scope = Field(root, "scope");
  std::string id_token = Field(root, "id_token");
  if (session.access_token.empty()) return Fail(InvalidInput("the token response has no access_token"));
  if (session.patient.empty())
    return Fail(InvalidInput("the token response names no patient (launch context)"));
  if (!HasScope(scope, "openid") || id_token.empty())
    return Fail(InvalidInput("no OpenID identity was granted"));
  // The id_token's claims (its signature is not checked: see the header).
  size_t first = id_token.find('.');
  size_t second = first == std::string::npos ? std::string::npos : id_token.find('.', first + 1);
  if (second == std::string::npos) return Fail(InvalidInput("the id_token is not a JWT"));
  Result<std::string> payload =
      security::Base64UrlDecode(std::string_view(id_token).substr(first + 1, second - first - 1));
  simdjson::dom::parser claims_parser;
  simdjson::dom::element claims;
  if (!payload.has_value() || claims_parser.parse(*payload).get(claims) != simdjson::SUCCESS ||
      !claims.is_object()) {
    return Fail(InvalidInput("the id_token's claims cannot be read"));
  }
  std::string audience = Field(claims, "aud");
  simdjson::dom::array audiences;
  if (audience.empty() && claims["aud"].get(audiences) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : audiences) {
      std::string_view value;
      if (item.get(value) == simdjson::SUCCESS && value == options_.client_id) audience = options_.client_id;
    }
  }
  if (audience != options_.client_id) return Fail(InvalidInput("the id_token is not for this app (aud)"));
  session.user = Field(claims, "fhirUser");
  if (session.user.empty()) session.user = Field(claims, "sub");
  if (session.user.empty()) return Fail(InvalidInput("the id_token names no user"));
  session.fhir_base = pending.iss;
  session.id = RandomToken();
  session.csrf_token = RandomToken();
  session.expires = Clock::now() + options_.session_lifetime;
  std::lock_guard lock(mutex_);
  sessions_[session.id] = session;
  return session;
}

std::optional<SmartSession> SmartLaunch::Find(const std::string* cookie_header) const {
  if (cookie_header == nullptr) return std::nullopt;
  std::string_view cookies = *cookie_header;
  while (!cookies.empty()) {
    size_t end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.starts_with("rp_session=")) {
      std::string id(pair.substr(11));
      std::lock_guard lock(mutex_);
      auto found = sessions_.find(id);
      if (found == sessions_.end() || found->second.expires < Clock::now()) return std::nullopt;
      return found->second;
    }
    if (end == std::string_view::npos) break;
    cookies.remove_prefix(end + 1);
  }
  return std::nullopt;
}

std::string SmartLaunch::CookieFor(const SmartSession& session) const {
  return fmt::format("rp_session={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}", session.id,
                     options_.session_lifetime.count());
}

Result<std::string> SmartLaunch::ReadRecord(const SmartSession& session) const {
  HeaderList headers = {{"Authorization", "Bearer " + session.access_token},
                        {"Accept", "application/fhir+json"}};
  std::string url = fmt::format("{}/Patient/{}/$everything", session.fhir_base, UrlEncode(session.patient));
  std::string entries;
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  for (int page = 0; page < 20 && !url.empty(); ++page) {
    Result<HttpClientResponse> response = client_->Get(url, headers, deadline);
    if (!response.has_value())
      return Fail(Unavailable("the EHR's FHIR server failed: " + response.error().message()));
    if (response->status != 200) {
      return Fail(Unavailable(fmt::format("the EHR's FHIR server answered {}", response->status)));
    }
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(response->body).get(root) != simdjson::SUCCESS || !root.is_object()) {
      return Fail(InvalidInput("the EHR's answer is not JSON"));
    }
    simdjson::dom::array entry;
    if (root["entry"].get(entry) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : entry) {
        if (!entries.empty()) entries += ",";
        entries += simdjson::minify(item);
      }
    }
    url.clear();
    simdjson::dom::array links;
    if (root["link"].get(links) == simdjson::SUCCESS) {
      for (simdjson::dom::element link : links) {
        if (Field(link, "relation") == "next") url = Field(link, "url");
      }
    }
    // The next page must stay on the same FHIR server (the token goes with it).
    if (!url.empty() && !url.starts_with(session.fhir_base + "/")) {
      return Fail(InvalidInput("the EHR's next link leaves its FHIR server"));
    }
  }
  return fmt::format(R"({{"resourceType":"Bundle","type":"collection","entry":[{}]}})", entries);
}

}  // namespace regenpath::server
