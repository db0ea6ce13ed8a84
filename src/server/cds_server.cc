#include "server/cds_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cdshooks/cds_service.h"
#include "engine/engine.h"
#include "knowledge/knowledge_base.h"
#include "registry/feedback_store.h"
#include "security/jwt_verifier.h"
#include "security/postgres_replay_store.h"
#include "security/sqlite_replay_store.h"
#include "server/cds_http_handler.h"
#include "server/clinic_evidence_source.h"
#include "server/fallback_executor.h"
#include "server/fhir_server_allowlist.h"
#include "server/http_client.h"
#include "server/http_server.h"
#include "server/jwks_key_source.h"
#include "server/registry_http_handler.h"
#include "server/registry_parts.h"
#include "server/route_split_handler.h"
#include "server/smart_launch.h"
#include "server/web_http_handler.h"

namespace regenpath::server {

// Declared in dependency order: destroyed in reverse, the HTTP server first.
struct CdsServer::Parts {
  ServerConfig config;
  const Clock* clock = nullptr;
  std::shared_ptr<const engine::Engine> engine;
  std::optional<cdshooks::CdsHooksService> service;
  std::unique_ptr<registry::FeedbackStore> store;
  std::unique_ptr<HttpClient> fhir_http;
  std::unique_ptr<HttpClient> jwks_http;
  std::unique_ptr<JwksKeySource> key_source;
  std::unique_ptr<security::ReplayStore> replay_store;
  std::unique_ptr<security::JwtVerifier> verifier;
  FhirServerAllowlist fhir_allowlist;
  Metrics metrics;
  std::unique_ptr<CdsHttpHandler> handler;
  RegistryParts registry;
  std::unique_ptr<ClinicEvidenceSource> clinic_evidence;
  std::unique_ptr<RegistryHttpHandler> registry_handler;
  std::unique_ptr<HttpClient> smart_http;
  std::unique_ptr<SmartLaunch> smart;
  // The registry's routes behind the web app's own authentication (/api/registry/...).
  std::unique_ptr<RegistryHttpHandler> web_registry_handler;
  std::unique_ptr<WebHttpHandler> web_handler;
  std::unique_ptr<RouteSplitHandler> router;
  std::unique_ptr<HttpServer> http;
  std::string base_url;
  // Destroyed first: its tasks use the handler, and answer through
  // connections of the HTTP server (whose io_context must still exist).
  std::unique_ptr<FallbackExecutor> fallback;
};

CdsServer::CdsServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
CdsServer::~CdsServer() {
  if (parts_->http) parts_->http->Shutdown(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<CdsServer>> CdsServer::Create(ServerConfig config, const Clock* clock) {
  RP_RETURN_IF_ERROR(ValidateServerConfig(config));
  auto parts = std::make_unique<Parts>();
  parts->config = std::move(config);
  parts->clock = clock;
  const ServerConfig& cfg = parts->config;

  Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb =
      cfg.kb_dir.empty() ? knowledge::KnowledgeBase::Embedded()
                         : knowledge::KnowledgeBase::LoadDirectory(cfg.kb_dir);
  if (!kb.has_value()) return Fail(kb.error());
  Result<engine::Engine> engine = engine::Engine::Create(*kb);
  if (!engine.has_value()) return Fail(engine.error());
  parts->engine = std::make_shared<const engine::Engine>(std::move(*engine));

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec)
    return Fail(
        Unavailable(fmt::format("cannot create the data directory {}: {}", cfg.data_dir, ec.message())));
  // Feedback can carry clinicians' comments: keep the directory private.
  std::filesystem::permissions(cfg.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  RP_ASSIGN_OR_RETURN(parts->store, registry::FeedbackStore::Open(
                                        (std::filesystem::path(cfg.data_dir) / "feedback.sqlite").string()));

  // The outcomes registry: its routes (below) and the clinic's own evidence
  // on the cards (cached per option for a minute).
  RP_ASSIGN_OR_RETURN(parts->registry, OpenRegistryParts(cfg, clock->Now().ToString()));
  parts->clinic_evidence = std::make_unique<ClinicEvidenceSource>(
      parts->registry.store.get(), parts->registry.catalog.get(), parts->registry.min_episodes, 60);
  cdshooks::CdsHooksServiceOptions service_options;
  // The web app's launch URL on the condition cards, when the SMART launch is configured.
  if (!cfg.smart_client_id.empty()) service_options.smart_launch_url = PublicBaseUrl(cfg, cfg.port) + "/app/launch";
  service_options.annotate = [source = parts->clinic_evidence.get()](engine::Assessment& assessment,
                                                                     const DateTime& now) {
    // A registry that cannot be read leaves the cards without the clinic's
    // evidence; it never fails the call.
    (void)source->Attach(assessment, now.ToString().substr(0, 10));
  };
  Result<cdshooks::CdsHooksService> service =
      cdshooks::CdsHooksService::Create(parts->engine, clock, service_options);
  if (!service.has_value()) return Fail(service.error());
  parts->service.emplace(std::move(*service));

  HttpClientOptions fhir_options;
  fhir_options.timeout = cfg.fhir_timeout;
  fhir_options.max_response_bytes = cfg.fhir_max_bytes;
  fhir_options.allow_http = cfg.fhir_allow_http;
  fhir_options.ca_file = cfg.ca_file;
  fhir_options.public_addresses_only = true;
  fhir_options.allowed_private_networks = cfg.fhir_allowed_private_networks;
  fhir_options.tls12_ciphers = cfg.tls12_ciphers;
  RP_ASSIGN_OR_RETURN(parts->fhir_http, CreateBeastHttpClient(fhir_options));
  RP_ASSIGN_OR_RETURN(parts->fhir_allowlist,
                      FhirServerAllowlist::Create(cfg.fhir_allowed_servers, cfg.issuer_fhir_servers));
  parts->fallback = std::make_unique<FallbackExecutor>(cfg.fhir_max_calls_in_flight, cfg.fhir_max_calls_per_issuer);

  if (!cfg.insecure_dev) {
    HttpClientOptions jwks_options;
    jwks_options.timeout = cfg.jwks_timeout;
    jwks_options.max_response_bytes = 1024 * 1024;
    jwks_options.allow_http = cfg.fhir_allow_http;
    jwks_options.ca_file = cfg.ca_file;
    jwks_options.tls12_ciphers = cfg.tls12_ciphers;
    RP_ASSIGN_OR_RETURN(parts->jwks_http, CreateBeastHttpClient(jwks_options));
    parts->key_source = std::make_unique<JwksKeySource>(parts->jwks_http.get());
    if (cfg.replay_store == "sqlite") {
      RP_ASSIGN_OR_RETURN(parts->replay_store,
                          security::SqliteReplayStore::Open(
                              (std::filesystem::path(cfg.data_dir) / "replay.sqlite").string(),
                              cfg.jwt_policy.jti_cache_capacity));
    } else if (cfg.replay_store == "postgres") {
      RP_ASSIGN_OR_RETURN(parts->replay_store, security::PostgresReplayStore::Open(cfg.replay_store_database));
    }
    RP_ASSIGN_OR_RETURN(parts->verifier,
                        security::JwtVerifier::Create(cfg.issuers, cfg.jwt_policy, clock, parts->key_source.get(),
                                                      parts->replay_store.get()));
  }

  CdsHttpHandlerOptions handler_options;
  handler_options.cors_allowed_origins = cfg.cors_allowed_origins;
  handler_options.body_limit_bytes = cfg.body_limit_bytes;
  handler_options.fhir_call_budget = cfg.fhir_call_budget;
  handler_options.fhir_allowlist = &parts->fhir_allowlist;
  handler_options.fallback = parts->fallback.get();
  parts->handler =
      std::make_unique<CdsHttpHandler>(handler_options, &*parts->service, parts->verifier.get(),
                                       parts->store.get(), parts->fhir_http.get(), &parts->metrics, clock);

  // The outcomes registry's routes (/registry...), beside the CDS routes.
  RegistryHttpHandlerOptions registry_options;
  registry_options.cors_allowed_origins = cfg.cors_allowed_origins;
  registry_options.body_limit_bytes = cfg.body_limit_bytes;
  registry_options.min_episodes = parts->registry.min_episodes;
  parts->registry_handler = std::make_unique<RegistryHttpHandler>(
      registry_options, parts->registry.store.get(), parts->registry.catalog.get(),
      parts->registry.pseudonymizer ? &*parts->registry.pseudonymizer : nullptr, parts->verifier.get(),
      &parts->metrics, clock);
  // The clinician web app (/, /app/..., /api/...; docs/web-app.md).
  WebHttpHandlerOptions web_options;
  web_options.body_limit_bytes = cfg.body_limit_bytes;
  web_options.screening_dir = cfg.screening_dir;
  {
    std::string web_root = cfg.web_root.empty() ? std::string(REGENPATH_DEFAULT_WEB_ROOT) : cfg.web_root;
    Result<StaticFiles> files = StaticFiles::Open(web_root);
    if (files.has_value()) {
      web_options.files.emplace(std::move(*files));
    } else if (!cfg.web_root.empty()) {
      return Fail(files.error());
    } else {
      spdlog::warn("the web app is off: {}", files.error().message());
    }
  }
  parts->web_handler = std::make_unique<WebHttpHandler>(
      std::move(web_options), parts->engine, parts->registry.store.get(), parts->registry.catalog.get(),
      parts->registry.pseudonymizer ? &*parts->registry.pseudonymizer : nullptr, parts->verifier.get(),
      &parts->metrics, clock);
  if (!cfg.smart_client_id.empty()) {
    HttpClientOptions smart_options;
    smart_options.timeout = std::chrono::milliseconds(10'000);
    smart_options.max_response_bytes = cfg.fhir_max_bytes;
    smart_options.allow_http = cfg.fhir_allow_http;
    smart_options.ca_file = cfg.ca_file;
    smart_options.public_addresses_only = true;
    smart_options.allowed_private_networks = cfg.fhir_allowed_private_networks;
    smart_options.tls12_ciphers = cfg.tls12_ciphers;
    RP_ASSIGN_OR_RETURN(parts->smart_http, CreateBeastHttpClient(smart_options));
    parts->smart = std::make_unique<SmartLaunch>(SmartOptions{cfg.smart_client_id, cfg.smart_issuers},
                                                 parts->smart_http.get());
    parts->web_handler->set_smart(parts->smart.get());
  }
  parts->web_registry_handler = std::make_unique<RegistryHttpHandler>(
      registry_options, parts->registry.store.get(), parts->registry.catalog.get(),
      parts->registry.pseudonymizer ? &*parts->registry.pseudonymizer : nullptr, nullptr, &parts->metrics, clock);
  parts->web_registry_handler->set_delegated(true);  // reachable only through the web handler
  parts->web_handler->set_registry(parts->web_registry_handler.get());
  parts->router = std::make_unique<RouteSplitHandler>(parts->handler.get(), parts->registry_handler.get(),
                                                      parts->web_handler.get());

  HttpServerOptions http_options;
  http_options.host = cfg.host;
  http_options.port = cfg.port;
  http_options.threads = cfg.threads;
  http_options.tls_cert_file = cfg.tls_cert_file;
  http_options.tls_key_file = cfg.tls_key_file;
  http_options.tls12_ciphers = cfg.tls12_ciphers;
  http_options.body_limit_bytes = cfg.body_limit_bytes;
  http_options.header_timeout = cfg.header_timeout;
  http_options.body_timeout = cfg.body_timeout;
  http_options.idle_timeout = cfg.idle_timeout;
  http_options.write_timeout = cfg.write_timeout;
  http_options.max_connections = cfg.max_connections;
  http_options.max_connections_per_client = cfg.max_connections_per_client;
  http_options.body_budget_bytes = std::max(cfg.body_budget_bytes, cfg.body_limit_bytes);
  RP_ASSIGN_OR_RETURN(parts->http, HttpServer::Create(http_options, parts->router.get()));
  return std::unique_ptr<CdsServer>(new CdsServer(std::move(parts)));
}

Status CdsServer::Start() {
  RP_RETURN_IF_ERROR(parts_->http->Listen());
  parts_->base_url = PublicBaseUrl(parts_->config, parts_->http->port());
  parts_->handler->set_public_base_url(parts_->base_url);
  parts_->registry_handler->set_public_base_url(parts_->base_url);
  parts_->web_handler->set_public_base_url(parts_->base_url);
  RP_RETURN_IF_ERROR(parts_->http->Start());
  spdlog::info("regenpath serving CDS Hooks on {}:{} ({}), public base URL {}, authentication {}",
               parts_->config.host, parts_->http->port(), parts_->http->tls() ? "TLS" : "plain HTTP",
               parts_->base_url, parts_->verifier ? "on" : "OFF (--insecure-dev)");
  return Status::Ok();
}

uint16_t CdsServer::port() const { return parts_->http->port(); }
const std::string& CdsServer::base_url() const { return parts_->base_url; }
Metrics& CdsServer::metrics() { return parts_->metrics; }

size_t CdsServer::Shutdown(std::chrono::milliseconds deadline) { return parts_->http->Shutdown(deadline); }

}  // namespace regenpath::server
