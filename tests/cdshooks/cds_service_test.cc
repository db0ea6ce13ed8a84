// CdsHooksService beyond the exchange files: the discovery document, the
// feedback parser (cds-fb-*), the response checker itself (cds-resp-* on the
// specification's and the Da Vinci CRD kit's cards, and on broken ones),
// hostile and mutated requests, every scenario and Synthea record through
// patient-view and order-sign, concurrent calls, and the text and UUID
// helpers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "cdshooks/cds_service.h"
#include "cdshooks/patient_view_cards.h"
#include "cdshooks/service_catalog.h"
#include "cdshooks/text.h"
#include "cdshooks/uuid.h"
#include "fhir/parser.h"
#include "tests/cdshooks/fake_fhir_client.h"
#include "tests/cdshooks/response_invariants.h"
#include "tests/cdshooks/test_support.h"
#include "tests/support/files_in.h"

namespace regenpath::cdshooks {
namespace {

namespace json = boost::json;

using test_support::FilesIn;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kShared = std::string(REGENPATH_SHARED_DIR) + "/testdata/cds-hooks";
const std::string kRecords = std::string(REGENPATH_SOURCE_DIR) + "/tests/cdshooks/records";
constexpr const char* kHookInstance = "8f2d4c1e-5b7a-4e0f-9c3d-2a6b1e8f7d40";

class CdsServiceTest : public ::testing::Test {
 protected:
  CdsServiceTest() : clock_(*DateTime::ParseDateTime("2026-01-15")) {
    Result<CdsHooksService> created = CdsHooksService::Create(SharedEngine(), &clock_);
    EXPECT_TRUE(created.has_value());
    service_ = std::make_unique<CdsHooksService>(std::move(*created));
  }

  // A patient-view request for the record in `record_path`, prefetched.
  std::string PatientView(const json::value& record, const std::string& patient_id) {
    json::object request{
        {"hook", "patient-view"},
        {"hookInstance", kHookInstance},
        {"context", json::object{{"userId", "Practitioner/dr1"}, {"patientId", patient_id}}}};
    request["prefetch"] = PrefetchFor(record);
    return json::serialize(request);
  }

