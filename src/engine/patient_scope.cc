#include "engine/patient_scope.h"

#include <fmt/format.h>

#include <algorithm>

#include "fhir/json_equal.h"
#include "fhir/parser.h"
#include "fhir/patient_compartment.h"

namespace regenpath::engine {

namespace {

std::string_view IdOf(const fhir::Node& resource) {
  const fhir::Node* id = resource.Child("id");
  return id != nullptr && id->has_value() ? id->text() : std::string_view();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// Whether two resources' source texts are the same JSON value (whitespace,
// member order and escapes aside).
bool SameJson(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;  // no source text to compare
  return fhir::SameJsonValue(a, b);
}

}  // namespace

std::string_view PatientOf(const fhir::Node& resource, const fhir::Document& record) {
  if (resource.type_name() == "Patient") return IdOf(resource);
  for (std::string_view name : fhir::PatientReferenceElementsOf(resource.type_name())) {
    const fhir::Node* reference = resource.Child(name);
    if (reference == nullptr) continue;
    const fhir::Node* text = reference->Child("reference");
    if (text == nullptr || !text->has_value()) continue;
    std::string_view value = text->text();
    // Read without a lookup (the common case, on every resource).
    if (std::string_view id = fhir::PatientIdInReference(value); !id.empty()) return id;
    // urn:uuid:..., or a URL naming a Bundle entry: the entry it resolves to.
    if (const fhir::Node* target = record.Resolve(value, &resource);
        target != nullptr && target->type_name() == "Patient") {
      return IdOf(*target);
    }
    // The first element holding a reference decides alone (as the document's
    // index does): one naming no patient it can read (a Group, an
    // unresolved urn:uuid) makes the resource nobody's, never that of a
    // patient a stray element after it names.
    return std::string_view();
  }
  return std::string_view();
}

Result<PatientSelection> SelectPatient(const fhir::Document& record, const std::optional<std::string>& requested) {
  std::vector<const fhir::Node*> patients;
  std::vector<std::string> named;  // patients the other resources name, in first-seen order
  std::vector<std::string_view> owners(record.resources().size());
  // The document read each resource's id and patient reference while it was
  // indexed: a plain "Patient/x" is decided from those, without walking the
  // resource again (its nodes are cold by now in a large record); anything
  // else by PatientOf.
  const std::span<const std::string_view> ids = record.resource_ids();
  const std::span<const std::string_view> types = record.resource_types();
  const std::span<const std::string_view> references = record.patient_references();
  const bool indexed = ids.size() == owners.size() && types.size() == owners.size() && references.size() == owners.size();
  for (size_t index = 0; index < record.resources().size(); ++index) {
    const fhir::Node& resource = *record.resources()[index];
    const bool is_patient = (indexed ? types[index] : resource.type_name()) == "Patient";
    std::string_view owner;
    if (!indexed) {
      owner = PatientOf(resource, record);
    } else if (is_patient) {
      owner = ids[index];
    } else if (!references[index].empty()) {  // else: no subject, patient or beneficiary reference
      owner = fhir::PatientIdInReference(references[index]);
      if (owner.empty()) owner = PatientOf(resource, record);
    }
    owners[index] = owner;
    if (is_patient) {
      patients.push_back(&resource);
    } else if (!owners[index].empty() && std::find(named.begin(), named.end(), owners[index]) == named.end()) {
      named.emplace_back(owners[index]);
    }
  }
  // Copies of one Patient resource (the same id) are one patient.
  std::vector<std::string_view> patient_ids;
  for (const fhir::Node* patient : patients) {
    if (std::find(patient_ids.begin(), patient_ids.end(), IdOf(*patient)) == patient_ids.end()) {
      patient_ids.push_back(IdOf(*patient));
    }
  }
  PatientSelection selection;
  if (requested) {
    auto patient = std::find_if(patients.begin(), patients.end(),
                                [&](const fhir::Node* node) { return IdOf(*node) == *requested; });
    if (patient != patients.end()) {
      selection.patient = *patient;
    } else if (std::find(named.begin(), named.end(), *requested) != named.end() ||
               (patients.empty() && named.empty())) {
      // Named by the resources, or a record that names nobody (nothing to exclude).
      selection.inferred = true;
    } else {
      return Fail(InvalidInput(fmt::format("{}: no patient '{}' in the record", record.source_name(), *requested)));
    }
    selection.patient_id = *requested;
  } else if (patient_ids.size() > 1) {
    std::vector<std::string> ids;
    for (const fhir::Node* patient : patients) ids.push_back(fmt::format("Patient/{} at {}", IdOf(*patient), patient->Path()));
    return Fail(InvalidInput(fmt::format(
        "{}: the record holds {} Patient resources ({}); an assessment is of one patient: pick one with --patient ID",
        record.source_name(), patients.size(), Join(ids))));
  } else if (!patients.empty()) {
    selection.patient = patients.front();
    selection.patient_id = std::string(IdOf(*patients.front()));
  } else if (named.size() > 1) {
    std::vector<std::string> ids;
    for (const std::string& id : named) ids.push_back("Patient/" + id);
    return Fail(InvalidInput(fmt::format(
        "{}: the record has no Patient resource and its resources name {} patients ({}); pick one with --patient ID",
        record.source_name(), named.size(), Join(ids))));
  } else if (named.size() == 1) {
    selection.patient_id = named.front();
    selection.inferred = true;
  }
  for (size_t index = 0; index < record.resources().size(); ++index) {
    std::string_view owner = owners[index];
    if (owner.empty() || owner == selection.patient_id) continue;
    // A second Patient resource with the same id as the chosen one is kept
    // only if it is the chosen node itself.
    selection.excluded.push_back(record.resources()[index]);
    selection.excluded_owner.push_back("Patient/" + std::string(owner));
  }
  // In a record of several patients, a resource of a patient-compartment
  // type that names no patient (no subject, "Group/1") cannot be told to be
  // the chosen patient's: it is left out too, as `regenpath screen` leaves it
  // out of every patient's record. (In a one-patient record it stays.)
  std::vector<std::string_view> everyone(named.begin(), named.end());
  for (const fhir::Node* patient : patients) everyone.push_back(IdOf(*patient));
  std::sort(everyone.begin(), everyone.end());
  if (std::unique(everyone.begin(), everyone.end()) - everyone.begin() > 1) {
    for (size_t index = 0; index < record.resources().size(); ++index) {
      if (!owners[index].empty()) continue;
      const fhir::Node& resource = *record.resources()[index];
      const std::string_view type = indexed ? types[index] : resource.type_name();
      const std::optional<std::string_view> element = fhir::PatientElement(type);
      if (!element ||
          std::find(std::begin(fhir::kPatientReferenceElements), std::end(fhir::kPatientReferenceElements),
                    *element) == std::end(fhir::kPatientReferenceElements)) {
        continue;  // shared (Medication, Organization...), or linked otherwise (Appointment)
      }
      selection.excluded.push_back(&resource);
      selection.excluded_owner.push_back(std::string());  // names no patient
    }
  }
  // Copies of the chosen Patient resource (the same id, as an export that
  // wrote a patient twice has): identical ones (the same JSON value) are one resource, the others
  // left out (and named). Copies that differ make the record ambiguous (one
  // may say the patient died, or another birth date): nothing says which is
  // current, so the record is refused rather than one copy trusted.
  std::vector<std::string> different;
  // A copy, for the message: where it is, and when it was last updated if it says.
  auto describe = [](const fhir::Node& copy) {
    std::string text = copy.Path();
    if (const fhir::Node* meta = copy.Child("meta"); meta != nullptr) {
      if (const fhir::Node* updated = meta->Child("lastUpdated");
          updated != nullptr && updated->has_value()) {
        text += fmt::format(" (updated {})", updated->text());
      }
    }
    return text;
  };
  for (const fhir::Node* patient : patients) {
    if (patient == selection.patient || IdOf(*patient) != selection.patient_id ||
        selection.patient == nullptr) {
      continue;
    }
    if (!SameJson(patient->raw_json(), selection.patient->raw_json())) {
      if (different.empty()) different.push_back(describe(*selection.patient));
      different.push_back(describe(*patient));
      continue;
    }
    selection.excluded.push_back(patient);
    selection.excluded_owner.push_back("Patient/" + selection.patient_id +
                                       " (a second copy of its Patient resource)");
  }
  if (!different.empty()) {
    return Fail(InvalidInput(
        fmt::format("{}: the record holds {} different copies of Patient/{} (at {}); which one is current "
                    "cannot be told: "
                    "correct the record",
                    record.source_name(), different.size(), selection.patient_id, Join(different))));
  }
  return selection;
}

Result<fhir::Document> WithoutExcluded(const fhir::Document& record, const PatientSelection& selection,
                                       const fhir::ElementFilter* filter,
                                       const fhir::ResourceFilter* resource_filter) {
  std::string json = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  bool first = true;
  for (const fhir::Node* resource : record.resources()) {
    if (std::find(selection.excluded.begin(), selection.excluded.end(), resource) != selection.excluded.end()) continue;
    std::string_view raw = resource->raw_json();
    if (raw.empty()) {
      return Fail(InvalidInput(fmt::format("{}: the source text of {} is not available", record.source_name(),
                                           resource->Path())));
    }
    if (!first) json += ',';
    first = false;
    json += '{';
    // Keep fullUrl: references by urn:uuid resolve through it.
    if (const fhir::Node* entry = resource->parent(); entry != nullptr && entry->name() == "entry") {
      if (const fhir::Node* full_url = entry->Child("fullUrl"); full_url != nullptr && full_url->has_value()) {
        json += R"("fullUrl":)";
        json += '"';
        for (char c : full_url->text()) {
          if (c == '"' || c == '\\') json += '\\';
          json += c;
        }
        json += "\",";
      }
    }
    json += R"("resource":)";
    json += raw;
    json += '}';
  }
  json += "]}";
  fhir::ParseOptions options;
  options.filter_for_root = [filter](std::string_view) { return filter; };
  options.report_unknown_elements = false;  // already reported on the whole record
  options.resource_filter = resource_filter;
  fhir::Parser parser(options);
  return parser.ParseResource(json, record.source_name());
}

}  // namespace regenpath::engine
