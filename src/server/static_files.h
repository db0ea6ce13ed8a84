// StaticFiles: the clinician web app's files (web/, docs/web-app.md) served
// read-only from one directory.
//
// Contract:
//  - Only regular files under the root are served; a path with an empty, "."
//    or ".." segment, a segment starting with '.', a backslash, '%' or a NUL
//    is refused (404, the same answer as a missing file, so nothing about the
//    file system leaks), and so is a file whose canonical path (symbolic links
//    resolved) lies outside the root.
//  - Only the extensions of MimeType() are served (anything else: 404), with
//    their Content-Type; a path ending in '/' serves its index.html.
//  - Every answer carries the app's security headers (SecurityHeaders():
//    a Content-Security-Policy without inline script or style, nosniff, no
//    framing, no referrer). Files are revalidated on every use
//    (Cache-Control: no-cache) with a strong ETag built from size and
//    modification time; a matching If-None-Match gets 304 with no body.
// Thread-safe (reads the file system only).
#ifndef REGENPATH_SERVER_STATIC_FILES_H_
#define REGENPATH_SERVER_STATIC_FILES_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http_types.h"

namespace regenpath::server {

class StaticFiles {
 public:
  // `root` must be an existing directory (kInvalidInput naming it otherwise).
  static Result<StaticFiles> Open(const std::string& root);

  // Answers GET (or HEAD: `head`, no body) of `relative` (the part of the URL
  // path after the app's prefix, no query, not percent-decoded).
  HttpResponse Serve(std::string_view relative, const std::string* if_none_match, bool head) const;

  const std::string& root() const { return root_; }

  // The Content-Type for a file name by its extension; empty when it is not
  // one the app serves (.html .js .mjs .css .svg .png .json .ico .txt .woff2).
  static std::string_view MimeType(std::string_view name);
  // The headers every response of the web app carries (static files and the
  // app's API alike).
  static void AddSecurityHeaders(HeaderList& headers);

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, no trailing slash
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_STATIC_FILES_H_
