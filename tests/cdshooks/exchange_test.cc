// The CDS Hooks conformance suite: every tests/cdshooks/exchanges/*.json is
// one exchange (a request and what the response must show), run by this one
// driver. Every 200 response is checked against the cds-resp-* invariants
// (CheckCardsResponse); every other response must be an OperationOutcome
// with an explained issue; every exchange is run twice and must answer the
// same bytes (card identifiers are derived from the call).
//
// Exchange file (JSON; paths relative to exchanges/, "${shared}" = ../shared/testdata):
//   "description": "...",
//   "service": "regenpath-order-sign",
//   "now": "2026-01-15",                        clock of the service
//   "request": {...} | "request_file": "...",   the request body as JSON ...
//   "body_raw": "...",                          ... or verbatim text
//   "merge_patch": {...},                       RFC 7386 patch applied to the request
//   "prefetch_from": "../records/x.json",       prefetch built like a CDS client would (discovery templates)
//   "prefetch_omit": ["observations"], "prefetch_null": ["procedures"], "prefetch_set": {"key": value},
//   "fhir": {"record": "../records/x.json",     the fake FHIR server at request.fhirServer
//            "page_size": 2,
//            "fail": {"Observation": {"kind": "timeout|status|body|too-large|next-loop|next-foreign|endless",
//                                     "status": 401, "body": "..."}}},
//   "clinic_evidence": {"prp-knee": "this clinic: ..."},  the server's registry annotation (summary per
//   option) "expect": {"status": 200, "cards": 1, "outcome_contains": ["..."], "outcome_excludes": ["..."],
//              "card": [{"index": 0, "indicator": "critical", "summary_contains": "...",
//                        "detail_contains": ["..."], "detail_excludes": ["..."],
//                        "suggestion_labels": ["..."], "suggestions": 2, "selectionBehavior": "any",
//                        "delete_suggestion": true, "links_min": 1,
//                        "suggestion_contains": {"Refer: Urgent": ["3457005", "\"category\""]}}],
//                        (each suggestion labelled like the key has every fragment in its JSON)
//              "requests": 3, "request_contains": ["Observation?patient="], "token": "abc"}
// CDSHOOKS_PRINT=1 prints every response.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cdshooks/cds_service.h"
#include "tests/cdshooks/response_invariants.h"
#include "cdshooks/service_catalog.h"
#include "tests/cdshooks/fake_fhir_client.h"
#include "tests/cdshooks/test_support.h"

