// StaticFiles: the web app's files — MIME types, the security headers,
// revalidation with ETag, and every way out of the root refused.
#include "server/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace regenpath::server {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("rp-static-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "web" / "js");
    Write(base_ / "web" / "index.html", "<!doctype html><title>x</title>");
    Write(base_ / "web" / "js" / "app.js", "export const a = 1;\n");
    Write(base_ / "web" / "style.css", "body{}");
    Write(base_ / "web" / ".secret.html", "hidden");
    Write(base_ / "web" / "notes.md", "not served");
    Write(base_ / "outside.html", "outside the root");
    fs::create_symlink(base_ / "outside.html", base_ / "web" / "link.html");
    Result<StaticFiles> files = StaticFiles::Open((base_ / "web").string());
    ASSERT_TRUE(files.has_value()) << files.error().message();
    files_.emplace(std::move(*files));
  }
  void TearDown() override { fs::remove_all(base_); }
  static void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  static const std::string* Header(const HttpResponse& response, std::string_view name) {
    return FindHeader(response.headers, name);
  }

  fs::path base_;
  std::optional<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirTypeAndTheSecurityHeaders) {
  struct Case {
    std::string path;
    std::string type;
  };
  for (const Case& c :
       {Case{"", "text/html; charset=utf-8"}, Case{"index.html", "text/html; charset=utf-8"},
        Case{"js/app.js", "text/javascript; charset=utf-8"}, Case{"style.css", "text/css; charset=utf-8"}}) {
    HttpResponse response = files_->Serve(c.path, nullptr, false);
    ASSERT_EQ(response.status, 200) << c.path;
    ASSERT_NE(Header(response, "Content-Type"), nullptr);
    EXPECT_EQ(*Header(response, "Content-Type"), c.type) << c.path;
    ASSERT_NE(Header(response, "Content-Security-Policy"), nullptr);
    EXPECT_NE(Header(response, "Content-Security-Policy")->find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(Header(response, "Content-Security-Policy")->find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(*Header(response, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(*Header(response, "Cache-Control"), "no-cache");
  }
  EXPECT_EQ(files_->Serve("js/app.js", nullptr, false).body, "export const a = 1;\n");
}

TEST_F(StaticFilesTest, RevalidatesWithTheETag) {
  HttpResponse first = files_->Serve("js/app.js", nullptr, false);
  const std::string* etag = Header(first, "ETag");
  ASSERT_NE(etag, nullptr);
  std::string tag = *etag;
  HttpResponse again = files_->Serve("js/app.js", &tag, false);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  std::string other = "\"0-0\"";
  EXPECT_EQ(files_->Serve("js/app.js", &other, false).status, 200);
}

TEST_F(StaticFilesTest, RefusesEveryPathOutOfTheRootOrNotServed) {
  for (const std::string& path : std::vector<std::string>{
           "../outside.html", "js/../../outside.html", "%2e%2e/outside.html", "..", ".", "./index.html",
           "js//app.js", "/etc/passwd", "link.html", ".secret.html", "notes.md", "missing.html", "js",
           "js\\app.js", std::string("index.html\0x", 12)}) {
    HttpResponse response = files_->Serve(path, nullptr, false);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find("outside"), std::string::npos) << path;
  }
}

TEST(StaticFilesOpenTest, RefusesAMissingRoot) {
  Result<StaticFiles> files = StaticFiles::Open("/nonexistent/web/root");
  ASSERT_FALSE(files.has_value());
  EXPECT_NE(files.error().message().find("/nonexistent/web/root"), std::string::npos);
}

}  // namespace
}  // namespace regenpath::server
