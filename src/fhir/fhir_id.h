// The FHIR id rule: what a resource's id (and any element of type id) must
// be, and so the id part of a relative reference.
#ifndef REGENPATH_FHIR_FHIR_ID_H_
#define REGENPATH_FHIR_FHIR_ID_H_

#include <string_view>

namespace regenpath::fhir {

// True iff `text` is a FHIR R4 id: 1 to 64 of [A-Za-z0-9-.].
bool IsFhirId(std::string_view text);

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_FHIR_ID_H_
