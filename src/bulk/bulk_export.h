// BulkExport: runs a FHIR Bulk Data export (Bulk Data Access IG 2.0) against
// a FHIR server and downloads its NDJSON output into a directory, which
// `regenpath screen` then reads.
//
//   1. kick-off: GET <url>/$export?_type=...&_outputFormat=application/fhir+ndjson
//      (url: the server base for a system export, <base>/Patient, or
//      <base>/Group/<id>) with Prefer: respond-async -> 202 + Content-Location;
//   2. poll the status URL: 202 (wait Retry-After, else 1 s), then 200 with the
//      manifest;
//   3. download every output file as <Type>.<nnn>.ndjson.
// 429 and 5xx answers and transport failures (a truncated download among
// them) are retried, waiting Retry-After or an exponential backoff, up to
// `max_attempts` per request. A file URL that has expired (403, 404 or 410)
// starts the export again once. Resumable: the manifest is kept in the
// directory, and a rerun downloads only the files not already complete
// (written as .part and renamed when whole).
// Authentication: a bearer token given, or one from `access_token` (SMART
// Backend Services, bulk/smart_auth.h): asked for before the first request,
// reused, and asked for again (once per request) when a request answers 401.
#ifndef REGENPATH_BULK_BULK_EXPORT_H_
#define REGENPATH_BULK_BULK_EXPORT_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/http_client.h"

namespace regenpath::bulk {

struct BulkExportOptions {
  std::string url;                   // where $export is appended
  std::vector<std::string> types;    // _type; empty: every type
  std::string bearer_token;          // empty: none
  // When set, the bearer token comes from here (refresh: a new one is wanted).
  std::function<Result<std::string>(bool refresh)> access_token;
  std::string download_dir;          // created if absent
  int max_attempts = 6;              // per request
  std::chrono::seconds max_poll{6 * 3600};  // give up polling after this long
  // How to wait (tests pass one that does not sleep).
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct BulkExportReport {
  std::vector<std::string> files;    // the downloaded files, in manifest order
  int downloaded = 0;                // files fetched by this run
  int reused = 0;                    // files already complete from an earlier run
  int kickoffs = 0;
  int retries = 0;
  int token_refreshes = 0;           // 401s answered by getting a new token
};

// Fails naming the step and the HTTP status or the OperationOutcome's text;
// never includes the token.
Result<BulkExportReport> RunBulkExport(const server::HttpClient& client, const BulkExportOptions& options);

}  // namespace regenpath::bulk

#endif  // REGENPATH_BULK_BULK_EXPORT_H_
