#include "security/jwt_verifier.h"

#include <algorithm>
#include <mutex>
#include <set>

#include "security/base64url.h"
#include "security/jose_json.h"
#include "security/jws_signature.h"
#include "security/unix_time.h"

namespace regenpath::security {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

bool IsTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// RFC 7235: credentials = auth-scheme 1*SP token68. Returns the token68.
Result<std::string_view> BearerToken(std::string_view header) {
  while (!header.empty() && IsSpace(header.front())) header.remove_prefix(1);
  while (!header.empty() && IsSpace(header.back())) header.remove_suffix(1);
  if (header.empty()) return Fail(InvalidInput("missing Authorization header"));
  size_t space = header.find_first_of(" \t");
  if (space == std::string_view::npos || !EqualsIgnoreCase(header.substr(0, space), "Bearer")) {
    return Fail(InvalidInput("Authorization header is not a Bearer token"));
  }
  std::string_view token = header.substr(space);
  while (!token.empty() && IsSpace(token.front())) token.remove_prefix(1);
  return token;
}

// A compact JWS: three base64url parts separated by dots.
struct CompactJws {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "<header>.<payload>"
};

Result<CompactJws> SplitCompactJws(std::string_view token) {
  Status malformed = InvalidInput("token is not a signed JWT (three base64url parts)");
  if (token.empty() || !std::all_of(token.begin(), token.end(), IsTokenChar)) return Fail(malformed);
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Fail(malformed);
  }
  CompactJws jws;
  jws.header = token.substr(0, first);
  jws.payload = token.substr(first + 1, second - first - 1);
  jws.signature = token.substr(second + 1);
  jws.signing_input = token.substr(0, second);
  if (jws.header.empty() || jws.payload.empty()) return Fail(malformed);
  return jws;
}

Result<std::string> DecodePart(std::string_view part, std::string_view name) {
  Result<std::string> bytes = Base64UrlDecode(part);
  if (!bytes.has_value()) return Fail(InvalidInput("token " + std::string(name) + " is not base64url"));
  return bytes;
}

int64_t Millis(std::chrono::seconds seconds) { return static_cast<int64_t>(seconds.count()) * 1000; }

}  // namespace

struct JwtVerifier::Issuer {
  TrustedIssuer config;
  // The keys read from config.jwks_file; null if none was given.
  std::shared_ptr<const JwkSet> file_keys;
};

// The JWK Sets fetched from URLs, one entry per configured URL. The set of
// URLs is fixed at construction, so the map itself needs no lock; each entry
// has two: `state` guards its fields and is held only briefly, `fetch`
// serialises fetches of that URL so a burst of tokens with a new kid
// triggers one request, not one per token.
class JwtVerifier::UrlKeyCache {
 public:
  UrlKeyCache(KeySource* source, const JwtPolicy& policy)
      : source_(source),
        refresh_interval_ms_(Millis(policy.jwks_refresh_interval)),
        max_age_ms_(Millis(policy.jwks_max_age)) {}

  void Add(const std::string& url) { entries_.try_emplace(url, std::make_unique<Entry>()); }

  // Returns the key set of `url`, fetching it when there is none younger
  // than the max age, or when it lacks `kid` and the last fetch is older
  // than the refresh interval. The returned set may still lack `kid`.
  Result<std::shared_ptr<const JwkSet>> Get(const std::string& url, const std::string& kid, int64_t now_ms) {
    auto found = entries_.find(url);
    if (found == entries_.end() || source_ == nullptr)
      return Fail(Internal("JWK Set URL was not configured"));
    Entry& entry = *found->second;
    uint64_t seen_generation = 0;
    {
      std::lock_guard<std::mutex> lock(entry.state);
      bool fresh = FreshLocked(entry, now_ms);
      bool may_fetch = !entry.attempted || now_ms - entry.last_attempt_ms >= refresh_interval_ms_ ||
                       now_ms < entry.last_attempt_ms;
      if (fresh && entry.keys->Find(kid) != nullptr) return entry.keys;
      // While another thread is fetching, wait for its result below instead
      // of failing: a burst of calls at start-up all need the first fetch.
      if (!entry.in_flight && !may_fetch) {
        if (fresh) return entry.keys;
        return Fail(Unavailable(UnavailableMessage(entry)));
      }
      seen_generation = entry.generation;
    }
    std::lock_guard<std::mutex> fetch_lock(entry.fetch);
    {
      std::lock_guard<std::mutex> lock(entry.state);
      if (entry.generation != seen_generation) {
        // Another thread fetched while this one waited; use its result.
        if (FreshLocked(entry, now_ms)) return entry.keys;
        return Fail(Unavailable(UnavailableMessage(entry)));
      }
      entry.attempted = true;
      entry.last_attempt_ms = now_ms;
      entry.in_flight = true;
    }
    Result<std::shared_ptr<const JwkSet>> fetched = source_->Fetch(url);
    std::lock_guard<std::mutex> lock(entry.state);
    entry.in_flight = false;
    ++entry.generation;
    if (fetched.has_value() && *fetched != nullptr) {
      entry.keys = *fetched;
      entry.fetched_ms = now_ms;
      entry.last_error = Status::Ok();
      return entry.keys;
    }
    entry.last_error = fetched.has_value() ? Internal("key source returned no key set") : fetched.error();
    if (FreshLocked(entry, now_ms)) return entry.keys;
    return Fail(Unavailable(UnavailableMessage(entry)));
  }

