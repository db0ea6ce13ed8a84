// RunBulkExport against a scripted fake FHIR server (an HttpClient): how long
// it waits (Retry-After), and when it resumes a saved export or starts anew.
#include "bulk/bulk_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace regenpath::bulk {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::system_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kBase = "http://ehr.test/fhir";

// 2025-06-01T00:00:00Z.
const system_clock::time_point kStart =
    std::chrono::sys_days(std::chrono::year(2025) / std::chrono::June / 1);

server::HttpClientResponse Answer(int status, server::HeaderList headers = {}, std::string body = "") {
  return {status, std::move(headers), std::move(body)};
}

// Answers a kick-off with 202 and a status URL of its own, the status URL
// with the manifest of two files (Patient and Condition) and a file with a
// line naming its export. Answers queued per step come first.
class FakeBulkServer : public server::HttpClient {
 public:
  Result<server::HttpClientResponse> Get(const std::string& url, const server::HeaderList& headers,
                                         Deadline) const override {
    requests.push_back(url);
    const std::string* authorization = server::FindHeader(headers, "Authorization");
    if (authorization == nullptr || *authorization != "Bearer secret") return Answer(401);
    const std::string path = url.substr(url.find("/fhir"));
    if (path.find("/$export?") != std::string::npos) {
      if (!kickoff.empty()) return Take(kickoff);
      kickoff_urls.push_back(url);
      return Answer(202, {{"Content-Location", std::string(kBase) + "/status/" + std::to_string(++exports)}});
    }
    if (path.starts_with("/fhir/status/")) {
      if (!status.empty()) return Take(status);
      const std::string export_id = path.substr(path.rfind('/') + 1);
      std::string manifest =
          "{\"transactionTime\":\"2025-06-01T00:00:00Z\",\"requiresAccessToken\":true,\"output\":[";
      const std::string files_url = std::string(kBase) + "/files/" + export_id;
      manifest += "{\"type\":\"Patient\",\"url\":\"" + files_url + "/p\"},";
      manifest += "{\"type\":\"Condition\",\"url\":\"" + files_url + "/c\"}],\"error\":[]}";
      return Answer(200, status_headers, manifest);
    }
    if (path.starts_with("/fhir/files/")) {
      if (!files.empty()) return Take(files);
      return Answer(200, {}, "{\"from\":\"" + path + "\"}\n");
    }
    return Answer(404);
  }

  // Scripted answers, used first.
  mutable std::deque<server::HttpClientResponse> kickoff, status, files;
  server::HeaderList status_headers;  // of the manifest's answer
  mutable std::vector<std::string> requests, kickoff_urls;
  mutable int exports = 0;

 private:
  static server::HttpClientResponse Take(std::deque<server::HttpClientResponse>& queue) {
    server::HttpClientResponse answer = std::move(queue.front());
    queue.pop_front();
    return answer;
  }
};

class BulkExportTest : public ::testing::Test {
 protected:
  BulkExportTest() {
    char pattern[] = "/tmp/regenpath-bulk-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    options_.url = kBase;
    options_.types = {"Condition", "Patient"};
    options_.bearer_token = "secret";
    options_.download_dir = dir_ + "/download";
    options_.sleep = [this](milliseconds delay) {
      sleeps_.push_back(delay);
      now_ += delay;
    };
    options_.now = [this] { return now_; };
    options_.note = [this](const std::string& line) { notes_.push_back(line); };
  }
  ~BulkExportTest() override { fs::remove_all(dir_); }

