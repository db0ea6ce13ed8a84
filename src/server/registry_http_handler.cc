#include "server/registry_http_handler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>

#include "common/json_string.h"
#include "registry/civil_day.h"
#include "registry/clinic_evidence.h"
#include "registry/cohort_report.h"
#include "registry/fhir_import.h"
#include "registry/followup_worklist.h"
#include "registry/registry_facts.h"
#include "registry/report_format.h"
#include "server/jwt_scopes.h"

namespace regenpath::server {

namespace {

constexpr std::string_view kPrefix = "/registry";

enum class Route { kImport, kReports, kDue, kEvidence, kNotFound };

// A query parameter's decimal integer (strtol's reading) in [low, high];
// nullopt for trailing characters or a value out of range.
std::optional<int> IntegerIn(const std::string& text, long low, long high) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || value < low || value > high) {
    return std::nullopt;
  }
  return static_cast<int>(value);
}

}  // namespace

struct RegistryHttpHandler::RequestState {
  Route route = Route::kNotFound;
  std::string label;     // bounded metrics label
  std::string audience;  // public base URL + path
  std::string argument;  // option id of /reports/{option}, /evidence/{option}
  std::string origin;    // an allowed Origin, echoed
  std::string actor;     // the token's subject or issuer
};

RegistryHttpHandler::RegistryHttpHandler(RegistryHttpHandlerOptions options, registry::RegistryStore* store,
                                         const registry::InstrumentCatalog* catalog,
                                         const registry::Pseudonymizer* pseudonymizer,
                                         const security::JwtVerifier* verifier, Metrics* metrics, const Clock* clock)
    : options_(std::move(options)),
      store_(store),
      catalog_(catalog),
      pseudonymizer_(pseudonymizer),
      verifier_(verifier),
      metrics_(metrics),
      clock_(clock) {}

bool RegistryHttpHandler::Owns(std::string_view path) {
  return path == kPrefix || (path.starts_with(kPrefix) && path.size() > kPrefix.size() && path[kPrefix.size()] == '/');
}

bool RegistryHttpHandler::OriginAllowed(const std::string& origin) const {
  for (const std::string& allowed : options_.cors_allowed_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

HttpResponse RegistryHttpHandler::Respond(const RequestState& state, int status, std::string body,
                                          std::string content_type) const {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(content_type));
  response.headers.emplace_back("Cache-Control", "no-store");
  if (!state.origin.empty()) {
    response.headers.emplace_back("Access-Control-Allow-Origin", state.origin);
    response.headers.emplace_back("Vary", "Origin");
  }
  response.body = std::move(body);
  return response;
}

HttpResponse RegistryHttpHandler::Outcome(const RequestState& state, int status, std::string_view code,
                                          std::string_view text) const {
  return Respond(state, status,
                 fmt::format(R"({{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"{}","diagnostics":{}}}]}})",
                             code, JsonQuoted(text)));
}

HttpResponse RegistryHttpHandler::StoreFailure(const RequestState& state, const Status& status) const {
  metrics_->Error("registry_store");
  if (status.code() == StatusCode::kUnavailable) {
    spdlog::warn("{}: the registry store is unavailable: {}", state.label, status.message());
    HttpResponse response = Outcome(state, 503, "transient", "the registry is unavailable; nothing was stored; retry later");
    response.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
    return response;
  }
  if (status.code() == StatusCode::kInvalidArgument) {
    return Outcome(state, 409, "conflict", status.message());
  }
  spdlog::error("{}: the registry store failed: {}", state.label, status.message());
  return Outcome(state, 500, "exception", "the registry failed; nothing was stored");
}

std::string RegistryHttpHandler::Today() const {
  DateTime now = clock_->Now();
  return fmt::format("{:04}-{:02}-{:02}", now.year(), now.month(), now.day());
}

std::optional<HttpResponse> RegistryHttpHandler::Authenticate(const HttpRequest& request, RequestState& state) const {
  if (verifier_ == nullptr) {
    const std::string* delegated = delegated_ ? request.Header(kDelegatedActorHeader) : nullptr;
    state.actor = !delegated_ ? std::string("insecure-dev") : delegated != nullptr ? *delegated : "unknown";
    return std::nullopt;
  }
  const std::string* authorization = request.Header("Authorization");
  if (authorization != nullptr) {
    Result<security::VerifiedClient> client = verifier_->Verify(*authorization, state.audience);
    if (client.has_value()) {
      std::string access = state.route == Route::kImport ? "write" : "read";
      if (!GrantsSystemAccess(TokenScopes(*authorization), access)) {
        metrics_->AuthFailure("scope");
        spdlog::warn("403 {} {}: the token lacks system/*.{}", request.method, state.label, access);
        return Outcome(state, 403, "forbidden", fmt::format("the token needs the scope system/*.{}", access));
      }
      state.actor = client->subject.value_or(client->issuer);
      return std::nullopt;
    }
    if (client.error().code() == StatusCode::kUnavailable || client.error().code() == StatusCode::kInternal) {
      metrics_->AuthFailure(StatusCodeName(client.error().code()));
      HttpResponse response = Outcome(state, 503, "transient", "cannot verify the token right now");
      response.headers.emplace_back("Retry-After", "30");
      return response;
    }
    metrics_->AuthFailure(StatusCodeName(client.error().code()));
    spdlog::warn("401 {} {} from {}: {}", request.method, state.label, request.remote_address, client.error().message());
  } else {
    metrics_->AuthFailure("missing");
  }
  HttpResponse response = Outcome(state, 401, "login", "unauthorized");
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"regenpath\"");
  return response;
}

