// The only file of the server that includes yaml-cpp (which throws): every
// exception is caught here and becomes a Status naming the file and line.
#include "server/server_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "common/config_text.h"
#include "server/address_policy.h"
#include "server/fhir_server_allowlist.h"
#include "server/tls_ciphers.h"
#include "server/url.h"

namespace regenpath::server {

namespace {

namespace fs = std::filesystem;

class ConfigReader {
 public:
  ConfigReader(std::string path, fs::path base) : path_(std::move(path)), base_(std::move(base)) {}

  Status Error(const YAML::Node& node, const std::string& message) const {
    if (node.Mark().is_null()) return InvalidInput(fmt::format("{}: {}", path_, message));
    return InvalidInput(fmt::format("{}:{}: {}", path_, node.Mark().line + 1, message));
  }

  // Refuses keys other than `known`, so a typo does not silently leave a
  // default (an insecure one, say) in force.
  Status CheckKeys(const YAML::Node& map, const std::string& where,
                   const std::set<std::string>& known) const {
    if (!map.IsMap()) return Error(map, fmt::format("{} must be a mapping", where));
    for (const auto& entry : map) {
      std::string key = entry.first.Scalar();
      if (!known.contains(key)) return Error(entry.first, fmt::format("unknown key '{}' in {}", key, where));
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& node, const std::string& name) const {
    if (!node.IsScalar()) return Fail(Error(node, fmt::format("{} must be a string", name)));
    return node.Scalar();
  }

  // A path, resolved against the config file's directory when relative.
  Result<std::string> Path(const YAML::Node& node, const std::string& name) const {
    RP_ASSIGN_OR_RETURN(std::string text, String(node, name));
    if (text.empty()) return Fail(Error(node, fmt::format("{} must not be empty", name)));
    fs::path value(text);
    return value.is_absolute() ? value.string() : (base_ / value).lexically_normal().string();
  }

  Result<int64_t> Integer(const YAML::Node& node, const std::string& name, int64_t low, int64_t high) const {
    int64_t value = 0;
    if (!node.IsScalar() || !YAML::convert<int64_t>::decode(node, value)) {
      return Fail(Error(node, fmt::format("{} must be an integer", name)));
    }
    if (value < low || value > high) {
      return Fail(Error(node, fmt::format("{} must be between {} and {}", name, low, high)));
    }
    return value;
  }

  Result<bool> Bool(const YAML::Node& node, const std::string& name) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return Fail(Error(node, fmt::format("{} must be true or false", name)));
    }
    return value;
  }

