// Prefetch data is passed on byte for byte (cdshooks/raw_json): the spans
// found, and what ParseHookRequest / ReadFhirPayload keep of them.
#include "cdshooks/raw_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cdshooks/fhir_payload.h"
#include "cdshooks/hook_request.h"

namespace regenpath::cdshooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

MATCHER_P(TextIs, text, "") { return arg.text == text; }

TEST(RawJsonTest, ObjectMembersAreTheirSourceText) {
  const std::string json = R"({"hook": "x", "prefetch": {
      "patient" : { "resourceType": "Patient",  "id": "p1" } ,
      "none": null, "list": [1, 2],
      "pa\u0074h": {"a": 1.50}}})";
  EXPECT_THAT(RawObjectMembers(json, "prefetch"),
              ElementsAre(Pair("path", TextIs(R"({"a": 1.50})")),
                          Pair("patient", TextIs(R"({ "resourceType": "Patient",  "id": "p1" })"))));
  EXPECT_FALSE(RawObjectMembers(json, "prefetch").at("patient").entries_known);
  EXPECT_TRUE(RawObjectMembers(json, "context").empty());
  EXPECT_TRUE(RawObjectMembers(R"({"prefetch": [1]})", "prefetch").empty());
  EXPECT_TRUE(RawObjectMembers("[]", "prefetch").empty());
}

// The entries of a Bundle-valued member are found in the same pass, as
// RawEntryResources finds them; the first "entry" and "resource" count.
TEST(RawJsonTest, MemberEntriesAreFoundInTheSamePass) {
  const std::string json = R"({"prefetch": {"pain": {"resourceType": "Bundle", "link": [{"relation": "self"}],
      "entry": [
        {"fullUrl": "u1", "resource": {"resourceType": "Observation", "valueQuantity": {"value": 7.50}},
         "resource": {"resourceType": "Patient"}},
        {"request": {"method": "DELETE"}},
        {"resource": "not an object"},
        {"resource" : {"resourceType": "Condition", "entry": [{"resource": {}}]} }],
      "entry": [{"resource": {"resourceType": "Patient"}}]} }})";
  auto members = RawObjectMembers(json, "prefetch");
  ASSERT_EQ(members.count("pain"), 1u);
  const RawMember& pain = members.at("pain");
  EXPECT_TRUE(pain.entries_known);
  EXPECT_THAT(pain.entry_resources,
              ElementsAre(R"({"resourceType": "Observation", "valueQuantity": {"value": 7.50}})", "", "",
                          R"({"resourceType": "Condition", "entry": [{"resource": {}}]})"));
  EXPECT_TRUE(pain.text.starts_with(R"({"resourceType": "Bundle")"));
  EXPECT_TRUE(pain.text.ends_with(R"([{"resource": {"resourceType": "Patient"}}]})"));
  // An "entry" that is not an array leaves the entries unknown.
  auto odd = RawObjectMembers(R"({"prefetch": {"b": {"entry": 3, "entry": []}}})", "prefetch");
  ASSERT_EQ(odd.count("b"), 1u);
  EXPECT_FALSE(odd.at("b").entries_known);
  EXPECT_EQ(odd.at("b").text, R"({"entry": 3, "entry": []})");
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

// A patient-view request for patient p1 whose prefetch holds `members`.
std::string PatientViewRequest(std::string_view members) {
  return R"({"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/1", "patientId": "p1"}, "prefetch": {)" +
         std::string(members) + "}}";
}

// A searchset entry with a decimal written 7.50.
constexpr std::string_view kFirstPainEntry = R"(
        {"fullUrl": "http://x/Observation/o1", "resource": {"resourceType": "Observation", "id": "o1",
          "subject": {"reference": "Patient/p1"}, "valueQuantity": {"value": 7.50}}})";

