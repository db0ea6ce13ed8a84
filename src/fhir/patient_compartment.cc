#include "fhir/patient_compartment.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace regenpath::fhir {

namespace {

// FHIR R4 CompartmentDefinition "patient": the parameter that links each
// resource type (those a patient record holds) to its patient. Types with
// several parameters list the one that names the record's own patient.
constexpr std::array<std::pair<std::string_view, std::string_view>, 48> kPatientElements = {{
    {"Account", "subject"},
    {"AdverseEvent", "subject"},
    {"AllergyIntolerance", "patient"},
    {"Appointment", "participant"},
    {"AppointmentResponse", "actor"},
    {"AuditEvent", "patient"},
    {"Basic", "subject"},
    {"BodyStructure", "patient"},
    {"CarePlan", "subject"},
    {"CareTeam", "subject"},
    {"ChargeItem", "subject"},
    {"Claim", "patient"},
    {"ClaimResponse", "patient"},
    {"ClinicalImpression", "subject"},
    {"Communication", "subject"},
    {"CommunicationRequest", "subject"},
    {"Composition", "subject"},
    {"Condition", "subject"},
    {"Consent", "patient"},
    {"Coverage", "beneficiary"},
    {"CoverageEligibilityRequest", "patient"},
    {"DetectedIssue", "patient"},
    {"Device", "patient"},
    {"DeviceRequest", "subject"},
    {"DeviceUseStatement", "subject"},
    {"DiagnosticReport", "subject"},
    {"DocumentReference", "subject"},
    {"Encounter", "subject"},
    {"EpisodeOfCare", "patient"},
    {"ExplanationOfBenefit", "patient"},
    {"FamilyMemberHistory", "patient"},
    {"Flag", "subject"},
    {"Goal", "subject"},
    {"ImagingStudy", "subject"},
    {"Immunization", "patient"},
    {"MedicationAdministration", "subject"},
    {"MedicationDispense", "subject"},
    {"MedicationRequest", "subject"},
    {"MedicationStatement", "subject"},
    {"NutritionOrder", "patient"},
    {"Observation", "subject"},
    {"Patient", "id"},
    {"Procedure", "subject"},
    {"QuestionnaireResponse", "subject"},
    {"RiskAssessment", "subject"},
    {"ServiceRequest", "subject"},
    {"Specimen", "subject"},
    {"SupplyDelivery", "patient"},
}};
static_assert(std::is_sorted(kPatientElements.begin(), kPatientElements.end()),
              "PatientElement relies on the order");
static_assert(kPatientElements.size() < 256, "PatientElement's ranges are bytes");

}  // namespace

std::optional<std::string_view> PatientElement(std::string_view resource_type) {
  // The table's entries by first byte (it is sorted): every line asks, and a
  // binary search compared six names a line.
  static constexpr std::array<std::pair<uint8_t, uint8_t>, 256> kByFirstByte = [] {
    std::array<std::pair<uint8_t, uint8_t>, 256> ranges{};
    for (size_t i = kPatientElements.size(); i-- > 0;) {
      auto& range = ranges[static_cast<unsigned char>(kPatientElements[i].first.front())];
      if (range.first == range.second) range.second = static_cast<uint8_t>(i + 1);
      range.first = static_cast<uint8_t>(i);
    }
    return ranges;
  }();
  if (resource_type.empty()) return std::nullopt;
  const auto [begin, end] = kByFirstByte[static_cast<unsigned char>(resource_type.front())];
  for (size_t i = begin; i < end; ++i) {
    if (kPatientElements[i].first == resource_type) return kPatientElements[i].second;
  }
  return std::nullopt;
}

std::string_view PatientIdInReference(std::string_view reference) {
  // (An id has no '/' or '_': the first "/_history/" ends the id. Found
  // from its '_', which few references hold: one memchr for most.)
  constexpr std::string_view kHistory = "/_history/";
  for (size_t at = reference.find('_'); at != std::string_view::npos; at = reference.find('_', at + 1)) {
    if (at > 0 && reference.substr(at - 1).starts_with(kHistory)) {
      reference = reference.substr(0, at - 1);
      break;
    }
  }
  // The last '/' (glibc's memrchr: string_view::rfind steps back a byte at
  // a time, through the whole id).
  const void* last = reference.empty() ? nullptr : memrchr(reference.data(), '/', reference.size());
  if (last == nullptr) return {};
  const size_t slash = static_cast<size_t>(static_cast<const char*>(last) - reference.data());
  const std::string_view type = reference.substr(0, slash);
  const std::string_view id = reference.substr(slash + 1);
  if (id.empty() || !(type == "Patient" || type.ends_with("/Patient"))) return {};
  return id;
}

}  // namespace regenpath::fhir
