#include "server/static_files.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace regenpath::server {

namespace {

namespace fs = std::filesystem;

bool SafeRelative(std::string_view relative) {
  if (relative.find_first_of(std::string_view("\\%\0", 3)) != std::string_view::npos) return false;
  if (relative.empty()) return true;  // the root: its index.html
  size_t start = 0;
  while (true) {
    size_t slash = relative.find('/', start);
    bool last = slash == std::string_view::npos;
    std::string_view segment = relative.substr(start, last ? std::string_view::npos : slash - start);
    // Only the last segment may be empty ("dir/": its index.html).
    if (segment.empty() && !last) return false;
    if (segment.empty() && start == 0) return false;
    if (!segment.empty() && segment.front() == '.') return false;
    if (last) return true;
    start = slash + 1;
  }
}

HttpResponse NotFound() {
  HttpResponse response;
  response.status = 404;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store");
  StaticFiles::AddSecurityHeaders(response.headers);
  response.body = "not found\n";
  return response;
}

}  // namespace

Result<StaticFiles> StaticFiles::Open(const std::string& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return Fail(InvalidInput(fmt::format("web_root {} is not a readable directory", root)));
  }
  return StaticFiles(canonical.string());
}

std::string_view StaticFiles::MimeType(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.size() > extension.size() && name.ends_with(extension)) return type;
  }
  return {};
}

void StaticFiles::AddSecurityHeaders(HeaderList& headers) {
  headers.emplace_back("Content-Security-Policy",
                       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
                       "frame-ancestors 'none'; object-src 'none'");
  headers.emplace_back("X-Content-Type-Options", "nosniff");
  headers.emplace_back("X-Frame-Options", "DENY");
  headers.emplace_back("Referrer-Policy", "no-referrer");
  headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

HttpResponse StaticFiles::Serve(std::string_view relative, const std::string* if_none_match,
                                bool head) const {
  if (!SafeRelative(relative)) return NotFound();
  std::string name(relative);
  if (name.empty() || name.back() == '/') name += "index.html";
  std::string_view type = MimeType(name);
  if (type.empty()) return NotFound();
  std::error_code ec;
  fs::path path = fs::canonical(fs::path(root_) / name, ec);
  if (ec) return NotFound();
  const std::string& full = path.native();
  if (full.size() <= root_.size() || full.compare(0, root_.size(), root_) != 0 || full[root_.size()] != '/') {
    return NotFound();
  }
  struct stat info {};
  if (::stat(full.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return NotFound();
  std::string etag =
      fmt::format("\"{:x}-{:x}{:09x}\"", static_cast<uint64_t>(info.st_size),
                  static_cast<uint64_t>(info.st_mtim.tv_sec), static_cast<uint64_t>(info.st_mtim.tv_nsec));
  HttpResponse response;
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("ETag", etag);
  AddSecurityHeaders(response.headers);
  if (if_none_match != nullptr && *if_none_match == etag) {
    response.status = 304;
    return response;
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) return NotFound();
  std::ostringstream content;
  content << in.rdbuf();
  response.status = 200;
  response.headers.emplace_back("Content-Type", std::string(type));
  response.body = head ? std::string() : std::move(content).str();
  return response;
}

}  // namespace regenpath::server