  FixedClock clock_;
  std::unique_ptr<CdsHooksService> service_;
};

// --- Discovery --------------------------------------------------------------------------------------------

TEST_F(CdsServiceTest, DiscoveryListsTheThreeServices) {
  json::value discovery = json::parse(service_->Discovery());
  const json::array& services = discovery.at("services").as_array();
  ASSERT_EQ(services.size(), 3u);
  std::map<std::string, std::string> hooks;
  for (const json::value& service : services) {
    hooks[std::string(service.at("id").as_string())] = std::string(service.at("hook").as_string());
    for (const char* field : {"title", "description", "usageRequirements", "version", "hookVersion"}) {
      ASSERT_TRUE(service.as_object().contains(field)) << field;
      EXPECT_FALSE(service.at(field).as_string().empty()) << field;
    }
    EXPECT_THAT(std::string(service.at("usageRequirements").as_string()), HasSubstr("fhirAuthorization"));
    EXPECT_THAT(std::string(service.at("usageRequirements").as_string()), HasSubstr("412"));
  }
  EXPECT_EQ(hooks, (std::map<std::string, std::string>{{"regenpath-patient-view", "patient-view"},
                                                       {"regenpath-order-select", "order-select"},
                                                       {"regenpath-order-sign", "order-sign"}}));
  EXPECT_TRUE(service_->HasService("regenpath-order-sign"));
  EXPECT_FALSE(service_->HasService("regenpath-order"));
  EXPECT_FALSE(service_->HasService(""));
}

TEST_F(CdsServiceTest, PrefetchTemplatesComeFromTheKnowledgeBase) {
  const knowledge::KnowledgeBase& kb = SharedEngine()->kb();
  json::value discovery = json::parse(service_->Discovery());
  const json::object& prefetch = discovery.at("services").as_array()[0].at("prefetch").as_object();
  EXPECT_EQ(prefetch.at("patient"), "Patient/{{context.patientId}}");
  EXPECT_EQ(prefetch.at("conditions"), "Condition?patient={{context.patientId}}");
  // Every resource type the definitions read, searchable by patient.
  for (const char* key : {"observations", "medicationRequests", "medicationStatements",
                          "medicationAdministrations", "procedures", "diagnosticReports", "imagingStudies",
                          "carePlans", "encounters", "allergyIntolerances"}) {
    EXPECT_TRUE(prefetch.contains(key)) << key;
  }
  EXPECT_FALSE(prefetch.contains("medications")) << "Medication has no patient search";
  EXPECT_THAT(std::string(prefetch.at("medicationRequests").as_string()),
              HasSubstr("_include=MedicationRequest:medication"));
  // The Observation codes: the platelet-count and pain-score value sets' codes, taken from the knowledge
  // base.
  const std::string observations(prefetch.at("observations").as_string());
  for (const char* valueset : {"platelet-count", "pain-score", "hemoglobin", "tobacco-smoking-status"}) {
    const knowledge::ValueSet* found = kb.FindValueSet(valueset);
    ASSERT_NE(found, nullptr) << valueset;
    for (const knowledge::Concept& concept_entry : found->concepts) {
      EXPECT_THAT(observations, HasSubstr(concept_entry.system + "|" + concept_entry.code)) << valueset;
    }
  }
  for (const json::value& service : discovery.at("services").as_array()) {
    EXPECT_EQ(service.at("prefetch"), discovery.at("services").as_array()[0].at("prefetch"));
  }
  // Expanded, the query is a safe request target.
  EXPECT_EQ(ExpandQuery("Observation?patient={{context.patientId}}&code=http://loinc.org|777-3", "p-1.2"),
            "Observation?patient=p-1.2&code=http://loinc.org%7C777-3");
}

// --- Feedback (cds-fb-1..3)
// ---------------------------------------------------------------------------------

TEST_F(CdsServiceTest, FeedbackExamplesOfTheSpecificationParse) {
  Result<std::vector<Feedback>> accepted = service_->ParseFeedback(
      "regenpath-order-sign", ReadFile(kShared + "/spec-examples/spec-index-21-other.json"));
  ASSERT_TRUE(accepted.has_value()) << accepted.error().message();
  ASSERT_EQ(accepted->size(), 1u);
  EXPECT_EQ((*accepted)[0].service_id, "regenpath-order-sign");
  EXPECT_EQ((*accepted)[0].card, "4e0a3a1e-3283-4575-ab82-028d55fe2719");
  EXPECT_EQ((*accepted)[0].outcome, "accepted");
  EXPECT_EQ((*accepted)[0].accepted_suggestions,
            std::vector<std::string>{"e56e1945-20b3-4393-8503-a1a20fd73152"});
  EXPECT_EQ((*accepted)[0].outcome_timestamp, "2021-12-11T10:05:31Z");
  EXPECT_THAT((*accepted)[0].raw_json, HasSubstr("\"acceptedSuggestions\""));

  Result<std::vector<Feedback>> overridden = service_->ParseFeedback(
      "regenpath-patient-view", ReadFile(kShared + "/spec-examples/spec-index-22-other.json"));
  ASSERT_TRUE(overridden.has_value()) << overridden.error().message();
  EXPECT_FALSE((*overridden)[0].override_reason.has_value());

  Result<std::vector<Feedback>> reason = service_->ParseFeedback(
      "regenpath-patient-view", ReadFile(kShared + "/spec-examples/spec-index-23-other.json"));
  ASSERT_TRUE(reason.has_value()) << reason.error().message();
  ASSERT_TRUE((*reason)[0].override_reason.has_value());
  EXPECT_EQ((*reason)[0].override_reason->code, "d7ecf885");
  EXPECT_EQ((*reason)[0].override_reason->system, "https://example.com/cds-hooks/override-reason-system");
  EXPECT_EQ((*reason)[0].override_reason->user_comment, "A comment entered by the clinician.");
}

// A FHIR client that fails the way a bug would: by throwing.
class ThrowingFhirClient : public FhirClient {
 public:
  Result<std::string> Get(const std::string&, const std::string&) override {
    throw std::runtime_error("internal detail that must not reach the caller");
  }
};

TEST_F(CdsServiceTest, InternalExceptionIs500WithACorrelationIdAndNoDetail) {
  const std::string body = std::string(R"({"hook":"patient-view","hookInstance":")") + kHookInstance +
                           R"(","fhirServer":"https://ehr.example.org/fhir",)"
                           R"("context":{"userId":"Practitioner/dr1","patientId":"p1"}})";
  ThrowingFhirClient client;
  CallResult first = service_->Call("regenpath-patient-view", body, &client);
  EXPECT_EQ(first.status, 500) << first.body;
  ASSERT_EQ(first.correlation_id.size(), 32u);
  EXPECT_THAT(first.body, HasSubstr("OperationOutcome"));
  EXPECT_THAT(first.body, HasSubstr("\"exception\""));
  EXPECT_THAT(first.body, HasSubstr(first.correlation_id));
  EXPECT_EQ(first.body.find("internal detail"), std::string::npos) << first.body;
  EXPECT_THAT(first.internal_error, HasSubstr("internal detail"));
  CallResult second = service_->Call("regenpath-patient-view", body, &client);
  EXPECT_NE(second.correlation_id, first.correlation_id);
}

TEST_F(CdsServiceTest, FeedbackThatBreaksTheSpecificationIsRefused) {
  const std::string card = "\"card\":\"4e0a3a1e-3283-4575-ab82-028d55fe2719\"";
  const std::string when = "\"outcomeTimestamp\":\"2021-12-11T10:05:31Z\"";
  const std::string suggestion =
      "\"acceptedSuggestions\":[{\"id\":\"e56e1945-20b3-4393-8503-a1a20fd73152\"}]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {"{}", "feedback: required"},
      {"{\"feedback\":{}}", "must be an array"},
      {"{\"feedback\":[]}", "feedback: must not be empty (nothing to record)"},
      {"{\"feedback\":[1]}", "feedback[0]: must be an object"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"rejected\"," + when + "}]}", "cds-fb-1"},
      {"{\"feedback\":[{" + card + "," + when + "}]}", "cds-fb-1"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"accepted\"," + when + "}]}", "cds-fb-2"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"accepted\",\"acceptedSuggestions\":[]," + when + "}]}",
       "must not be empty"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"overridden\",\"overrideReason\":{}," + when + "}]}",
       "cds-fb-3"},
      {"{\"feedback\":[{" + card +
           ",\"outcome\":\"overridden\",\"overrideReason\":{\"reason\":{\"code\":\"x\"}}," + when + "}]}",
       "reason.system"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"overridden\",\"outcomeTimestamp\":\"2021-12-11\"}]}",
       "outcomeTimestamp"},
      {"{\"feedback\":[{" + card +
           ",\"outcome\":\"overridden\",\"outcomeTimestamp\":\"2021-12-11T10:05:31\"}]}",
       "time zone"},
      {"{\"feedback\":[{\"card\":\"card-1\",\"outcome\":\"overridden\"," + when + "}]}", "card's uuid"},
      {"{\"feedback\":[{\"card\":null,\"outcome\":\"overridden\"," + when + "}]}", "must be a string"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"accepted\"," + suggestion + "," + when +
           ",\"outcome\":\"x\"}]}",
       "appears twice"},
      {"{\"feedback\":[{" + card + ",\"outcome\":\"accepted\",\"acceptedSuggestions\":[{\"id\":\"s1\"}]," +
           when + "}]}",
       "suggestion's uuid"},
  };
  for (const auto& [body, expected] : cases) {
    Result<std::vector<Feedback>> result = service_->ParseFeedback("regenpath-patient-view", body);
    ASSERT_FALSE(result.has_value()) << body;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(result.error().message(), HasSubstr(expected)) << body;
  }
  Result<std::vector<Feedback>> unknown = service_->ParseFeedback("nope", "{\"feedback\":[]}");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
}