namespace regenpath::cdshooks {
namespace {

namespace json = boost::json;

const std::string kExchangeDir = std::string(REGENPATH_SOURCE_DIR) + "/tests/cdshooks/exchanges";

std::string ResolvePath(std::string path) {
  const std::string shared = "${shared}";
  if (path.rfind(shared, 0) == 0)
    return std::string(REGENPATH_SHARED_DIR) + "/testdata" + path.substr(shared.size());
  return kExchangeDir + "/" + path;
}

json::value ReadJson(const std::string& path) {
  std::string text = ReadFile(ResolvePath(path));
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  EXPECT_FALSE(error) << path << ": " << error.message();
  return value;
}

// RFC 7386 JSON merge patch.
void MergePatch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  json::object& object = target.as_object();
  for (const auto& member : patch.as_object()) {
    if (member.value().is_null()) {
      object.erase(member.key());
    } else {
      MergePatch(object[member.key()], member.value());
    }
  }
}

std::vector<std::string> ExchangeFiles() {
  std::vector<std::string> names;
  if (DIR* dir = opendir(kExchangeDir.c_str())) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() > 5 && name.ends_with(".json")) names.push_back(name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The prefetch of an exchange: PrefetchFor(record) with the exchange's
// omissions, nulls and replacements.
json::object PrefetchFrom(const json::value& record, const json::object& exchange) {
  std::vector<std::string> omit;
  std::vector<std::string> nulls;
  if (const json::value* list = exchange.if_contains("prefetch_omit")) {
    for (const json::value& key : list->as_array()) omit.emplace_back(key.as_string());
  }
  if (const json::value* list = exchange.if_contains("prefetch_null")) {
    for (const json::value& key : list->as_array()) nulls.emplace_back(key.as_string());
  }
  json::object prefetch = PrefetchFor(record, omit, nulls);
  if (const json::value* set = exchange.if_contains("prefetch_set")) {
    for (const auto& member : set->as_object()) prefetch[member.key()] = member.value();
  }
  return prefetch;
}

FakeFhirClient::FailureKind KindOf(std::string_view name) {
  using Kind = FakeFhirClient::FailureKind;
  if (name == "timeout") return Kind::kTimeout;
  if (name == "status") return Kind::kStatus;
  if (name == "body") return Kind::kBody;
  if (name == "too-large") return Kind::kTooLarge;
  if (name == "next-loop") return Kind::kNextLoop;
  if (name == "next-foreign") return Kind::kNextForeign;
  if (name == "endless") return Kind::kEndless;
  ADD_FAILURE() << "unknown failure kind " << name;
  return Kind::kNone;
}

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

void CheckCard(const json::object& card, const json::object& expect, size_t index) {
  SCOPED_TRACE("card " + std::to_string(index) + ": " + json::serialize(card.at("summary")));
  const std::string detail =
      card.contains("detail") ? std::string(card.at("detail").as_string()) : std::string();
  if (const json::value* indicator = expect.if_contains("indicator")) {
    EXPECT_EQ(card.at("indicator"), *indicator);
  }
  if (const json::value* part = expect.if_contains("summary_contains")) {
    EXPECT_TRUE(Contains(std::string(card.at("summary").as_string()), part->as_string())) << *part;
  }
  if (const json::value* parts = expect.if_contains("detail_contains")) {
    for (const json::value& part : parts->as_array())
      EXPECT_TRUE(Contains(detail, part.as_string())) << part << "\n" << detail;
  }
  if (const json::value* parts = expect.if_contains("detail_excludes")) {
    for (const json::value& part : parts->as_array())
      EXPECT_FALSE(Contains(detail, part.as_string())) << part;
  }
  const json::array empty;
  const json::array& suggestions = card.contains("suggestions") ? card.at("suggestions").as_array() : empty;
  if (const json::value* count = expect.if_contains("suggestions")) {
    EXPECT_EQ(static_cast<int64_t>(suggestions.size()), count->as_int64());
  }
  if (const json::value* labels = expect.if_contains("suggestion_labels")) {
    for (const json::value& label : labels->as_array()) {
      const bool found =
          std::any_of(suggestions.begin(), suggestions.end(), [&](const json::value& suggestion) {
            return Contains(std::string(suggestion.at("label").as_string()), label.as_string());
          });
      EXPECT_TRUE(found) << "no suggestion labelled like " << label;
    }
  }
  if (const json::value* behavior = expect.if_contains("selectionBehavior")) {
    EXPECT_EQ(card.contains("selectionBehavior") ? card.at("selectionBehavior") : json::value(), *behavior);
  }
  if (const json::value* wanted = expect.if_contains("delete_suggestion")) {
    const bool found = std::any_of(suggestions.begin(), suggestions.end(), [](const json::value& suggestion) {
      const json::object& object = suggestion.as_object();
      if (!object.contains("actions")) return false;
      for (const json::value& action : object.at("actions").as_array()) {
        if (action.at("type") == "delete") return true;
      }
      return false;
    });
    EXPECT_EQ(found, wanted->as_bool());
  }
  if (const json::value* wanted = expect.if_contains("suggestion_contains")) {
    for (const auto& entry : wanted->as_object()) {
      bool found = false;
      for (const json::value& suggestion : suggestions) {
        if (!Contains(std::string(suggestion.at("label").as_string()), entry.key())) continue;
        found = true;
        const std::string text = json::serialize(suggestion);
        for (const json::value& part : entry.value().as_array()) {
          EXPECT_TRUE(Contains(text, part.as_string())) << "suggestion " << entry.key() << " lacks " << part << "\n"
                                                         << text;
        }
      }
      EXPECT_TRUE(found) << "no suggestion labelled like " << entry.key();
    }
  }
  if (const json::value* links = expect.if_contains("links_min")) {
    const int64_t count =
        card.contains("links") ? static_cast<int64_t>(card.at("links").as_array().size()) : 0;
    EXPECT_GE(count, links->as_int64());
  }
}

class ExchangeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExchangeTest, Exchange) {
  const json::value exchange_value = ReadJson(GetParam());
  ASSERT_TRUE(exchange_value.is_object()) << GetParam();
  const json::object& exchange = exchange_value.as_object();
  SCOPED_TRACE(exchange.contains("description") ? std::string(exchange.at("description").as_string())
                                                : GetParam());