std::optional<HttpResponse> RegistryHttpHandler::OnHeader(HttpRequest& request) {
  metrics_->RequestStarted();
  RequestState state;
  std::string_view path = request.Path();
  std::string_view rest = path.substr(std::min(path.size(), kPrefix.size()));
  if (rest.empty() || rest == "/") {
    state.route = Route::kImport;
    state.label = "/registry";
  } else if (rest == "/reports" || rest.starts_with("/reports/")) {
    state.route = Route::kReports;
    state.label = "/registry/reports";
    if (rest.size() > 9) state.argument = std::string(rest.substr(9));
  } else if (rest == "/due") {
    state.route = Route::kDue;
    state.label = "/registry/due";
  } else if (rest.starts_with("/evidence/")) {
    state.route = Route::kEvidence;
    state.label = "/registry/evidence";
    state.argument = std::string(rest.substr(10));
  } else {
    state.label = "/registry/{unknown}";
  }
  state.audience = options_.public_base_url + std::string(path);
  if (const std::string* origin = request.Header("Origin"); origin != nullptr && OriginAllowed(*origin)) {
    state.origin = *origin;
  }
  request.state = state;
  if (request.method == "OPTIONS") {
    HttpResponse response = Respond(state, 204, "");
    response.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    response.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    response.headers.emplace_back("Access-Control-Max-Age", "600");
    return response;
  }
  if (state.route == Route::kNotFound) return Outcome(state, 404, "not-found", "no such registry route");
  bool post = state.route == Route::kImport;
  if (request.method != (post ? "POST" : "GET")) {
    HttpResponse response = Outcome(state, 405, "not-supported", "method not allowed");
    response.headers.emplace_back("Allow", post ? "POST, OPTIONS" : "GET, OPTIONS");
    return response;
  }
  RequestState& stored = std::any_cast<RequestState&>(request.state);
  if (std::optional<HttpResponse> refused = Authenticate(request, stored)) return refused;
  if (post) {
    std::string media = MediaType(request.Header("Content-Type"));
    if (media != "application/fhir+json" && media != "application/json" && media != "application/fhir+ndjson" &&
        media != "application/x-ndjson" && media != "application/ndjson") {
      return Outcome(state, 415, "not-supported", "the body must be application/fhir+json or application/fhir+ndjson");
    }
    if (request.content_length && *request.content_length > options_.body_limit_bytes) {
      return Outcome(state, 413, "too-costly", fmt::format("the body exceeds the limit of {} bytes", options_.body_limit_bytes));
    }
  }
  return std::nullopt;
}

