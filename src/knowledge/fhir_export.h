// ExportFhir: the knowledge base as FHIR R4 knowledge artifacts (the
// mapping is described in docs/knowledge-base.md, "FHIR export"):
//
//   PlanDefinition/<kb name>   the care pathway (clinical-protocol): red
//                              flags, contraindications, medication holds and
//                              one action group per condition (stage rules,
//                              options); every citation; instruments as goals
//   Library/<kb name>          the FHIRPath definitions (text/fhirpath) and
//                              the parameters
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

#include <string>
#include <vector>

#include "common/status.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::knowledge {

struct ExportedResource {
  std::string resource_type;  // "PlanDefinition", "Library", "ActivityDefinition" or "ValueSet"
  std::string id;
  std::string file_name;  // "<resource_type>-<id>.json"
  std::string json;       // the resource, pretty-printed, ending with a newline
};

// Returns the resources in this order: the PlanDefinition, the Library, the
// ActivityDefinitions (in knowledge-base order), the ValueSets (likewise).
// Fails (kInvalidInput) when the knowledge base is not usable (it has
// problems: run `regenpath kb check`), or when an id of the knowledge base
// or a code is not valid in FHIR (an id must match [A-Za-z0-9\-.]{1,64}); the
// message names the entry.
Result<std::vector<ExportedResource>> ExportFhir(const KnowledgeBase& kb);

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_FHIR_EXPORT_H_
