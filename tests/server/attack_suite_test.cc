// The attack suite (issue 13): a CdsServer in process, attacked over raw
// sockets the way an outside client could. Each case asserts the exact
// status (and, for smuggling attempts, that nothing after the refused request
// is answered); after each group the server must still answer /healthz.
// Prints "N passed, M failed" and fails if any case failed.
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "security/base64url.h"
#include "tests/server/cds_request.h"
#include "tests/server/test_server.h"

namespace regenpath::server::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One attack: raw bytes sent on a fresh connection, the status expected for
// the first response, and whether a second (smuggled) response is allowed.
struct Attack {
  std::string name;
  std::string bytes;
  int status = 400;
  // The connection must be closed after the first response (nothing smuggled
  // behind it may be answered).
  bool closes = true;
};

class AttackSuiteTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    config_.fhir_allowed_private_networks = {"127.0.0.0/8"};
    config_.fhir_allowed_servers = {closed_fhir_};
  }

  const std::string closed_fhir_ = "http://127.0.0.1:" + std::to_string(FreePort()) + "/fhir";

  std::string Discovery() {
    std::optional<TestResponse> response = Get("/cds-services", TokenFor("/cds-services"));
    return response && response->status == 200 ? response->body : "";
  }
  static std::string ServicePath() { return std::string("/cds-services/") + kPatientView; }
  static std::string FeedbackPath() { return ServicePath() + "/feedback"; }

  // Runs `attacks` as group `group`, then checks the server is still healthy.
  void RunGroup(const std::string& group, const std::vector<Attack>& attacks) {
    for (const Attack& attack : attacks) {
      TestConnection connection(port());
      std::string failure;
      if (!connection.connected() || !connection.Send(attack.bytes)) {
        failure = "could not send";
      } else {
        std::optional<TestResponse> response = connection.ReadResponse(std::chrono::seconds(5));
        if (!response) {
          failure = "no response";
        } else if (response->status != attack.status) {
          failure = "status " + std::to_string(response->status) + ", expected " +
                    std::to_string(attack.status) + ": " + response->body.substr(0, 200);
        } else if (attack.closes) {
          std::optional<TestResponse> smuggled = connection.ReadResponse(std::chrono::milliseconds(500));
          if (smuggled) failure = "a second response (" + std::to_string(smuggled->status) + ") was sent";
        }
      }
      Record(group, attack.name, failure);
    }
    std::optional<TestResponse> health = Get("/healthz");
    Record(group, "healthy afterwards", health && health->status == 200 ? "" : "/healthz failed");
  }

  void Record(const std::string& group, const std::string& name, const std::string& failure) {
    if (failure.empty()) {
      ++passed_;
    } else {
      ++failed_;
      ADD_FAILURE() << group << " / " << name << ": " << failure;
    }
  }

  // A POST to `path` with a valid token and a JSON content type, the rest raw.
  std::string AuthorizedPost(const std::string& path, const std::string& framing_headers,
                             const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TokenFor(path) +
           "\r\nContent-Type: application/json\r\n" + framing_headers + "\r\n" + body;
  }

  int passed_ = 0;
  int failed_ = 0;
};