HttpResponse RegistryHttpHandler::Handle(HttpRequest& request) {
  const RequestState& state = std::any_cast<const RequestState&>(request.state);
  switch (state.route) {
    case Route::kImport:
      return Import(request, state);
    case Route::kReports:
      return Report(request, state);
    case Route::kDue:
      return Due(request, state);
    case Route::kEvidence:
      return Evidence(request, state);
    case Route::kNotFound:
      break;
  }
  return Outcome(state, 404, "not-found", "no such registry route");
}

HttpResponse RegistryHttpHandler::Import(const HttpRequest& request, const RequestState& state) {
  if (pseudonymizer_ == nullptr) {
    return Outcome(state, 503, "not-supported",
                   "the registry has no site secret configured (registry_config: site_secret_file); nothing was stored");
  }
  std::string media = MediaType(request.Header("Content-Type"));
  bool ndjson = media.find("ndjson") != std::string::npos;
  registry::FhirImporter importer(*store_, *catalog_, *pseudonymizer_, Today());
  registry::WriteContext context{state.actor, clock_->Now().ToString()};
  context.facts = registry::FactsOfNewPatients(*catalog_);
  Result<registry::ImportResult> result =
      importer.Import(request.body, ndjson ? registry::InputFormat::kNdjson : registry::InputFormat::kJson, "body", context);
  if (!result) {
    if (result.error().code() == StatusCode::kInvalidInput) {
      return Outcome(state, 400, "invalid", result.error().message());
    }
    return StoreFailure(state, result.error());
  }
  bool bundle = result->bundle_type == "batch" || result->bundle_type == "transaction";
  if (result->bundle_type == "transaction" && !result->issues.empty()) {
    return Respond(state, 400, registry::OperationOutcomeJson(*result));
  }
  if (bundle) return Respond(state, 200, registry::ResponseBundleJson(*result));
  int status = result->issues.empty() ? 200 : (result->accepted() == 0 ? 400 : 200);
  return Respond(state, status, registry::OperationOutcomeJson(*result));
}

HttpResponse RegistryHttpHandler::Report(const HttpRequest& request, const RequestState& state) {
  std::string group_name = QueryValue(request.target, "group_by");
  std::optional<registry::GroupBy> group_by = registry::ParseGroupBy(group_name.empty() ? "none" : group_name);
  if (!group_by) return Outcome(state, 400, "value", "group_by must be none, condition, kb-version, prp-leukocytes, image-guidance or feedback");
  if (!state.argument.empty() && catalog_->kb().FindOption(state.argument) == nullptr) {
    return Outcome(state, 404, "not-found", "no such option in the knowledge base");
  }
  // The period: episodes whose start date (the first index procedure) lies in [from, to].
  std::optional<int> from;
  std::optional<int> to;
  for (auto [name, day] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    std::string text = QueryValue(request.target, name);
    if (text.empty()) continue;
    *day = registry::ParseCivilDay(text);
    if (!*day || text.size() != 10) return Outcome(state, 400, "value", fmt::format("{} must be a date YYYY-MM-DD", name));
  }
  if (from && to && *from > *to) return Outcome(state, 400, "value", "from must not be after to");
  Result<registry::CohortReport> report =
      registry::LoadCohortReport(*store_, *catalog_, state.argument, *group_by, Today(), from, to);
  if (!report) {
    // The option and group were checked above: an invalid argument here is
    // the date; anything else is the store's.
    if (report.error().code() == StatusCode::kInvalidArgument) {
      return Outcome(state, 400, "value", report.error().message());
    }
    return StoreFailure(state, report.error());
  }
  return Respond(state, 200, registry::CohortReportJson(*report), "application/json");
}