// --- The response checker
// ------------------------------------------------------------------------------------

TEST(ResponseInvariantsTest, SpecificationResponsesConform) {
  ResponseCheckOptions lenient;
  lenient.require_uuids = false;  // optional in the specification
  for (const char* name :
       {"spec-index-12-response.json", "spec-index-18-response.json", "spec-index-19-response.json"}) {
    EXPECT_THAT(CheckCardsResponse(ReadFile(kShared + "/spec-examples/" + name), lenient), IsEmpty()) << name;
  }
  // The autolaunchable example omits the required indicator: the checker says so.
  EXPECT_THAT(CheckCardsResponse(ReadFile(kShared + "/spec-examples/spec-index-20-response.json"), lenient),
              ::testing::ElementsAre("cards[0].indicator: required"));
}

TEST(ResponseInvariantsTest, CrdKitCardsConform) {
  ResponseCheckOptions lenient;
  lenient.require_uuids = false;
  lenient.uuid_format = false;  // the kit's uuids ("jksfjuisldklsior") are not UUIDs
  const std::string dir = kShared + "/davinci-crd-test-kit-fixtures";
  json::value cards = json::parse(ReadFile(dir + "/valid_cards.json"));
  // The kit repeats card ids across its examples; check them one by one.
  for (const json::value& card : cards.as_array()) {
    std::string response = json::serialize(json::object{{"cards", json::array{card}}});
    EXPECT_THAT(CheckCardsResponse(response, lenient), IsEmpty()) << response;
  }
  for (const std::string& path : FilesIn(dir + "/card_responses", ".json")) {
    std::string response = "{\"cards\":[" + ReadFile(path) + "]}";
    if (path.ends_with("propose_alternate_request.json")) {
      // Its suggestion carries "actions": [], which "Use of JSON" forbids.
      EXPECT_THAT(CheckCardsResponse(response, lenient),
                  ::testing::ElementsAre("cards[0].suggestions[0].actions: [] is not allowed"));
      continue;
    }
    EXPECT_THAT(CheckCardsResponse(response, lenient), IsEmpty()) << path;
  }
  EXPECT_THAT(CheckCardsResponse(ReadFile(dir + "/crd_authorization_hook_response.json"), lenient),
              IsEmpty());
}