// Decimals keep their exact text from the request to the assembled record
// (re-serializing through the DOM wrote 7.50 as 7.5 and 1.0E2 as 100.0).
TEST(RawJsonTest, PrefetchDecimalsKeepTheirText) {
  const std::string body = PatientViewRequest(R"(
      "pain": {"resourceType": "Bundle", "type": "searchset", "entry": [)" +
                                              std::string(kFirstPainEntry) + R"(,
        {"resource": {"resourceType": "Observation", "id": "o2", "valueQuantity": {"value": 1.0E2}}}]},
      "patient": {"resourceType": "Patient", "id": "p1", "extension": [{"url": "u", "valueDecimal": 0.10}]})");
  auto request = ParseHookRequest(body, Hook::kPatientView);
  ASSERT_TRUE(request.has_value());
  ASSERT_TRUE(request->prefetch.at("pain").json.has_value());
  const std::string& pain = *request->prefetch.at("pain").json;
  EXPECT_THAT(pain, HasSubstr("7.50"));
  EXPECT_FALSE(request->prefetch.at("pain").payload.has_value());  // no templates given

  PrefetchTemplate search{"pain", "Observation", "Observation?patient={{context.patientId}}", false};
  FhirPayload payload = ReadFhirPayload(pain, search);
  ASSERT_EQ(payload.kind, PayloadKind::kResources) << payload.message;
  ASSERT_EQ(payload.entries.size(), 2u);
  EXPECT_THAT(payload.entries[0].resource_json, HasSubstr(R"({"value": 7.50})"));
  EXPECT_THAT(payload.entries[1].resource_json, HasSubstr("1.0E2"));
  EXPECT_EQ(payload.entries[0].full_url, "http://x/Observation/o1");
  EXPECT_EQ(payload.entries[0].patient_reference, "Patient/p1");

  PrefetchTemplate read{"patient", "Patient", "Patient/{{context.patientId}}", true};
  FhirPayload patient = ReadFhirPayload(*request->prefetch.at("patient").json, read);
  ASSERT_EQ(patient.kind, PayloadKind::kResources) << patient.message;
  ASSERT_EQ(patient.entries.size(), 1u);
  EXPECT_THAT(patient.entries[0].resource_json, HasSubstr("0.10"));
  EXPECT_THAT(patient.entries[0].resource_json, Not(HasSubstr("0.1}")));
}

// Given the service's templates, ParseHookRequest reads the prefetch values
// from its own parse; the payload is the one ReadFhirPayload gives.
TEST(RawJsonTest, PrefetchPayloadsAreReadWithTheRequest) {
  const std::string body = PatientViewRequest(R"(
      "pain": {"resourceType": "Bundle", "type": "searchset", "entry": [)" +
                                              std::string(kFirstPainEntry) + R"(,
        {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "x"}]}},
        {"resource": {"resourceType": "Observation", "id": "o2", "valueQuantity": {"value": 1.0E2}}}],
        "link": [{"relation": "next", "url": "http://x/next"}]},
      "patient": {"resourceType": "Patient", "id": "p1"},
      "failed": {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "x",
                 "diagnostics": "no access"}]},
      "none": null,
      "other": {"resourceType": "Basic"})");
  const std::vector<PrefetchTemplate> templates = {
      {"pain", "Observation", "Observation?patient={{context.patientId}}", false},
      {"patient", "Patient", "Patient/{{context.patientId}}", true},
      {"failed", "Condition", "Condition?patient={{context.patientId}}", false},
      {"none", "Procedure", "Procedure?patient={{context.patientId}}", false}};
  auto request = ParseHookRequest(body, Hook::kPatientView, templates);
  ASSERT_TRUE(request.has_value());
  for (const PrefetchTemplate& query : templates) {
    SCOPED_TRACE(query.key);
    const PrefetchValue& value = request->prefetch.at(query.key);
    if (!value.json) {
      EXPECT_FALSE(value.payload.has_value());
      continue;
    }
    ASSERT_TRUE(value.payload.has_value());
    FhirPayload reread = ReadFhirPayload(*value.json, query);
    EXPECT_EQ(value.payload->kind, reread.kind);
    EXPECT_EQ(value.payload->message, reread.message);
    EXPECT_EQ(value.payload->next_url, reread.next_url);
    ASSERT_EQ(value.payload->entries.size(), reread.entries.size());
    for (size_t i = 0; i < reread.entries.size(); ++i) {
      EXPECT_EQ(value.payload->entries[i].resource_json, reread.entries[i].resource_json);
      EXPECT_EQ(value.payload->entries[i].full_url, reread.entries[i].full_url);
      EXPECT_EQ(value.payload->entries[i].id, reread.entries[i].id);
      EXPECT_EQ(value.payload->entries[i].patient_reference, reread.entries[i].patient_reference);
    }
  }
  const FhirPayload& pain = *request->prefetch.at("pain").payload;
  ASSERT_EQ(pain.entries.size(), 2u);
  EXPECT_THAT(pain.entries[0].resource_json, HasSubstr(R"({"value": 7.50})"));
  EXPECT_EQ(pain.next_url, "http://x/next");
  EXPECT_EQ(request->prefetch.at("failed").payload->kind, PayloadKind::kFailed);
  EXPECT_FALSE(request->prefetch.at("other").payload.has_value());  // no template for it
}

// Inside a 1.0 {response, resource} wrapper the resource is re-serialized
// (still valid JSON, same content).
TEST(RawJsonTest, WrappedResourceIsStillRead) {
  PrefetchTemplate read{"patient", "Patient", "Patient/{{context.patientId}}", true};
  FhirPayload payload = ReadFhirPayload(
      R"({"response": {"status": "200 OK"}, "resource": {"resourceType": "Patient", "id": "p1"}})", read);
  ASSERT_EQ(payload.kind, PayloadKind::kResources) << payload.message;
  ASSERT_EQ(payload.entries.size(), 1u);
  EXPECT_EQ(payload.entries[0].resource_json, R"({"resourceType":"Patient","id":"p1"})");
}

}  // namespace
}  // namespace regenpath::cdshooks