  // Seconds (decimals allowed), at least `low_seconds`.
  Result<std::chrono::milliseconds> Seconds(const YAML::Node& node, const std::string& name,
                                            double low_seconds = 0.001) const {
    double value = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !std::isfinite(value)) {
      return Fail(Error(node, fmt::format("{} must be a number of seconds", name)));
    }
    if (value < low_seconds || value > 86400) {
      return Fail(Error(node, fmt::format("{} must be between {} and 86400 seconds", name, low_seconds)));
    }
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(value * 1000)));
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& node, const std::string& name) const {
    if (!node.IsSequence()) return Fail(Error(node, fmt::format("{} must be a list of strings", name)));
    std::vector<std::string> out;
    for (const auto& item : node) {
      RP_ASSIGN_OR_RETURN(std::string value, String(item, name + " item"));
      out.push_back(std::move(value));
    }
    return out;
  }

  Status Read(const YAML::Node& root, ServerConfig& config) const {
    if (root.IsNull()) return Status::Ok();
    RP_RETURN_IF_ERROR(
        CheckKeys(root, "the configuration",
                  {"host", "port", "threads", "public_base_url", "tls", "data_dir", "body_limit_bytes",
                   "max_connections", "max_connections_per_client", "body_budget_bytes", "timeouts", "cors",
                   "auth", "kb_dir", "fhir_client", "log_level", "replay_store",
                   "replay_store_database",
                   "registry_config", "web_root", "screening_dir", "smart"}));
    if (auto node = root["host"]) {
      RP_ASSIGN_OR_RETURN(config.host, String(node, "host"));
    }
    if (auto node = root["port"]) {
      RP_ASSIGN_OR_RETURN(int64_t port, Integer(node, "port", 0, 65535));
      config.port = static_cast<uint16_t>(port);
    }
    if (auto node = root["threads"]) {
      RP_ASSIGN_OR_RETURN(int64_t threads, Integer(node, "threads", 0, 256));
      config.threads = static_cast<int>(threads);
    }
    if (auto node = root["public_base_url"]) {
      RP_ASSIGN_OR_RETURN(config.public_base_url, String(node, "public_base_url"));
      while (!config.public_base_url.empty() && config.public_base_url.back() == '/')
        config.public_base_url.pop_back();
      Result<HttpUrl> url = ParseHttpUrl(config.public_base_url);
      if (!url.has_value()) return Error(node, "public_base_url: " + url.error().message());
      if (url->target != "/") return Error(node, "public_base_url must not have a query");
    }
    if (auto node = root["tls"]) {
      RP_RETURN_IF_ERROR(CheckKeys(node, "tls", {"cert", "key", "ciphers"}));
      if (auto ciphers = node["ciphers"]) {
        RP_ASSIGN_OR_RETURN(config.tls12_ciphers, String(ciphers, "tls.ciphers"));
        Result<std::vector<std::string>> names = Tls12CipherNames(config.tls12_ciphers);
        if (!names.has_value()) return Error(ciphers, "tls.ciphers: " + names.error().message());
      }
      if (auto cert = node["cert"]) {
        RP_ASSIGN_OR_RETURN(config.tls_cert_file, Path(cert, "tls.cert"));
      }
      if (auto key = node["key"]) {
        RP_ASSIGN_OR_RETURN(config.tls_key_file, Path(key, "tls.key"));
      }
      if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
        return Error(node, "tls needs both cert and key");
      }
    }
    if (auto node = root["data_dir"]) {
      RP_ASSIGN_OR_RETURN(config.data_dir, Path(node, "data_dir"));
    }
    if (auto node = root["registry_config"]) {
      RP_ASSIGN_OR_RETURN(config.registry_config, Path(node, "registry_config"));
    }
    if (auto node = root["web_root"]) {
      RP_ASSIGN_OR_RETURN(config.web_root, Path(node, "web_root"));
    }
    if (auto node = root["screening_dir"]) {
      RP_ASSIGN_OR_RETURN(config.screening_dir, Path(node, "screening_dir"));
    }
    if (auto node = root["body_limit_bytes"]) {
      RP_ASSIGN_OR_RETURN(int64_t limit, Integer(node, "body_limit_bytes", 1024, int64_t{1} << 30));
      config.body_limit_bytes = static_cast<size_t>(limit);
    }
    if (auto node = root["max_connections"]) {
      RP_ASSIGN_OR_RETURN(int64_t limit, Integer(node, "max_connections", 1, 1'000'000));
      config.max_connections = static_cast<size_t>(limit);
    }
    if (auto node = root["max_connections_per_client"]) {
      RP_ASSIGN_OR_RETURN(int64_t limit, Integer(node, "max_connections_per_client", 1, 1'000'000));
      config.max_connections_per_client = static_cast<size_t>(limit);
    }
    if (auto node = root["body_budget_bytes"]) {
      RP_ASSIGN_OR_RETURN(int64_t limit, Integer(node, "body_budget_bytes", 1024, int64_t{1} << 40));
      config.body_budget_bytes = static_cast<size_t>(limit);
    }
    if (auto node = root["timeouts"]) {
      RP_RETURN_IF_ERROR(CheckKeys(node, "timeouts", {"header", "body", "idle", "write", "shutdown"}));
      if (auto value = node["header"]) {
        RP_ASSIGN_OR_RETURN(config.header_timeout, Seconds(value, "timeouts.header"));
      }
      if (auto value = node["body"]) {
        RP_ASSIGN_OR_RETURN(config.body_timeout, Seconds(value, "timeouts.body"));
      }
      if (auto value = node["idle"]) {
        RP_ASSIGN_OR_RETURN(config.idle_timeout, Seconds(value, "timeouts.idle"));
      }
      if (auto value = node["write"]) {
        RP_ASSIGN_OR_RETURN(config.write_timeout, Seconds(value, "timeouts.write"));
      }
      if (auto value = node["shutdown"]) {
        RP_ASSIGN_OR_RETURN(config.shutdown_timeout, Seconds(value, "timeouts.shutdown", 0));
      }
    }
    if (auto node = root["smart"]) {
      RP_RETURN_IF_ERROR(CheckKeys(node, "smart", {"client_id", "issuers"}));
      if (auto id = node["client_id"]) {
        RP_ASSIGN_OR_RETURN(config.smart_client_id, String(id, "smart.client_id"));
      }
      if (auto issuers = node["issuers"]) {
        RP_ASSIGN_OR_RETURN(config.smart_issuers, StringList(issuers, "smart.issuers"));
        for (std::string& issuer : config.smart_issuers) {
          while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
          Result<HttpUrl> url = ParseHttpUrl(issuer);
          if (!url.has_value()) return Error(issuers, "smart.issuers: " + url.error().message());
        }
      }
    }
    if (auto node = root["cors"]) {
      RP_RETURN_IF_ERROR(CheckKeys(node, "cors", {"allowed_origins"}));
      if (auto origins = node["allowed_origins"]) {
        RP_ASSIGN_OR_RETURN(config.cors_allowed_origins, StringList(origins, "cors.allowed_origins"));
      }
    }
    if (auto node = root["auth"]) RP_RETURN_IF_ERROR(ReadAuth(node, config));
    if (auto node = root["kb_dir"]) {
      RP_ASSIGN_OR_RETURN(config.kb_dir, Path(node, "kb_dir"));
    }
    if (auto node = root["fhir_client"]) {
      RP_RETURN_IF_ERROR(
          CheckKeys(node, "fhir_client",
                    {"timeout", "call_budget", "max_bytes", "allow_http", "ca_file", "allowed_servers",
                     "allowed_private_networks", "max_calls_in_flight", "max_calls_in_flight_per_issuer"}));
      if (auto value = node["allowed_servers"]) {
        RP_ASSIGN_OR_RETURN(config.fhir_allowed_servers, StringList(value, "fhir_client.allowed_servers"));
        Result<FhirServerAllowlist> checked = FhirServerAllowlist::Create(config.fhir_allowed_servers, {});
        if (!checked.has_value()) return Error(value, "fhir_client.allowed_servers: " + checked.error().message());
      }
      if (auto value = node["allowed_private_networks"]) {
        RP_ASSIGN_OR_RETURN(config.fhir_allowed_private_networks,
                            StringList(value, "fhir_client.allowed_private_networks"));
        Result<AddressPolicy> checked = AddressPolicy::PublicOnly(config.fhir_allowed_private_networks);
        if (!checked.has_value()) {
          return Error(value, "fhir_client.allowed_private_networks: " + checked.error().message());
        }
      }
      if (auto value = node["max_calls_in_flight"]) {
        RP_ASSIGN_OR_RETURN(int64_t limit, Integer(value, "fhir_client.max_calls_in_flight", 1, 100'000));
        config.fhir_max_calls_in_flight = static_cast<size_t>(limit);
      }
      if (auto value = node["max_calls_in_flight_per_issuer"]) {
        RP_ASSIGN_OR_RETURN(int64_t limit,
                            Integer(value, "fhir_client.max_calls_in_flight_per_issuer", 1, 100'000));
        config.fhir_max_calls_per_issuer = static_cast<size_t>(limit);
      }
      if (auto value = node["timeout"]) {
        RP_ASSIGN_OR_RETURN(config.fhir_timeout, Seconds(value, "fhir_client.timeout"));
      }
      if (auto value = node["call_budget"]) {
        RP_ASSIGN_OR_RETURN(config.fhir_call_budget, Seconds(value, "fhir_client.call_budget"));
      }
      if (auto value = node["max_bytes"]) {
        RP_ASSIGN_OR_RETURN(int64_t limit, Integer(value, "fhir_client.max_bytes", 1024, int64_t{1} << 31));
        config.fhir_max_bytes = static_cast<size_t>(limit);
      }
      if (auto value = node["allow_http"]) {
        RP_ASSIGN_OR_RETURN(config.fhir_allow_http, Bool(value, "fhir_client.allow_http"));
      }
      if (auto value = node["ca_file"]) {
        RP_ASSIGN_OR_RETURN(config.ca_file, Path(value, "fhir_client.ca_file"));
      }
    }
    if (auto node = root["replay_store"]) {
      RP_ASSIGN_OR_RETURN(config.replay_store, String(node, "replay_store"));
      if (config.replay_store != "sqlite" && config.replay_store != "postgres" && config.replay_store != "memory") {
        return Error(node, "replay_store must be sqlite, postgres or memory");
      }
    }
    if (auto node = root["replay_store_database"]) {
      RP_ASSIGN_OR_RETURN(config.replay_store_database, String(node, "replay_store_database"));
    }
    if (config.replay_store == "postgres" && config.replay_store_database.empty()) {
      return Error(root, "replay_store: postgres needs replay_store_database (a libpq conninfo or postgresql:// URI)");
    }
    if (auto node = root["log_level"]) {
      RP_ASSIGN_OR_RETURN(config.log_level, String(node, "log_level"));
      static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
      if (!kLevels.contains(config.log_level)) {
        return Error(node, "log_level must be one of trace, debug, info, warn, error, off");
      }
    }
    return Status::Ok();
  }

  Status ReadAuth(const YAML::Node& node, ServerConfig& config) const {
    RP_RETURN_IF_ERROR(CheckKeys(node, "auth",
                                 {"issuers", "clock_skew", "max_lifetime", "jwks_refresh_interval",
                                  "jwks_max_age", "jwks_timeout", "max_token_bytes", "jti_cache_capacity"}));
    auto seconds = [](std::chrono::milliseconds value) {
      return std::chrono::duration_cast<std::chrono::seconds>(value);
    };
    if (auto value = node["clock_skew"]) {
      RP_ASSIGN_OR_RETURN(auto skew, Seconds(value, "auth.clock_skew", 0));
      config.jwt_policy.clock_skew = seconds(skew);
    }
    if (auto value = node["max_lifetime"]) {
      RP_ASSIGN_OR_RETURN(auto lifetime, Seconds(value, "auth.max_lifetime", 1));
      config.jwt_policy.max_lifetime = seconds(lifetime);
    }
    if (auto value = node["jwks_refresh_interval"]) {
      RP_ASSIGN_OR_RETURN(auto interval, Seconds(value, "auth.jwks_refresh_interval", 0));
      config.jwt_policy.jwks_refresh_interval = seconds(interval);
    }
    if (auto value = node["jwks_max_age"]) {
      RP_ASSIGN_OR_RETURN(auto age, Seconds(value, "auth.jwks_max_age", 1));
      config.jwt_policy.jwks_max_age = seconds(age);
    }
    if (auto value = node["jwks_timeout"]) {
      RP_ASSIGN_OR_RETURN(config.jwks_timeout, Seconds(value, "auth.jwks_timeout"));
    }
    if (auto value = node["max_token_bytes"]) {
      RP_ASSIGN_OR_RETURN(int64_t bytes, Integer(value, "auth.max_token_bytes", 256, 1 << 20));
      config.jwt_policy.max_token_bytes = static_cast<size_t>(bytes);
    }
    if (auto value = node["jti_cache_capacity"]) {
      RP_ASSIGN_OR_RETURN(int64_t capacity, Integer(value, "auth.jti_cache_capacity", 1, 100'000'000));
      config.jwt_policy.jti_cache_capacity = static_cast<size_t>(capacity);
    }
    if (auto issuers = node["issuers"]) {
      if (!issuers.IsSequence()) return Error(issuers, "auth.issuers must be a list");
      for (const auto& entry : issuers) {
        RP_RETURN_IF_ERROR(
            CheckKeys(entry, "an auth.issuers entry",
                      {"issuer", "jwks_file", "jwks_url", "jku_allowlist", "tenant_allowlist", "fhir_servers"}));
        security::TrustedIssuer issuer;
        if (!entry["issuer"]) return Error(entry, "an auth.issuers entry needs 'issuer'");
        RP_ASSIGN_OR_RETURN(issuer.issuer, String(entry["issuer"], "issuer"));
        if (auto value = entry["jwks_file"]) {
          RP_ASSIGN_OR_RETURN(issuer.jwks_file, Path(value, "jwks_file"));
        }
        if (auto value = entry["jwks_url"]) {
          RP_ASSIGN_OR_RETURN(issuer.jwks_url, String(value, "jwks_url"));
          Result<HttpUrl> url = ParseHttpUrl(issuer.jwks_url);
          if (!url.has_value()) return Error(value, "jwks_url: " + url.error().message());
        }
        if (auto value = entry["jku_allowlist"]) {
          RP_ASSIGN_OR_RETURN(issuer.jku_allowlist, StringList(value, "jku_allowlist"));
        }
        if (auto value = entry["tenant_allowlist"]) {
          RP_ASSIGN_OR_RETURN(issuer.tenant_allowlist, StringList(value, "tenant_allowlist"));
        }
        if (auto value = entry["fhir_servers"]) {
          RP_ASSIGN_OR_RETURN(std::vector<std::string> servers, StringList(value, "fhir_servers"));
          Result<FhirServerAllowlist> checked = FhirServerAllowlist::Create(servers, {});
          if (!checked.has_value()) return Error(value, "fhir_servers: " + checked.error().message());
          config.issuer_fhir_servers[issuer.issuer] = std::move(servers);
        }
        if (issuer.jwks_file.empty() && issuer.jwks_url.empty() && issuer.jku_allowlist.empty()) {
          return Error(entry,
                       fmt::format("issuer '{}' needs jwks_file, jwks_url or jku_allowlist", issuer.issuer));
        }
        config.issuers.push_back(std::move(issuer));
      }
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  fs::path base_;
};

}  // namespace

Result<ServerConfig> LoadServerConfig(const std::string& path) {
  RP_ASSIGN_OR_RETURN(const std::string text, ReadConfigText(path));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& error) {
    return Fail(InvalidInput(fmt::format("{}:{}: {}", path, error.mark.line + 1, error.msg)));
  } catch (const YAML::Exception& error) {
    return Fail(InvalidInput(fmt::format("{}: {}", path, error.what())));
  }
  std::error_code ec;
  ServerConfig config;
  fs::path base = fs::absolute(fs::path(path), ec).parent_path();
  ConfigReader reader(path, base);
  try {
    RP_RETURN_IF_ERROR(reader.Read(root, config));
  } catch (const YAML::Exception& error) {
    return Fail(InvalidInput(fmt::format("{}: {}", path, error.what())));
  }
  return config;
}

Status ValidateServerConfig(const ServerConfig& config) {
  if (config.insecure_dev) {
    if (!IsLoopbackHost(config.host)) {
      return InvalidArgument(
          fmt::format("--insecure-dev turns authentication off and only binds to loopback (127.0.0.1, ::1, "
                      "localhost), not '{}'",
                      config.host));
    }
  } else if (config.issuers.empty()) {
    return InvalidArgument(
        "authentication is on but no trusted issuer is configured: add auth.issuers to the --config file "
        "(or use --insecure-dev for a local demo)");
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return InvalidArgument("TLS needs both tls.cert and tls.key");
  }
  if (config.data_dir.empty()) return InvalidArgument("data_dir must not be empty");
  if (!config.public_base_url.empty()) {
    Result<HttpUrl> url = ParseHttpUrl(config.public_base_url);
    if (!url.has_value()) return InvalidArgument("public_base_url: " + url.error().message());
  }
  return Status::Ok();
}

std::string PublicBaseUrl(const ServerConfig& config, uint16_t port) {
  if (!config.public_base_url.empty()) return config.public_base_url;
  std::string host = config.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return fmt::format("{}://{}:{}", config.tls_cert_file.empty() ? "http" : "https", host, port);
}

}  // namespace regenpath::server
