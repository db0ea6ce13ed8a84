// Test-only: CDS Hooks request bodies built from the service's own discovery
// document, so the prefetch keys always match what the service asks for.
#ifndef REGENPATH_TESTS_SERVER_CDS_REQUEST_H_
#define REGENPATH_TESTS_SERVER_CDS_REQUEST_H_

#include <map>
#include <string>

#include "simdjson.h"

namespace regenpath::server::testing {

inline constexpr const char* kPatientId = "pt-1288992";
inline constexpr const char* kPatientJson =
    R"({"resourceType":"Patient","id":"pt-1288992","gender":"female","birthDate":"1961-04-02"})";
inline constexpr const char* kEmptyBundle =
    R"({"resourceType":"Bundle","type":"searchset","total":0,"entry":[]})";

// The prefetch templates of `service_id` in a discovery document.
inline std::map<std::string, std::string> PrefetchTemplates(const std::string& discovery,
                                                            const std::string& service_id) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(discovery).get(root)) return out;
  simdjson::dom::array services;
  if (root["services"].get_array().get(services)) return out;
  for (simdjson::dom::element service : services) {
    std::string_view id;
    if (service["id"].get_string().get(id) || id != service_id) continue;
    simdjson::dom::object prefetch;
    if (service["prefetch"].get_object().get(prefetch)) continue;
    for (auto field : prefetch) {
      std::string_view value;
      if (!field.value.get_string().get(value)) out[std::string(field.key)] = std::string(value);
    }
  }
  return out;
}

// A patient-view request. With `with_prefetch`, every template is answered
// (the Patient for a read, an empty searchset for a search); otherwise
// `fhir_server` (if any) is given with a fhirAuthorization token.
inline std::string PatientViewRequest(
    const std::string& discovery, bool with_prefetch, const std::string& fhir_server = "",
    const std::string& hook_instance = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea") {
  std::string body = R"({"hook":"patient-view","hookInstance":")" + hook_instance + R"(",)";
  if (!fhir_server.empty()) {
    body += R"("fhirServer":")" + fhir_server + R"(",)";
    body += R"("fhirAuthorization":{"access_token":"fhir-token-123","token_type":"Bearer","expires_in":300,)"
            R"("scope":"user/Patient.read user/Condition.read","subject":"regenpath"},)";
  }
  body += R"("context":{"userId":"Practitioner/example","patientId":")" + std::string(kPatientId) + R"("})";
  if (with_prefetch) {
    body += R"(,"prefetch":{)";
    bool first = true;
    for (const auto& [key, query] : PrefetchTemplates(discovery, "regenpath-patient-view")) {
      if (!first) body += ",";
      first = false;
      bool read = query.starts_with("Patient/") && query.find('?') == std::string::npos;
      body += "\"" + key + "\":" + (read ? kPatientJson : kEmptyBundle);
    }
    body += "}";
  }
  return body + "}";
}

}  // namespace regenpath::server::testing

#endif  // REGENPATH_TESTS_SERVER_CDS_REQUEST_H_
