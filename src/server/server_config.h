// ServerConfig: what `regenpath serve` runs with, read from a YAML file
// (docs/server.md, "Configuration") and adjusted by the command line.
#ifndef REGENPATH_SERVER_SERVER_CONFIG_H_
#define REGENPATH_SERVER_SERVER_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "security/jwt_verifier.h"

namespace regenpath::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 0;  // 0: one per core
  // The URL the EHR calls us at, without a trailing slash (JWT audiences are
  // built from it). Empty: http(s)://host:port.
  std::string public_base_url;
  std::string tls_cert_file;
  std::string tls_key_file;
  // TLS 1.2 cipher suites (tls.ciphers, OpenSSL names); empty: ECDHE with
  // AES-GCM or ChaCha20 (tls_ciphers.h). Nothing else is accepted.
  std::string tls12_ciphers;
  // Where the feedback database (feedback.sqlite) lives; created if absent.
  std::string data_dir = "regenpath-data";
  // The outcomes registry's YAML (registry/registry_config.h: database,
  // site_secret_file). Empty: <data_dir>/registry.sqlite and no site secret
  // (POST /registry then answers 503).
  std::string registry_config;
  size_t body_limit_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  // How long SIGTERM waits for requests in flight.
  std::chrono::milliseconds shutdown_timeout{20'000};
  size_t max_connections = 10'000;
  // Open connections from one client address (max_connections_per_client).
  size_t max_connections_per_client = 256;
  // Request bodies in flight, all connections together (body_budget_bytes);
  // beyond it a request is answered 503 with Retry-After before its body is read.
  size_t body_budget_bytes = 256 * 1024 * 1024;
  // Origins allowed to call from a browser ("*" for any); empty: no CORS.
  std::vector<std::string> cors_allowed_origins;
  // Authentication of the EHR: on unless `insecure_dev`.
  std::vector<security::TrustedIssuer> issuers;
  security::JwtPolicy jwt_policy;
  bool insecure_dev = false;
  // Where accepted jtis are remembered (replay_store): "sqlite" -- the file
  // <data_dir>/replay.sqlite, surviving restarts --, "postgres" -- a table
  // in the PostgreSQL database `replay_store_database` (a libpq conninfo or
  // postgresql:// URI), shared by every replica -- or "memory" (lost at
  // restart; one per process).
  std::string replay_store = "sqlite";
  std::string replay_store_database;
  // A knowledge-base directory; empty: the built-in one.
  std::string kb_dir;
  // The clinician web app's static files (web_root; docs/web-app.md). Empty:
  // the web/ folder of the source tree the executable was built from
  // (REGENPATH_DEFAULT_WEB_ROOT); a folder that does not exist turns the app off.
  std::string web_root;
  // A `regenpath screen --output` directory whose latest result the web
  // app's Worklist shows (GET /api/screening; docs/web-app.md). Empty: none.
  std::string screening_dir;
  // The web app as a SMART App Launch client (smart.client_id, smart.issuers:
  // the FHIR base URLs it may be launched from; smart_launch.h). Empty
  // client id: no launch. The EHR is reached with fhir_client's allow_http,
  // ca_file and allowed_private_networks.
  std::string smart_client_id;
  std::vector<std::string> smart_issuers;
  // The client for the EHR's FHIR server (prefetch fallback) and JWK Sets.
  std::chrono::milliseconds fhir_timeout{3'000};      // one request
  std::chrono::milliseconds fhir_call_budget{5'000};  // all requests of one CDS call
  size_t fhir_max_bytes = 32 * 1024 * 1024;
  bool fhir_allow_http = false;
  std::string ca_file;  // empty: the system CA store
  // fhirServer base URLs the fallback may read (fhir_server_allowlist.h):
  // for every caller (fhir_client.allowed_servers) and per trusted issuer
  // (auth.issuers[].fhir_servers). A fhirServer on neither list is refused
  // (400) before any connection.
  std::vector<std::string> fhir_allowed_servers;
  std::map<std::string, std::vector<std::string>> issuer_fhir_servers;
  // Networks the fallback may connect to although they are not public
  // (loopback, private, link-local...): fhir_client.allowed_private_networks.
  std::vector<std::string> fhir_allowed_private_networks;
  // Service calls whose fallback fetches are in flight at once, in total and
  // per issuer (fhir_client.max_calls_in_flight[_per_issuer]); beyond: 503
  // with Retry-After. Such calls run off the request threads (issue 13).
  size_t fhir_max_calls_in_flight = 64;
  size_t fhir_max_calls_per_issuer = 16;
  std::chrono::milliseconds jwks_timeout{5'000};
  // trace, debug, info, warn, error, off.
  std::string log_level = "info";
};

// Reads `path` into a config (defaults for what it does not set). Relative
// file and directory paths in it are resolved against the file's directory.
// kInvalidInput "FILE: not a readable file" (or "FILE: cannot be read: why")
// for a file that cannot be read (common/config_text.h); "FILE:LINE:
// message" for bad YAML, an unknown key or a value of the wrong type or range.
Result<ServerConfig> LoadServerConfig(const std::string& path);

// Checks the whole config once the command line is applied: kInvalidArgument
// naming the problem (no issuers without insecure_dev, insecure_dev on a
// host that is not loopback, half a TLS pair, a bad public_base_url, ...).
Status ValidateServerConfig(const ServerConfig& config);

// The public base URL: config.public_base_url, or built from host, `port`
// and TLS. No trailing slash.
std::string PublicBaseUrl(const ServerConfig& config, uint16_t port);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_SERVER_CONFIG_H_