TEST(ResponseInvariantsTest, EachInvariantIsCaught) {
  const std::string source = R"("source":{"label":"x"})";
  auto card = [&](const std::string& extra) {
    return R"({"cards":[{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","summary":"S","indicator":"info",)" +
           source + extra + "}]}";
  };
  const std::string create =
      R"({"type":"create","description":"d","resource":{"resourceType":"ServiceRequest"}})";
  const std::string s1 =
      R"({"label":"a","uuid":"11111111-1111-5111-8111-111111111111","isRecommended":true,"actions":[)" +
      create + "]}";
  const std::string s2 =
      R"({"label":"b","uuid":"22222222-2222-5222-8222-222222222222","isRecommended":true,"actions":[)" +
      create + "]}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {card(",\"suggestions\":[" + s1 + "," + s2 + "],\"selectionBehavior\":\"at-most-one\""), "cds-resp-1"},
      {card(",\"suggestions\":[{\"label\":\"a\",\"uuid\":\"11111111-1111-5111-8111-111111111111\","
            "\"actions\":["
            "{\"type\":\"delete\",\"description\":\"d\",\"resource\":{\"resourceType\":\"ServiceRequest\"}}]}"
            "],"
            "\"selectionBehavior\":\"any\""),
       "cds-resp-2"},
      {card(",\"links\":[{\"label\":\"l\",\"url\":\"https://"
            "x.org\",\"type\":\"absolute\",\"appContext\":\"c\"}]"),
       "cds-resp-3"},
      {card(",\"overrideReasons\":[{\"code\":\"c\",\"system\":\"http://s\"}]"), "cds-resp-4"},
      {card(",\"suggestions\":[{\"label\":\"a\",\"uuid\":\"11111111-1111-5111-8111-111111111111\","
            "\"actions\":["
            "{\"type\":\"create\",\"resource\":{\"resourceType\":\"ServiceRequest\"}}]}],"
            "\"selectionBehavior\":\"any\""),
       "cds-resp-5"},
      {card(",\"suggestions\":[" + s1 + "]"), "cds-resp-6"},
      {card(",\"suggestions\":[{\"label\":\"a\",\"uuid\":\"11111111-1111-5111-8111-111111111111\","
            "\"actionSelectionBehavior\":\"some\"}],\"selectionBehavior\":\"any\""),
       "cds-resp-7"},
      {card(",\"selectionBehavior\":\"all\""), "must be at-most-one or any"},
      {R"({"cards":[{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","summary":")" + std::string(140, 'x') +
           R"(","indicator":"info",)" + source + "}]}",
       "under 140"},
      {R"({"cards":[{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","summary":"S","indicator":"urgent",)" +
           source + "}]}",
       "info, warning or critical"},
      {R"({"cards":[{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","indicator":"info",)" + source + "}]}",
       "summary: required"},
      {R"({"cards":[{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","summary":"S","indicator":"info"}]})",
       "source: required"},
      {card(",\"detail\":\"\""), "cards[0].detail: \\\"\\\" is not allowed"},
      {card(",\"detail\":null"), "cards[0].detail: null is not allowed"},
      {card(",\"links\":[]"), "[] is not allowed"},
      {card(",\"links\":[{\"label\":\"l\",\"url\":\"javascript:alert(1)\",\"type\":\"absolute\"}]"),
       "absolute URL"},
      {R"({"cards":[{"summary":"S","indicator":"info",)" + source + "}]}", "uuid: required"},
      {R"({"cards":[{"uuid":"x","summary":"S","indicator":"info",)" + source + "}]}", "must be a UUID"},
      {R"({"cards":[{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","summary":"S","indicator":"info",)" +
           source + R"(},{"uuid":"4e0a3a1e-3283-4575-ab82-028d55fe2719","summary":"S","indicator":"info",)" +
           source + "}]}",
       "not unique"},
      {"{}", "cards: required"},
      {"not json", "not valid JSON"},
  };
  for (const auto& [response, expected] : cases) {
    std::vector<std::string> problems = CheckCardsResponse(response);
    EXPECT_THAT(::testing::PrintToString(problems), HasSubstr(expected)) << response;
  }
  EXPECT_THAT(CheckCardsResponse(R"({"cards":[]})"), IsEmpty());
}

