#include "bulk/bulk_export.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "bulk/export_url.h"
#include "bulk/retry_after.h"
#include "common/json_string.h"

namespace regenpath::bulk {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::system_clock;

// The export being downloaded: {"request": kick-off URL, "received": when
// the manifest arrived and "expires": the status answer's Expires (seconds
// since the epoch; "expires" only when given), "manifest": the manifest}.
constexpr const char* kStateFile = "bulk-export.json";
// The same once its files have been screened (MarkBulkExportScreened).
constexpr const char* kScreenedStateFile = "bulk-export.screened.json";
// The manifest alone, as saved before the request was recorded: never resumed.
constexpr const char* kLegacyManifestFile = "bulk-manifest.json";

struct OutputFile {
  std::string type;
  std::string url;
};

struct Manifest {
  bool requires_token = false;
  std::vector<OutputFile> outputs;
};

Result<Manifest> ParseManifest(const simdjson::dom::element& root) {
  Manifest manifest;
  bool requires_token = false;
  if (root["requiresAccessToken"].get_bool().get(requires_token) == simdjson::SUCCESS) {
    manifest.requires_token = requires_token;
  }
  simdjson::dom::array outputs;
  if (root["output"].get_array().get(outputs)) {
    return Fail(InvalidInput("bulk export: the manifest has no \"output\" array"));
  }
  for (simdjson::dom::element item : outputs) {
    std::string_view type, url;
    if (item["type"].get_string().get(type) || item["url"].get_string().get(url)) {
      return Fail(InvalidInput("bulk export: a manifest output without type or url"));
    }
    for (char c : type) {
      if (!std::isalnum(static_cast<unsigned char>(c))) {
        return Fail(InvalidInput("bulk export: a manifest output type that is not a resource type"));
      }
    }
    manifest.outputs.push_back({std::string(type), std::string(url)});
  }
  return manifest;
}

// The text of an OperationOutcome's first issue, for messages.
std::string OutcomeText(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view text;
  if (parser.parse(body).get(root) == simdjson::SUCCESS) {
    simdjson::dom::array issues;
    if (root["issue"].get_array().get(issues) == simdjson::SUCCESS && issues.size() > 0) {
      simdjson::dom::element issue = issues.at(0).value_unsafe();
      if (issue["diagnostics"].get_string().get(text) == simdjson::SUCCESS) return std::string(text);
      if (issue["details"]["text"].get_string().get(text) == simdjson::SUCCESS) return std::string(text);
    }
  }
  return std::string();
}

std::string Describe(const server::HttpClientResponse& response) {
  std::string text = OutcomeText(response.body);
  return text.empty() ? fmt::format("HTTP {}", response.status) : fmt::format("HTTP {}: {}", response.status, text);
}

class Exporter {
 public:
  Exporter(const server::HttpClient& client, const BulkExportOptions& options) : client_(client), options_(options) {}

  Result<BulkExportReport> Run() {
    RP_RETURN_IF_ERROR(RefreshToken(false));
    std::error_code error;
    fs::create_directories(options_.download_dir, error);
    if (error) {
      return Fail(InvalidInput(fmt::format("{}: cannot create: {}", options_.download_dir, error.message())));
    }
    const std::string request = KickoffUrl(options_.url, options_.types);
    for (int round = 0; round < 2; ++round) {
      Result<Manifest> manifest = ResumeOrExport(request);
      if (!manifest.has_value()) return Fail(manifest.error());
      Result<bool> complete = Download(*manifest);
      if (!complete.has_value()) return Fail(complete.error());
      if (*complete) return report_;
      // A file URL expired: start the export again, from nothing.
      RP_RETURN_IF_ERROR(Clear());
    }
    return Fail(Unavailable("bulk export: the file URLs expired twice; giving up"));
  }

 private:
  std::string Path(const std::string& name) const { return options_.download_dir + "/" + name; }

