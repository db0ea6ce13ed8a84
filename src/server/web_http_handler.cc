#include "server/web_http_handler.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "common/json_string.h"
#include "common/now_option.h"
#include "fhir/parser.h"
#include "knowledge/fhir_export.h"
#include "registry/civil_day.h"
#include "registry/episode_timeline.h"
#include "report/assessment_json.h"
#include "server/jwt_scopes.h"
#include "server/registry_http_handler.h"
#include "server/screening_result.h"
#include "server/smart_launch.h"

namespace regenpath::server {

namespace {

enum class Route {
  kRoot,
  kStatic,
  kAssess,
  kKb,
  kOutcomes,
  kScreening,
  kSession,
  kLaunch,
  kCallback,
  kSmartAssess,
  kNotFound
};

std::string Number(std::optional<double> value) {
  return value ? fmt::format("{}", *value) : std::string("null");
}

}  // namespace

struct WebHttpHandler::RequestState {
  Route route = Route::kNotFound;
  std::string label;
};

WebHttpHandler::WebHttpHandler(WebHttpHandlerOptions options, std::shared_ptr<const engine::Engine> engine,
                               registry::RegistryStore* store, const registry::InstrumentCatalog* catalog,
                               const registry::Pseudonymizer* pseudonymizer,
                               const security::JwtVerifier* verifier, Metrics* metrics, const Clock* clock)
    : options_(std::move(options)),
      engine_(std::move(engine)),
      store_(store),
      catalog_(catalog),
      pseudonymizer_(pseudonymizer),
      verifier_(verifier),
      metrics_(metrics),
      clock_(clock) {
  const knowledge::KnowledgeBase& kb = engine_->kb();
  std::string resources;
  if (Result<std::vector<knowledge::ExportedResource>> exported = knowledge::ExportFhir(kb);
      exported.has_value()) {
    for (const knowledge::ExportedResource& resource : *exported) {
      if (!resources.empty()) resources += ",";
      resources += resource.json;
    }
  } else {
    spdlog::warn("the web app's knowledge-base view is empty: {}", exported.error().message());
  }
  std::string instruments;
  if (catalog_ != nullptr) {
    for (const registry::InstrumentScoring& instrument : catalog_->instruments()) {
      if (!instruments.empty()) instruments += ",";
      instruments += fmt::format(
          R"({{"id":{},"display":{},"loinc":{},"direction":{},"min":{},"max":{},"mcid_points":{},"mcid_percent":{},"immpact":{},"confidence":{},"note":{}}})",
          JsonQuoted(instrument.id), JsonQuoted(instrument.display),
          JsonQuoted(instrument.loinc.empty() ? "" : instrument.loinc.front()),
          JsonQuoted(instrument.direction == registry::Direction::kLowerIsBetter ? "lower-is-better"
                                                                                 : "higher-is-better"),
          instrument.min, instrument.max, Number(instrument.mcid_points), Number(instrument.mcid_percent),
          instrument.immpact ? "true" : "false", JsonQuoted(instrument.confidence),
          JsonQuoted(instrument.note));
    }
  }
  kb_json_ = fmt::format(R"({{"name":{},"version":{},"resources":[{}],"instruments":[{}]}})",
                         JsonQuoted(kb.name()), JsonQuoted(kb.version()), resources, instruments);
}

bool WebHttpHandler::Owns(std::string_view path) {
  return path == "/" || path == "/app" || path.starts_with("/app/") || path.starts_with("/api/");
}

HttpResponse WebHttpHandler::Json(int status, std::string body, std::string content_type) const {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", std::move(content_type));
  response.headers.emplace_back("Cache-Control", "no-store");
  StaticFiles::AddSecurityHeaders(response.headers);
  response.body = std::move(body);
  return response;
}

HttpResponse WebHttpHandler::Outcome(int status, std::string_view code, std::string_view text) const {
  return Json(
      status,
      fmt::format(
          R"({{"resourceType":"OperationOutcome","issue":[{{"severity":"error","code":"{}","diagnostics":{}}}]}})",
          code, JsonQuoted(text)),
      "application/fhir+json");
}

std::optional<HttpResponse> WebHttpHandler::Authenticate(const HttpRequest& request, std::string_view label,
                                                         bool write, std::string* actor) const {
  std::optional<SmartSession> session =
      smart_ != nullptr ? smart_->Find(request.Header("Cookie")) : std::nullopt;
  if (session) {
    const std::string* csrf = request.Header("X-CSRF-Token");
    if (write && (csrf == nullptr || *csrf != session->csrf_token)) {
      spdlog::warn("403 {} {}: missing or wrong CSRF token", request.method, label);
      return Outcome(403, "forbidden", "missing or wrong CSRF token");
    }
    if (actor != nullptr) *actor = session->user;
    return std::nullopt;
  }
  if (verifier_ == nullptr) {
    if (actor != nullptr) *actor = "insecure-dev";
    return std::nullopt;
  }
  const std::string* authorization = request.Header("Authorization");
  if (authorization == nullptr) {
    metrics_->AuthFailure("missing");
    HttpResponse response = Outcome(401, "login", "sign in (SMART launch) or send a bearer token");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"regenpath\"");
    return response;
  }
  std::string audience = options_.public_base_url + std::string(request.Path());
  Result<security::VerifiedClient> client = verifier_->Verify(*authorization, audience);
  if (!client.has_value()) {
    metrics_->AuthFailure(StatusCodeName(client.error().code()));
    spdlog::warn("401 {} {} from {}: {}", request.method, label, request.remote_address,
                 client.error().message());
    HttpResponse response = Outcome(401, "login", "unauthorized");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"regenpath\", error=\"invalid_token\"");
    return response;
  }
  if (!GrantsSystemAccess(TokenScopes(*authorization), write ? "write" : "read")) {
    metrics_->AuthFailure("scope");
    return Outcome(403, "forbidden",
                   fmt::format("the token needs the scope system/*.{}", write ? "write" : "read"));
  }
  if (actor != nullptr) *actor = client->subject.value_or(client->issuer);
  return std::nullopt;
}

