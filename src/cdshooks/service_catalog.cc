#include "cdshooks/service_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "cdshooks/text.h"
#include "fhir/model.h"

namespace regenpath::cdshooks {

namespace {

constexpr std::string_view kPatientToken = "{{context.patientId}}";

// Every `<prefix>X<suffix>` in `text`: the X's.
std::vector<std::string> Between(std::string_view text, std::string_view prefix, char end) {
  std::vector<std::string> found;
  for (size_t pos = text.find(prefix); pos != std::string_view::npos; pos = text.find(prefix, pos + 1)) {
    size_t start = pos + prefix.size();
    size_t stop = text.find(end, start);
    if (stop == std::string_view::npos) break;
    found.emplace_back(text.substr(start, stop - start));
  }
  return found;
}

// True iff resources of `type` can be searched by patient (they have a
// `subject` or `patient` reference in the R4 model).
bool SearchableByPatient(const fhir::TypeInfo& type) {
  return fhir::Model::FindElement(type, "subject") != nullptr ||
         fhir::Model::FindElement(type, "patient") != nullptr;
}

// "ImagingStudy" -> "imagingStudies", "Condition" -> "conditions".
std::string KeyFor(std::string_view type) {
  std::string key(type);
  key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
  if (key.ends_with("y") && key.size() > 1 &&
      std::string_view("aeiou").find(key[key.size() - 2]) == std::string::npos) {
    key.pop_back();
    return key + "ies";
  }
  return key + "s";
}

// The `system|code` tokens of the value sets that Observation-reading
// definitions test with code.memberOf(...). Prefix concepts cannot be
// searched as tokens and are left out (docs/cds-hooks.md).
std::vector<std::string> ObservationCodes(const knowledge::KnowledgeBase& kb) {
  std::set<std::string> valueset_ids;
  for (const knowledge::Definition& definition : kb.definitions()) {
    if (definition.expression.find("ofType(Observation)") == std::string::npos) continue;
    for (std::string& id : Between(definition.expression, "code.memberOf('", '\''))
      valueset_ids.insert(std::move(id));
  }
  std::vector<std::string> tokens;
  std::set<std::string> seen;
  // Value sets in knowledge-base order, so the template is stable.
  for (const knowledge::ValueSet& valueset : kb.valuesets()) {
    if (valueset_ids.count(valueset.id) == 0) continue;
    for (const knowledge::Concept& concept_entry : valueset.concepts) {
      if (concept_entry.prefix || concept_entry.code.empty()) continue;
      std::string token =
          concept_entry.system.empty() ? concept_entry.code : concept_entry.system + "|" + concept_entry.code;
      if (seen.insert(token).second) tokens.push_back(std::move(token));
    }
  }
  return tokens;
}

}  // namespace

std::string_view HookName(Hook hook) {
  switch (hook) {
    case Hook::kPatientView:
      return "patient-view";
    case Hook::kOrderSelect:
      return "order-select";
    case Hook::kOrderSign:
      return "order-sign";
  }
  return "patient-view";
}

std::vector<PrefetchTemplate> BuildPrefetchTemplates(const knowledge::KnowledgeBase& kb) {
  const fhir::Model& model = fhir::Model::R4();
  std::set<std::string> types = {"Patient"};
  for (const knowledge::Definition& definition : kb.definitions()) {
    for (std::string& type : Between(definition.expression, "ofType(", ')')) {
      if (model.FindResourceType(type) != nullptr) types.insert(std::move(type));
    }
  }
  // Medication is read through MedicationRequest.medicationReference; it has
  // no patient search, so the requests include it (US Core supports
  // _include=MedicationRequest:medication).
  const bool include_medications = types.count("Medication") > 0;

  std::vector<PrefetchTemplate> templates;
  templates.push_back(PrefetchTemplate{"patient", "Patient", fmt::format("Patient/{}", kPatientToken), true});
  for (const std::string& type : types) {
    const fhir::TypeInfo* info = model.FindResourceType(type);
    if (type == "Patient" || info == nullptr || !SearchableByPatient(*info)) continue;
    std::string query = fmt::format("{}?patient={}", type, kPatientToken);
    if (type == "Observation") {
      std::vector<std::string> codes = ObservationCodes(kb);
      if (!codes.empty()) query += "&code=" + fmt::format("{}", fmt::join(codes, ","));
    }
    if (type == "MedicationRequest" && include_medications) query += "&_include=MedicationRequest:medication";
    templates.push_back(PrefetchTemplate{KeyFor(type), type, std::move(query), false});
  }
  return templates;
}

std::vector<ServiceDefinition> BuildServiceCatalog(const knowledge::KnowledgeBase& kb) {
  std::vector<PrefetchTemplate> prefetch = BuildPrefetchTemplates(kb);
  std::vector<std::string> types;
  for (const PrefetchTemplate& item : prefetch) types.push_back(item.resource_type);
  const std::string kb_label = fmt::format("{} {}", kb.name(), kb.version());
  const std::string data = fmt::format(
      "Provide every prefetch key ({} read for the patient), or give fhirServer (with fhirAuthorization "
      "whose scope "
      "grants read access to {}, e.g. user/{}.read ... or patient/*.read) so that the service fetches what "
      "is not "
      "prefetched; a key may be null when there is no data. Without the data the service answers 412.",
      fmt::join(types, ", "), fmt::join(types, ", "), types.size() > 1 ? types[1] : types[0]);

  std::vector<ServiceDefinition> services;
  services.push_back(ServiceDefinition{
      "regenpath-patient-view", Hook::kPatientView, "regenpath: regenerative pain-care pathway",
      fmt::format(
          "For each pain condition in scope of the knowledge base ({}): the care-pathway stage and why, red "
          "flags first as critical cards, the options with their status and every source's evidence side by "
          "side (negative sources included), medication holds, missing data and unverified facts. No card "
          "when no condition is in scope.",
          kb_label),
      data, prefetch});
  const std::string order_description = fmt::format(
      "When the draft orders hold a regenerative injection (PRP, prolotherapy, bone-marrow concentrate, "
      "cellular "
      "products: codes from the knowledge base {}), a safety review of that order for the patient: "
      "contraindications (critical), missing diagnostic evaluation or conventional care (warning), "
      "medication holds "
      "for the target's bleeding-risk category and image guidance, with suggested orders for missing "
      "pre-procedure "
      "checks and override reasons. No card for other orders.",
      kb_label);
  const std::string order_data = "Only when a regenerative injection is among the draft orders: " + data;
  services.push_back(ServiceDefinition{"regenpath-order-select", Hook::kOrderSelect,
                                       "regenpath: regenerative injection safety review (order select)",
                                       order_description + " Only the selected orders are reviewed.",
                                       order_data, prefetch});
  services.push_back(ServiceDefinition{"regenpath-order-sign", Hook::kOrderSign,
                                       "regenpath: regenerative injection safety review (order sign)",
                                       order_description, order_data, prefetch});
  return services;
}

std::string ExpandQuery(std::string_view query, std::string_view patient_id) {
  std::string out;
  size_t pos = 0;
  for (size_t found = query.find(kPatientToken); found != std::string_view::npos;
       found = query.find(kPatientToken, pos)) {
    out.append(query.substr(pos, found - pos));
    out.append(patient_id);
    pos = found + kPatientToken.size();
  }
  out.append(query.substr(pos));
  // '|' (system|code in token searches) and anything else a request target
  // may not carry is percent-encoded; the patient id is a validated FHIR id.
  return EncodeUrlText(out);
}

}  // namespace regenpath::cdshooks
