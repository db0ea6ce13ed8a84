// The NDJSON files a screening run reads.
//
// An input is a Bulk Data output directory or a file. In a directory, the
// files named <ResourceType>[.<anything>].ndjson or .ndjson.gz (Patient.ndjson,
// Condition.000.ndjson, Observation.001.ndjson.gz; also 1.Patient.ndjson and
// Patient-1-1.ndjson, as the SMART client and Azure name them) are read; other files
// (the export's log.ndjson, a manifest, a subdirectory) are listed as
// skipped. A file given by name is always read. Files are read in a fixed
// order (sorted by path) so that a run is deterministic, and each once,
// whatever names it is given under.
#ifndef REGENPATH_SCREEN_INPUT_FILES_H_
#define REGENPATH_SCREEN_INPUT_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace regenpath::screen {

struct InputFile {
  std::string path;
  uint64_t size = 0;     // bytes on disk
  bool gzip = false;     // named *.gz
};

struct InputListing {
  std::vector<InputFile> files;      // sorted by path; one file once (the first of its names)
  std::vector<std::string> skipped;  // entries of a directory not named as resource NDJSON
  // Of those, the ones named .ndjson or .ndjson.gz (log.ndjson aside): a run
  // says so, since they may be an export's files under names not known here.
  std::vector<std::string> ndjson_skipped;
};

// Fails (kInvalidInput, naming it) for an input that does not exist or is
// neither a file nor a directory, and for an entry of a directory named as
// resource NDJSON that is not a readable file (a link to nothing, a
// directory, a pipe).
Result<InputListing> ListInputs(const std::vector<std::string>& inputs);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_INPUT_FILES_H_
