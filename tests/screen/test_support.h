// What the screen tests share: the shared bulk export, file and line reading,
// and a temporary directory removed at the end of its scope (tests only).
#ifndef REGENPATH_TESTS_SCREEN_TEST_SUPPORT_H_
#define REGENPATH_TESTS_SCREEN_TEST_SUPPORT_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/date_time.h"
#include "knowledge/knowledge_base.h"
#include "screen/screener.h"

namespace regenpath::screen::testing {

inline const std::string kNow = "2025-06-01";

inline std::string BulkDir() {
  return std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/bulk-ndjson-10-patients";
}

// A run of `inputs` at kNow with the built-in knowledge base.
inline ScreenOptions TestOptions(const std::vector<std::string>& inputs, size_t jobs,
                                 size_t memory = size_t{512} << 20, uint32_t shard = 0, uint32_t shards = 1) {
  ScreenOptions options;
  options.inputs = inputs;
  options.now = *DateTime::ParseDateTime(kNow);
  options.now_text = kNow;
  options.jobs = jobs;
  options.memory_bytes = memory;
  options.shard = shard;
  options.shards = shards;
  options.kb = knowledge::KnowledgeBase::Embedded();
  return options;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/regenpath-screen-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace regenpath::screen::testing

#endif  // REGENPATH_TESTS_SCREEN_TEST_SUPPORT_H_