 private:
  struct Entry {
    std::mutex fetch;
    std::mutex state;
    std::shared_ptr<const JwkSet> keys;  // GUARDED_BY(state)
    int64_t fetched_ms = 0;              // GUARDED_BY(state)
    bool attempted = false;              // GUARDED_BY(state)
    bool in_flight = false;              // GUARDED_BY(state); a fetch is running.
    int64_t last_attempt_ms = 0;         // GUARDED_BY(state)
    uint64_t generation = 0;             // GUARDED_BY(state)
    Status last_error;                   // GUARDED_BY(state)
  };

  bool FreshLocked(const Entry& entry, int64_t now_ms) const {
    return entry.keys != nullptr && now_ms - entry.fetched_ms < max_age_ms_;
  }

  static std::string UnavailableMessage(const Entry& entry) {
    std::string message = "the token issuer's signing keys are unavailable";
    if (!entry.last_error.ok()) message += " (" + entry.last_error.message() + ")";
    return message;
  }

  KeySource* const source_;
  const int64_t refresh_interval_ms_;
  const int64_t max_age_ms_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

JwtVerifier::JwtVerifier(JwtPolicy policy, const Clock* clock, KeySource* key_source)
    : policy_(std::move(policy)),
      clock_(clock),
      url_keys_(std::make_unique<UrlKeyCache>(key_source, policy_)),
      jti_cache_(std::make_unique<JtiCache>(policy_.jti_cache_capacity)),
      replay_store_(jti_cache_.get()) {}

JwtVerifier::~JwtVerifier() = default;

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(std::vector<TrustedIssuer> issuers, JwtPolicy policy,
                                                         const Clock* clock, KeySource* key_source) {
  return Create(std::move(issuers), std::move(policy), clock, key_source, nullptr);
}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(std::vector<TrustedIssuer> issuers, JwtPolicy policy,
                                                         const Clock* clock, KeySource* key_source,
                                                         ReplayStore* replay_store) {
  if (clock == nullptr) return Fail(InvalidArgument("JWT verifier needs a clock"));
  if (issuers.empty()) return Fail(InvalidArgument("JWT verifier needs at least one trusted issuer"));
  if (policy.clock_skew.count() < 0) return Fail(InvalidArgument("JWT clock skew must not be negative"));
  if (policy.max_lifetime.count() <= 0) return Fail(InvalidArgument("JWT max lifetime must be positive"));
  if (policy.jwks_max_age.count() <= 0) return Fail(InvalidArgument("JWK Set max age must be positive"));
  if (policy.jwks_refresh_interval.count() < 0) {
    return Fail(InvalidArgument("JWK Set refresh interval must not be negative"));
  }
  // Bounds keep the millisecond arithmetic far from overflow.
  constexpr int64_t kMaxSeconds = 1'000'000'000;
  for (std::chrono::seconds duration :
       {policy.clock_skew, policy.max_lifetime, policy.jwks_max_age, policy.jwks_refresh_interval}) {
    if (duration.count() > kMaxSeconds) return Fail(InvalidArgument("JWT policy duration out of range"));
  }
  if (policy.max_token_bytes == 0) return Fail(InvalidArgument("JWT max token size must be positive"));
  if (policy.jti_cache_capacity == 0) return Fail(InvalidArgument("jti cache capacity must be positive"));

  std::unique_ptr<JwtVerifier> verifier(new JwtVerifier(std::move(policy), clock, key_source));
  if (replay_store != nullptr) {
    verifier->jti_cache_.reset();
    verifier->replay_store_ = replay_store;
  }
  for (TrustedIssuer& config : issuers) {
    if (config.issuer.empty()) return Fail(InvalidArgument("a trusted issuer has an empty issuer"));
    std::string name = config.issuer;
    if (verifier->issuers_.count(name) != 0) {
      return Fail(InvalidArgument("trusted issuer listed twice: " + name));
    }
    bool uses_urls = !config.jwks_url.empty() || !config.jku_allowlist.empty();
    if (config.jwks_file.empty() && config.keys == nullptr && !uses_urls) {
      return Fail(
          InvalidArgument("trusted issuer " + name + " has no keys (jwks_file, jwks_url or jku_allowlist)"));
    }
    if (uses_urls && key_source == nullptr) {
      return Fail(
          InvalidArgument("trusted issuer " + name + " uses JWK Set URLs but no key source was given"));
    }
    auto issuer = std::make_unique<Issuer>();
    if (!config.jwks_file.empty()) {
      Result<JwkSet> file_keys = LoadJwkSetFile(config.jwks_file);
      if (!file_keys.has_value()) return Fail(file_keys.error().WithPrefix("trusted issuer " + name));
      issuer->file_keys = std::make_shared<const JwkSet>(std::move(*file_keys));
    }
    if (!config.jwks_url.empty()) verifier->url_keys_->Add(config.jwks_url);
    for (const std::string& url : config.jku_allowlist) verifier->url_keys_->Add(url);
    issuer->config = std::move(config);
    verifier->issuers_.emplace(std::move(name), std::move(issuer));
  }
  return verifier;
}

Result<std::shared_ptr<const JwkSet>> JwtVerifier::KeysFor(const Issuer& issuer,
                                                           const std::optional<std::string>& jku,
                                                           const std::string& kid, int64_t now_ms) const {
  const TrustedIssuer& config = issuer.config;
  if (jku.has_value()) {
    // Only URLs the operator listed for this issuer are ever fetched; a jku
    // chosen by whoever made the token would let them supply their own key.
    if (*jku != config.jwks_url && !Contains(config.jku_allowlist, *jku)) {
      return Fail(InvalidInput("token jku is not allowed for its issuer"));
    }
    return url_keys_->Get(*jku, kid, now_ms);
  }
  for (const std::shared_ptr<const JwkSet>& keys : {issuer.file_keys, config.keys}) {
    if (keys != nullptr && keys->Find(kid) != nullptr) return keys;
  }
  if (!config.jwks_url.empty()) return url_keys_->Get(config.jwks_url, kid, now_ms);
  if (issuer.file_keys == nullptr && config.keys == nullptr) {
    return Fail(InvalidInput("token has no jku and its issuer has no configured keys"));
  }
  return Fail(InvalidInput("token kid is not a key of its issuer"));
}

Result<VerifiedClient> JwtVerifier::Verify(std::string_view authorization_header,
                                           std::string_view audience) const {
  // Room for the scheme and spaces; the token itself is checked below.
  if (authorization_header.size() > policy_.max_token_bytes + 64) {
    return Fail(ResourceExhausted("Authorization header too large"));
  }
  RP_ASSIGN_OR_RETURN(std::string_view token, BearerToken(authorization_header));
  if (token.size() > policy_.max_token_bytes) return Fail(ResourceExhausted("token too large"));
  RP_ASSIGN_OR_RETURN(CompactJws jws, SplitCompactJws(token));

  // Header.
  RP_ASSIGN_OR_RETURN(std::string header_json, DecodePart(jws.header, "header"));
  RP_ASSIGN_OR_RETURN(JoseHeader header, ParseJoseHeader(header_json));
  if (!header.alg.has_value()) return Fail(InvalidInput("token header has no alg"));
  RP_ASSIGN_OR_RETURN(JwsAlgorithm algorithm, ParseJwsAlgorithm(*header.alg));
  if (!header.typ.has_value()) return Fail(InvalidInput("token header has no typ (\"JWT\" required)"));
  if (!EqualsIgnoreCase(*header.typ, "JWT")) return Fail(InvalidInput("token typ is not \"JWT\""));
  if (header.cty.has_value()) return Fail(InvalidInput("nested tokens (cty) are not accepted"));
  if (header.has_crit)
    return Fail(InvalidInput("token header has critical extensions (crit) not understood"));
  if (!header.kid.has_value() || header.kid->empty()) return Fail(InvalidInput("token header has no kid"));

  // Claims; only iss is needed before the signature is checked.
  RP_ASSIGN_OR_RETURN(std::string payload_json, DecodePart(jws.payload, "payload"));
  RP_ASSIGN_OR_RETURN(JwtClaimSet claims, ParseJwtClaimSet(payload_json));
  if (!claims.iss.has_value()) return Fail(InvalidInput("token has no iss"));
  auto issuer_entry = issuers_.find(*claims.iss);
  if (issuer_entry == issuers_.end()) return Fail(InvalidInput("token issuer is not trusted"));
  const Issuer& issuer = *issuer_entry->second;

  Result<int64_t> now = ToUnixMillis(clock_->Now());
  if (!now.has_value()) return Fail(Internal("the clock did not return an instant"));
  const int64_t now_ms = *now;

  // Signature.
  RP_ASSIGN_OR_RETURN(std::shared_ptr<const JwkSet> keys, KeysFor(issuer, header.jku, *header.kid, now_ms));
  const Jwk* key = keys->Find(*header.kid);
  if (key == nullptr) return Fail(InvalidInput("token kid is not a key of its issuer"));
  if (jws.signature.empty()) return Fail(InvalidInput("token has no signature"));
  RP_ASSIGN_OR_RETURN(std::string signature, DecodePart(jws.signature, "signature"));
  RP_RETURN_IF_ERROR(VerifyJwsSignature(algorithm, *key, jws.signing_input, signature));

  // Claims, now that they are known to come from the issuer.
  if (!claims.aud.has_value() || claims.aud->empty()) return Fail(InvalidInput("token has no aud"));
  if (!Contains(*claims.aud, audience)) return Fail(InvalidInput("token aud is not this endpoint"));
  if (!claims.exp_ms.has_value()) return Fail(InvalidInput("token has no exp"));
  if (!claims.iat_ms.has_value()) return Fail(InvalidInput("token has no iat"));
  if (!claims.jti.has_value() || claims.jti->empty()) return Fail(InvalidInput("token has no jti"));
  const int64_t skew_ms = Millis(policy_.clock_skew);
  const int64_t exp_ms = *claims.exp_ms;
  const int64_t iat_ms = *claims.iat_ms;
  // RFC 7519 4.1.4: the current time must be before exp.
  if (now_ms >= exp_ms + skew_ms) return Fail(InvalidInput("token expired"));
  if (claims.nbf_ms.has_value() && *claims.nbf_ms > now_ms + skew_ms) {
    return Fail(InvalidInput("token not yet valid (nbf)"));
  }
  if (iat_ms > now_ms + skew_ms) return Fail(InvalidInput("token not yet valid (iat in the future)"));
  if (exp_ms <= iat_ms) return Fail(InvalidInput("token exp is not after its iat"));
  if (exp_ms - iat_ms > Millis(policy_.max_lifetime)) {
    return Fail(InvalidInput("token lifetime (exp - iat) is longer than allowed"));
  }
  const TrustedIssuer& config = issuer.config;
  if (!config.tenant_allowlist.empty() &&
      (!claims.tenant.has_value() || !Contains(config.tenant_allowlist, *claims.tenant))) {
    return Fail(InvalidInput("token tenant is not allowed for its issuer"));
  }

  RP_ASSIGN_OR_RETURN(DateTime issued_at, FromUnixMillis(iat_ms));
  RP_ASSIGN_OR_RETURN(DateTime expires, FromUnixMillis(exp_ms));

  // Last: remember the jti only for a token that is otherwise good. The key
  // is "<length of iss>:<iss><jti>", so two issuers' ids never collide.
  std::string replay_key = std::to_string(claims.iss->size()) + ":" + *claims.iss + *claims.jti;
  RP_RETURN_IF_ERROR(replay_store_->Remember(replay_key, exp_ms + skew_ms, now_ms));

  VerifiedClient client;
  client.issuer = std::move(*claims.iss);
  client.subject = std::move(claims.sub);
  client.jti = std::move(*claims.jti);
  client.tenant = std::move(claims.tenant);
  client.kid = std::move(*header.kid);
  client.algorithm = std::string(JwsAlgorithmName(algorithm));
  client.issued_at = issued_at;
  client.expires = expires;
  return client;
}

}  // namespace regenpath::security
