// BulkExport: runs a FHIR Bulk Data export (Bulk Data Access IG 2.0) against
// a FHIR server and downloads its NDJSON output into a directory, which
// `regenpath screen` then reads.
//
//   1. kick-off: GET <url>/$export?_outputFormat=application/fhir+ndjson&_type=...
//      (url: the server base for a system export, <base>/Patient, or
//      <base>/Group/<id>; bulk/export_url.h) with Prefer: respond-async ->
//      202 + Content-Location;
//   2. poll the status URL: 202 (wait Retry-After, else 1 s), then 200 with the
//      manifest;
//   3. download every output file as <Type>.<nnn>.ndjson.
// 429 and 5xx answers and transport failures (a truncated or reset download
// among them) are retried, waiting Retry-After (delay-seconds or an
// HTTP-date; at most `max_retry_after`) or an exponential backoff, up to
// `max_attempts` per request. A file URL that has expired (403, 404 or 410)
// starts the export again once.
//
// Resumable, for a run that did not finish: the manifest is saved in the
// directory (bulk-export.json) with the kick-off URL it answers and when it
// arrived, and a rerun downloads only the files not already complete (written
// as .part and renamed when whole). The saved export is resumed only when the
// kick-off URL is the same (server, level, _type), it arrived less than
// `max_resume_age` ago, and the status answer's Expires time (if it had one)
// has not passed; otherwise the directory's files are removed and a new
// export starts, with a note saying why. Once the files have been used,
// MarkBulkExportScreened sets the saved export aside, so that the next run
// starts a new export.
//
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
  // Created if absent. The export owns its NDJSON files: a new export removes
  // every *.ndjson and *.part in it.
  std::string download_dir;
  int max_attempts = 6;              // per request
  std::chrono::seconds max_poll{6 * 3600};  // give up polling after this long
  // The longest wait a Retry-After gets (a longer one is cut to this).
  std::chrono::seconds max_retry_after{600};
  // A saved export older than this is not resumed.
  std::chrono::seconds max_resume_age{12 * 3600};
  // How to wait and what time it is (tests pass ones that do not sleep and
  // a fixed time). Empty: the real ones.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::system_clock::time_point()> now;
  // Where a note for the operator goes (a saved export not resumed, and why):
  // one line, without a token or a patient identifier. Empty: nowhere.
  std::function<void(const std::string&)> note;
};

struct BulkExportReport {
  std::vector<std::string> files;    // the downloaded files, in manifest order
  int downloaded = 0;                // files fetched by this run
  int reused = 0;                    // files already complete from an earlier run
  int kickoffs = 0;                  // 0: a saved export was resumed
  int retries = 0;
  int token_refreshes = 0;           // 401s answered by getting a new token
};

// Fails naming the step and the HTTP status or the OperationOutcome's text;
// never includes the token.
Result<BulkExportReport> RunBulkExport(const server::HttpClient& client, const BulkExportOptions& options);

// After the files RunBulkExport downloaded into `download_dir` have been
// screened: renames the saved export to bulk-export.screened.json (kept as a
// record of what was screened), so that the next RunBulkExport into that
// directory starts a new export. Succeeds when there is no saved export;
// fails (kInvalidInput) naming the file when it cannot be renamed.
Status MarkBulkExportScreened(const std::string& download_dir);

}  // namespace regenpath::bulk

#endif  // REGENPATH_BULK_BULK_EXPORT_H_