  server::HeaderList Headers(const char* accept, bool with_token) const {
    server::HeaderList headers = {{"Accept", accept}};
    if (with_token && !bearer_token_.empty()) headers.emplace_back("Authorization", "Bearer " + bearer_token_);
    return headers;
  }

  // The token to send (from options_.access_token when set).
  Status RefreshToken(bool refresh) {
    if (!options_.access_token) {
      bearer_token_ = options_.bearer_token;
      return Status();
    }
    Result<std::string> token = options_.access_token(refresh);
    if (!token.has_value()) return token.error().WithPrefix("bulk export");
    bearer_token_ = std::move(*token);
    return Status();
  }

  void Wait(milliseconds delay) const {
    if (options_.sleep) {
      options_.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }

  system_clock::time_point Now() const { return options_.now ? options_.now() : system_clock::now(); }

  // What Retry-After asks for (at most max_retry_after), else `fallback`.
  milliseconds RetryAfter(const server::HttpClientResponse& response, milliseconds fallback) const {
    const std::string* value = server::FindHeader(response.headers, "Retry-After");
    if (value == nullptr) return fallback;
    std::optional<std::chrono::seconds> delay = ParseRetryAfter(*value, Now());
    if (!delay) return fallback;
    // A date already past (the server's clock ahead of this one's) asks for
    // no particular wait: the usual one, not none (a tight polling loop).
    const bool date = value->find_first_not_of(" \t0123456789") != std::string::npos;
    if (date && *delay == std::chrono::seconds(0)) return fallback;
    return std::min<milliseconds>(*delay, options_.max_retry_after);
  }

  static bool Retryable(int status) { return status == 429 || status >= 500; }

  // GET with retries of 429, 5xx and transport failures.
  Result<server::HttpClientResponse> Get(const std::string& url, server::HeaderList headers, std::string_view step) {
    milliseconds backoff(500);
    bool refreshed = false;
    for (int attempt = 1;; ++attempt) {
      Result<server::HttpClientResponse> response = client_.Get(url, headers);
      // An expired or revoked token: a new one, once per request.
      if (response.has_value() && response->status == 401 && options_.access_token && !refreshed &&
          server::FindHeader(headers, "Authorization") != nullptr) {
        refreshed = true;
        ++report_.token_refreshes;
        RP_RETURN_IF_ERROR(RefreshToken(true));
        for (auto& [name, value] : headers) {
          if (name == "Authorization") value = "Bearer " + bearer_token_;
        }
        --attempt;
        continue;
      }
      bool retry = false;
      milliseconds delay = backoff;
      if (!response.has_value()) {
        if (response.error().code() != StatusCode::kUnavailable) {
          return Fail(response.error().WithPrefix(fmt::format("bulk export: {}", step)));
        }
        retry = true;
      } else if (Retryable(response->status)) {
        retry = true;
        delay = RetryAfter(*response, backoff);
      }
      if (!retry) return response;
      if (attempt >= options_.max_attempts) {
        return Fail(Unavailable(fmt::format("bulk export: {}: {} after {} attempts", step,
                                            response.has_value() ? Describe(*response) : response.error().message(),
                                            attempt)));
      }
      ++report_.retries;
      Wait(delay);
      backoff = std::min(backoff * 2, milliseconds(60'000));
    }
  }

  // The saved export to resume (none when there is none, or it must not be
  // resumed: `why_not` says why, empty when nothing was saved).
  std::optional<Manifest> LoadSaved(const std::string& request, std::string& why_not) const {
    std::ifstream saved(Path(kStateFile), std::ios::binary);
    if (!saved) {
      if (fs::exists(Path(kLegacyManifestFile))) {
        why_not = fmt::format("its {} does not record the request it answers (an earlier version's)",
                              kLegacyManifestFile);
      }
      return std::nullopt;
    }
    std::ostringstream text;
    text << saved.rdbuf();
    simdjson::dom::parser parser;
    simdjson::dom::element root, manifest_json;
    std::string_view saved_request;
    int64_t received = 0, expires = 0;
    Result<Manifest> manifest;
    if (parser.parse(text.str()).get(root) || root["request"].get_string().get(saved_request) ||
        root["received"].get_int64().get(received) || root["manifest"].get(manifest_json) ||
        !(manifest = ParseManifest(manifest_json)).has_value()) {
      why_not = fmt::format("its {} is unreadable", kStateFile);
      return std::nullopt;
    }
    if (saved_request != request) {
      why_not = "it was requested with another server URL, level or _type";
      return std::nullopt;
    }
    const auto now = Now();
    const auto age = now - system_clock::time_point(std::chrono::seconds(received));
    if (age >= options_.max_resume_age) {
      why_not = fmt::format("its manifest arrived more than {} s ago", options_.max_resume_age.count());
      return std::nullopt;
    }
    if (age < std::chrono::seconds(0)) {
      why_not = "its manifest arrived later than now (the clock was set back)";
      return std::nullopt;
    }
    if (root["expires"].get_int64().get(expires) == simdjson::SUCCESS &&
        now >= system_clock::time_point(std::chrono::seconds(expires))) {
      why_not = "its files are past the Expires time the server gave";
      return std::nullopt;
    }
    return std::move(*manifest);
  }

  Status SaveState(const std::string& request, const simdjson::dom::element& manifest,
                   const server::HttpClientResponse& status) const {
    const auto now = Now();
    std::string state = "{\"request\":";
    AppendJsonString(request, state);
    state += fmt::format(",\"received\":{}",
                         std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    const std::string* expires_header = server::FindHeader(status.headers, "Expires");
    if (expires_header != nullptr) {
      if (std::optional<system_clock::time_point> expires = ParseHttpDate(*expires_header, now)) {
        state += fmt::format(
            ",\"expires\":{}",
            std::chrono::duration_cast<std::chrono::seconds>(expires->time_since_epoch()).count());
      }
    }
    state += ",\"manifest\":" + simdjson::minify(manifest) + "}\n";
    // Written whole, then renamed: a state file is never half written.
    const std::string path = Path(kStateFile), temporary = path + ".tmp";
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << state;
    out.close();
    if (!out) return InvalidInput(fmt::format("{}: cannot write", temporary));
    std::error_code error;
    fs::rename(temporary, path, error);
    if (error) return InvalidInput(fmt::format("{}: cannot rename: {}", temporary, error.message()));
    return Status();
  }

  // The saved export when it may be resumed; else a new one (kick-off and
  // polling), saved before it is returned.
  Result<Manifest> ResumeOrExport(const std::string& request) {
    std::string why_not;
    if (std::optional<Manifest> saved = LoadSaved(request, why_not)) return std::move(*saved);
    if (!why_not.empty() && options_.note) {
      options_.note(
          fmt::format("bulk export: not resuming the unfinished export in {}: {}; starting a new export",
                      options_.download_dir, why_not));
    }
    // No file of another export may pass for one of this export's.
    RP_RETURN_IF_ERROR(Clear());
    // Kick-off.
    server::HeaderList headers = Headers("application/fhir+json", true);
    headers.emplace_back("Prefer", "respond-async");
    ++report_.kickoffs;
    RP_ASSIGN_OR_RETURN(server::HttpClientResponse kickoff, Get(request, headers, "kick-off"));
    if (kickoff.status != 202) return Fail(InvalidInput(fmt::format("bulk export: kick-off: {}", Describe(kickoff))));
    const std::string* location = server::FindHeader(kickoff.headers, "Content-Location");
    if (location == nullptr || location->empty()) {
      return Fail(InvalidInput("bulk export: kick-off: 202 without a Content-Location"));
    }
    const std::string status_url = *location;
    // Poll.
    const auto give_up = std::chrono::steady_clock::now() + options_.max_poll;
    milliseconds waited(0);
    for (;;) {
      RP_ASSIGN_OR_RETURN(server::HttpClientResponse status,
                          Get(status_url, Headers("application/json", true), "status"));
      if (status.status == 200) {
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (parser.parse(status.body).get(root)) {
          return Fail(InvalidInput("bulk export: the manifest is not JSON"));
        }
        RP_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(root));
        RP_RETURN_IF_ERROR(SaveState(request, root, status));
        return manifest;
      }
      if (status.status != 202) return Fail(InvalidInput(fmt::format("bulk export: status: {}", Describe(status))));
      const milliseconds delay = RetryAfter(status, milliseconds(1000));
      waited += delay;
      if (std::chrono::steady_clock::now() >= give_up || waited >= options_.max_poll) {
        return Fail(Unavailable("bulk export: status: still in progress when the polling time ran out"));
      }
      Wait(delay);
    }
  }

  // True when every file is complete; false when a file URL expired.
  Result<bool> Download(const Manifest& manifest) {
    report_.files.clear();
    std::map<std::string, int> per_type;
    for (const OutputFile& output : manifest.outputs) {
      const std::string name = fmt::format("{}.{:03}.ndjson", output.type, per_type[output.type]++);
      const std::string path = Path(name);
      report_.files.push_back(path);
      if (fs::exists(path)) {
        ++report_.reused;
        continue;
      }
      RP_ASSIGN_OR_RETURN(server::HttpClientResponse file,
                          Get(output.url, Headers("application/fhir+ndjson", manifest.requires_token),
                              fmt::format("download of {}", name)));
      if (file.status == 403 || file.status == 404 || file.status == 410) return false;
      if (file.status != 200) {
        return Fail(InvalidInput(fmt::format("bulk export: download of {}: {}", name, Describe(file))));
      }
      const std::string part = path + ".part";
      std::ofstream out(part, std::ios::binary | std::ios::trunc);
      out.write(file.body.data(), static_cast<std::streamsize>(file.body.size()));
      out.close();
      std::error_code error;
      if (!out) return Fail(InvalidInput(fmt::format("{}: cannot write", part)));
      fs::rename(part, path, error);
      if (error) return Fail(InvalidInput(fmt::format("{}: cannot rename: {}", part, error.message())));
      ++report_.downloaded;
    }
    return true;
  }

  // Removes the saved export and every NDJSON file (whole or partial) of the
  // download directory.
  Status Clear() {
    std::error_code error;
    std::vector<fs::path> doomed;
    for (const auto& entry : fs::directory_iterator(options_.download_dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name == kStateFile || name == kScreenedStateFile || name == kLegacyManifestFile ||
          name == std::string(kStateFile) + ".tmp" || name.ends_with(".ndjson") || name.ends_with(".part")) {
        doomed.push_back(entry.path());
      }
    }
    if (error) {
      return InvalidInput(fmt::format("{}: cannot list: {}", options_.download_dir, error.message()));
    }
    for (const fs::path& path : doomed) {
      fs::remove(path, error);
      if (error) return InvalidInput(fmt::format("{}: cannot remove: {}", path.string(), error.message()));
    }
    report_.reused = 0;
    report_.downloaded = 0;
    return Status();
  }

  const server::HttpClient& client_;
  const BulkExportOptions& options_;
  std::string bearer_token_;
  BulkExportReport report_;
};

}  // namespace

Result<BulkExportReport> RunBulkExport(const server::HttpClient& client, const BulkExportOptions& options) {
  if (options.url.empty()) return Fail(InvalidArgument("bulk export: no server URL"));
  if (options.download_dir.empty()) return Fail(InvalidArgument("bulk export: no download directory"));
  return Exporter(client, options).Run();
}

Status MarkBulkExportScreened(const std::string& download_dir) {
  const fs::path state = fs::path(download_dir) / kStateFile;
  std::error_code error;
  if (!fs::exists(state, error)) return Status();
  fs::rename(state, fs::path(download_dir) / kScreenedStateFile, error);
  if (error) return InvalidInput(fmt::format("{}: cannot rename: {}", state.string(), error.message()));
  return Status();
}

}  // namespace regenpath::bulk
