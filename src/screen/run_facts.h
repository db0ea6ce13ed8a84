// What a screening run read: its inputs and the counts of lines that were
// not a patient's resource. Written as run.json beside the results; shards of
// one run have equal facts (each reads every input), which `screen merge`
// checks.
#ifndef REGENPATH_SCREEN_RUN_FACTS_H_
#define REGENPATH_SCREEN_RUN_FACTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace regenpath::screen {

struct RunFacts {
  std::string now;  // the --now of the run, as text
  std::string kb_name, kb_version;
  std::vector<std::pair<std::string, uint64_t>> inputs;  // path, bytes on disk
  std::vector<std::string> skipped_files;
  uint64_t lines = 0;            // non-blank lines read
  uint64_t patient_resources = 0;
  uint64_t malformed_lines = 0;
  std::map<std::string, uint64_t> outside_compartment;  // resource type -> count
  std::map<std::string, uint64_t> no_patient;           // resource type -> count

  std::string ToJson() const;
  static Result<RunFacts> FromJson(std::string_view json);
};

// A line that could not be read as a resource.
struct LineIssue {
  uint32_t file = 0;
  uint64_t line = 0;
  std::string message;
};

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_RUN_FACTS_H_