// --- Hostile input
// ---------------------------------------------------------------------------------------------

TEST_F(CdsServiceTest, MutatedRequestsNeverCrashAndAlwaysAnswerJson) {
  json::value record = json::parse(ReadFile(kRecords + "/knee-oa-septicemia.json"));
  json::object order{
      {"hook", "order-sign"},
      {"hookInstance", kHookInstance},
      {"context",
       json::object{
           {"userId", "Practitioner/dr1"},
           {"patientId", "knee1"},
           {"draftOrders",
            json::object{
                {"resourceType", "Bundle"},
                {"entry",
                 json::array{json::object{
                     {"resource",
                      json::object{{"resourceType", "ServiceRequest"},
                                   {"id", "prp1"},
                                   {"code", json::object{{"coding", json::array{json::object{
                                                                        {"code", "0232T"}}}}}}}}}}}}}}}};
  order["prefetch"] = PrefetchFor(record);
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"regenpath-patient-view", PatientView(record, "knee1")},
      {"regenpath-order-sign", json::serialize(order)}};
  std::mt19937 random(20260115);
  std::set<int> statuses;
  int iterations = 0;
  for (const auto& [service_id, seed] : seeds) {
    for (int round = 0; round < 150; ++round, ++iterations) {
      std::string body = seed;
      const int edits = 1 + static_cast<int>(random() % 4);
      for (int edit = 0; edit < edits && !body.empty(); ++edit) {
        size_t at = random() % body.size();
        switch (random() % 4) {
          case 0:
            body[at] = static_cast<char>(random() % 256);
            break;
          case 1:
            body.erase(at, 1 + random() % 16);
            break;
          case 2:
            body.insert(at, std::string(1 + random() % 3, "{}[]\",:0n\\"[random() % 10]));
            break;
          default:
            body.resize(at);
        }
      }
      CallResult result = service_->Call(service_id, body, nullptr);
      statuses.insert(result.status);
      ASSERT_TRUE(result.status == 200 || result.status == 400 || result.status == 412)
          << result.status << " " << body;
      boost::system::error_code error;
      json::value response = json::parse(result.body, error);
      ASSERT_FALSE(error) << result.body;
      if (result.status == 200) {
        EXPECT_THAT(CheckCardsResponse(result.body), IsEmpty()) << body;
      } else {
        EXPECT_EQ(response.at("resourceType"), "OperationOutcome");
      }
    }
  }
  EXPECT_EQ(iterations, 300);
  EXPECT_TRUE(statuses.count(400) > 0);
}

TEST_F(CdsServiceTest, HugeAndDeepInputsAreRefusedCleanly) {
  const std::string big(4 << 20, 'a');
  CallResult result =
      service_->Call("regenpath-patient-view",
                     R"({"hook":"patient-view","hookInstance":")" + std::string(kHookInstance) +
                         R"(","context":{"userId":"Practitioner/a","patientId":")" + big + "\"}}",
                     nullptr);
  EXPECT_EQ(result.status, 400);
  EXPECT_LT(result.body.size(), 2000u) << "the error does not echo the input";
  EXPECT_THAT(result.body, HasSubstr("context.patientId"));

  std::string deep = R"({"hook":"patient-view","hookInstance":")" + std::string(kHookInstance) +
                     R"(","context":{"userId":"Practitioner/a","patientId":"p"},"prefetch":{"patient":)";
  for (int level = 0; level < 100000; ++level) deep += "{\"a\":";
  deep += "1";
  for (int level = 0; level < 100000; ++level) deep += "}";
  deep += "}}";
  result = service_->Call("regenpath-patient-view", deep, nullptr);
  EXPECT_EQ(result.status, 400);
  EXPECT_THAT(result.body, HasSubstr("deeper than"));

  std::string many_keys = R"({"hook":"patient-view","hookInstance":")" + std::string(kHookInstance) +
                          R"(","context":{"userId":"Practitioner/a","patientId":"p"},"prefetch":{)";
  for (int key = 0; key < 50000; ++key) many_keys += "\"k" + std::to_string(key) + "\":null,";
  many_keys += "\"patient\":null}}";
  result = service_->Call("regenpath-patient-view", many_keys, nullptr);
  EXPECT_EQ(result.status, 412) << "unknown prefetch keys are ignored; the service's own keys are missing";

  for (std::string body :
       {std::string("\0\0\0", 3), std::string("\xff\xfe{}"), std::string("{\"hook\":\"\xc3\x28\"}")}) {
    result = service_->Call("regenpath-patient-view", body, nullptr);
    EXPECT_EQ(result.status, 400);
    EXPECT_FALSE(json::parse(result.body).as_object().empty());
  }
}

