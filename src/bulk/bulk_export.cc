#include "bulk/bulk_export.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace regenpath::bulk {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr const char* kManifestFile = "bulk-manifest.json";

struct OutputFile {
  std::string type;
  std::string url;
};

struct Manifest {
  std::string text;
  bool requires_token = false;
  std::vector<OutputFile> outputs;
};

Result<Manifest> ParseManifest(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root)) return Fail(InvalidInput("bulk export: the manifest is not JSON"));
  Manifest manifest;
  manifest.text = text;
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
    for (int round = 0; round < 2; ++round) {
      Result<Manifest> manifest = LoadOrExport();
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

  static milliseconds RetryAfter(const server::HttpClientResponse& response, milliseconds fallback) {
    const std::string* value = server::FindHeader(response.headers, "Retry-After");
    if (value == nullptr) return fallback;
    int seconds = 0;
    for (char c : *value) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return fallback;  // an HTTP date: use the fallback
      seconds = std::min(seconds * 10 + (c - '0'), 3600);
    }
    return milliseconds(seconds * 1000);
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

  Result<Manifest> LoadOrExport() {
    std::ifstream saved(Path(kManifestFile), std::ios::binary);
    if (saved) {
      std::ostringstream text;
      text << saved.rdbuf();
      Result<Manifest> manifest = ParseManifest(text.str());
      if (manifest.has_value()) return manifest;
    }
    // Kick-off.
    std::string url = options_.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/$export?_outputFormat=application%2Ffhir%2Bndjson";
    if (!options_.types.empty()) {
      url += "&_type=";
      for (size_t i = 0; i < options_.types.size(); ++i) url += (i > 0 ? "," : "") + options_.types[i];
    }
    server::HeaderList headers = Headers("application/fhir+json", true);
    headers.emplace_back("Prefer", "respond-async");
    ++report_.kickoffs;
    RP_ASSIGN_OR_RETURN(server::HttpClientResponse kickoff, Get(url, headers, "kick-off"));
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
        RP_ASSIGN_OR_RETURN(Manifest manifest, ParseManifest(status.body));
        std::ofstream out(Path(kManifestFile), std::ios::binary | std::ios::trunc);
        out << status.body;
        out.close();
        if (!out) return Fail(InvalidInput(fmt::format("{}: cannot write", Path(kManifestFile))));
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

  Status Clear() {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(options_.download_dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name == kManifestFile || name.ends_with(".ndjson") || name.ends_with(".part")) fs::remove(entry.path(), error);
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

}  // namespace regenpath::bulk
