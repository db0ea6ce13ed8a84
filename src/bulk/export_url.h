// The URLs of a Bulk Data export request (Bulk Data Access IG 2.0): the
// kick-off URL of an export URL, and the FHIR base it belongs to. An export
// URL is the server's FHIR base (system level), <base>/Patient (every
// patient) or <base>/Group/<id> (a group's members), each with or without a
// trailing '/'.
#ifndef REGENPATH_BULK_EXPORT_URL_H_
#define REGENPATH_BULK_EXPORT_URL_H_

#include <string>
#include <string_view>
#include <vector>

namespace regenpath::bulk {

// <export url>/$export?_outputFormat=application%2Ffhir%2Bndjson, then
// &_type=<types joined by ','> unless `types` is empty (every type).
std::string KickoffUrl(std::string_view export_url, const std::vector<std::string>& types);

// The FHIR base of `export_url`: without trailing '/'s, and without a last
// "/Patient" segment or last two "/Group/<id>" segments. "https://e/fhir",
// "https://e/fhir/Patient/" and "https://e/fhir/Group/g1" all give
// "https://e/fhir".
std::string FhirBase(std::string_view export_url);

}  // namespace regenpath::bulk

#endif  // REGENPATH_BULK_EXPORT_URL_H_
