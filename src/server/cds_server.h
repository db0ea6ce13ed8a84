// CdsServer: `regenpath serve` assembled: the knowledge base and engine, the
// CDS Hooks service, the feedback registry, the EHR authentication, the
// HTTP client for FHIR servers and JWK Sets, the metrics, and the HTTP server
// in front of them. Used by the serve command and, in process, by the tests.
#ifndef REGENPATH_SERVER_CDS_SERVER_H_
#define REGENPATH_SERVER_CDS_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "server/metrics.h"
#include "server/server_config.h"

namespace regenpath::server {

class CdsServer {
 public:
  // Builds everything `config` describes (it must pass
  // ValidateServerConfig): loads the knowledge base, opens (creating) the
  // data directory and <data_dir>/feedback.sqlite, reads the issuers' key
  // files and the TLS files. Nothing listens yet. Failures name what failed:
  // kInvalidArgument for the configuration, kInvalidInput for a file (knowledge
  // base, keys, TLS), kUnavailable for the data directory or database.
  // `clock` is not owned and must outlive the server.
  static Result<std::unique_ptr<CdsServer>> Create(ServerConfig config, const Clock* clock);
  ~CdsServer();

  // Binds and starts serving. kUnavailable if the address cannot be bound.
  Status Start();

  // The bound port and the public base URL (after Start).
  uint16_t port() const;
  const std::string& base_url() const;

  // Graceful stop (see HttpServer::Shutdown); returns the number of
  // connections cut at the deadline.
  size_t Shutdown(std::chrono::milliseconds deadline);

  Metrics& metrics();

 private:
  struct Parts;
  explicit CdsServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_CDS_SERVER_H_
