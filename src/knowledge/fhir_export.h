// ExportFhir: the knowledge base as FHIR R4 knowledge artifacts (the
// mapping is described in docs/knowledge-base.md, "FHIR export"):
//
//   PlanDefinition/<kb name>   the care pathway (clinical-protocol): red
//                              flags, contraindications, medication holds and
//                              one action group per condition (stage rules,
//                              options); every citation; instruments as goals
//   Library/<kb name>          the FHIRPath definitions (text/fhirpath) and
//                              the parameters
//   Measure/<kb name>          what `regenpath screen`'s MeasureReport
//                              reports on: a cohort of the assessed patients
//                              and its stratifiers
//   ActivityDefinition/<id>    one per option
//   ValueSet/<id>              one per value set
//
// Every resource validates against the FHIR R4 JSON schema
// (../shared/testdata/fhir-json-schema/fhir.schema.json). Canonical URLs are
// http://regenpath.org/fhir/<ResourceType>/<id>; every resource carries the
// knowledge base's version. The output depends only on the knowledge base
// (no dates, no random ids), so exporting twice gives identical files.
//
// Thread-safety: a pure function of an immutable KnowledgeBase.
#ifndef REGENPATH_KNOWLEDGE_FHIR_EXPORT_H_
#define REGENPATH_KNOWLEDGE_FHIR_EXPORT_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::knowledge {

struct ExportedResource {
  std::string resource_type;  // "PlanDefinition", "Library", "Measure", "ActivityDefinition" or "ValueSet"
  std::string id;
  std::string file_name;  // "<resource_type>-<id>.json"
  std::string json;       // the resource, pretty-printed, ending with a newline
};

// Returns the resources in this order: the PlanDefinition, the Library, the
// Measure, the ActivityDefinitions (in knowledge-base order), the ValueSets (likewise).
// Fails (kInvalidInput) when the knowledge base is not usable (it has
// problems: run `regenpath kb check`), or when an id of the knowledge base
// or a code is not valid in FHIR (an id must match [A-Za-z0-9\-.]{1,64}); the
// message names the entry.
Result<std::vector<ExportedResource>> ExportFhir(const KnowledgeBase& kb);

// The canonical URL of a resource of the export:
// http://regenpath.org/fhir/<resource_type>/<id>.
std::string CanonicalUrl(std::string_view resource_type, std::string_view id);

// The screening measure's one group (its code's text) and its stratifiers,
// in the MeasureReport's order: the Measure the export writes and the
// MeasureReport `regenpath screen` writes both take their codes from here.
inline constexpr std::string_view kScreeningGroup = "assessed patients";
struct ScreeningStratifier {
  std::string_view code;         // the stratifier's code (its text)
  std::string_view description;  // what a stratum counts
};
std::span<const ScreeningStratifier> ScreeningStratifiers();

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_FHIR_EXPORT_H_