  // The request.
  std::string body;
  json::value request;
  if (const json::value* raw = exchange.if_contains("body_raw")) {
    body = std::string(raw->as_string());
  } else {
    if (const json::value* inline_request = exchange.if_contains("request")) {
      request = *inline_request;
    } else {
      request = ReadJson(std::string(exchange.at("request_file").as_string()));
    }
    if (const json::value* patch = exchange.if_contains("merge_patch")) MergePatch(request, *patch);
    if (const json::value* record_path = exchange.if_contains("prefetch_from")) {
      json::value record = ReadJson(std::string(record_path->as_string()));
      json::object prefetch = PrefetchFrom(record, exchange);
      if (request.as_object().contains("prefetch")) {
        for (const auto& member : request.at("prefetch").as_object()) prefetch[member.key()] = member.value();
      }
      request.as_object()["prefetch"] = std::move(prefetch);
    }
    body = json::serialize(request);
  }

  // The fake FHIR server.
  std::unique_ptr<FakeFhirClient> client;
  if (const json::value* fhir = exchange.if_contains("fhir")) {
    const json::object& config = fhir->as_object();
    json::value record = config.contains("record") ? ReadJson(std::string(config.at("record").as_string()))
                                                   : json::value(json::object{{"entry", json::array()}});
    std::string base = request.is_object() && request.as_object().contains("fhirServer")
                           ? std::string(request.at("fhirServer").as_string())
                           : std::string("https://ehr.example.org/fhir");
    while (!base.empty() && base.back() == '/') base.pop_back();
    client = std::make_unique<FakeFhirClient>(base, std::move(record));
    if (const json::value* size = config.if_contains("page_size")) client->set_page_size(size->as_int64());
    if (const json::value* failures = config.if_contains("fail")) {
      for (const auto& member : failures->as_object()) {
        const json::object& spec = member.value().as_object();
        FakeFhirClient::Failure failure;
        failure.kind = KindOf(spec.at("kind").as_string());
        if (const json::value* status = spec.if_contains("status"))
          failure.status = static_cast<int>(status->as_int64());
        if (const json::value* text = spec.if_contains("body")) failure.body = std::string(text->as_string());
        client->Fail(member.key(), failure);
      }
    }
  }

  std::optional<DateTime> now = DateTime::ParseDateTime(
      exchange.contains("now") ? std::string(exchange.at("now").as_string()) : "2026-01-15");
  ASSERT_TRUE(now.has_value());
  FixedClock clock(*now);
  CdsHooksServiceOptions options;
  if (const json::value* clinic = exchange.if_contains("clinic_evidence")) {
    // What the server's registry adds after the engine ran (ClinicEvidenceSource).
    std::map<std::string, std::string> summaries;
    for (const auto& member : clinic->as_object()) summaries[member.key()] = std::string(member.value().as_string());
    options.annotate = [summaries](engine::Assessment& assessment, const DateTime&) {
      for (engine::Recommendation& recommendation : assessment.recommendations) {
        auto found = summaries.find(recommendation.id);
        if (found == summaries.end()) continue;
        engine::ClinicEvidence evidence;
        evidence.summary = found->second;
        recommendation.clinic_evidence = evidence;
      }
    };
  }
  Result<CdsHooksService> service = CdsHooksService::Create(SharedEngine(), &clock, options);
  ASSERT_TRUE(service.has_value()) << service.error().message();