std::optional<HttpResponse> WebHttpHandler::OnHeader(HttpRequest& request) {
  std::string_view path = request.Path();
  if (registry_ != nullptr && (path == "/api/registry" || path.starts_with("/api/registry/"))) {
    bool write = request.method == "POST";
    // Only this handler names the registry's audit actor: drop any copy a client sent.
    std::erase_if(request.headers, [](const auto& header) {
      return header.first.size() == RegistryHttpHandler::kDelegatedActorHeader.size() &&
             std::equal(header.first.begin(), header.first.end(),
                        RegistryHttpHandler::kDelegatedActorHeader.begin(), [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
    });
    std::string actor;
    if (std::optional<HttpResponse> refused = Authenticate(request, "/api/registry", write, &actor)) {
      metrics_->RequestStarted();
      request.state = RequestState{Route::kNotFound, "/api/registry"};
      return refused;
    }
    if (write) {
      if (const std::string* origin = request.Header("Origin");
          origin != nullptr && *origin != options_.public_base_url) {
        metrics_->RequestStarted();
        request.state = RequestState{Route::kNotFound, "/api/registry"};
        return Outcome(403, "forbidden", "cross-origin requests are refused");
      }
    }
    // The registry's own routes, authenticated here: /api/registry/x -> /registry/x.
    request.headers.emplace_back(std::string(RegistryHttpHandler::kDelegatedActorHeader), actor);
    request.target.erase(0, 4);
    return registry_->OnHeader(request);
  }
  metrics_->RequestStarted();
  RequestState state;
  if (path == "/") {
    state = {Route::kRoot, "/"};
  } else if (path == "/app/launch") {
    state = {Route::kLaunch, "/app/launch"};
  } else if (path == "/app/launch/callback") {
    state = {Route::kCallback, "/app/launch/callback"};
  } else if (path == "/app" || path.starts_with("/app/")) {
    state = {Route::kStatic, "/app"};
  } else if (path == "/api/assess") {
    state = {Route::kAssess, "/api/assess"};
  } else if (path == "/api/smart/assess") {
    state = {Route::kSmartAssess, "/api/smart/assess"};
  } else if (path == "/api/kb") {
    state = {Route::kKb, "/api/kb"};
  } else if (path == "/api/outcomes") {
    state = {Route::kOutcomes, "/api/outcomes"};
  } else if (path == "/api/screening") {
    state = {Route::kScreening, "/api/screening"};
  } else if (path == "/api/session") {
    state = {Route::kSession, "/api/session"};
  } else {
    state = {Route::kNotFound, "/api/{unknown}"};
  }
  request.state = state;
  if (state.route == Route::kNotFound) return Outcome(404, "not-found", "no such route");
  bool post =
      state.route == Route::kAssess || state.route == Route::kOutcomes || state.route == Route::kSmartAssess;
  bool allowed =
      post ? request.method == "POST"
           : (request.method == "GET" || (state.route == Route::kStatic && request.method == "HEAD"));
  if (!allowed) {
    HttpResponse response = Outcome(405, "not-supported", "method not allowed");
    response.headers.emplace_back("Allow", post ? "POST" : "GET");
    return response;
  }
  switch (state.route) {
    case Route::kRoot: {
      HttpResponse response = Json(302, "");
      response.headers.emplace_back("Location", "/app/");
      return response;
    }
    case Route::kLaunch:
      return Launch(request);
    case Route::kCallback:
      return Callback(request);
    case Route::kSession:
      return Session(request);
    case Route::kStatic: {
      if (!options_.files) return Outcome(404, "not-found", "the web app is not installed (web_root)");
      if (path == "/app") {
        HttpResponse response = Json(301, "");
        response.headers.emplace_back("Location", "/app/");
        return response;
      }
      return options_.files->Serve(path.substr(5), request.Header("If-None-Match"), request.method == "HEAD");
    }
    default:
      break;
  }
  if (state.route == Route::kSmartAssess) {
    std::optional<SmartSession> session =
        smart_ != nullptr ? smart_->Find(request.Header("Cookie")) : std::nullopt;
    if (!session) return Outcome(401, "login", "no SMART session: launch the app from the EHR");
  }
  if (std::optional<HttpResponse> refused = Authenticate(request, state.label, false)) return refused;
  if (post) {
    // CSRF: a browser names the page's origin on every POST; only ours may write.
    if (const std::string* origin = request.Header("Origin");
        origin != nullptr && *origin != options_.public_base_url) {
      spdlog::warn("403 {} {}: cross-origin POST refused", request.method, state.label);
      return Outcome(403, "forbidden", "cross-origin requests are refused");
    }
    std::string media = MediaType(request.Header("Content-Type"));
    bool json = media == "application/json" || media == "application/fhir+json";
    bool ndjson = media == "application/fhir+ndjson" || media == "application/x-ndjson" ||
                  media == "application/ndjson";
    if (!json && !(ndjson && state.route == Route::kAssess)) {
      return Outcome(415, "not-supported", "the body must be application/fhir+json");
    }
    if (request.content_length && *request.content_length > options_.body_limit_bytes) {
      return Outcome(413, "too-costly",
                     fmt::format("the body exceeds the limit of {} bytes", options_.body_limit_bytes));
    }
  }
  return std::nullopt;
}

HttpResponse WebHttpHandler::Launch(const HttpRequest& request) const {
  if (smart_ == nullptr || !smart_->enabled())
    return Outcome(404, "not-found", "the SMART launch is not configured");
  std::string iss = UrlDecode(QueryValue(request.target, "iss"));
  std::string launch = UrlDecode(QueryValue(request.target, "launch"));
  if (iss.empty()) return Outcome(400, "required", "iss is required");
  Result<std::string> url = smart_->Begin(iss, launch, options_.public_base_url + "/app/launch/callback");
  if (!url.has_value()) {
    spdlog::warn("SMART launch refused: {}", url.error().message());
    return Outcome(url.error().code() == StatusCode::kInvalidArgument ? 400 : 502, "processing",
                   url.error().message());
  }
  HttpResponse response = Json(302, "");
  response.headers.emplace_back("Location", *url);
  return response;
}

HttpResponse WebHttpHandler::Callback(const HttpRequest& request) const {
  if (smart_ == nullptr || !smart_->enabled())
    return Outcome(404, "not-found", "the SMART launch is not configured");
  if (!QueryValue(request.target, "error").empty()) {
    return Outcome(400, "security",
                   "the EHR did not authorize the app: " + UrlDecode(QueryValue(request.target, "error")));
  }
  Result<SmartSession> session = smart_->Complete(UrlDecode(QueryValue(request.target, "code")),
                                                  UrlDecode(QueryValue(request.target, "state")),
                                                  options_.public_base_url + "/app/launch/callback");
  if (!session.has_value()) {
    spdlog::warn("SMART launch not completed: {}", session.error().message());
    return Outcome(session.error().code() == StatusCode::kUnavailable ? 502 : 400, "security",
                   session.error().message());
  }
  spdlog::info("SMART launch completed: a session for a clinician");
  HttpResponse response = Json(302, "");
  response.headers.emplace_back("Set-Cookie", smart_->CookieFor(*session));
  response.headers.emplace_back("Location", "/app/");
  return response;
}

HttpResponse WebHttpHandler::Session(const HttpRequest& request) const {
  std::optional<SmartSession> session =
      smart_ != nullptr ? smart_->Find(request.Header("Cookie")) : std::nullopt;
  if (session) {
    return Json(
        200,
        fmt::format(R"({{"mode":"smart","user":{},"csrf_token":{},"app_context":{},"registry_writes":{}}})",
                    JsonQuoted(session->user), JsonQuoted(session->csrf_token),
                    JsonQuoted(session->app_context), pseudonymizer_ ? "true" : "false"));
  }
  return Json(200, fmt::format(R"({{"mode":"{}","registry_writes":{},"smart_launch":{}}})",
                               verifier_ ? "token" : "insecure-dev", pseudonymizer_ ? "true" : "false",
                               smart_ != nullptr && smart_->enabled() ? "true" : "false"));
}

HttpResponse WebHttpHandler::SmartAssess(const HttpRequest& request) const {
  std::optional<SmartSession> session = smart_->Find(request.Header("Cookie"));
  if (!session) return Outcome(401, "login", "no SMART session");
  const std::string* csrf = request.Header("X-CSRF-Token");
  if (csrf == nullptr || *csrf != session->csrf_token)
    return Outcome(403, "forbidden", "missing or wrong CSRF token");
  Result<std::string> record = smart_->ReadRecord(*session);
  if (!record.has_value()) {
    spdlog::warn("/api/smart/assess: {}", record.error().message());
    return Outcome(502, "transient", record.error().message());
  }
  fhir::Parser parser(engine_->RecordParseOptions());
  Result<fhir::Document> document = parser.ParseAuto(*record, "EHR record");
  if (!document.has_value()) return Outcome(502, "invalid", document.error().message());
  engine::AssessOptions assess_options;
  assess_options.patient_id = session->patient;
  Result<engine::Assessment> assessment = engine_->Assess(*document, clock_->Now(), assess_options);
  if (!assessment.has_value()) return Outcome(502, "processing", assessment.error().message());
  return Json(200, fmt::format(R"({{"assessment":{},"record":{},"app_context":{}}})",
                               report::AssessmentToJson(*assessment, false), *record,
                               JsonQuoted(session->app_context)));
}

HttpResponse WebHttpHandler::Handle(HttpRequest& request) {
  if (std::any_cast<RequestState>(&request.state) == nullptr && registry_ != nullptr)
    return registry_->Handle(request);
  const RequestState& state = std::any_cast<const RequestState&>(request.state);
  switch (state.route) {
    case Route::kSmartAssess:
      return SmartAssess(request);
    case Route::kAssess:
      return Assess(request);
    case Route::kKb:
      return KnowledgeBase();
    case Route::kOutcomes:
      return Outcomes(request);
    case Route::kScreening:
      return Screening();
    default:
      break;
  }
  return Outcome(404, "not-found", "no such route");
}

HttpResponse WebHttpHandler::Assess(const HttpRequest& request) const {
  std::string now_text = QueryValue(request.target, "now");
  Result<DateTime> now = now_text.empty() ? Result<DateTime>(clock_->Now()) : ParseNowOption(now_text);
  if (!now.has_value()) return Outcome(400, "value", "now: " + now.error().message());
  fhir::Parser parser(engine_->RecordParseOptions());
  Result<fhir::Document> record = parser.ParseAuto(request.body, "body");
  if (!record.has_value()) return Outcome(400, "invalid", record.error().message());
  Result<engine::Assessment> assessment = engine_->Assess(*record, *now);
  if (!assessment.has_value()) return Outcome(400, "processing", assessment.error().message());
  return Json(200, report::AssessmentToJson(*assessment, false));
}

HttpResponse WebHttpHandler::KnowledgeBase() const { return Json(200, kb_json_); }

HttpResponse WebHttpHandler::Screening() const {
  // The Worklist asks on every load: "none" is an answer, not an error.
  if (options_.screening_dir.empty()) return Json(200, R"({"configured":false})");
  Result<std::string> latest = LatestScreeningJson(options_.screening_dir);
  if (!latest.has_value()) {
    if (latest.error().code() == StatusCode::kNotFound) {
      return Json(200, fmt::format(R"({{"configured":true,"available":false,"reason":{}}})",
                                   JsonQuoted(latest.error().message())));
    }
    spdlog::warn("/api/screening: {}", latest.error().message());
    return Outcome(500, "exception", latest.error().message());
  }
  return Json(200, R"({"configured":true,"available":true,"result":)" + *latest + "}");
}

HttpResponse WebHttpHandler::Outcomes(const HttpRequest& request) const {
  if (store_ == nullptr || catalog_ == nullptr) return Outcome(503, "transient", "no registry");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(request.body).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Outcome(400, "invalid", "the body must be a JSON object");
  }
  std::string pseudonym;
  std::string_view text;
  if (root["pseudonym"].get(text) == simdjson::SUCCESS) {
    pseudonym = std::string(text);
  } else {
    std::string_view system;
    std::string_view value;
    simdjson::dom::element identifier;
    if (root["identifier"].get(identifier) != simdjson::SUCCESS ||
        identifier["value"].get(value) != simdjson::SUCCESS || value.empty()) {
      return Outcome(400, "required", "give identifier.value (and identifier.system) or pseudonym");
    }
    if (identifier["system"].get(system) != simdjson::SUCCESS) system = "";
    if (pseudonymizer_ == nullptr) {
      return Outcome(503, "not-supported",
                     "the registry has no site secret configured: look patients up by pseudonym");
    }
    pseudonym = pseudonymizer_->Pseudonym(system, value);
  }
  Result<registry::Cohort> cohort = store_->LoadCohort("");
  if (!cohort.has_value()) {
    metrics_->Error("registry_store");
    spdlog::warn("/api/outcomes: the registry store failed: {}", cohort.error().message());
    HttpResponse response = Outcome(503, "transient", "the registry is unavailable; retry later");
    response.headers.emplace_back("Retry-After", "5");
    return response;
  }
  // Scores of this patient by instrument, sorted by day.
  std::map<std::string, std::vector<registry::DayScore>> scores;
  std::string score_json;
  for (const registry::OutcomeRecord& outcome : cohort->outcomes) {
    if (outcome.patient != pseudonym) continue;
    if (std::optional<int> day = registry::ParseCivilDay(outcome.date.substr(0, 10))) {
      scores[outcome.instrument].push_back({*day, outcome.value});
    }
    if (!score_json.empty()) score_json += ",";
    score_json += fmt::format(R"({{"instrument":{},"date":{},"value":{}}})", JsonQuoted(outcome.instrument),
                              JsonQuoted(outcome.date), outcome.value);
  }
  for (auto& [id, list] : scores) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.day < b.day; });
  }
  std::string episodes;
  for (const registry::Episode& episode : cohort->episodes) {
    if (episode.patient != pseudonym) continue;
    std::string baselines;
    std::optional<int> start = registry::ParseCivilDay(episode.start_date.substr(0, 10));
    for (const auto& [id, list] : scores) {
      const registry::InstrumentScoring* instrument = catalog_->ById(id);
      if (instrument == nullptr || !start) continue;
      std::optional<registry::DayScore> baseline =
          registry::BaselineOf(list, *start, catalog_->baseline_window_days());
      if (!baseline) continue;
      // The score a follow-up must reach to be an MCID responder (docs/registry.md).
      std::optional<double> threshold;
      double sign = instrument->direction == registry::Direction::kLowerIsBetter ? -1 : 1;
      if (instrument->mcid_points) {
        threshold = baseline->value + sign * *instrument->mcid_points;
      } else if (instrument->mcid_percent) {
        threshold = baseline->value + sign * baseline->value * *instrument->mcid_percent / 100.0;
      }
      if (!baselines.empty()) baselines += ",";
      baselines += fmt::format(R"({{"instrument":{},"date":{},"value":{},"mcid_threshold":{}}})",
                               JsonQuoted(id), JsonQuoted(registry::FormatCivilDay(baseline->day)),
                               baseline->value, Number(threshold));
    }
    if (!episodes.empty()) episodes += ",";
    episodes += fmt::format(
        R"({{"key":{},"option":{},"therapy":{},"target":{},"condition":{},"side":{},"start_date":{},"synthetic":{},"baselines":[{}]}})",
        JsonQuoted(episode.key.substr(episode.key.find('|') + 1)), JsonQuoted(episode.option_id),
        JsonQuoted(episode.therapy), JsonQuoted(episode.target), JsonQuoted(episode.condition),
        JsonQuoted(episode.side), JsonQuoted(episode.start_date), episode.synthetic ? "true" : "false",
        baselines);
  }
  std::string procedures;
  for (const registry::ProcedureRecord& procedure : cohort->procedures) {
    if (procedure.patient != pseudonym) continue;
    if (!procedures.empty()) procedures += ",";
    std::string option;
    for (const registry::Episode& episode : cohort->episodes) {
      if (episode.key == procedure.episode_key) option = episode.option_id;
    }
    procedures += fmt::format(R"({{"date":{},"kind":{},"option":{},"image_guidance":{},"series_number":{}}})",
                              JsonQuoted(procedure.date), JsonQuoted(procedure.kind), JsonQuoted(option),
                              JsonQuoted(procedure.image_guidance), procedure.series_number);
  }
  std::string events;
  for (const registry::AdverseEventRecord& event : cohort->adverse_events) {
    if (event.patient != pseudonym) continue;
    if (!events.empty()) events += ",";
    events += fmt::format(R"({{"category":{},"serious":{},"onset":{},"resolved":{},"relatedness":{}}})",
                          JsonQuoted(registry::AdverseEventCategoryCode(event.category)),
                          event.serious ? "true" : "false", JsonQuoted(event.onset),
                          JsonQuoted(event.resolved), JsonQuoted(event.relatedness));
  }
  return Json(
      200,
      fmt::format(R"({{"found":{},"episodes":[{}],"procedures":[{}],"scores":[{}],"adverse_events":[{}]}})",
                  (episodes.empty() && score_json.empty() && events.empty()) ? "false" : "true", episodes,
                  procedures, score_json, events));
}