TEST_F(CdsServiceTest, IdentifiersAreUniqueAndFollowTheCall) {
  json::value record = json::parse(ReadFile(kRecords + "/back-red-flag.json"));
  CallResult first = service_->Call("regenpath-patient-view", PatientView(record, "back1"), nullptr);
  ASSERT_EQ(first.status, 200) << first.body;
  json::value response = json::parse(first.body);
  std::set<std::string> uuids;
  for (const json::value& card : response.at("cards").as_array()) {
    ASSERT_TRUE(uuids.insert(std::string(card.at("uuid").as_string())).second);
  }
  EXPECT_EQ(uuids.size(), 2u);
  // Another hookInstance gives other identifiers.
  std::string other = PatientView(record, "back1");
  other.replace(other.find(kHookInstance), 36, "0a2d4c1e-5b7a-4e0f-9c3d-2a6b1e8f7d41");
  CallResult second = service_->Call("regenpath-patient-view", other, nullptr);
  ASSERT_EQ(second.status, 200) << second.body;
  const json::value second_response = json::parse(second.body);
  for (const json::value& card : second_response.at("cards").as_array()) {
    EXPECT_EQ(uuids.count(std::string(card.at("uuid").as_string())), 0u);
  }
}

// A deceased patient's card lists the record's warnings: a date of death
// after the assessment instant (the record may be wrong) is there to check.
TEST(DeceasedCardTest, ListsTheRecordsWarnings) {
  std::string json =
      ReadFile(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios/lumbar-disc-candidate.json");
  const std::string marker = R"("resourceType": "Patient",)";
  ASSERT_NE(json.find(marker), std::string::npos);
  json.insert(json.find(marker) + marker.size(), R"( "deceasedDateTime": "2036-09-01",)");
  fhir::Parser parser(SharedEngine()->RecordParseOptions());
  Result<fhir::Document> record = parser.ParseResource(json, "deceased-later.json");
  ASSERT_TRUE(record.has_value());
  Result<engine::Assessment> assessment =
      SharedEngine()->Assess(*record, *DateTime::ParseDateTime("2026-06-01"));
  ASSERT_TRUE(assessment.has_value());
  std::vector<Card> cards = BuildPatientViewCards(*assessment);
  ASSERT_EQ(cards.size(), 1u);
  EXPECT_THAT(cards[0].summary, HasSubstr("has died"));
  EXPECT_THAT(cards[0].detail,
              HasSubstr("In the record:\n- the patient is recorded as deceased on 2036-09-01\n"
                        "- the recorded date of death \\(2036-09-01\\) is after the assessment "
                        "instant \\(2026-06-01\\)"))
      << cards[0].detail;
}

// --- Whole records
// -------------------------------------------------------------------------------------------------

// Every record: patient-view gives one card per in-scope condition (plus the
// red-flag card), order-sign reviews a PRP order; every response conforms.
void CheckRecord(CdsHooksService& service, const std::string& path) {
  SCOPED_TRACE(path);
  boost::system::error_code error;
  json::value record = json::parse(ReadFile(path), error);
  ASSERT_FALSE(error);
  if (!record.is_object() || record.at("resourceType") != "Bundle" || !record.as_object().contains("entry"))
    return;
  std::string patient_id;
  for (const json::value& entry : record.at("entry").as_array()) {
    const json::object& object = entry.as_object();
    if (object.contains("resource") && object.at("resource").at("resourceType") == "Patient") {
      patient_id = std::string(object.at("resource").at("id").as_string());
      break;
    }
  }
  if (patient_id.empty()) return;
  json::object context{{"userId", "Practitioner/dr1"}, {"patientId", patient_id}};
  json::object request{{"hook", "patient-view"}, {"hookInstance", kHookInstance}, {"context", context}};
  request["prefetch"] = PrefetchFor(record);
  CallResult result = service.Call("regenpath-patient-view", json::serialize(request), nullptr);
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_THAT(CheckCardsResponse(result.body), IsEmpty());

  // The engine's own reading of the same record decides how many cards.
  fhir::ParseOptions options;
  fhir::Parser parser(options);
  Result<fhir::Document> document = parser.ParseResource(ReadFile(path), path);
  ASSERT_TRUE(document.has_value());
  engine::Assessment assessment = *SharedEngine()->Assess(*document, *DateTime::ParseDateTime("2026-01-15"));
  size_t expected = assessment.conditions.size();
  if (expected > 0 && !assessment.red_flags.empty()) ++expected;
  if (assessment.deceased == true) expected = 1;  // one card saying so, nothing else
  json::value response = json::parse(result.body);
  EXPECT_EQ(response.at("cards").as_array().size(), expected);

  context["draftOrders"] = json::object{
      {"resourceType", "Bundle"},
      {"entry",
       json::array{json::object{
           {"resource",
            json::object{{"resourceType", "ServiceRequest"},
                         {"id", "prp1"},
                         {"status", "draft"},
                         {"intent", "order"},
                         {"code", json::object{{"coding", json::array{json::object{
                                                              {"system", "http://www.ama-assn.org/go/cpt"},
                                                              {"code", "0232T"}}}}}}}}}}}};
  request["hook"] = "order-sign";
  request["context"] = context;
  result = service.Call("regenpath-order-sign", json::serialize(request), nullptr);
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_THAT(CheckCardsResponse(result.body), IsEmpty());
  EXPECT_GE(json::parse(result.body).at("cards").as_array().size(), 1u) << "a PRP order always gets a review";
}

TEST_F(CdsServiceTest, OwnRecordsAndScenarioBundles) {
  std::vector<std::string> files = FilesIn(kRecords, ".json");
  for (const std::string& path : FilesIn(std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios", ".json")) {
    files.push_back(path);
  }
  for (const std::string& path : files) CheckRecord(*service_, path);
}

TEST_F(CdsServiceTest, SyntheaRecords) {
  const std::vector<std::string> files =
      FilesIn(std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset", ".json");
  ASSERT_GE(files.size(), 10u);
  for (const std::string& path : files) CheckRecord(*service_, path);
}

TEST_F(CdsServiceTest, ConcurrentCallsAgree) {
  json::value record = json::parse(ReadFile(kRecords + "/knee-oa-candidate.json"));
  const std::string body = PatientView(record, "knee1");
  FakeFhirClient client("https://ehr.example.org/fhir", record);
  const std::string fetched =
      R"({"hook":"patient-view","hookInstance":")" + std::string(kHookInstance) +
      R"(","fhirServer":"https://ehr.example.org/fhir","context":{"userId":"Practitioner/a","patientId":"knee1"}})";
  const CallResult expected = service_->Call("regenpath-patient-view", body, nullptr);
  const CallResult expected_fetched = service_->Call("regenpath-patient-view", fetched, &client);
  ASSERT_EQ(expected.status, 200);
  ASSERT_EQ(expected_fetched.status, 200) << expected_fetched.body;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int thread = 0; thread < 4; ++thread) {
    threads.emplace_back([&, thread] {
      for (int round = 0; round < 10; ++round) {
        CallResult result = thread % 2 == 0 ? service_->Call("regenpath-patient-view", body, nullptr)
                                            : service_->Call("regenpath-patient-view", fetched, &client);
        const CallResult& want = thread % 2 == 0 ? expected : expected_fetched;
        if (result.status != want.status || result.body != want.body) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(CdsServiceTest, FetchesEachTemplateOnceWithTheToken) {
  json::value record = json::parse(ReadFile(kRecords + "/knee-oa-candidate.json"));
  FakeFhirClient client("https://ehr.example.org/fhir", record);
  const std::string body =
      R"({"hook":"patient-view","hookInstance":")" + std::string(kHookInstance) +
      R"(","fhirServer":"https://ehr.example.org/fhir","fhirAuthorization":{"access_token":"t0k","token_type":"Bearer",)"
      R"("expires_in":300,"scope":"patient/*.read","subject":"regenpath","patient":"knee1"},)"
      R"("context":{"userId":"Practitioner/a","patientId":"knee1"}})";
  CallResult result = service_->Call("regenpath-patient-view", body, &client);
  ASSERT_EQ(result.status, 200) << result.body;
  const std::vector<PrefetchTemplate> templates = BuildPrefetchTemplates(SharedEngine()->kb());
  auto requests = client.requests();
  ASSERT_EQ(requests.size(), templates.size());
  for (size_t index = 0; index < templates.size(); ++index) {
    EXPECT_EQ(requests[index].first,
              "https://ehr.example.org/fhir/" + ExpandQuery(templates[index].query, "knee1"));
    EXPECT_EQ(requests[index].second, "t0k");
  }
}

TEST(CdsServiceCreateTest, NeedsAnEngineAndAClock) {
  FixedClock clock(*DateTime::ParseDateTime("2026-01-15"));
  EXPECT_FALSE(CdsHooksService::Create(nullptr, &clock).has_value());
  EXPECT_FALSE(CdsHooksService::Create(SharedEngine(), nullptr).has_value());
}

TEST(CdsServiceLimitsTest, PageLimitIsConfigurable) {
  FixedClock clock(*DateTime::ParseDateTime("2026-01-15"));
  CdsHooksServiceOptions options;
  options.max_pages_per_query = 2;
  Result<CdsHooksService> service = CdsHooksService::Create(SharedEngine(), &clock, options);
  ASSERT_TRUE(service.has_value());
  json::value record = json::parse(ReadFile(kRecords + "/knee-oa-candidate.json"));
  FakeFhirClient client("https://ehr.example.org/fhir", record);
  client.set_page_size(1);
  const std::string body =
      R"({"hook":"patient-view","hookInstance":")" + std::string(kHookInstance) +
      R"(","fhirServer":"https://ehr.example.org/fhir","context":{"userId":"Practitioner/a","patientId":"knee1"}})";
  CallResult result = service->Call("regenpath-patient-view", body, &client);
  EXPECT_EQ(result.status, 412);
  EXPECT_THAT(result.body, HasSubstr("more than 2 pages"));
  options.max_record_bytes = 1000;
  service = CdsHooksService::Create(SharedEngine(), &clock, options);
  client.set_page_size(0);
  result = service->Call("regenpath-patient-view", body, &client);
  EXPECT_EQ(result.status, 412);
  EXPECT_THAT(result.body, HasSubstr("exceeds"));
}

// --- Helpers
// ----------------------------------------------------------------------------------------------------------

TEST(TextTest, OneLineCutsCharactersNotBytes) {
  EXPECT_EQ(OneLine("  a\n\tb  ", 10), "a b");
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "é word ";
  std::string cut = OneLine(long_text, 139);
  EXPECT_LE(CountChars(cut), 139u);
  EXPECT_TRUE(cut.ends_with("\xE2\x80\xA6"));
  EXPECT_EQ(OneLine("\xff\xfe ok", 10), "\xEF\xBF\xBD\xEF\xBF\xBD ok");
  EXPECT_EQ(CountChars("h\xC3\xA9llo"), 5u);
}

// Plain one-line ASCII takes a fast path; it must agree with the slow one.
TEST(TextTest, OneLineFastPathAgreesAtItsEdges) {
  EXPECT_EQ(OneLine("plain words", 11), "plain words");
  EXPECT_EQ(OneLine("plain words", 10), "plain\xE2\x80\xA6");
  EXPECT_EQ(OneLine("two  spaces", 20), "two spaces");
  EXPECT_EQ(OneLine(" leading", 20), "leading");
  EXPECT_EQ(OneLine("trailing ", 20), "trailing");
  EXPECT_EQ(OneLine("del\x7f", 20), "del");
  EXPECT_EQ(OneLine("tab\there", 20), "tab here");
  EXPECT_EQ(OneLine("", 5), "");
}

TEST(TextTest, MarkdownEscapesEverythingActive) {
  EXPECT_EQ(EscapeMarkdown("plain text, 7.5 mg"), "plain text, 7.5 mg");
  EXPECT_EQ(EscapeMarkdown("caf\xC3\xA9 *x* \x7f\xff!"), "caf\xC3\xA9 \\*x\\*  \xEF\xBF\xBD\\!");
  EXPECT_EQ(EscapeMarkdown("[x](javascript:y) <b>&"), "\\[x\\]\\(javascript:y\\) &lt;b&gt;&amp;");
  EXPECT_EQ(EscapeMarkdown("a|b\nc*d_e`f"), "a\\|b c\\*d\\_e\\`f");
  EXPECT_TRUE(IsAbsoluteHttpUrl("https://doi.org/10.1097/AAP.0000000000000700"));
  EXPECT_FALSE(IsAbsoluteHttpUrl("javascript:alert(1)"));
  EXPECT_FALSE(IsAbsoluteHttpUrl("https://"));
  EXPECT_FALSE(IsAbsoluteHttpUrl("https://a b"));
}

TEST(UuidTest, NameBasedUuidsAreVersion5AndStable) {
  std::string uuid = NameBasedUuid("card 0");
  EXPECT_TRUE(IsUuid(uuid));
  EXPECT_EQ(uuid[14], '5');
  EXPECT_TRUE(uuid[19] == '8' || uuid[19] == '9' || uuid[19] == 'a' || uuid[19] == 'b');
  EXPECT_EQ(uuid, NameBasedUuid("card 0"));
  EXPECT_NE(uuid, NameBasedUuid("card 1"));
  EXPECT_TRUE(IsUuid("D1577C69-DFBE-44AD-BA6D-3E05E953B2EA"));
  EXPECT_FALSE(IsUuid("urn:uuid:d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"));
  EXPECT_FALSE(IsUuid("d1577c69dfbe44adba6d3e05e953b2ea"));
}

}  // namespace
}  // namespace regenpath::cdshooks
