// PatientScope: which one patient a record is assessed for, and which of its
// resources belong to someone else.
//
// An assessment never uses another patient's data. A record (Bundle, NDJSON)
// may hold several patients; SelectPatient picks one — the one asked for, the
// record's only Patient resource, or, when the record has no Patient, the one
// patient its resources name — and lists the resources that point to another
// patient (subject / patient / beneficiary: first the one the Patient
// compartment names for the type, fhir::PatientReferenceElementsOf). Resources of types outside the
// patient compartment (Medication, Practitioner, Organization, ...) stay:
// they are shared. In a record naming several patients, a resource of a
// compartment type that names none (no subject, a Group) is left out: it
// cannot be told to be the chosen patient's.
#ifndef REGENPATH_ENGINE_PATIENT_SCOPE_H_
#define REGENPATH_ENGINE_PATIENT_SCOPE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhir/document.h"
#include "fhir/element_filter.h"
#include "fhir/resource_filter.h"

namespace regenpath::engine {

struct PatientSelection {
  std::string patient_id;               // "" when the record names no patient at all
  const fhir::Node* patient = nullptr;  // the Patient resource, when the record has it
  // True when the record has no Patient resource and the id comes from the
  // references of its resources.
  bool inferred = false;
  // Resources of other patients (Patients included), in record order, and
  // for each the patient it names ("Patient/p2"); then, in a record naming
  // several patients, the compartment resources naming none (owner "").
  std::vector<const fhir::Node*> excluded;
  std::vector<std::string> excluded_owner;
};

// The id of the patient `resource` belongs to: its own id for a Patient; the
// patient its subject, patient or beneficiary reference names (in the order
// of fhir::PatientReferenceElementsOf: the type's compartment element first;
// "Patient/x",
// an absolute URL ending so, or a urn / URL that resolves to a Patient in
// `record`); "" when it names none. The view stays valid as long as `record`.
std::string_view PatientOf(const fhir::Node& resource, const fhir::Document& record);

// Picks the patient to assess (see the file comment). Fails (kInvalidInput)
// when the record holds several patients and `requested` is not given (the
// message names them and says to pass --patient), or when `requested` is
// neither a Patient of the record nor named by its resources while the
// record does name patients, or when the record holds copies of the chosen
// patient's Patient resource (the same id) that differ other than in
// whitespace (nothing says which is current); identical copies are one, the
// others excluded.
Result<PatientSelection> SelectPatient(const fhir::Document& record, const std::optional<std::string>& requested);

// A Bundle holding the record's resources except `selection.excluded`,
// parsed with `filter` and `resource_filter` (either may be null). Fails only when a kept resource's
// source text is not available (a synthetic node), which parsed input never
// has.
Result<fhir::Document> WithoutExcluded(const fhir::Document& record, const PatientSelection& selection,
                                       const fhir::ElementFilter* filter,
                                       const fhir::ResourceFilter* resource_filter);

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_PATIENT_SCOPE_H_
