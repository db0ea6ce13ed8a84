// Prefetch data is passed on byte for byte (cdshooks/raw_json): the spans
// found, and what ParseHookRequest / ReadFhirPayload keep of them.
#include "cdshooks/raw_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cdshooks/fhir_payload.h"
#include "cdshooks/hook_request.h"

namespace regenpath::cdshooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TEST(RawJsonTest, ObjectMembersAreTheirSourceText) {
  const std::string json = R"({"hook": "x", "prefetch": {
      "patient" : { "resourceType": "Patient",  "id": "p1" } ,
      "none": null, "list": [1, 2],
      "pa\u0074h": {"a": 1.50}}})";
  EXPECT_THAT(RawObjectMembers(json, "prefetch"),
              ElementsAre(Pair("path", R"({"a": 1.50})"),
                          Pair("patient", R"({ "resourceType": "Patient",  "id": "p1" })")));
  EXPECT_TRUE(RawObjectMembers(json, "context").empty());
  EXPECT_TRUE(RawObjectMembers(R"({"prefetch": [1]})", "prefetch").empty());
  EXPECT_TRUE(RawObjectMembers("[]", "prefetch").empty());
}

TEST(RawJsonTest, EntryResourcesInOrder) {
  const std::string json = R"({"resourceType":"Bundle","entry":[
      {"fullUrl":"u1","resource":{"resourceType":"Observation","valueQuantity":{"value":7.50}}},
      {"request":{"method":"DELETE"}},
      {"resource" : {"resourceType":"Patient"} }]})";
  EXPECT_THAT(RawEntryResources(json),
              ElementsAre(R"({"resourceType":"Observation","valueQuantity":{"value":7.50}})", "",
                          R"({"resourceType":"Patient"})"));
  EXPECT_TRUE(RawEntryResources(R"({"resourceType":"Bundle"})").empty());
}

TEST(RawJsonTest, ObjectTextIsTrimmed) {
  EXPECT_EQ(RawObjectText(" \n{\"a\":1}\t"), "{\"a\":1}");
  EXPECT_EQ(RawObjectText("[1]"), "");
  EXPECT_EQ(RawObjectText(""), "");
}

// Decimals keep their exact text from the request to the assembled record
// (re-serializing through the DOM wrote 7.50 as 7.5 and 1.0E2 as 100.0).
TEST(RawJsonTest, PrefetchDecimalsKeepTheirText) {
  const std::string body = R"({
    "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/1", "patientId": "p1"},
    "prefetch": {
      "pain": {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"fullUrl": "http://x/Observation/o1", "resource": {"resourceType": "Observation", "id": "o1",
          "subject": {"reference": "Patient/p1"}, "valueQuantity": {"value": 7.50}}},
        {"resource": {"resourceType": "Observation", "id": "o2", "valueQuantity": {"value": 1.0E2}}}]},
      "patient": {"resourceType": "Patient", "id": "p1", "extension": [{"url": "u", "valueDecimal": 0.10}]}
    }})";
  auto request = ParseHookRequest(body, Hook::kPatientView);
  ASSERT_TRUE(request.has_value());
  ASSERT_TRUE(request->prefetch.at("pain").has_value());
  const std::string& pain = *request->prefetch.at("pain");
  EXPECT_THAT(pain, HasSubstr("7.50"));

  PrefetchTemplate search{"pain", "Observation", "Observation?patient={{context.patientId}}", false};
  FhirPayload payload = ReadFhirPayload(pain, search);
  ASSERT_EQ(payload.kind, PayloadKind::kResources) << payload.message;
  ASSERT_EQ(payload.entries.size(), 2u);
  EXPECT_THAT(payload.entries[0].resource_json, HasSubstr(R"({"value": 7.50})"));
  EXPECT_THAT(payload.entries[1].resource_json, HasSubstr("1.0E2"));
  EXPECT_EQ(payload.entries[0].full_url, "http://x/Observation/o1");
  EXPECT_EQ(payload.entries[0].patient_reference, "Patient/p1");

  PrefetchTemplate read{"patient", "Patient", "Patient/{{context.patientId}}", true};
  FhirPayload patient = ReadFhirPayload(*request->prefetch.at("patient"), read);
  ASSERT_EQ(patient.kind, PayloadKind::kResources) << patient.message;
  ASSERT_EQ(patient.entries.size(), 1u);
  EXPECT_THAT(patient.entries[0].resource_json, HasSubstr("0.10"));
  EXPECT_THAT(patient.entries[0].resource_json, Not(HasSubstr("0.1}")));
}

// Inside a 1.0 {response, resource} wrapper the resource is re-serialized
// (still valid JSON, same content).
TEST(RawJsonTest, WrappedResourceIsStillRead) {
  PrefetchTemplate read{"patient", "Patient", "Patient/{{context.patientId}}", true};
  FhirPayload payload =
      ReadFhirPayload(R"({"response": {"status": "200 OK"}, "resource": {"resourceType": "Patient", "id": "p1"}})", read);
  ASSERT_EQ(payload.kind, PayloadKind::kResources) << payload.message;
  ASSERT_EQ(payload.entries.size(), 1u);
  EXPECT_EQ(payload.entries[0].resource_json, R"({"resourceType":"Patient","id":"p1"})");
}

}  // namespace
}  // namespace regenpath::cdshooks