  const std::string service_id(exchange.at("service").as_string());
  CallResult result = service->Call(service_id, body, client.get());
  if (std::getenv("CDSHOOKS_PRINT") != nullptr) std::cout << result.status << " " << result.body << "\n";
  const json::object& expect = exchange.at("expect").as_object();
  EXPECT_EQ(result.status, expect.at("status").as_int64()) << result.body;

  boost::system::error_code error;
  json::value response = json::parse(result.body, error);
  ASSERT_FALSE(error) << "the response is not JSON: " << result.body;
  if (result.status == 200) {
    std::vector<std::string> problems = CheckCardsResponse(result.body);
    EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << result.body;
    const json::array& cards = response.at("cards").as_array();
    if (const json::value* count = expect.if_contains("cards")) {
      EXPECT_EQ(static_cast<int64_t>(cards.size()), count->as_int64()) << result.body;
    }
    if (const json::value* checks = expect.if_contains("card")) {
      for (const json::value& check : checks->as_array()) {
        const size_t index = static_cast<size_t>(check.at("index").as_int64());
        ASSERT_LT(index, cards.size()) << result.body;
        CheckCard(cards[index].as_object(), check.as_object(), index);
      }
    }
  } else {
    ASSERT_TRUE(response.is_object());
    EXPECT_EQ(response.at("resourceType"), "OperationOutcome") << result.body;
    const json::array& issues = response.at("issue").as_array();
    ASSERT_FALSE(issues.empty());
    for (const json::value& issue : issues) {
      EXPECT_TRUE(issue.as_object().contains("details")) << "every issue explains itself: " << result.body;
    }
    if (const json::value* parts = expect.if_contains("outcome_contains")) {
      for (const json::value& part : parts->as_array()) {
        EXPECT_TRUE(Contains(result.body, part.as_string())) << part << "\n" << result.body;
      }
    }
    if (const json::value* parts = expect.if_contains("outcome_excludes")) {
      for (const json::value& part : parts->as_array()) {
        EXPECT_FALSE(Contains(result.body, part.as_string())) << part << "\n" << result.body;
      }
    }
  }

  if (client) {
    auto requests = client->requests();
    if (const json::value* count = expect.if_contains("requests")) {
      EXPECT_EQ(static_cast<int64_t>(requests.size()), count->as_int64());
    }
    if (const json::value* parts = expect.if_contains("request_contains")) {
      for (const json::value& part : parts->as_array()) {
        const bool found = std::any_of(requests.begin(), requests.end(), [&](const auto& request) {
          return Contains(request.first, part.as_string());
        });
        EXPECT_TRUE(found) << "no request like " << part;
      }
    }
    if (const json::value* token = expect.if_contains("token")) {
      for (const auto& request : requests) EXPECT_EQ(request.second, token->as_string()) << request.first;
    }
    for (const auto& request : requests) {
      EXPECT_EQ(request.first.rfind("https://attacker.", 0), std::string::npos)
          << "the token left fhirServer";
    }
  }

  // Same call, same answer.
  CallResult again = service->Call(service_id, body, client.get());
  EXPECT_EQ(again.status, result.status);
  EXPECT_EQ(again.body, result.body);
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.size() - 5);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Exchanges, ExchangeTest, ::testing::ValuesIn(ExchangeFiles()), TestName);

}  // namespace
}  // namespace regenpath::cdshooks
