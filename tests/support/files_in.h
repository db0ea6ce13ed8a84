// Test data as files: data-driven tests (scenarios, Synthea bundles, card
// responses, NDJSON exports) list a directory through this helper.
#ifndef REGENPATH_TESTS_SUPPORT_FILES_IN_H_
#define REGENPATH_TESTS_SUPPORT_FILES_IN_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace regenpath::test_support {

// The paths of the regular files in `directory` (not its subdirectories)
// whose names end with `suffix` and are longer than it, sorted. A directory
// that cannot be read, or holds no such file, is a test failure, not an
// empty list: a test over no file would pass saying nothing.
inline std::vector<std::string> FilesIn(const std::string& directory, std::string_view suffix) {
  std::vector<std::string> files;
  std::error_code error;
  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    std::error_code type_error;
    if (name.size() > suffix.size() && name.ends_with(suffix) && it->is_regular_file(type_error)) {
      files.push_back(it->path().string());
    }
  }
  if (error) ADD_FAILURE() << "cannot list " << directory << ": " << error.message();
  if (!error && files.empty()) ADD_FAILURE() << "no file named *" << suffix << " in " << directory;
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace regenpath::test_support

#endif  // REGENPATH_TESTS_SUPPORT_FILES_IN_H_
