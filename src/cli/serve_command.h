// `regenpath serve`: the CDS Hooks HTTP service (src/server/, docs/server.md).
#ifndef REGENPATH_CLI_SERVE_COMMAND_H_
#define REGENPATH_CLI_SERVE_COMMAND_H_

#include <optional>
#include <ostream>
#include <string>

namespace regenpath::cli {

struct ServeOptions {
  std::optional<std::string> host;  // overrides the config file's
  std::optional<int> port;          // overrides the config file's
  std::optional<std::string> config_file;
  bool insecure_dev = false;  // no authentication; loopback only
  std::optional<std::string> web_root;  // the web app's files; overrides the config file's
};

// Runs the service until SIGTERM or SIGINT, then drains requests in flight
// and returns 0. 2 for a usage error (bad flags, --insecure-dev on a public
// host, no trusted issuer), 3 for a bad config file, knowledge base, key or
// TLS file, data directory, or an address that cannot be bound; the reason
// goes to `err` as one line.
int RunServe(const ServeOptions& options, std::ostream& err);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_SERVE_COMMAND_H_
