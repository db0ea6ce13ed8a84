// The YAML configuration: every key read, relative paths resolved against the
// file, and clear "FILE:LINE: message" errors.
#include "server/server_config.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

class ServerConfigTest : public ::testing::Test {
 protected:
  Result<ServerConfig> Load(const std::string& text) {
    std::filesystem::path path = dir_.path() / "regenpath.yaml";
    std::ofstream(path) << text;
    return LoadServerConfig(path.string());
  }
  TempDir dir_;
};

TEST_F(ServerConfigTest, ReadsEveryKey) {
  Result<ServerConfig> config = Load(R"(
host: 127.0.0.1
port: 8443
threads: 4
public_base_url: https://cds.example.org/
tls: {cert: tls/cert.pem, key: /etc/regenpath/key.pem}
data_dir: data
body_limit_bytes: 2097152
max_connections: 500
timeouts: {header: 5, body: 20, idle: 30.5, write: 10, shutdown: 15}
cors: {allowed_origins: ["https://ehr.example.com"]}
auth:
  clock_skew: 30
  max_lifetime: 600
  jwks_timeout: 2
  issuers:
    - issuer: https://ehr.example.com/
      jwks_url: https://ehr.example.com/jwks
      jku_allowlist: [https://ehr.example.com/jwks]
      tenant_allowlist: [t1]
    - issuer: other
      jwks_file: keys/other.json
kb_dir: kb
fhir_client: {timeout: 3, max_bytes: 1048576, allow_http: true}
log_level: warn
)");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->port, 8443);
  EXPECT_EQ(config->threads, 4);
  EXPECT_EQ(config->public_base_url, "https://cds.example.org");
  EXPECT_EQ(config->tls_cert_file, (dir_.path() / "tls/cert.pem").string());
  EXPECT_EQ(config->tls_key_file, "/etc/regenpath/key.pem");
  EXPECT_EQ(config->data_dir, (dir_.path() / "data").string());
  EXPECT_EQ(config->body_limit_bytes, 2097152u);
  EXPECT_EQ(config->idle_timeout, std::chrono::milliseconds(30500));
  EXPECT_EQ(config->shutdown_timeout, std::chrono::seconds(15));
  ASSERT_EQ(config->cors_allowed_origins.size(), 1u);
  ASSERT_EQ(config->issuers.size(), 2u);
  EXPECT_EQ(config->issuers[0].tenant_allowlist, std::vector<std::string>{"t1"});
  EXPECT_EQ(config->issuers[1].jwks_file, (dir_.path() / "keys/other.json").string());
  EXPECT_EQ(config->jwt_policy.clock_skew, std::chrono::seconds(30));
  EXPECT_EQ(config->jwt_policy.max_lifetime, std::chrono::seconds(600));
  EXPECT_EQ(config->fhir_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(config->fhir_allow_http);
  EXPECT_EQ(config->log_level, "warn");
  EXPECT_TRUE(ValidateServerConfig(*config).ok());
  EXPECT_EQ(PublicBaseUrl(*config, 1), "https://cds.example.org");
}

TEST_F(ServerConfigTest, ReplayStoreInPostgres) {
  Result<ServerConfig> config =
      Load("replay_store: postgres\nreplay_store_database: \"host=/run/pg dbname=regenpath\"\n");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->replay_store, "postgres");
  EXPECT_EQ(config->replay_store_database, "host=/run/pg dbname=regenpath");
}

TEST_F(ServerConfigTest, EmptyFileMeansDefaults) {
  Result<ServerConfig> config = Load("");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->host, "127.0.0.1");
  EXPECT_EQ(config->port, 8080);
  EXPECT_EQ(PublicBaseUrl(*config, 8080), "http://127.0.0.1:8080");
  // Authentication is on by default, so this alone does not validate.
  EXPECT_FALSE(ValidateServerConfig(*config).ok());
}

// A file saved with classic Mac line endings (a lone CR) is read line by
// line, not as one comment that leaves every setting at its default.
TEST_F(ServerConfigTest, CrLineEndingsAreLineEnds) {
  Result<ServerConfig> config = Load("# the site's settings\rport: 9090\rhost: 127.0.0.2\r");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->port, 9090);
  EXPECT_EQ(config->host, "127.0.0.2");
  Result<ServerConfig> bad = Load("port: 8080\rbogus: 1\r");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("regenpath.yaml:2: unknown key 'bogus'"), std::string::npos)
      << bad.error().message();
}

TEST_F(ServerConfigTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& test : {
           Case{"port: 8080\nbogus: 1\n", "regenpath.yaml:2: unknown key 'bogus'"},
           Case{"port: eighty\n", "regenpath.yaml:1: port must be an integer"},
           Case{"timeouts:\n  header: -1\n", "regenpath.yaml:2: timeouts.header must be between"},
           Case{"tls: {cert: a.pem}\n", "tls needs both cert and key"},
           Case{"auth:\n  issuers:\n    - issuer: x\n", "regenpath.yaml:3: issuer 'x' needs jwks_file"},
           Case{"auth:\n  issuers:\n    - jwks_file: k.json\n", "needs 'issuer'"},
           Case{"public_base_url: ftp://x\n", "public_base_url: URL scheme 'ftp'"},
           Case{"log_level: loud\n", "log_level must be one of"},
           Case{"cors: {allowed_origins: https://x}\n", "cors.allowed_origins must be a list"},
           Case{"- a\n- b\n", "the configuration must be a mapping"},
           Case{"host: [unclosed\n", "regenpath.yaml:"},
           Case{"replay_store: redis\n", "replay_store must be sqlite, postgres or memory"},
           Case{"replay_store: postgres\n", "replay_store: postgres needs replay_store_database"},
       }) {
    Result<ServerConfig> config = Load(test.text);
    ASSERT_FALSE(config.has_value()) << test.text;
    EXPECT_EQ(config.error().code(), StatusCode::kInvalidInput);
    EXPECT_NE(config.error().message().find(test.message), std::string::npos)
        << config.error().message() << "\nexpected: " << test.message;
  }
  Result<ServerConfig> missing = LoadServerConfig((dir_.path() / "absent.yaml").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("absent.yaml: not a readable file"), std::string::npos);
}

TEST_F(ServerConfigTest, InsecureDevOnlyOnLoopback) {
  ServerConfig config;
  config.insecure_dev = true;
  for (const char* host : {"127.0.0.1", "::1", "localhost", "[::1]", "127.0.0.2"}) {
    config.host = host;
    EXPECT_TRUE(ValidateServerConfig(config).ok()) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "example.com", ""}) {
    config.host = host;
    Status status = ValidateServerConfig(config);
    EXPECT_FALSE(status.ok()) << host;
    EXPECT_NE(status.message().find("loopback"), std::string::npos) << status.message();
  }
}

}  // namespace
}  // namespace regenpath::server::testing
