#include "screen/input_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace regenpath::screen {

namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// "Condition.000.ndjson", "Patient.ndjson.gz": an upper-case resource type
// name, then anything, then .ndjson or .ndjson.gz.
bool IsResourceNdjsonName(std::string_view name) {
  if (!EndsWith(name, ".ndjson") && !EndsWith(name, ".ndjson.gz")) return false;
  if (name.empty() || !std::isupper(static_cast<unsigned char>(name[0]))) return false;
  size_t end = name.find('.');
  for (size_t i = 0; i < end; ++i) {
    if (!std::isalnum(static_cast<unsigned char>(name[i]))) return false;
  }
  return true;
}

}  // namespace

Result<InputListing> ListInputs(const std::vector<std::string>& inputs) {
  InputListing listing;
  for (const std::string& input : inputs) {
    std::error_code error;
    fs::file_status status = fs::status(input, error);
    if (error || !fs::exists(status)) {
      return Fail(InvalidInput(fmt::format("{}: cannot open: no such file or directory", input)));
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> entries;
      for (const fs::directory_entry& entry : fs::directory_iterator(input, error)) {
        if (entry.is_regular_file()) entries.push_back(entry.path());
      }
      if (error) return Fail(InvalidInput(fmt::format("{}: cannot list: {}", input, error.message())));
      std::sort(entries.begin(), entries.end());
      for (const fs::path& path : entries) {
        if (IsResourceNdjsonName(path.filename().string())) {
          listing.files.push_back({path.string(), 0, false});
        } else {
          listing.skipped.push_back(path.string());
        }
      }
      continue;
    }
    if (!fs::is_regular_file(status)) return Fail(InvalidInput(fmt::format("{}: not a file or directory", input)));
    listing.files.push_back({input, 0, false});
  }
  std::sort(listing.files.begin(), listing.files.end(),
            [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  listing.files.erase(std::unique(listing.files.begin(), listing.files.end(),
                                  [](const InputFile& a, const InputFile& b) { return a.path == b.path; }),
                      listing.files.end());
  for (InputFile& file : listing.files) {
    std::error_code error;
    file.size = fs::file_size(file.path, error);
    if (error) return Fail(InvalidInput(fmt::format("{}: cannot read its size: {}", file.path, error.message())));
    file.gzip = EndsWith(file.path, ".gz");
  }
  return listing;
}

}  // namespace regenpath::screen
