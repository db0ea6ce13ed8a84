// `regenpath serve` as a child process: exit codes for bad invocations, and
// SIGTERM draining a request in flight before a clean exit.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/server/cds_request.h"
#include "tests/server/test_server.h"

extern char** environ;

namespace regenpath::server::testing {
namespace {

class Child {
 public:
  Child(const std::vector<std::string>& args, const std::filesystem::path& stderr_file) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(REGENPATH_BINARY));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    spawned_ = posix_spawn(&pid_, REGENPATH_BINARY, &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (spawned_ && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool spawned() const { return spawned_; }
  void Signal(int signal) { kill(pid_, signal); }

  // The exit code, or -1 if it has not exited within `timeout` (or died of a
  // signal).
  int Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool spawned_ = false;
  bool reaped_ = false;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ServeProcessTest : public ::testing::Test {
 protected:
  int RunToEnd(const std::vector<std::string>& args) {
    Child child(args, dir_.path() / "stderr.txt");
    EXPECT_TRUE(child.spawned());
    int code = child.Wait(std::chrono::seconds(60));
    stderr_ = ReadFile(dir_.path() / "stderr.txt");
    return code;
  }
  std::string WriteConfig(const std::string& text) {
    std::filesystem::path path = dir_.path() / "config.yaml";
    std::ofstream(path) << text;
    return path.string();
  }

  TempDir dir_;
  std::string stderr_;
};

TEST_F(ServeProcessTest, InsecureDevRefusesAPublicHost) {
  EXPECT_EQ(RunToEnd({"serve", "--insecure-dev", "--host", "0.0.0.0"}), 2);
  EXPECT_NE(stderr_.find("loopback"), std::string::npos) << stderr_;
}

TEST_F(ServeProcessTest, AuthenticationIsOnByDefault) {
  EXPECT_EQ(RunToEnd({"serve", "--port", "0"}), 2);
  EXPECT_NE(stderr_.find("no trusted issuer"), std::string::npos) << stderr_;
}

TEST_F(ServeProcessTest, BadConfigFilesExit3NamingTheProblem) {
  EXPECT_EQ(RunToEnd({"serve", "--config", (dir_.path() / "missing.yaml").string()}), 3);
  EXPECT_NE(stderr_.find("missing.yaml"), std::string::npos) << stderr_;

  std::string typo = WriteConfig("host: 127.0.0.1\nprot: 8080\n");
  EXPECT_EQ(RunToEnd({"serve", "--config", typo}), 3);
  EXPECT_NE(stderr_.find("config.yaml:2: unknown key 'prot'"), std::string::npos) << stderr_;

  std::string bad_yaml = WriteConfig("host: [unclosed\n");
  EXPECT_EQ(RunToEnd({"serve", "--config", bad_yaml}), 3);

  std::string bad_value = WriteConfig("port: 70000\n");
  EXPECT_EQ(RunToEnd({"serve", "--config", bad_value}), 3);
  EXPECT_NE(stderr_.find("port must be between 0 and 65535"), std::string::npos) << stderr_;

  std::string missing_keys = WriteConfig(
      "auth:\n  issuers:\n    - issuer: https://ehr.example.com/\n"
      "      jwks_file: nowhere.json\n");
  EXPECT_EQ(RunToEnd({"serve", "--config", missing_keys}), 3);
  EXPECT_NE(stderr_.find("nowhere.json"), std::string::npos) << stderr_;
}

TEST_F(ServeProcessTest, PortInUseExits3) {
  RawServer occupant([](const std::string&) { return std::string(); });
  std::string config = WriteConfig("data_dir: data\nlog_level: off\n");
  EXPECT_EQ(
      RunToEnd({"serve", "--insecure-dev", "--port", std::to_string(occupant.port()), "--config", config}),
      3);
  EXPECT_NE(stderr_.find("cannot listen"), std::string::npos) << stderr_;
}

TEST_F(ServeProcessTest, SigtermDrainsTheRequestInFlightAndExits0) {
  uint16_t port = FreePort();
  std::string config = WriteConfig("data_dir: data\nlog_level: info\ntimeouts: {body: 10, shutdown: 10}\n");
  Child child({"serve", "--insecure-dev", "--port", std::to_string(port), "--config", config},
              dir_.path() / "stderr.txt");
  ASSERT_TRUE(child.spawned());
  // Up when /healthz answers.
  bool up = false;
  for (int attempt = 0; attempt < 300 && !up; ++attempt) {
    std::optional<TestResponse> health =
        Exchange(port, BuildRequest("GET", "/healthz"), std::chrono::seconds(1));
    up = health && health->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(up) << ReadFile(dir_.path() / "stderr.txt");
  std::optional<TestResponse> discovery = Exchange(port, BuildRequest("GET", "/cds-services"));
  ASSERT_TRUE(discovery && discovery->status == 200);
  std::string body = PatientViewRequest(discovery->body, true);

  // A request whose body is only half sent when SIGTERM arrives.
  TestConnection connection(port);
  ASSERT_TRUE(connection.Send(
      BuildRequest("POST", std::string("/cds-services/") + kPatientView,
                   {{"Content-Type", "application/json"}, {"Content-Length", std::to_string(body.size())}},
                   "", false) +
      body.substr(0, body.size() / 2)));
  TestConnection idle(port);
  ASSERT_TRUE(idle.Send(BuildRequest("GET", "/healthz")));
  ASSERT_TRUE(idle.ReadResponse());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  child.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // No new connections, idle ones closed, the one in flight still served.
  EXPECT_TRUE(idle.WaitClosed(std::chrono::seconds(2)));
  TestConnection late(port);
  EXPECT_FALSE(late.connected() && late.Send(BuildRequest("GET", "/healthz")) &&
               late.ReadResponse(std::chrono::seconds(1)));
  ASSERT_TRUE(connection.Send(body.substr(body.size() / 2)));
  std::optional<TestResponse> response = connection.ReadResponse();
  ASSERT_TRUE(response) << ReadFile(dir_.path() / "stderr.txt");
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_EQ(child.Wait(std::chrono::seconds(15)), 0) << ReadFile(dir_.path() / "stderr.txt");
  std::string log = ReadFile(dir_.path() / "stderr.txt");
  EXPECT_NE(log.find("SIGTERM received"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
}

// Issue 13, 5: the jti memory is in <data_dir>/replay.sqlite, so a token
// used before a kill -9 is still refused after the restart.
TEST_F(ServeProcessTest, ATokenUsedBeforeKill9IsRefusedAfterTheRestart) {
  uint16_t port = FreePort();
  std::filesystem::path jwks = dir_.path() / "ehr.jwks.json";
  std::ofstream(jwks) << EhrKeys::Get().JwksJson();
  std::string config = WriteConfig("data_dir: data\nlog_level: warn\nauth:\n  issuers:\n    - issuer: \"" +
                                   std::string(kIssuer) + "\"\n      jwks_file: " + jwks.string() + "\n");
  const std::string audience = "http://127.0.0.1:" + std::to_string(port) + "/cds-services";
  auto token_for = [&](const std::string& jti) {
    TokenSpec spec;
    spec.audience = audience;
    spec.jti = jti;
    return MakeToken(spec);
  };
  auto discovery = [&](const std::string& token) {
    return Exchange(port, BuildRequest("GET", "/cds-services", {{"Authorization", "Bearer " + token}}),
                    std::chrono::seconds(2));
  };
  auto start = [&]() {
    auto child = std::make_unique<Child>(
        std::vector<std::string>{"serve", "--port", std::to_string(port), "--config", config},
        dir_.path() / "stderr.txt");
    for (int attempt = 0; attempt < 300; ++attempt) {
      std::optional<TestResponse> health =
          Exchange(port, BuildRequest("GET", "/healthz"), std::chrono::seconds(1));
      if (health && health->status == 200) return child;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "server did not come up: " << ReadFile(dir_.path() / "stderr.txt");
    return child;
  };
  const std::string used = token_for("used-before-kill-" + std::to_string(UnixNow()));
  {
    std::unique_ptr<Child> child = start();
    std::optional<TestResponse> first = discovery(used);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->status, 200) << first->body;
    child->Signal(SIGKILL);
    child->Wait(std::chrono::seconds(5));
  }
  std::unique_ptr<Child> child = start();
  std::optional<TestResponse> replay = discovery(used);
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401) << "the token was accepted again after the restart";
  std::optional<TestResponse> fresh = discovery(token_for("fresh-after-kill-" + std::to_string(UnixNow())));
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200) << fresh->body;
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(std::chrono::seconds(15)), 0);
}

}  // namespace
}  // namespace regenpath::server::testing
