#include "cli/serve_command.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>

#include "cli/exit_codes.h"
#include "common/clock.h"
#include "server/cds_server.h"
#include "server/safe_log.h"
#include "server/server_config.h"

namespace regenpath::cli {

int RunServe(const ServeOptions& options, std::ostream& err) {
  server::ServerConfig config;
  if (options.config_file) {
    Result<server::ServerConfig> loaded = server::LoadServerConfig(*options.config_file);
    if (!loaded.has_value()) {
      err << "regenpath serve: " << loaded.error().message() << "\n";
      return kExitInvalidInput;
    }
    config = std::move(*loaded);
  }
  if (options.host) config.host = *options.host;
  if (options.port) {
    if (*options.port < 0 || *options.port > 65535) {
      err << "regenpath serve: --port must be between 0 and 65535\n";
      return kExitUsage;
    }
    config.port = static_cast<uint16_t>(*options.port);
  }
  config.insecure_dev = options.insecure_dev;
  if (options.web_root) config.web_root = *options.web_root;
  if (Status valid = server::ValidateServerConfig(config); !valid.ok()) {
    err << "regenpath serve: " << valid.message() << "\n";
    return kExitUsage;
  }
  server::SetUpServerLogging(config.log_level);

  // Every thread the server starts inherits this mask, so the signals are
  // delivered only to sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  std::chrono::milliseconds shutdown_timeout = config.shutdown_timeout;
  Result<std::unique_ptr<server::CdsServer>> service = server::CdsServer::Create(std::move(config), &clock);
  if (!service.has_value()) {
    err << "regenpath serve: " << service.error().message() << "\n";
    return service.error().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInvalidInput;
  }
  if (Status started = (*service)->Start(); !started.ok()) {
    err << "regenpath serve: " << started.message() << "\n";
    return started.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInvalidInput;
  }
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  spdlog::info("{} received: draining requests in flight (at most {} ms)",
               received == SIGTERM ? "SIGTERM" : "SIGINT", shutdown_timeout.count());
  size_t cut = (*service)->Shutdown(shutdown_timeout);
  if (cut > 0) {
    spdlog::warn("stopped with {} connection(s) cut at the deadline", cut);
  } else {
    spdlog::info("stopped cleanly");
  }
  service->reset();
  spdlog::shutdown();
  return kExitOk;
}

}  // namespace regenpath::cli