HttpResponse WebHttpHandler::OnBodyError(HttpRequest& request, TransportError error) {
  if (std::any_cast<RequestState>(&request.state) == nullptr && registry_ != nullptr &&
      request.state.has_value()) {
    return registry_->OnBodyError(request, error);
  }
  return Outcome(413, "too-costly", fmt::format("request body: {}", TransportErrorName(error)));
}

HttpResponse WebHttpHandler::OnBadFraming(HttpRequest& request, std::string_view reason) {
  metrics_->RequestStarted();
  metrics_->Error(TransportErrorName(TransportError::kBadFraming));
  request.state = RequestState{};
  return Outcome(400, "structure", fmt::format("the request is refused: {} (RFC 9112)", reason));
}

void WebHttpHandler::Completed(const HttpRequest& request, int status, double seconds) {
  if (std::any_cast<RequestState>(&request.state) == nullptr && registry_ != nullptr &&
      request.state.has_value()) {
    registry_->Completed(request, status, seconds);
    return;
  }
  std::string label = "/api/{unknown}";
  if (const auto* stored = std::any_cast<RequestState>(&request.state)) label = stored->label;
  metrics_->RequestFinished(label, status, seconds);
}

void WebHttpHandler::OnTransportError(TransportError error) { metrics_->Error(TransportErrorName(error)); }

}  // namespace regenpath::server
