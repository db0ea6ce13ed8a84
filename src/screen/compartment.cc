#include "screen/compartment.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <utility>

namespace regenpath::screen {

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

}  // namespace

std::optional<std::string_view> PatientElement(std::string_view resource_type) {
  auto found = std::lower_bound(kPatientElements.begin(), kPatientElements.end(), resource_type,
                                [](const auto& entry, std::string_view type) { return entry.first < type; });
  if (found == kPatientElements.end() || found->first != resource_type) return std::nullopt;
  return found->second;
}

std::optional<std::string_view> PatientIdOfReference(std::string_view reference) {
  constexpr std::string_view kUrnUuid = "urn:uuid:";
  if (reference.starts_with(kUrnUuid)) {
    reference.remove_prefix(kUrnUuid.size());
    if (reference.empty()) return std::nullopt;
    return reference;
  }
  // "Patient/<id>", "<base>/Patient/<id>", "…/Patient/<id>/_history/<v>".
  constexpr std::string_view kPatient = "Patient/";
  size_t at = std::string_view::npos;
  for (size_t from = 0;;) {
    size_t next = reference.find(kPatient, from);
    if (next == std::string_view::npos) break;
    if (next == 0 || reference[next - 1] == '/') at = next;
    from = next + 1;
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view id = reference.substr(at + kPatient.size());
  id = id.substr(0, id.find('/'));
  if (id.empty()) return std::nullopt;
  return id;
}

uint64_t PatientHash(std::string_view patient_id) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : patient_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

struct LineRouter::Impl {
  simdjson::dom::parser parser;
  simdjson::ondemand::parser quick_parser;
};

LineRouter::LineRouter() : impl_(std::make_unique<Impl>()) {}
LineRouter::~LineRouter() = default;

namespace {

// The patient a reference element names: {"reference": "..."}; for
// Appointment.participant and the like, the first actor that is a patient.
std::optional<std::string_view> PatientOfElement(simdjson::dom::element element) {
  simdjson::dom::array items;
  if (element.get_array().get(items) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : items) {
      if (std::optional<std::string_view> id = PatientOfElement(item)) return id;
    }
    return std::nullopt;
  }
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  std::string_view reference;
  if (object["reference"].get_string().get(reference) == simdjson::SUCCESS) return PatientIdOfReference(reference);
  // participant.actor / actor
  simdjson::dom::element actor;
  if (object["actor"].get(actor) == simdjson::SUCCESS) return PatientOfElement(actor);
  return std::nullopt;
}

// PatientOfElement for an On-Demand value (the same rule).
std::optional<std::string> QuickPatientOfValue(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return std::nullopt;
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array items;
    if (value.get_array().get(items) != simdjson::SUCCESS) return std::nullopt;
    for (auto item : items) {
      simdjson::ondemand::value element;
      if (item.get(element) != simdjson::SUCCESS) return std::nullopt;
      if (std::optional<std::string> id = QuickPatientOfValue(element)) return id;
    }
    return std::nullopt;
  }
  if (type != simdjson::ondemand::json_type::object) return std::nullopt;
  simdjson::ondemand::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  // The DOM rule reads "reference" first and "actor" only without one.
  std::optional<std::string> from_actor;
  bool has_reference = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key == "reference" && !has_reference) {
      has_reference = true;
      std::string_view reference;
      if (field.value().get_string().get(reference) != simdjson::SUCCESS) return std::nullopt;
      std::optional<std::string_view> id = PatientIdOfReference(reference);
      if (!id) return std::nullopt;
      return std::string(*id);
    }
    if (key == "actor" && !from_actor) {
      simdjson::ondemand::value actor;
      if (field.value().get(actor) != simdjson::SUCCESS) return std::nullopt;
      from_actor = QuickPatientOfValue(actor);
      if (!from_actor) return std::nullopt;  // the DOM rule looks no further either
    }
  }
  return from_actor;
}

}  // namespace

std::optional<std::string> LineRouter::QuickPatient(std::string_view line, size_t capacity) {
  if (capacity < line.size() + simdjson::SIMDJSON_PADDING) return std::nullopt;
  simdjson::ondemand::document document;
  if (impl_->quick_parser.iterate(line.data(), line.size(), capacity).get(document) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::ondemand::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  // One pass over the top-level fields: resourceType, then the element that
  // names the patient (first occurrence of each, as the DOM lookup takes).
  std::string type;
  std::optional<std::string_view> element;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (type.empty()) {
      if (key != "resourceType") continue;
      std::string_view value;
      if (field.value().get_string().get(value) != simdjson::SUCCESS || value.empty()) return std::nullopt;
      type = std::string(value);
      element = PatientElement(type);
      if (!element) return std::nullopt;
      // The element may come before resourceType: start again from the top.
      break;
    }
  }
  if (!element) return std::nullopt;
  if (object.reset().error() != simdjson::SUCCESS) return std::nullopt;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key != *element) continue;
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) return std::nullopt;
    if (*element == "id") {
      std::string_view own;
      if (value.get_string().get(own) != simdjson::SUCCESS || own.empty()) return std::nullopt;
      return std::string(own);
    }
    return QuickPatientOfValue(value);
  }
  return std::nullopt;
}

LineRouting LineRouter::Route(std::string_view line, size_t capacity) {
  LineRouting routing;
  simdjson::dom::element root;
  simdjson::error_code error =
      impl_->parser.parse(reinterpret_cast<const uint8_t*>(line.data()), line.size(), capacity < line.size() + simdjson::SIMDJSON_PADDING).get(root);
  if (error) {
    routing.message = simdjson::error_message(error);
    return routing;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    routing.message = "the line is not a JSON object";
    return routing;
  }
  std::string_view type;
  if (object["resourceType"].get_string().get(type) != simdjson::SUCCESS || type.empty()) {
    routing.message = "the JSON object has no resourceType";
    return routing;
  }
  routing.resource_type = std::string(type);
  std::optional<std::string_view> element = PatientElement(type);
  if (!element) {
    routing.kind = LineKind::kOutsideCompartment;
    return routing;
  }
  std::optional<std::string_view> id;
  if (*element == "id") {
    std::string_view own;
    if (object["id"].get_string().get(own) == simdjson::SUCCESS && !own.empty()) id = own;
  } else {
    simdjson::dom::element value;
    if (object[*element].get(value) == simdjson::SUCCESS) id = PatientOfElement(value);
  }
  if (!id) {
    routing.kind = LineKind::kNoPatient;
    return routing;
  }
  routing.kind = LineKind::kPatientResource;
  routing.patient_id = std::string(*id);
  return routing;
}

}  // namespace regenpath::screen
