#include "screen/input_files.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

namespace regenpath::screen {

namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool IsNdjsonName(std::string_view name) { return EndsWith(name, ".ndjson") || EndsWith(name, ".ndjson.gz"); }

// "Condition.000.ndjson", "Patient.ndjson.gz": an upper-case resource type
// name, then anything, then .ndjson or .ndjson.gz; or that after a number
// and a dot ("1.Patient.ndjson", as the SMART Bulk Data client names its
// downloads); or the type then numbers each after a hyphen
// ("Patient-1-1.ndjson", as Azure Health Data Services' $export names its
// files). (Not "patients.ndjson" or "issues.ndjson": a screening's own
// output is no input.)
bool IsResourceNdjsonName(std::string_view name) {
  if (!IsNdjsonName(name)) return false;
  const size_t digits = name.find_first_not_of("0123456789");
  if (digits > 0 && digits < name.size() && name[digits] == '.') name.remove_prefix(digits + 1);
  if (name.empty() || !std::isupper(static_cast<unsigned char>(name[0]))) return false;
  const size_t end = name.find('.');
  size_t i = 0;
  while (i < end && std::isalnum(static_cast<unsigned char>(name[i]))) ++i;
  // "-<digits>" parts up to the first dot.
  while (i < end && name[i] == '-') {
    const size_t first = ++i;
    while (i < end && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
    if (i == first) return false;
  }
  return i == end;
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
      for (const fs::directory_entry& entry : fs::directory_iterator(input, error))
        entries.push_back(entry.path());
      if (error) return Fail(InvalidInput(fmt::format("{}: cannot list: {}", input, error.message())));
      std::sort(entries.begin(), entries.end());
      const size_t files_before = listing.files.size();
      const size_t ndjson_skipped_before = listing.ndjson_skipped.size();
      for (const fs::path& path : entries) {
        if (!IsResourceNdjsonName(path.filename().string())) {
          // (A Bulk Data client's log.ndjson is there even in an export of nothing.)
          if (IsNdjsonName(path.filename().string()) && path.filename() != "log.ndjson") {
            listing.ndjson_skipped.push_back(path.string());
          }
          listing.skipped.push_back(path.string());
          continue;
        }
        // Named as a part of the export, it must be read: an entry that
        // cannot be (a link to nothing, a directory, a pipe) stops the run
        // rather than leave its resources out unsaid.
        std::error_code entry_error;
        const fs::file_status entry_status = fs::status(path, entry_error);
        if (entry_error || !fs::exists(entry_status)) {
          return Fail(
              InvalidInput(fmt::format("{}: cannot open: no such file (a link to nothing?)", path.string())));
        }
        if (!fs::is_regular_file(entry_status)) {
          return Fail(InvalidInput(fmt::format("{}: named as an NDJSON file but not a file", path.string())));
        }
        listing.files.push_back({path.string(), 0, false});
      }
      // NDJSON files, none named as an export's: the run would screen
      // nothing and say it succeeded.
      if (listing.files.size() == files_before && listing.ndjson_skipped.size() > ndjson_skipped_before) {
        return Fail(InvalidInput(fmt::format(
            "{}: no file named as an export's resource NDJSON (Patient.ndjson, Condition.000.ndjson, "
            "1.Observation.ndjson, Patient-1-1.ndjson, .ndjson.gz) but {} and maybe others: name the files "
            "to "
            "read them",
            input, listing.ndjson_skipped[ndjson_skipped_before])));
      }
      continue;
    }
    if (!fs::is_regular_file(status)) return Fail(InvalidInput(fmt::format("{}: not a file or directory", input)));
    listing.files.push_back({input, 0, false});
  }
  std::sort(listing.files.begin(), listing.files.end(),
            [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  // One file under two names (`dir` and `./dir`, a symbolic link) is read
  // once: the first name in path order. (By canonical path: inode numbers
  // are not unique on every file system, and a file left out for another's
  // number would be data lost unsaid; so a hard link is read twice.)
  std::set<std::string> seen;
  std::vector<InputFile> unique;
  for (InputFile& file : listing.files) {
    struct stat info;
    if (::stat(file.path.c_str(), &info) != 0) {
      return Fail(InvalidInput(fmt::format("{}: cannot open: {}", file.path, std::strerror(errno))));
    }
    std::error_code error;
    const fs::path canonical = fs::canonical(file.path, error);
    if (!seen.insert(error ? file.path : canonical.string()).second) continue;
    file.size = static_cast<uint64_t>(info.st_size);
    file.gzip = EndsWith(file.path, ".gz");
    unique.push_back(std::move(file));
  }
  listing.files = std::move(unique);
  return listing;
}

}  // namespace regenpath::screen
