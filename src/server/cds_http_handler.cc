#include "server/cds_http_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "common/json_string.h"
#include "security/unix_time.h"
#include "server/fhir_fetch_probe.h"
#include "server/fhir_http_client.h"

namespace regenpath::server {

namespace {

enum class Route { kDiscovery, kService, kFeedback, kHealth, kMetrics, kUnknown };

constexpr std::string_view kServicesPrefix = "/cds-services";
constexpr std::string_view kFeedbackSuffix = "/feedback";

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// application/json, with at most a UTF-8 charset parameter (JSON is UTF-8,
// RFC 8259).
bool IsJsonMediaType(const std::string* content_type) {
  if (content_type == nullptr) return false;
  std::string_view value = *content_type;
  size_t semicolon = value.find(';');
  if (Lower(Trim(value.substr(0, semicolon))) != "application/json") return false;
  while (semicolon != std::string_view::npos) {
    value = value.substr(semicolon + 1);
    semicolon = value.find(';');
    std::string parameter = Lower(Trim(value.substr(0, semicolon)));
    if (parameter.empty()) continue;
    if (parameter != "charset=utf-8" && parameter != "charset=\"utf-8\"") return false;
  }
  return true;
}

std::string_view AllowedMethods(Route route) {
  switch (route) {
    case Route::kDiscovery:
      return "GET, OPTIONS";
    case Route::kService:
    case Route::kFeedback:
      return "POST, OPTIONS";
    case Route::kHealth:
    case Route::kMetrics:
      return "GET";
    case Route::kUnknown:
      return "";
  }
  return "";
}

bool MethodAllowed(Route route, std::string_view method) {
  switch (route) {
    case Route::kDiscovery:
      return method == "GET" || method == "OPTIONS";
    case Route::kService:
    case Route::kFeedback:
      return method == "POST" || method == "OPTIONS";
    case Route::kHealth:
    case Route::kMetrics:
      return method == "GET";
    case Route::kUnknown:
      return false;
  }
  return false;
}

bool IsCdsRoute(Route route) {
  return route == Route::kDiscovery || route == Route::kService || route == Route::kFeedback;
}

std::string NowInstant(const Clock& clock) {
  DateTime now = clock.Now();
  Result<int64_t> millis = security::ToUnixMillis(now);
  if (!millis.has_value()) return now.ToString();
  Result<DateTime> utc = security::FromUnixMillis(*millis);
  return utc.has_value() ? utc->ToString() : now.ToString();
}

}  // namespace


struct CdsHttpHandler::RequestState {
  Route route = Route::kUnknown;
  std::string service_id;
  std::string label = "other";  // the metrics route label
  std::string audience;         // the endpoint URL
  std::string origin;           // the Origin header when it is allowed
  std::string issuer;           // the verified caller's iss; empty without authentication
  bool cors = false;
};

CdsHttpHandler::CdsHttpHandler(CdsHttpHandlerOptions options, const cdshooks::CdsHooksService* service,
                               const security::JwtVerifier* verifier, registry::FeedbackStore* store,
                               const HttpClient* fhir_http, Metrics* metrics, const Clock* clock)
    : options_(std::move(options)),
      service_(service),
      verifier_(verifier),
      store_(store),
      fhir_http_(fhir_http),
      metrics_(metrics),
      clock_(clock) {}

bool CdsHttpHandler::OriginAllowed(const std::string& origin) const {
  for (const std::string& allowed : options_.cors_allowed_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

HttpResponse CdsHttpHandler::Respond(const RequestState& state, int status, std::string body,
                                     std::string content_type) const {
  HttpResponse response;
  response.status = status;
  if (!body.empty() || status != 204) response.headers.emplace_back("Content-Type", std::move(content_type));
  // Cards and outcomes are about a patient: no caching anywhere.
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (!options_.cors_allowed_origins.empty()) response.headers.emplace_back("Vary", "Origin");
  if (state.cors) {
    response.headers.emplace_back("Access-Control-Allow-Origin", state.origin);
    response.headers.emplace_back("Access-Control-Expose-Headers", "WWW-Authenticate");
  }
  response.body = std::move(body);
  return response;
}

HttpResponse CdsHttpHandler::Outcome(const RequestState& state, int status, std::string_view code,
                                     std::string_view text) const {
  return Respond(
      state, status,
      fmt::format("{{\"resourceType\":\"OperationOutcome\",\"issue\":[{{\"severity\":\"error\",\"code\":"
                  "\"{}\",\"diagnostics\":{}}}]}}",
                  code, JsonQuoted(text)));
}

std::optional<HttpResponse> CdsHttpHandler::OnHeader(HttpRequest& request) {
  metrics_->RequestStarted();
  RequestState state;
  std::string_view path = request.Path();
  if (path == kServicesPrefix) {
    state.route = Route::kDiscovery;
    state.label = std::string(kServicesPrefix);
  } else if (path.starts_with(kServicesPrefix) && path.size() > kServicesPrefix.size() &&
             path[kServicesPrefix.size()] == '/') {
    std::string_view rest = path.substr(kServicesPrefix.size() + 1);
    state.route = Route::kService;
    if (rest.ends_with(kFeedbackSuffix)) {
      state.route = Route::kFeedback;
      rest.remove_suffix(kFeedbackSuffix.size());
    }
    state.service_id = std::string(rest);
    bool known = !rest.empty() && rest.find('/') == std::string_view::npos && service_->HasService(rest);
    state.label = fmt::format("{}/{}{}", kServicesPrefix, known ? state.service_id : "{unknown}",
                              state.route == Route::kFeedback ? kFeedbackSuffix : "");
    if (!known) state.service_id.clear();
  } else if (path == "/healthz") {
    state.route = Route::kHealth;
    state.label = "/healthz";
  } else if (path == "/metrics") {
    state.route = Route::kMetrics;
    state.label = "/metrics";
  }
  if (IsCdsRoute(state.route)) {
    // The canonical URL of the endpoint, as the EHR was told it (aud).
    state.audience = options_.public_base_url + std::string(path);
  }
  if (const std::string* origin = request.Header("Origin"); origin != nullptr && OriginAllowed(*origin)) {
    state.cors = true;
    state.origin = *origin;
  }
  request.state = state;

  if (state.route == Route::kUnknown) return Outcome(state, 404, "not-found", "no such endpoint");
  if (!MethodAllowed(state.route, request.method)) {
    HttpResponse response =
        Outcome(state, 405, "not-supported", fmt::format("method {} not allowed", request.method));
    response.headers.emplace_back("Allow", std::string(AllowedMethods(state.route)));
    return response;
  }
  if (request.method == "OPTIONS") return Preflight(request, state);
  if (state.route == Route::kHealth) return Respond(state, 200, "{\"status\":\"ok\"}");
  if (state.route == Route::kMetrics) {
    return Respond(state, 200, metrics_->Render(), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (std::optional<HttpResponse> refused = Authenticate(request, state)) return refused;
  request.state = state;  // with the caller's issuer
  if (state.route != Route::kDiscovery && state.service_id.empty()) {
    return Outcome(state, 404, "not-found", "no such CDS service");
  }
  if (state.route == Route::kDiscovery) return Respond(state, 200, service_->Discovery());
  if (!IsJsonMediaType(request.Header("Content-Type"))) {
    return Outcome(state, 415, "not-supported", "the body must be application/json (UTF-8)");
  }
  if (request.content_length && *request.content_length > options_.body_limit_bytes) {
    return Outcome(state, 413, "too-costly",
                   fmt::format("the body exceeds the limit of {} bytes", options_.body_limit_bytes));
  }
  return std::nullopt;
}

std::optional<HttpResponse> CdsHttpHandler::Authenticate(const HttpRequest& request,
                                                         RequestState& state) const {
  if (verifier_ == nullptr) return std::nullopt;
  const std::string* authorization = request.Header("Authorization");
  std::string reason;
  std::string category;
  bool token_given = authorization != nullptr;
  if (!token_given) {
    reason = "no Authorization header";
    category = "missing";
  } else {
    Result<security::VerifiedClient> client = verifier_->Verify(*authorization, state.audience);
    if (client.has_value()) {
      spdlog::debug("{} {}: client iss={} jti={} tenant={}", request.method, state.label, client->issuer,
                    client->jti, client->tenant.value_or("-"));
      state.issuer = client->issuer;
      return std::nullopt;
    }
    reason = client.error().message();
    category = std::string(StatusCodeName(client.error().code()));
    if (client.error().code() == StatusCode::kUnavailable || client.error().code() == StatusCode::kInternal) {
      // Not the caller's fault: our side (key fetch, OpenSSL) failed.
      spdlog::error("{} {} from {}: cannot verify the token: {}", request.method, state.label,
                    request.remote_address, reason);
      metrics_->AuthFailure(category);
      bool unavailable = client.error().code() == StatusCode::kUnavailable;
      HttpResponse response = Outcome(state, unavailable ? 503 : 500, unavailable ? "transient" : "exception",
                                      "cannot verify the token right now");
      if (unavailable) response.headers.emplace_back("Retry-After", "30");
      return response;
    }
  }
  spdlog::warn("401 {} {} from {}: {}", request.method, state.label, request.remote_address, reason);
  metrics_->AuthFailure(category);
  HttpResponse response = Outcome(state, 401, "login", "unauthorized");
  response.headers.emplace_back(
      "WWW-Authenticate",
      token_given ? "Bearer realm=\"regenpath\", error=\"invalid_token\"" : "Bearer realm=\"regenpath\"");
  return response;
}

HttpResponse CdsHttpHandler::Preflight(const HttpRequest& request, const RequestState& state) const {
  const std::string* origin = request.Header("Origin");
  const std::string* requested = request.Header("Access-Control-Request-Method");
  if (origin == nullptr || requested == nullptr) {
    // A plain OPTIONS: say what the route supports.
    HttpResponse response = Respond(state, 204, "");
    response.headers.emplace_back("Allow", std::string(AllowedMethods(state.route)));
    return response;
  }
  if (!state.cors) {
    spdlog::info("CORS preflight from a disallowed origin on {}", state.label);
    return Outcome(state, 403, "forbidden", "origin not allowed");
  }
  HttpResponse response = Respond(state, 204, "");
  response.headers.emplace_back("Access-Control-Allow-Methods", std::string(AllowedMethods(state.route)));
  response.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept");
  response.headers.emplace_back("Access-Control-Max-Age", "600");
  return response;
}

HttpResponse CdsHttpHandler::Handle(HttpRequest& request) {
  const auto* state = std::any_cast<RequestState>(&request.state);
  if (state == nullptr) {
    RequestState none;
    return Outcome(none, 500, "exception", "request state lost");
  }
  if (state->route == Route::kFeedback) return Feedback(request, *state);
  if (state->route != Route::kService) return Outcome(*state, 404, "not-found", "no such endpoint");
  std::optional<FhirHttpClient> fhir;
  if (fhir_http_ != nullptr) {
    fhir.emplace(fhir_http_, std::chrono::steady_clock::now() + options_.fhir_call_budget,
                 options_.fhir_allowlist, state->issuer);
  }
  cdshooks::CallResult result = service_->Call(state->service_id, request.body, fhir ? &*fhir : nullptr);
  return CallResponse(*state, std::move(result));
}

void CdsHttpHandler::HandleAsync(HttpRequest& request, std::function<void(HttpResponse)> done) {
  const auto* state = std::any_cast<RequestState>(&request.state);
  if (state == nullptr || state->route != Route::kService || fhir_http_ == nullptr ||
      options_.fallback == nullptr) {
    done(Handle(request));
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.fhir_call_budget;
  FhirHttpClient checker(fhir_http_, deadline, options_.fhir_allowlist, state->issuer);
  FhirFetchProbe probe(&checker);
  cdshooks::CallResult result = service_->Call(state->service_id, request.body, &probe);
  if (!probe.wanted()) {
    done(CallResponse(*state, std::move(result)));
    return;
  }
  // The call needs the FHIR server: off the request thread, with its own
  // copies (the request is not touched again before `done`).
  auto task = [this, state = *state, body = request.body, urls = probe.urls(), token = probe.bearer_token(),
               deadline, done]() {
    FhirHttpClient fhir(fhir_http_, deadline, options_.fhir_allowlist, state.issuer);
    fhir.Prefetch(urls, token);
    done(CallResponse(state, service_->Call(state.service_id, body, &fhir)));
  };
  if (!options_.fallback->TrySubmit(state->issuer, task)) {
    spdlog::warn("503 on {}: FHIR fallback calls at their limit (issuer {})", state->label,
                 state->issuer.empty() ? "-" : state->issuer);
    metrics_->Error("fhir_fallback_busy");
    HttpResponse response =
        Outcome(*state, 503, "transient", "too many calls are reading FHIR servers right now; try again");
    response.headers.emplace_back("Retry-After", "2");
    done(std::move(response));
  }
}

HttpResponse CdsHttpHandler::CallResponse(const RequestState& state, cdshooks::CallResult result) const {
  if (result.status < 500 || result.correlation_id.empty()) {
    return Respond(state, result.status, std::move(result.body));
  }
  // Our fault: logged under the id the response names (the message is an
  // exception's text, never a body or a token).
  spdlog::error("500 on {}: internal error (correlation id {}): {}", state.label, result.correlation_id,
                result.internal_error);
  metrics_->Error("internal");
  HttpResponse response = Respond(state, result.status, std::move(result.body));
  response.headers.emplace_back("X-Correlation-Id", result.correlation_id);
  return response;
}

HttpResponse CdsHttpHandler::Feedback(const HttpRequest& request, const RequestState& state) {
  Result<std::vector<cdshooks::Feedback>> items = service_->ParseFeedback(state.service_id, request.body);
  if (!items.has_value()) {
    if (items.error().code() == StatusCode::kNotFound)
      return Outcome(state, 404, "not-found", "no such CDS service");
    return Outcome(state, 400, "invalid", items.error().message());
  }
  if (store_ == nullptr) return Outcome(state, 503, "transient", "feedback is not stored by this server");
  for (cdshooks::Feedback& item : *items) {
    if (item.service_id.empty()) item.service_id = state.service_id;
  }
  Status stored = store_->Record(*items, NowInstant(*clock_));
  if (!stored.ok()) {
    spdlog::error("feedback for {} not stored: {}", state.label, stored.message());
    metrics_->Error("feedback_store");
    HttpResponse response = Outcome(state, 503, "transient", "feedback could not be stored; try again");
    response.headers.emplace_back("Retry-After", "5");
    return response;
  }
  metrics_->FeedbackStored(static_cast<int64_t>(items->size()));
  return Respond(state, 200, "{}");
}

HttpResponse CdsHttpHandler::OnBodyError(HttpRequest& request, TransportError error) {
  const auto* state = std::any_cast<RequestState>(&request.state);
  RequestState none;
  const RequestState& current = state != nullptr ? *state : none;
  metrics_->Error(TransportErrorName(error));
  switch (error) {
    case TransportError::kBodyTooLarge:
      return Outcome(current, 413, "too-costly",
                     fmt::format("the body exceeds the limit of {} bytes", options_.body_limit_bytes));
    case TransportError::kBodyTimeout:
      return Outcome(current, 408, "timeout", "the body did not arrive in time");
    case TransportError::kBodyBudget: {
      HttpResponse response =
          Outcome(current, 503, "transient", "the server is receiving too many request bodies; try again");
      response.headers.emplace_back("Retry-After", "1");
      return response;
    }
    case TransportError::kBadChunk:
      return Outcome(current, 400, "structure", "the chunked body is malformed (RFC 9112 section 7.1)");
    default:
      return Outcome(current, 400, "invalid", "the body could not be read");
  }
}

HttpResponse CdsHttpHandler::OnBadFraming(HttpRequest& request, std::string_view reason) {
  // Counted like any request (Completed follows), under no route: the
  // target of an ambiguous request is not trusted either.
  metrics_->RequestStarted();
  metrics_->Error(TransportErrorName(TransportError::kBadFraming));
  spdlog::info("400 {} from {}: {}", request.method, request.remote_address, reason);
  RequestState none;
  request.state = none;
  return Outcome(none, 400, "structure", fmt::format("the request is refused: {} (RFC 9112)", reason));
}

void CdsHttpHandler::Completed(const HttpRequest& request, int status, double seconds) {
  const auto* state = std::any_cast<RequestState>(&request.state);
  std::string_view label = state != nullptr ? std::string_view(state->label) : std::string_view("other");
  metrics_->RequestFinished(label, status, seconds);
  if (status >= 500 || status == 0) {
    spdlog::warn("{} {} -> {} in {:.1f} ms", request.method, label, status, seconds * 1000);
  } else {
    spdlog::debug("{} {} -> {} in {:.1f} ms", request.method, label, status, seconds * 1000);
  }
}

void CdsHttpHandler::OnTransportError(TransportError error) {
  metrics_->Error(TransportErrorName(error));
  spdlog::debug("connection error: {}", TransportErrorName(error));
}

}  // namespace regenpath::server
