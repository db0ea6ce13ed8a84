#include "server/screening_result.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_string.h"

namespace regenpath::server {

namespace {

constexpr uintmax_t kMaxFileBytes = 64 * 1024 * 1024;

Result<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    return Fail(NotFound(fmt::format("no screening result: {} is missing", path.filename().string())));
  uintmax_t size = std::filesystem::file_size(path, error);
  if (error || size > kMaxFileBytes)
    return Fail(InvalidInput(fmt::format("{}: unreadable or larger than 64 MB", path.filename().string())));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return Fail(InvalidInput(fmt::format("{}: unreadable", path.filename().string())));
  return text.str();
}

}  // namespace

Result<std::string> LatestScreeningJson(const std::string& dir) {
  const std::filesystem::path root(dir);
  // One shard's output (shard.json, written only then) holds a fraction of
  // the worklist: shown, it would pass for the whole list.
  if (std::error_code error; std::filesystem::exists(root / "shard.json", error)) {
    return Fail(
        NotFound("the screening directory holds one shard's output (shard.json), not a whole run's: point "
                 "screening_dir "
                 "at the output of `regenpath screen merge`"));
  }
  RP_ASSIGN_OR_RETURN(std::string summary, ReadSmallFile(root / "summary.json"));
  RP_ASSIGN_OR_RETURN(std::string group, ReadSmallFile(root / "Group.json"));
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  if (parser.parse(summary).get(element) != simdjson::SUCCESS || !element.is_object())
    return Fail(InvalidInput("summary.json is not a JSON object"));
  std::string summary_json = simdjson::minify(element);
  if (parser.parse(group).get(element) != simdjson::SUCCESS || !element.is_object())
    return Fail(InvalidInput("Group.json is not a JSON object"));
  std::string_view type;
  if (element["resourceType"].get(type) != simdjson::SUCCESS || type != "Group")
    return Fail(InvalidInput("Group.json is not a FHIR Group"));
  std::string candidates;
  simdjson::dom::array members;
  if (element["member"].get(members) == simdjson::SUCCESS) {
    for (simdjson::dom::element member : members) {
      std::string_view reference;
      if (member["entity"]["reference"].get(reference) != simdjson::SUCCESS) continue;
      if (!candidates.empty()) candidates += ",";
      candidates += JsonQuoted(reference);
    }
  }
  std::string now = "null";
  if (Result<std::string> run = ReadSmallFile(root / "run.json"); run.has_value()) {
    std::string_view value;
    if (parser.parse(*run).get(element) == simdjson::SUCCESS && element["now"].get(value) == simdjson::SUCCESS)
      now = JsonQuoted(value);
  }
  std::error_code error;
  auto written = std::filesystem::last_write_time(root / "summary.json", error);
  std::string completed = "null";
  if (!error) {
    auto system = std::chrono::file_clock::to_sys(written);
    completed = JsonQuoted(
        fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(system)));
  }
  return fmt::format(R"({{"now":{},"completed":{},"summary":{},"candidates":[{}]}})", now, completed,
                     summary_json, candidates);
}

}  // namespace regenpath::server