TEST_F(AttackSuiteTest, EveryAttackGetsItsExactStatus) {
  StartServer();
  const std::string discovery = Discovery();
  ASSERT_FALSE(discovery.empty());
  const std::string smuggled = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string valid_body = PatientViewRequest(discovery, true);

  // Request framing (RFC 9112 section 6.3): no body may be read as a request.
  std::vector<Attack> framing;
  for (const char* coding : {"gzip", "identity", "xchunked", "chunked, identity", "gzip, chunked", "chunked "
                             "chunked", " ", "Chunked, chunked"}) {
    framing.push_back({std::string("Transfer-Encoding: ") + coding,
                       AuthorizedPost(ServicePath(), std::string("Transfer-Encoding: ") + coding + "\r\n",
                                      smuggled)});
  }
  framing.push_back({"two Transfer-Encoding fields",
                     AuthorizedPost(ServicePath(), "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                                    "0\r\n\r\n" + smuggled)});
  framing.push_back({"Transfer-Encoding with Content-Length",
                     AuthorizedPost(ServicePath(), "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                                    "0\r\n\r\n" + smuggled)});
  framing.push_back({"Transfer-Encoding in HTTP/1.0",
                     "POST " + ServicePath() + " HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"});
  framing.push_back({"two Content-Length fields",
                     AuthorizedPost(ServicePath(), "Content-Length: 2\r\nContent-Length: 2\r\n", "{}" + smuggled)});
  framing.push_back({"no Host in HTTP/1.1", "GET /healthz HTTP/1.1\r\n\r\n" + smuggled});
  framing.push_back({"two Host fields", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + smuggled});
  framing.push_back({"two Authorization fields",
                     "GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                         TokenFor("/cds-services") + "\r\nAuthorization: Bearer x\r\n\r\n" + smuggled});
  // Malformed chunked bodies: 400, not a silent close.
  framing.push_back({"chunk size not hex", AuthorizedPost(ServicePath(), "Transfer-Encoding: chunked\r\n",
                                                          "zz\r\n{}\r\n0\r\n\r\n")});
  framing.push_back({"chunk overrun", AuthorizedPost(ServicePath(), "Transfer-Encoding: chunked\r\n",
                                                     "2\r\n{}xxxx\r\n0\r\n\r\n")});
  framing.push_back({"chunk without CRLF", AuthorizedPost(ServicePath(), "Transfer-Encoding: chunked\r\n",
                                                          "2\r\n{}0\r\n\r\n")});
  // A well-framed chunked request still works.
  {
    char size[32];
    snprintf(size, sizeof(size), "%zx\r\n", valid_body.size());
    framing.push_back({"valid chunked call",
                       AuthorizedPost(ServicePath(), "Transfer-Encoding: chunked\r\n",
                                      std::string(size) + valid_body + "\r\n0\r\n\r\n"),
                       200, false});
  }
  RunGroup("framing", framing);

  // Header injection through fhirAuthorization (issue 13, 1): refused before
  // anything is sent to fhirServer.
  std::vector<Attack> injection;
  RawServer fhir([](const std::string&) { return std::string("HTTP/1.1 500 x\r\nContent-Length: 0\r\n\r\n"); });
  const std::string fhir_base = "http://127.0.0.1:" + std::to_string(fhir.port()) + "/fhir";
  for (const char* token : {R"(abc\r\n\r\nDELETE /fhir/Patient/p HTTP/1.1\r\nContent-Length: 2\r\n\r\n{})",
                            R"(abc\nX-Injected: 1)", R"(abc def)", R"(abc\u0000)", R"(==)"}) {
    std::string body = R"({"hook":"patient-view","hookInstance":"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",)"
                       R"("fhirServer":")" + fhir_base + R"(","fhirAuthorization":{"access_token":")" + token +
                       R"(","token_type":"Bearer","expires_in":300,"scope":"x","subject":"y"},)"
                       R"("context":{"userId":"Practitioner/example","patientId":")" +
                       std::string(kPatientId) + R"("}})";
    injection.push_back({std::string("access_token ") + token,
                         AuthorizedPost(ServicePath(), "Content-Length: " + std::to_string(body.size()) + "\r\n", body),
                         400, false});
  }
  RunGroup("header injection", injection);

  // Leniencies (issue 13, 9).
  std::vector<Attack> leniencies;
  auto post = [&](const std::string& path, const std::string& body) {
    return AuthorizedPost(path, "Content-Length: " + std::to_string(body.size()) + "\r\n", body);
  };
  {
    std::string body = valid_body;
    size_t at = body.find(kPatientJson);
    body.replace(at, std::string(kPatientJson).size(), kEmptyBundle);
    leniencies.push_back({"prefetch.patient given a Bundle", post(ServicePath(), body), 400, false});
    std::string entries = valid_body;
    size_t empty = entries.find(R"("entry":[])");
    entries.replace(empty, 10, R"("entry":[5,"x",null])");
    leniencies.push_back({"Bundle entries that are not objects", post(ServicePath(), entries), 400, false});
  }
  leniencies.push_back({"empty feedback list", post(FeedbackPath(), R"({"feedback":[]})"), 400, false});
  RunGroup("leniencies", leniencies);

  // The JWT matrix of docs/security.md: every refused token is a bare 401.
  std::vector<Attack> jwt;
  {
    const std::string audience = Url("/cds-services");
    const EhrKeys& keys = EhrKeys::Get();
    int counter = 0;
    auto header = [](const std::string& alg, const std::string& kid) {
      JsonObject object;
      object.SetString("alg", alg).SetString("typ", "JWT").SetString("kid", kid);
      return object;
    };
    auto claims = [&]() {
      JsonObject object;
      object.SetString("iss", kIssuer)
          .SetString("aud", audience)
          .SetNumber("exp", UnixNow() + 300)
          .SetNumber("iat", UnixNow())
          .SetString("jti", "attack-" + std::to_string(UnixNow()) + "-" + std::to_string(counter++));
      return object;
    };
    auto es384 = [&](const JsonObject& h, const JsonObject& c) {
      return MakeJws(h.Str(), c.Str(), keys.ec384.get(), "ES384");
    };
    auto discovery_with = [](const std::string& authorization) {
      return "GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + authorization + "\r\n\r\n";
    };
    auto refused = [&](const std::string& name, const std::string& token) {
      jwt.push_back({name, discovery_with("Bearer " + token), 401, false});
    };
    jwt.push_back({"no Authorization", "GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 401, false});
    jwt.push_back({"Basic scheme", discovery_with("Basic dXNlcjpwYXNz"), 401, false});
    refused("not three parts", "abc.def");
    refused("garbage parts", "!!!.@@@.###");
    {
      std::string input = security::Base64UrlEncode(header("none", "ec-1").Str()) + "." +
                          security::Base64UrlEncode(claims().Str());
      refused("alg none", input + ".");
      refused("HS256", input + "." + security::Base64UrlEncode(std::string(32, 'k')));
    }
    refused("ES512 header", es384(header("ES512", "ec-1"), claims()));
    refused("RS384 header on an EC key", es384(header("RS384", "ec-1"), claims()));
    refused("typ missing", es384(header("ES384", "ec-1").Erase("typ"), claims()));
    refused("typ not JWT", es384(header("ES384", "ec-1").SetString("typ", "at+jwt"), claims()));
    refused("kid missing", es384(header("ES384", "ec-1").Erase("kid"), claims()));
    refused("kid unknown", es384(header("ES384", "nope"), claims()));
    refused("crit", es384(header("ES384", "ec-1").Set("crit", R"(["exp"])"), claims()));
    refused("cty", es384(header("ES384", "ec-1").SetString("cty", "JWT"), claims()));
    refused("jku not allowlisted",
            es384(header("ES384", "ec-1").SetString("jku", "https://evil.example.com/jwks"), claims()));
    refused("untrusted iss", es384(header("ES384", "ec-1"), claims().SetString("iss", "https://evil.example.com/")));
    refused("foreign key", MakeJws(header("ES384", "ec-1").Str(), claims().Str(), keys.stranger.get(), "ES384"));
    {
      std::string token = es384(header("ES384", "ec-1"), claims());
      size_t dot = token.find('.');
      token[dot + 5] = token[dot + 5] == 'A' ? 'B' : 'A';
      refused("tampered claims", token);
    }
    refused("aud of a service", es384(header("ES384", "ec-1"), claims().SetString("aud", Url(ServicePath()))));
    refused("aud of another host", es384(header("ES384", "ec-1"),
                                         claims().SetString("aud", "https://elsewhere.example.org/cds-services")));
    refused("expired", es384(header("ES384", "ec-1"),
                             claims().SetNumber("iat", UnixNow() - 1000).SetNumber("exp", UnixNow() - 600)));
    refused("iat in the future", es384(header("ES384", "ec-1"),
                                       claims().SetNumber("iat", UnixNow() + 600).SetNumber("exp", UnixNow() + 900)));
    refused("nbf in the future", es384(header("ES384", "ec-1"), claims().SetNumber("nbf", UnixNow() + 600)));
    refused("exp missing", es384(header("ES384", "ec-1"), claims().Erase("exp")));
    refused("lifetime over the maximum",
            es384(header("ES384", "ec-1"), claims().SetNumber("exp", UnixNow() + 7200)));
    refused("jti missing", es384(header("ES384", "ec-1"), claims().Erase("jti")));
    refused("token over 16 KiB", es384(header("ES384", "ec-1"), claims().SetString("pad", std::string(20000, 'x'))));
    const std::string valid = es384(header("ES384", "ec-1"), claims());
    jwt.push_back({"valid ES384", discovery_with("Bearer " + valid), 200, false});
    refused("replayed", valid);
    jwt.push_back({"valid RS384", discovery_with("Bearer " + TokenFor("/cds-services", "RS384")), 200, false});
  }
  RunGroup("jwt", jwt);

  // SSRF (issue 13, 2): fhirServer off the allowlist is 400 before any
  // connection; an allowlisted server that fails is a neutral 412.
  std::vector<Attack> ssrf;
  auto fallback_call = [&](const std::string& fhir_server) {
    std::string body = PatientViewRequest(discovery, /*with_prefetch=*/false, fhir_server);
    return post(ServicePath(), body);
  };
  for (const char* server : {"http://169.254.169.254/latest/meta-data", "http://127.0.0.1:1/fhir",
                             "http://[::1]/fhir", "http://10.0.0.1/fhir", "https://ehr.example.org.evil.com/fhir"}) {
    ssrf.push_back({std::string("not allowlisted: ") + server, fallback_call(server), 400, false});
  }
  ssrf.push_back({"allowlisted, connection refused", fallback_call(closed_fhir_), 412, false});
  RunGroup("ssrf", ssrf);

  std::printf("attack suite: %d passed, %d failed\n", passed_, failed_);
  EXPECT_EQ(failed_, 0);
}

}  // namespace
}  // namespace regenpath::server::testing
