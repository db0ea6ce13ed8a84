// `regenpath screen` and its subcommands merge, map and reduce (docs/screening.md).
#ifndef REGENPATH_CLI_SCREEN_COMMAND_H_
#define REGENPATH_CLI_SCREEN_COMMAND_H_

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace regenpath::cli {

struct ScreenCommandOptions {
  std::vector<std::string> inputs;     // Bulk Data directories or NDJSON files; for merge: shard directories
  std::string output_dir;
  std::optional<std::string> now;
  size_t jobs = 0;                     // 0: every core
  std::string memory = "512M";
  std::optional<std::string> shard;    // "I/N"
  std::optional<std::string> kb_dir;
  // --fhir-server: run a Bulk Data export there first (bulk/bulk_export.h).
  std::optional<std::string> fhir_server;
  std::optional<std::string> bearer_token_file;
  // SMART Backend Services (instead of --bearer-token-file).
  std::optional<std::string> smart_client_id;
  std::optional<std::string> smart_key_file;
  std::optional<std::string> smart_key_id;
  std::optional<std::string> smart_token_endpoint;  // default: from .well-known/smart-configuration
  std::optional<std::string> download_dir;  // default: <output>/bulk-download
  // A shuffle's tasks (screen map / screen reduce; screen/screener.h).
  std::optional<std::string> map;      // "I/K": map task I of K
  uint32_t shards = 0;                 // map: how many shards the run has
  uint32_t maps = 0;                   // reduce: how many map tasks the run has
  std::string shuffle_dir;
  // Not a flag: how the run starts its threads (screen::ScreenOptions::
  // start_thread), so that tests can see what the commands say when the
  // system will not start them; empty: std::thread.
  std::function<std::thread(std::function<void()>)> start_thread;
};

// Exit: 0; 2 usage; 3 an unreadable input or unwritable output (named).
// Progress on stderr: a bar when stderr is a terminal, else one final line.
int RunScreen(const ScreenCommandOptions& options, std::ostream& err);
int RunScreenMerge(const ScreenCommandOptions& options, std::ostream& err);
// A shuffle's map task (--map I/K --shards N --shuffle-dir DIR INPUT...) and
// reduce task (--shard I/N --maps K --shuffle-dir DIR --output DIR).
int RunScreenMap(const ScreenCommandOptions& options, std::ostream& err);
int RunScreenReduce(const ScreenCommandOptions& options, std::ostream& err);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_SCREEN_COMMAND_H_
