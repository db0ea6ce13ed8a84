// The patient compartment: which element of a resource names the patient
// whose record it belongs to (FHIR R4 CompartmentDefinition "patient").
// Shared by the screen's routing of Bulk Data lines and the engine's choice
// of one patient's resources in a record holding several.
#ifndef REGENPATH_FHIR_PATIENT_COMPARTMENT_H_
#define REGENPATH_FHIR_PATIENT_COMPARTMENT_H_

#include <optional>
#include <string_view>

namespace regenpath::fhir {

// The element of `resource_type` that names its patient ("subject",
// "patient", "beneficiary", "participant" for Appointment, "actor" for
// AppointmentResponse), "id" for Patient, or nullopt for a type outside the
// patient compartment (Organization, Practitioner, Medication, ...).
std::optional<std::string_view> PatientElement(std::string_view resource_type);

// The patient id a literal reference names: "Patient/<id>", also versioned
// ("Patient/<id>/_history/<v>") and at the end of an absolute URL
// ("https://ehr/fhir/Patient/<id>"): the reference, up to "/_history/",
// ends with the segments "Patient" and the id. Empty for any other
// reference ("Group/1", "#contained", "urn:uuid:...", "Patient/", and
// "Patient/a/b", which names no resource FHIR allows: nobody's rather than a
// guess). The one reading the engine, CDS Hooks and the screen share, so
// that they hand a resource to the same patient.
std::string_view PatientIdInReference(std::string_view reference);

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_PATIENT_COMPARTMENT_H_