  std::string Read(const std::string& name) const {
    std::ifstream in(options_.download_dir + "/" + name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // A run whose Condition file fails (400): the export is left unfinished.
  void RunUnfinished() {
    server_.files = {Answer(200, {}, "{\"from\":\"first\"}\n"), Answer(400)};
    Result<BulkExportReport> failed = RunBulkExport(server_, options_);
    ASSERT_FALSE(failed.has_value());
    ASSERT_THAT(failed.error().message(), HasSubstr("Condition.000.ndjson"));
    ASSERT_TRUE(fs::exists(options_.download_dir + "/bulk-export.json"));
  }

  // A run that starts a new export, saying `why` in its one note.
  void ExpectNewExport(std::string_view why) {
    Result<BulkExportReport> report = RunBulkExport(server_, options_);
    ASSERT_TRUE(report.has_value()) << report.error().message();
    EXPECT_EQ(report->kickoffs, 1);
    ASSERT_EQ(notes_.size(), 1u);
    EXPECT_THAT(notes_[0], HasSubstr(why));
  }

  std::string dir_;
  FakeBulkServer server_;
  BulkExportOptions options_;
  system_clock::time_point now_ = kStart;
  std::vector<milliseconds> sleeps_;
  std::vector<std::string> notes_;
};

TEST_F(BulkExportTest, WaitsWhatRetryAfterSays) {
  server_.kickoff = {Answer(429, {{"Retry-After", "2"}})};
  server_.status = {
      // now_ is 2 s past kStart here, after the kick-off's wait.
      Answer(202, {{"Retry-After", "Sun, 01 Jun 2025 00:00:32 GMT"}}),   // IMF-fixdate: 30 s
      Answer(202, {{"Retry-After", "Sunday, 01-Jun-25 00:01:32 GMT"}}),  // RFC 850: 60 s
      Answer(202, {{"Retry-After", "Sun Jun  1 00:01:37 2025"}}),        // asctime: 5 s
      Answer(202, {{"Retry-After", "Sat, 31 May 2025 00:00:00 GMT"}}),   // past: the usual 1 s, not none
      Answer(202, {{"Retry-After", "99999999999"}}),                     // cut to max_retry_after
      Answer(202, {{"Retry-After", "soon"}}),                            // not a Retry-After: 1 s
      Answer(503, {{"Retry-After", "7"}}),
  };
  server_.files = {Answer(429, {{"Retry-After", "3"}}), Answer(503, {{"Retry-After", " 4 "}})};
  Result<BulkExportReport> report = RunBulkExport(server_, options_);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_THAT(sleeps_, ElementsAre(milliseconds(2'000), milliseconds(30'000), milliseconds(60'000),
                                   milliseconds(5'000), milliseconds(1'000), milliseconds(600'000),
                                   milliseconds(1'000), milliseconds(7'000), milliseconds(3'000),
                                   milliseconds(4'000)));
  EXPECT_EQ(report->retries, 4);
  EXPECT_EQ(report->downloaded, 2);
}

TEST_F(BulkExportTest, RetryAfterCapIsAnOption) {
  options_.max_retry_after = std::chrono::seconds(20);
  server_.status = {Answer(202, {{"Retry-After", "3600"}}),
                    Answer(202, {{"Retry-After", "Mon, 02 Jun 2025 00:00:00 GMT"}})};
  ASSERT_TRUE(RunBulkExport(server_, options_).has_value());
  EXPECT_THAT(sleeps_, ElementsAre(milliseconds(20'000), milliseconds(20'000)));
}

TEST_F(BulkExportTest, RerunResumesTheSameUnfinishedRequest) {
  RunUnfinished();
  Result<BulkExportReport> resumed = RunBulkExport(server_, options_);
  ASSERT_TRUE(resumed.has_value()) << resumed.error().message();
  EXPECT_EQ(resumed->kickoffs, 0);
  EXPECT_EQ(resumed->reused, 1);
  EXPECT_EQ(resumed->downloaded, 1);
  EXPECT_EQ(Read("Patient.000.ndjson"), "{\"from\":\"first\"}\n");
  EXPECT_EQ(Read("Condition.000.ndjson"), "{\"from\":\"/fhir/files/1/c\"}\n");
  EXPECT_THAT(notes_, IsEmpty());
}

TEST_F(BulkExportTest, AnotherTypeListIsANewExport) {
  RunUnfinished();
  options_.types = {"Condition", "Observation", "Patient"};
  Result<BulkExportReport> report = RunBulkExport(server_, options_);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->kickoffs, 1);
  EXPECT_EQ(report->reused, 0);
  EXPECT_EQ(report->downloaded, 2);
  ASSERT_EQ(server_.kickoff_urls.size(), 2u);
  EXPECT_THAT(server_.kickoff_urls[1], HasSubstr("&_type=Condition,Observation,Patient"));
  // Not the first export's Patient file.
  EXPECT_EQ(Read("Patient.000.ndjson"), "{\"from\":\"/fhir/files/2/p\"}\n");
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_THAT(notes_[0], HasSubstr("not resuming the unfinished export in " + options_.download_dir));
  EXPECT_THAT(notes_[0], HasSubstr("another server URL, level or _type; starting a new export"));
  EXPECT_THAT(notes_[0], ::testing::Not(HasSubstr("secret")));
}

TEST_F(BulkExportTest, AnotherLevelIsANewExport) {
  RunUnfinished();
  options_.url = std::string(kBase) + "/Group/g1";
  Result<BulkExportReport> report = RunBulkExport(server_, options_);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->kickoffs, 1);
  EXPECT_THAT(server_.kickoff_urls.back(), HasSubstr("/fhir/Group/g1/$export?"));
  EXPECT_EQ(notes_.size(), 1u);
}

TEST_F(BulkExportTest, AScreenedExportIsNotResumed) {
  Result<BulkExportReport> first = RunBulkExport(server_, options_);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  ASSERT_TRUE(MarkBulkExportScreened(options_.download_dir).ok());
  EXPECT_FALSE(fs::exists(options_.download_dir + "/bulk-export.json"));
  EXPECT_TRUE(fs::exists(options_.download_dir + "/bulk-export.screened.json"));
  Result<BulkExportReport> second = RunBulkExport(server_, options_);
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->kickoffs, 1);
  EXPECT_EQ(second->downloaded, 2);
  EXPECT_EQ(second->reused, 0);
  EXPECT_EQ(Read("Patient.000.ndjson"), "{\"from\":\"/fhir/files/2/p\"}\n");
  // Nothing unfinished was passed over: no note.
  EXPECT_THAT(notes_, IsEmpty());
  EXPECT_FALSE(fs::exists(options_.download_dir + "/bulk-export.screened.json"));
  // Nothing to set aside is no failure.
  EXPECT_TRUE(MarkBulkExportScreened(options_.download_dir).ok());
  EXPECT_TRUE(MarkBulkExportScreened(dir_ + "/absent").ok());
}

TEST_F(BulkExportTest, AnOldExportIsNotResumed) {
  RunUnfinished();
  now_ += options_.max_resume_age;
  ExpectNewExport("its manifest arrived more than 43200 s ago");
}

TEST_F(BulkExportTest, AnExportPastItsExpiresIsNotResumed) {
  server_.status_headers = {{"Expires", "Sun, 01 Jun 2025 01:00:00 GMT"}};
  RunUnfinished();
  now_ += std::chrono::minutes(59);
  server_.files = {Answer(400)};
  ASSERT_FALSE(RunBulkExport(server_, options_).has_value());
  EXPECT_EQ(server_.exports, 1);  // resumed: still before Expires
  now_ += std::chrono::minutes(1);
  ExpectNewExport("past the Expires time");
}

TEST_F(BulkExportTest, AManifestOfAnEarlierVersionIsNotResumed) {
  fs::create_directories(options_.download_dir);
  std::ofstream(options_.download_dir + "/bulk-manifest.json")
      << "{\"output\":[{\"type\":\"Patient\",\"url\":\"http://ehr.test/fhir/files/0/p\"}]}";
  std::ofstream(options_.download_dir + "/Patient.000.ndjson") << "{\"from\":\"long ago\"}\n";
  Result<BulkExportReport> report = RunBulkExport(server_, options_);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->kickoffs, 1);
  EXPECT_EQ(report->reused, 0);
  EXPECT_EQ(Read("Patient.000.ndjson"), "{\"from\":\"/fhir/files/1/p\"}\n");
  EXPECT_FALSE(fs::exists(options_.download_dir + "/bulk-manifest.json"));
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_THAT(notes_[0], HasSubstr("bulk-manifest.json does not record the request"));
}

TEST_F(BulkExportTest, AnUnreadableStateIsNotResumed) {
  RunUnfinished();
  std::ofstream(options_.download_dir + "/bulk-export.json", std::ios::trunc) << "{\"request\":";
  ExpectNewExport("bulk-export.json is unreadable");
  // The new export's file, not the one the unreadable state's export left.
  EXPECT_EQ(Read("Patient.000.ndjson"), "{\"from\":\"/fhir/files/2/p\"}\n");
}

}  // namespace
}  // namespace regenpath::bulk