HttpResponse RegistryHttpHandler::Due(const HttpRequest& request, const RequestState& state) {
  // page_size (1–10,000; default kDefaultDuePageSize) and cursor (the
  // `next` of the previous page). Always a page: a clinic's whole worklist
  // (hundreds of thousands of items at 100,000 episodes) is never one answer.
  int page_size = kDefaultDuePageSize;
  std::string size_text = QueryValue(request.target, "page_size");
  if (!size_text.empty()) {
    std::optional<int> value = IntegerIn(size_text, 1, 10'000);
    if (!value) return Outcome(state, 400, "value", "page_size must be an integer from 1 to 10000");
    page_size = *value;
  }
  std::string cursor = QueryValue(request.target, "cursor");
  if (!cursor.empty()) {
    if (Result<registry::DueCursor> decoded = registry::DecodeDueCursor(cursor); !decoded) {
      return Outcome(state, 400, "value", "cursor: " + decoded.error().message());
    }
  }
  std::string today = Today();
  Result<registry::WorklistPage> page = registry::LoadWorklist(*store_, *catalog_, today, page_size, cursor);
  if (!page) return StoreFailure(state, page.error());
  return Respond(state, 200, registry::WorklistPageJson(*page, today), "application/json");
}

HttpResponse RegistryHttpHandler::Evidence(const HttpRequest& request, const RequestState& state) {
  int min_n = options_.min_episodes;
  std::string min_text = QueryValue(request.target, "min_n");
  if (!min_text.empty()) {
    std::optional<int> value = IntegerIn(min_text, 1, 1'000'000);
    if (!value) return Outcome(state, 400, "value", "min_n must be a positive integer");
    min_n = *value;
  }
  if (catalog_->kb().FindOption(state.argument) == nullptr) {
    return Outcome(state, 404, "not-found", "no such option in the knowledge base");
  }
  Result<registry::ClinicEvidence> evidence = registry::ClinicEvidenceFor(*store_, *catalog_, state.argument, min_n, Today());
  if (!evidence) return StoreFailure(state, evidence.error());
  const registry::ClinicEvidence& e = *evidence;
  auto number = [](const std::optional<double>& value) { return value ? fmt::format("{}", *value) : std::string("null"); };
  std::string body = fmt::format(
      R"({{"option":{},"observational":true,"synthetic":{},"episodes":{},"min_episodes":{},"shown":{},"instrument":{},"weeks":{},)"
      R"("responders":{{"successes":{},"n":{},"p":{},"lower":{},"upper":{}}},"lost_to_follow_up":{},"summary":{}}})",
      JsonQuoted(e.option_id), e.synthetic ? "true" : "false", e.episodes, e.min_episodes, e.shown ? "true" : "false",
      JsonQuoted(e.instrument), e.weeks, e.responders.successes, e.responders.n, number(e.responders.p),
      number(e.responders.lower), number(e.responders.upper), e.lost_to_follow_up, JsonQuoted(e.summary));
  return Respond(state, 200, body, "application/json");
}

HttpResponse RegistryHttpHandler::OnBodyError(HttpRequest& request, TransportError error) {
  RequestState state;
  if (const auto* stored = std::any_cast<RequestState>(&request.state)) state = *stored;
  return Outcome(state, 413, "too-costly", fmt::format("request body: {}", TransportErrorName(error)));
}

HttpResponse RegistryHttpHandler::OnBadFraming(HttpRequest& request, std::string_view reason) {
  // Counted like any request (Completed follows); the route is not trusted.
  metrics_->RequestStarted();
  metrics_->Error(TransportErrorName(TransportError::kBadFraming));
  RequestState state;
  request.state = state;
  return Outcome(state, 400, "structure", fmt::format("the request is refused: {} (RFC 9112)", reason));
}

void RegistryHttpHandler::Completed(const HttpRequest& request, int status, double seconds) {
  std::string label = "/registry/{unknown}";
  if (const auto* stored = std::any_cast<RequestState>(&request.state)) label = stored->label;
  metrics_->RequestFinished(label, status, seconds);
}

void RegistryHttpHandler::OnTransportError(TransportError error) { metrics_->Error(TransportErrorName(error)); }

}  // namespace regenpath::server
