// The only file of the registry that includes simdjson. One Run per Import():
// Patients first (pseudonyms), then Procedures (episodes), then scores and
// adverse events, which may point at those procedures.
#include "registry/fhir_import.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include "common/json_string.h"
#include "registry/civil_day.h"
#include "registry/fhir_codes.h"

namespace regenpath::registry {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
namespace codes = fhir_codes;

std::optional<element> Field(element value, std::string_view key) {
  element out;
  if (!value.is_object() || value[key].get(out) != simdjson::SUCCESS) return std::nullopt;
  return out;
}

std::optional<std::string_view> Str(element value, std::string_view key) {
  std::optional<element> field = Field(value, key);
  std::string_view text;
  if (!field || field->get(text) != simdjson::SUCCESS) return std::nullopt;
  return text;
}

std::optional<double> Number(element value, std::string_view key) {
  std::optional<element> field = Field(value, key);
  double number;
  if (!field || field->get_double().get(number) != simdjson::SUCCESS) return std::nullopt;
  return number;
}

std::vector<element> Items(element value, std::string_view key) {
  std::vector<element> out;
  std::optional<element> field = Field(value, key);
  array items;
  if (field && field->get(items) == simdjson::SUCCESS) {
    for (element item : items) out.push_back(item);
  }
  return out;
}

// The codings of a CodeableConcept.
std::vector<std::pair<std::string_view, std::string_view>> Codings(std::optional<element> codeable) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!codeable) return out;
  for (element coding : Items(*codeable, "coding")) {
    out.emplace_back(Str(coding, "system").value_or(""), Str(coding, "code").value_or(""));
  }
  return out;
}

std::optional<std::string_view> CodeIn(std::optional<element> codeable, std::string_view system) {
  for (const auto& [coding_system, code] : Codings(codeable)) {
    if (coding_system == system && !code.empty()) return code;
  }
  return std::nullopt;
}

// The extension of `resource` named kExtensionPrefix + name.
std::optional<element> Extension(element resource, std::string_view name) {
  for (element extension : Items(resource, "extension")) {
    std::string_view url = Str(extension, "url").value_or("");
    if (url.size() == codes::kExtensionPrefix.size() + name.size() && url.starts_with(codes::kExtensionPrefix) &&
        url.ends_with(name)) {
      return extension;
    }
  }
  return std::nullopt;
}

std::optional<element> SubExtension(element extension, std::string_view url) {
  for (element sub : Items(extension, "extension")) {
    if (Str(sub, "url").value_or("") == url) return sub;
  }
  return std::nullopt;
}

std::string SubText(element extension, std::string_view url) {
  std::optional<element> sub = SubExtension(extension, url);
  if (!sub) return "";
  return std::string(Str(*sub, "valueCode").value_or(Str(*sub, "valueString").value_or("")));
}

struct Entry {
  int index = 0;
  element resource;
  std::string type;
  std::string full_url;
  std::string path;  // FHIRPath prefix of the resource
};

// Carries an issue out of the checks of one resource.
struct Rejection {
  std::string code;
  std::string location;
  std::string message;
};

class Run {
 public:
  Run(RegistryStore& store, const InstrumentCatalog& catalog, const Pseudonymizer& pseudonymizer, int today,
      bool synthetic)
      : store_(store), catalog_(catalog), pseudonymizer_(pseudonymizer), today_(today), synthetic_(synthetic) {
    batch_.synthetic = synthetic;
  }

  // Checks every entry; fills result.entries/issues and the batch.
  Status Check(std::vector<Entry>& entries, ImportResult& result) {
    result.entries.resize(entries.size());
    for (size_t index = 0; index < entries.size(); ++index) result.entries[index].resource_type = entries[index].type;
    // Pass order: Patients, Procedures (by date: series numbers), the rest.
    std::vector<Entry*> order;
    for (Entry& entry : entries) order.push_back(&entry);
    auto rank = [](const Entry* entry) {
      if (entry->type == "Patient") return 0;
      if (entry->type == "Procedure") return 1;
      return 2;
    };
    std::stable_sort(order.begin(), order.end(), [&](const Entry* a, const Entry* b) {
      if (rank(a) != rank(b)) return rank(a) < rank(b);
      if (rank(a) == 1) {
        return PerformedText(a->resource) < PerformedText(b->resource);
      }
      return false;
    });
    for (Entry* entry : order) {
      Result<std::optional<Rejection>> checked = CheckOne(*entry, result.entries[entry->index]);
      if (!checked) return checked.error();
      if (*checked) {
        result.issues.push_back(ImportIssue{entry->index, (*checked)->code, (*checked)->location, (*checked)->message});
      } else {
        result.entries[entry->index].accepted = true;
      }
    }
    std::sort(result.issues.begin(), result.issues.end(),
              [](const ImportIssue& a, const ImportIssue& b) { return a.entry < b.entry; });
    for (auto& [key, episode] : episodes_) batch_.episodes.push_back(episode);
    return Status::Ok();
  }

  WriteBatch& batch() { return batch_; }

 private:
  static std::string PerformedText(element resource) {
    if (auto date = Str(resource, "performedDateTime")) return std::string(*date);
    if (auto period = Field(resource, "performedPeriod")) return std::string(Str(*period, "start").value_or(""));
    return "";
  }

  static Rejection Reject(const Entry& entry, std::string code, std::string_view element_path, std::string message) {
    std::string location = element_path.empty() ? entry.path : entry.path + "." + std::string(element_path);
    return Rejection{std::move(code), std::move(location), std::move(message)};
  }

  Result<std::optional<Rejection>> CheckOne(const Entry& entry, EntryResult& out) {
    if (entry.type == "Patient") return CheckPatient(entry, out);
    if (entry.type == "Procedure") return CheckProcedure(entry, out);
    if (entry.type == "Observation") return CheckObservation(entry, out);
    if (entry.type == "QuestionnaireResponse") return CheckQuestionnaireResponse(entry, out);
    if (entry.type == "AdverseEvent") return CheckAdverseEvent(entry, out);
    return std::optional<Rejection>(Reject(entry, "not-supported", "",
                                           fmt::format("{} is not a registry resource (Patient, Procedure, Observation, "
                                                       "QuestionnaireResponse, AdverseEvent)",
                                                       entry.type.empty() ? "a resource without resourceType" : entry.type)));
  }

  // "Type|system|value", "Type|<fullUrl>" or "Type|id:<id>".
  std::variant<std::string, Rejection> KeyOf(const Entry& entry) {
    // identifier is a list on most resources, a single Identifier on
    // QuestionnaireResponse and AdverseEvent (R4).
    std::vector<element> identifiers = Items(entry.resource, "identifier");
    if (auto single = Field(entry.resource, "identifier"); single && single->is_object()) identifiers.push_back(*single);
    for (element identifier : identifiers) {
      auto value = Str(identifier, "value");
      if (value && !value->empty()) {
        return fmt::format("{}|{}|{}", entry.type, Str(identifier, "system").value_or(""), *value);
      }
    }
    if (!entry.full_url.empty()) return fmt::format("{}|{}", entry.type, entry.full_url);
    if (auto id = Str(entry.resource, "id"); id && !id->empty()) return fmt::format("{}|id:{}", entry.type, *id);
    return Reject(entry, "required", "identifier",
                  "an identifier, a fullUrl or an id is required (imports are upserts by identifier)");
  }

  // The date of `field` (date / dateTime), checked: a real date, not after today.
  std::variant<std::string, Rejection> DateOf(const Entry& entry, std::string_view path,
                                              std::optional<std::string_view> text) {
    if (!text) return Reject(entry, "required", path, fmt::format("{} is required", path));
    std::optional<int> day = ParseCivilDay(*text);
    if (!day) return Reject(entry, "value", path, fmt::format("'{}' is not a full date (YYYY-MM-DD)", *text));
    if (*day > today_) {
      return Reject(entry, "business-rule", path,
                    fmt::format("{} {} is in the future (today is {})", path, text->substr(0, 10), FormatCivilDay(today_)));
    }
    return FormatCivilDay(*day);
  }

  // The pseudonym of the resource's subject (or `patient` for AdverseEvent's R4 `subject`).
  std::variant<std::string, Rejection> PatientOf(const Entry& entry, std::string_view field) {
    std::optional<element> subject = Field(entry.resource, field);
    if (!subject) return Reject(entry, "required", field, fmt::format("{} is required", field));
    if (auto identifier = Field(*subject, "identifier")) {
      auto value = Str(*identifier, "value");
      if (value && !value->empty()) return AddPatient(Str(*identifier, "system").value_or(""), *value);
    }
    if (auto reference = Str(*subject, "reference")) {
      auto found = patients_.find(std::string(*reference));
      if (found != patients_.end()) return found->second;
      return Reject(entry, "invalid", std::string(field) + ".reference",
                    fmt::format("{} does not name a Patient with an identifier in this input", field));
    }
    return Reject(entry, "required", field,
                  fmt::format("{} must carry an identifier or reference a Patient of the input", field));
  }

  std::string AddPatient(std::string_view system, std::string_view value) {
    std::string pseudonym = pseudonymizer_.Pseudonym(system, value);
    if (known_patients_.insert(pseudonym).second) batch_.patients.push_back({pseudonym, synthetic_});
    return pseudonym;
  }

  Result<std::optional<Rejection>> CheckPatient(const Entry& entry, EntryResult& out) {
    for (element identifier : Items(entry.resource, "identifier")) {
      auto value = Str(identifier, "value");
      if (!value || value->empty()) continue;
      std::string pseudonym = AddPatient(Str(identifier, "system").value_or(""), *value);
      if (!entry.full_url.empty()) patients_[entry.full_url] = pseudonym;
      if (auto id = Str(entry.resource, "id")) patients_["Patient/" + std::string(*id)] = pseudonym;
      out.key = "Patient";  // never the pseudonym in responses
      return std::optional<Rejection>();
    }
    return std::optional<Rejection>(
        Reject(entry, "required", "identifier", "a Patient needs an identifier (the registry stores only its pseudonym)"));
  }

  // A reference to a Procedure: in this input (fullUrl, Procedure/id) or
  // stored earlier (Reference.identifier, or a stored Procedure/id).
  Result<std::variant<ProcedureRecord, Rejection>> ProcedureOf(const Entry& entry, element reference,
                                                               std::string_view path) {
    if (auto text = Str(reference, "reference")) {
      auto found = procedures_.find(std::string(*text));
      if (found != procedures_.end()) return found->second;
      if (text->starts_with("Procedure/")) {
        RP_ASSIGN_OR_RETURN(auto stored, store_.FindProcedure("Procedure|id:" + std::string(text->substr(10))));
        if (stored) return *stored;
      }
    }
    if (auto identifier = Field(reference, "identifier")) {
      std::string key = fmt::format("Procedure|{}|{}", Str(*identifier, "system").value_or(""),
                                    Str(*identifier, "value").value_or(""));
      for (const ProcedureRecord& procedure : batch_.procedures) {
        if (procedure.key == key) return procedure;
      }
      RP_ASSIGN_OR_RETURN(auto stored, store_.FindProcedure(key));
      if (stored) return *stored;
    }
    return Rejection(Reject(entry, "invalid", path, "the referenced Procedure is neither in this input nor in the registry"));
  }

  Result<std::optional<Rejection>> CheckProcedure(const Entry& entry, EntryResult& out) {
    element resource = entry.resource;
    auto key = KeyOf(entry);
    if (auto* rejection = std::get_if<Rejection>(&key)) return std::optional<Rejection>(*rejection);
    std::string_view status = Str(resource, "status").value_or("");
    if (status != "completed") {
      return std::optional<Rejection>(Reject(entry, "business-rule", "status",
                                             fmt::format("only completed procedures are recorded (status '{}')", status)));
    }
    auto patient = PatientOf(entry, "subject");
    if (auto* rejection = std::get_if<Rejection>(&patient)) return std::optional<Rejection>(*rejection);
    std::optional<std::string_view> option_id = CodeIn(Field(resource, "code"), codes::kOptionSystem);
    if (!option_id) {
      return std::optional<Rejection>(Reject(entry, "required", "code",
                                             fmt::format("code needs a coding of {} naming a knowledge-base option",
                                                         codes::kOptionSystem)));
    }
    const knowledge::Option* option = catalog_.kb().FindOption(*option_id);
    if (option == nullptr) {
      return std::optional<Rejection>(
          Reject(entry, "value", "code", fmt::format("'{}' is not an option of the knowledge base", *option_id)));
    }
    std::optional<std::string_view> performed = Str(resource, "performedDateTime");
    std::string performed_path = "performedDateTime";
    if (!performed) {
      if (auto period = Field(resource, "performedPeriod")) {
        performed = Str(*period, "start");
        performed_path = "performedPeriod.start";
      }
    }
    auto date = DateOf(entry, performed_path, performed);
    if (auto* rejection = std::get_if<Rejection>(&date)) return std::optional<Rejection>(*rejection);

    ProcedureRecord procedure;
    procedure.key = std::get<std::string>(key);
    procedure.patient = std::get<std::string>(patient);
    procedure.date = std::get<std::string>(date);
    std::string kind(CodeIn(Field(resource, "category"), codes::kProcedureKindSystem).value_or("index"));
    if (kind != "index" && kind != "surgery") {
      return std::optional<Rejection>(Reject(entry, "value", "category", fmt::format("unknown procedure kind '{}'", kind)));
    }
    procedure.kind = kind;
    std::string side;
    if (auto laterality = Extension(resource, codes::kLaterality)) side = Str(*laterality, "valueCode").value_or("");
    if (auto guidance = Extension(resource, codes::kImageGuidance)) {
      procedure.image_guidance = Str(*guidance, "valueCode").value_or("");
    }
    if (auto leukocytes = Extension(resource, codes::kPrpLeukocytes)) {
      procedure.prp_leukocytes = Str(*leukocytes, "valueCode").value_or("");
      if (procedure.prp_leukocytes != "rich" && procedure.prp_leukocytes != "poor") {
        return std::optional<Rejection>(Reject(entry, "value", "extension", "prp-leukocytes must be rich or poor"));
      }
    }
    auto quantity = [&](std::string_view name) -> std::optional<double> {
      auto extension = Extension(resource, name);
      if (!extension) return std::nullopt;
      if (auto value = Field(*extension, "valueQuantity")) return Number(*value, "value");
      if (auto value = Number(*extension, "valueDecimal")) return value;
      return Number(*extension, "valueInteger");
    };
    procedure.volume_ml = quantity(codes::kInjectateVolume);
    procedure.platelet_concentration = quantity(codes::kPlateletConcentration);
    procedure.bmc_nucleated_cells = quantity(codes::kNucleatedCells);
    procedure.dextrose_percent = quantity(codes::kDextrosePercent);
    for (const auto& value : {procedure.volume_ml, procedure.platelet_concentration, procedure.bmc_nucleated_cells,
                              procedure.dextrose_percent}) {
      if (value && (*value < 0 || !std::isfinite(*value))) {
        return std::optional<Rejection>(Reject(entry, "value", "extension", "product details must be positive numbers"));
      }
    }
    if (procedure.dextrose_percent && *procedure.dextrose_percent > 100) {
      return std::optional<Rejection>(Reject(entry, "value", "extension", "dextrose-percent must be at most 100"));
    }

    Episode episode;
    episode.patient = procedure.patient;
    episode.option_id = option->id;
    episode.therapy = option->therapy;
    episode.target = option->target;
    episode.side = side;
    episode.key = fmt::format("{}|{}|{}", episode.patient, episode.option_id, side);
    episode.start_date = procedure.date;
    episode.synthetic = synthetic_;
    if (auto condition = CodeIn(Field(resource, "reasonCode").has_value() && !Items(resource, "reasonCode").empty()
                                    ? std::optional<element>(Items(resource, "reasonCode")[0])
                                    : std::nullopt,
                                codes::kConditionSystem)) {
      if (catalog_.kb().FindCondition(*condition) == nullptr) {
        return std::optional<Rejection>(
            Reject(entry, "value", "reasonCode[0]", fmt::format("'{}' is not a condition of the knowledge base", *condition)));
      }
      episode.condition = std::string(*condition);
    }
    if (auto assessment = Extension(resource, codes::kAssessment)) {
      episode.assessment_stage = SubText(*assessment, "stage");
      episode.option_status = SubText(*assessment, "optionStatus");
      episode.kb_version = SubText(*assessment, "kbVersion");
      episode.feedback = SubText(*assessment, "feedback");
      episode.override_reason = SubText(*assessment, "overrideReason");
      if (!episode.feedback.empty() && episode.feedback != "accepted" && episode.feedback != "overridden") {
        return std::optional<Rejection>(
            Reject(entry, "value", "extension", "registry-assessment feedback must be accepted or overridden"));
      }
    }
    if (procedure.kind == "index") {
      auto [it, inserted] = episodes_.emplace(episode.key, episode);
      if (!inserted) {
        Episode& merged = it->second;
        merged.start_date = std::min(merged.start_date, episode.start_date);
        for (auto [field, value] : {std::pair{&merged.condition, &episode.condition},
                                    std::pair{&merged.assessment_stage, &episode.assessment_stage},
                                    std::pair{&merged.option_status, &episode.option_status},
                                    std::pair{&merged.kb_version, &episode.kb_version},
                                    std::pair{&merged.feedback, &episode.feedback},
                                    std::pair{&merged.override_reason, &episode.override_reason}}) {
          if (field->empty()) *field = *value;
        }
      }
    } else {
      // A surgery ends an episode that must exist (in this input or stored).
      bool known = episodes_.count(episode.key) > 0;
      if (!known) {
        RP_ASSIGN_OR_RETURN(std::vector<Episode> stored, store_.EpisodesOfPatient(procedure.patient));
        known = std::any_of(stored.begin(), stored.end(), [&](const Episode& e) { return e.key == episode.key; });
      }
      if (!known) {
        return std::optional<Rejection>(Reject(entry, "business-rule", "code",
                                               "a surgery is recorded against an episode of the same option and side; "
                                               "none is in this input or the registry"));
      }
    }
    procedure.episode_key = episode.key;
    if (auto series = Extension(resource, codes::kSeriesNumber)) {
      procedure.series_number = static_cast<int>(Number(*series, "valuePositiveInt").value_or(1));
    } else {
      procedure.series_number = ++series_count_[episode.key];
    }
    out.key = procedure.key;
    if (!entry.full_url.empty()) procedures_[entry.full_url] = procedure;
    if (auto id = Str(resource, "id")) procedures_["Procedure/" + std::string(*id)] = procedure;
    batch_.procedures.push_back(std::move(procedure));
    return std::optional<Rejection>();
  }

  // The score's range check and record.
  std::optional<Rejection> AddScore(const Entry& entry, const InstrumentScoring& instrument, double value,
                                    std::string_view value_path, const std::string& key, const std::string& patient,
                                    const std::string& date) {
    if (!std::isfinite(value) || value < instrument.min || value > instrument.max) {
      return Reject(entry, "value", value_path,
                    fmt::format("score {} is out of range for {} ({}–{})", value, instrument.id, instrument.min,
                                instrument.max));
    }
    batch_.outcomes.push_back(OutcomeRecord{key, patient, instrument.id, date, value});
    return std::nullopt;
  }

  // Observation.partOf / focus naming a procedure of another patient.
  Result<std::optional<Rejection>> CheckProcedureLinks(const Entry& entry, const std::string& patient,
                                                       std::string_view field) {
    std::vector<element> links = Items(entry.resource, field);
    for (size_t index = 0; index < links.size(); ++index) {
      std::string path = fmt::format("{}[{}]", field, index);
      std::string_view reference = Str(links[index], "reference").value_or("");
      if (!reference.empty() && !reference.starts_with("Procedure/") && !reference.starts_with("urn:") &&
          procedures_.count(std::string(reference)) == 0) {
        continue;  // partOf may name other types; only procedures are checked
      }
      RP_ASSIGN_OR_RETURN(auto procedure, ProcedureOf(entry, links[index], path));
      if (auto* rejection = std::get_if<Rejection>(&procedure)) return std::optional<Rejection>(*rejection);
      if (std::get<ProcedureRecord>(procedure).patient != patient) {
        return std::optional<Rejection>(Reject(entry, "business-rule", path, "the referenced Procedure is another patient's"));
      }
    }
    return std::optional<Rejection>();
  }

  Result<std::optional<Rejection>> CheckObservation(const Entry& entry, EntryResult& out) {
    element resource = entry.resource;
    auto key = KeyOf(entry);
    if (auto* rejection = std::get_if<Rejection>(&key)) return std::optional<Rejection>(*rejection);
    std::string_view status = Str(resource, "status").value_or("");
    if (status != "final" && status != "amended" && status != "corrected") {
      return std::optional<Rejection>(Reject(entry, "business-rule", "status",
                                             fmt::format("only final, amended or corrected scores are recorded (status '{}')", status)));
    }
    const InstrumentScoring* instrument = nullptr;
    for (const auto& [system, code] : Codings(Field(resource, "code"))) {
      instrument = catalog_.ByCoding(system, code);
      if (instrument != nullptr) break;
    }
    if (instrument == nullptr) {
      return std::optional<Rejection>(Reject(entry, "not-supported", "code",
                                             "unknown instrument: code needs a LOINC code of an instrument of the "
                                             "knowledge base, or a coding of " + std::string(kInstrumentSystem)));
    }
    auto patient = PatientOf(entry, "subject");
    if (auto* rejection = std::get_if<Rejection>(&patient)) return std::optional<Rejection>(*rejection);
    std::optional<std::string_view> effective = Str(resource, "effectiveDateTime");
    std::string effective_path = "effectiveDateTime";
    if (!effective) {
      if (auto period = Field(resource, "effectivePeriod")) {
        effective = Str(*period, "start");
        effective_path = "effectivePeriod.start";
      }
    }
    auto date = DateOf(entry, effective_path, effective);
    if (auto* rejection = std::get_if<Rejection>(&date)) return std::optional<Rejection>(*rejection);
    std::optional<double> value;
    std::string value_path;
    if (auto quantity = Field(resource, "valueQuantity")) {
      value = Number(*quantity, "value");
      value_path = "valueQuantity.value";
    } else if ((value = Number(resource, "valueInteger"))) {
      value_path = "valueInteger";
    }
    if (!value) {
      return std::optional<Rejection>(Reject(entry, "required", "value", "a score needs valueQuantity.value or valueInteger"));
    }
    RP_ASSIGN_OR_RETURN(auto linked, CheckProcedureLinks(entry, std::get<std::string>(patient), "partOf"));
    if (linked) return linked;
    out.key = std::get<std::string>(key);
    return AddScore(entry, *instrument, *value, value_path, out.key, std::get<std::string>(patient),
                    std::get<std::string>(date));
  }

  Result<std::optional<Rejection>> CheckQuestionnaireResponse(const Entry& entry, EntryResult& out) {
    element resource = entry.resource;
    auto key = KeyOf(entry);
    if (auto* rejection = std::get_if<Rejection>(&key)) return std::optional<Rejection>(*rejection);
    std::string_view status = Str(resource, "status").value_or("");
    if (status != "completed" && status != "amended") {
      return std::optional<Rejection>(Reject(entry, "business-rule", "status",
                                             fmt::format("only completed responses are scored (status '{}')", status)));
    }
    std::string_view url = Str(resource, "questionnaire").value_or("");
    const InstrumentScoring* instrument = catalog_.ByQuestionnaire(url);
    if (instrument == nullptr) {
      return std::optional<Rejection>(Reject(
          entry, "not-supported", "questionnaire",
          fmt::format("the registry does not score questionnaire '{}': only instruments with a public, free scoring "
                      "in knowledge/registry/instrument-scoring.yaml (others: send the score as an Observation)",
                      url)));
    }
    auto patient = PatientOf(entry, "subject");
    if (auto* rejection = std::get_if<Rejection>(&patient)) return std::optional<Rejection>(*rejection);
    auto date = DateOf(entry, "authored", Str(resource, "authored"));
    if (auto* rejection = std::get_if<Rejection>(&date)) return std::optional<Rejection>(*rejection);
    const QuestionnaireScoring& scoring = *instrument->questionnaire;
    std::vector<element> items = Items(resource, "item");
    std::vector<double> answers;
    for (const std::string& link_id : scoring.items) {
      std::optional<double> answer;
      std::string path;
      for (size_t index = 0; index < items.size(); ++index) {
        if (Str(items[index], "linkId").value_or("") != link_id) continue;
        std::vector<element> values = Items(items[index], "answer");
        path = fmt::format("item[{}].answer[0]", index);
        if (values.empty()) break;
        answer = Number(values[0], "valueInteger");
        if (!answer) answer = Number(values[0], "valueDecimal");
        if (!answer) {
          if (auto coding = Field(values[0], "valueCoding")) {
            std::string code(Str(*coding, "code").value_or(""));
            char* end = nullptr;
            double parsed = std::strtod(code.c_str(), &end);
            if (!code.empty() && end == code.c_str() + code.size()) answer = parsed;
          }
        }
        break;
      }
      if (!answer) {
        return std::optional<Rejection>(Reject(entry, "required", path.empty() ? "item" : path,
                                               fmt::format("item '{}' needs a numeric answer to score {}", link_id,
                                                           instrument->id)));
      }
      // Items of mean / single-item scorings share the instrument's range;
      // a table scoring's items have their own (item_min … item_max).
      double item_min = scoring.method == ScoringMethod::kTable ? scoring.item_min : instrument->min;
      double item_max = scoring.method == ScoringMethod::kTable ? scoring.item_max : instrument->max;
      if (*answer < item_min || *answer > item_max) {
        return std::optional<Rejection>(Reject(entry, "value", path,
                                               fmt::format("answer {} to '{}' is out of range ({}–{})", *answer, link_id,
                                                           item_min, item_max)));
      }
      answers.push_back(*answer);
    }
    double score = 0;
    switch (scoring.method) {
      case ScoringMethod::kItem:
        score = answers[0];
        break;
      case ScoringMethod::kMean: {
        double sum = 0;
        for (double answer : answers) sum += answer;
        score = sum / static_cast<double>(answers.size());
        break;
      }
      case ScoringMethod::kTable: {
        double sum = 0;
        for (double answer : answers) sum += answer;
        auto raw = static_cast<size_t>(sum);
        if (sum < 0 || static_cast<double>(raw) != sum || raw >= scoring.table.size()) {
          return std::optional<Rejection>(Reject(entry, "value", "item", fmt::format("raw sum {} has no score in the table", sum)));
        }
        score = scoring.table[raw];
        break;
      }
    }
    out.key = std::get<std::string>(key);
    return AddScore(entry, *instrument, score, "item", out.key, std::get<std::string>(patient), std::get<std::string>(date));
  }

  Result<std::optional<Rejection>> CheckAdverseEvent(const Entry& entry, EntryResult& out) {
    element resource = entry.resource;
    auto key = KeyOf(entry);
    if (auto* rejection = std::get_if<Rejection>(&key)) return std::optional<Rejection>(*rejection);
    if (Str(resource, "actuality").value_or("") != "actual") {
      return std::optional<Rejection>(
          Reject(entry, "business-rule", "actuality", "only actual adverse events are recorded (actuality 'actual')"));
    }
    auto patient = PatientOf(entry, "subject");
    if (auto* rejection = std::get_if<Rejection>(&patient)) return std::optional<Rejection>(*rejection);
    std::optional<std::string_view> category_code = CodeIn(Field(resource, "event"), codes::kAdverseEventSystem);
    std::optional<AdverseEventCategory> category;
    if (category_code) category = ParseAdverseEventCategory(std::string(*category_code));
    if (!category) {
      return std::optional<Rejection>(Reject(entry, "value", "event",
                                             fmt::format("event needs a coding of {} (infection, bleeding, "
                                                         "sensory-disturbance, post-injection-flare, vasovagal, other)",
                                                         codes::kAdverseEventSystem)));
    }
    auto onset = DateOf(entry, "date", Str(resource, "date"));
    if (auto* rejection = std::get_if<Rejection>(&onset)) return std::optional<Rejection>(*rejection);
    AdverseEventRecord event;
    event.key = std::get<std::string>(key);
    event.patient = std::get<std::string>(patient);
    event.category = *category;
    event.onset = std::get<std::string>(onset);
    std::string_view seriousness = CodeIn(Field(resource, "seriousness"), codes::kSeveritySystem).value_or("");
    if (!seriousness.empty() && seriousness != "serious" && seriousness != "non-serious") {
      return std::optional<Rejection>(Reject(entry, "value", "seriousness", "seriousness must be serious or non-serious"));
    }
    event.serious = seriousness == "serious";
    if (auto outcome = Field(resource, "outcome")) {
      auto codings = Codings(outcome);
      if (!codings.empty()) event.resolved = std::string(codings[0].second);
    }
    // The procedure it follows: suspectEntity.instance, else the patient's
    // latest episode started on or before the onset.
    std::vector<element> suspects = Items(resource, "suspectEntity");
    for (size_t index = 0; index < suspects.size(); ++index) {
      std::optional<element> instance = Field(suspects[index], "instance");
      if (!instance) continue;
      std::string path = fmt::format("suspectEntity[{}].instance", index);
      RP_ASSIGN_OR_RETURN(auto procedure, ProcedureOf(entry, *instance, path));
      if (auto* rejection = std::get_if<Rejection>(&procedure)) return std::optional<Rejection>(*rejection);
      const ProcedureRecord& record = std::get<ProcedureRecord>(procedure);
      if (record.patient != event.patient) {
        return std::optional<Rejection>(Reject(entry, "business-rule", path, "the referenced Procedure is another patient's"));
      }
      event.episode_key = record.episode_key;
      for (element causality : Items(suspects[index], "causality")) {
        auto codings = Codings(Field(causality, "assessment"));
        if (!codings.empty()) event.relatedness = std::string(codings[0].second);
      }
      break;
    }
    if (event.episode_key.empty()) {
      RP_ASSIGN_OR_RETURN(std::vector<Episode> stored, store_.EpisodesOfPatient(event.patient));
      for (const auto& [episode_key, episode] : episodes_) {
        if (episode.patient == event.patient) stored.push_back(episode);
      }
      std::string best_start;
      for (const Episode& episode : stored) {
        if (episode.start_date <= event.onset && episode.start_date >= best_start) {
          best_start = episode.start_date;
          event.episode_key = episode.key;
        }
      }
      if (event.episode_key.empty()) {
        return std::optional<Rejection>(Reject(entry, "business-rule", "suspectEntity",
                                               "no procedure of this patient on or before the onset: name it in "
                                               "suspectEntity.instance"));
      }
    }
    out.key = event.key;
    batch_.adverse_events.push_back(std::move(event));
    return std::optional<Rejection>();
  }

  RegistryStore& store_;
  const InstrumentCatalog& catalog_;
  const Pseudonymizer& pseudonymizer_;
  int today_;
  bool synthetic_;
  WriteBatch batch_;
  std::map<std::string, std::string> patients_;          // reference -> pseudonym
  std::set<std::string> known_patients_;
  std::map<std::string, ProcedureRecord> procedures_;    // reference -> accepted procedure
  std::map<std::string, Episode> episodes_;
  std::map<std::string, int> series_count_;
};

std::string ResourceType(element resource) { return std::string(Str(resource, "resourceType").value_or("")); }

}  // namespace

int ImportResult::accepted() const {
  return static_cast<int>(std::count_if(entries.begin(), entries.end(), [](const EntryResult& e) { return e.accepted; }));
}
int ImportResult::rejected() const { return static_cast<int>(entries.size()) - accepted(); }

FhirImporter::FhirImporter(RegistryStore& store, const InstrumentCatalog& catalog, const Pseudonymizer& pseudonymizer,
                           std::string today, bool synthetic)
    : store_(store), catalog_(catalog), pseudonymizer_(pseudonymizer), today_(std::move(today)), synthetic_(synthetic) {}

Result<ImportResult> FhirImporter::Import(std::string_view input, InputFormat format, std::string_view source,
                                          const WriteContext& context) {
  std::optional<int> today = ParseCivilDay(today_);
  if (!today) return Fail(InvalidArgument(fmt::format("today '{}' is not a date", today_)));
  ImportResult result;
  std::vector<Entry> entries;
  // Every line's document must outlive the checks: one parser per line.
  std::vector<std::unique_ptr<simdjson::dom::parser>> parsers;
  std::vector<simdjson::padded_string> buffers;
  if (format == InputFormat::kNdjson) {
    result.bundle_type = "ndjson";
    size_t start = 0;
    int line = 0;
    std::vector<std::pair<int, std::string_view>> lines;
    while (start <= input.size()) {
      size_t end = input.find('\n', start);
      if (end == std::string_view::npos) end = input.size();
      std::string_view text = input.substr(start, end - start);
      ++line;
      if (text.find_first_not_of(" \t\r") != std::string_view::npos) lines.emplace_back(line, text);
      start = end + 1;
    }
    buffers.reserve(lines.size());
    for (const auto& [number, text] : lines) {
      buffers.emplace_back(text);
      parsers.push_back(std::make_unique<simdjson::dom::parser>());
      element resource;
      auto error = parsers.back()->parse(buffers.back()).get(resource);
      if (error || !resource.is_object()) {
        return Fail(InvalidInput(fmt::format("{}:{}: not a JSON object ({})", source, number,
                                             error ? simdjson::error_message(error) : "a JSON value that is not an object")));
      }
      Entry entry;
      entry.index = static_cast<int>(entries.size());
      entry.resource = resource;
      entry.type = ResourceType(resource);
      entry.path = fmt::format("line {}: {}", number, entry.type.empty() ? "resource" : entry.type);
      entries.push_back(std::move(entry));
    }
  } else {
    buffers.emplace_back(input);
    parsers.push_back(std::make_unique<simdjson::dom::parser>());
    element root;
    auto error = parsers.back()->parse(buffers.back()).get(root);
    if (error) return Fail(InvalidInput(fmt::format("{}: not JSON ({})", source, simdjson::error_message(error))));
    if (!root.is_object() || ResourceType(root).empty()) {
      return Fail(InvalidInput(fmt::format("{}: not a FHIR resource (no resourceType)", source)));
    }
    if (ResourceType(root) == "Bundle") {
      result.bundle_type = std::string(Str(root, "type").value_or(""));
      if (result.bundle_type != "batch" && result.bundle_type != "transaction" && result.bundle_type != "collection") {
        return Fail(InvalidInput(fmt::format("{}: Bundle.type '{}': the registry imports batch, transaction and "
                                             "collection Bundles", source, result.bundle_type)));
      }
      std::vector<element> bundle_entries = Items(root, "entry");
      for (size_t index = 0; index < bundle_entries.size(); ++index) {
        Entry entry;
        entry.index = static_cast<int>(index);
        entry.path = fmt::format("Bundle.entry[{}].resource", index);
        entry.full_url = std::string(Str(bundle_entries[index], "fullUrl").value_or(""));
        std::optional<element> resource = Field(bundle_entries[index], "resource");
        entry.resource = resource.value_or(bundle_entries[index]);
        entry.type = resource ? ResourceType(*resource) : "";
        entries.push_back(std::move(entry));
      }
    } else {
      result.bundle_type = "resource";
      Entry entry;
      entry.resource = root;
      entry.type = ResourceType(root);
      entry.path = entry.type;
      entries.push_back(std::move(entry));
    }
  }

  Run run(store_, catalog_, pseudonymizer_, *today, synthetic_);
  RP_RETURN_IF_ERROR(run.Check(entries, result));
  bool all_or_nothing = result.bundle_type == "transaction";
  if (all_or_nothing && !result.issues.empty()) {
    for (EntryResult& entry : result.entries) entry.accepted = false;
    return result;
  }
  WriteBatch& batch = run.batch();
  if (batch.empty() && batch.patients.empty()) return result;
  RP_ASSIGN_OR_RETURN(result.summary, store_.Write(batch, context));
  result.written = true;
  return result;
}

namespace {

void AppendIssue(std::string& out, std::string_view severity, std::string_view code, std::string_view message,
                 std::string_view location) {
  out += R"({"severity":)";
  AppendJsonString(severity, out);
  out += R"(,"code":)";
  AppendJsonString(code, out);
  out += R"(,"diagnostics":)";
  AppendJsonString(message, out);
  if (!location.empty()) {
    out += R"(,"location":[)";
    AppendJsonString(location, out);
    out += R"(],"expression":[)";
    AppendJsonString(location, out);
    out += "]";
  }
  out += "}";
}

}  // namespace

std::string OperationOutcomeJson(const ImportResult& result) {
  std::string out = R"({"resourceType":"OperationOutcome","issue":[)";
  bool first = true;
  for (const ImportIssue& issue : result.issues) {
    if (!first) out += ",";
    first = false;
    AppendIssue(out, "error", issue.code, issue.message, issue.location);
  }
  if (first) {
    std::string message = fmt::format("{} resources accepted ({} created, {} updated)", result.accepted(),
                                      result.summary.created, result.summary.updated);
    AppendIssue(out, "information", "informational", message, "");
  } else if (result.bundle_type == "transaction") {
    out += ",";
    AppendIssue(out, "error", "processing", "transaction Bundle: nothing was stored (all or nothing)", "Bundle");
  }
  out += "]}";
  return out;
}

std::string ResponseBundleJson(const ImportResult& result) {
  std::string out = R"({"resourceType":"Bundle","type":)";
  AppendJsonString(result.bundle_type == "transaction" ? "transaction-response" : "batch-response", out);
  out += R"(,"entry":[)";
  for (size_t index = 0; index < result.entries.size(); ++index) {
    if (index > 0) out += ",";
    const EntryResult& entry = result.entries[index];
    out += R"({"response":{"status":)";
    if (entry.accepted) {
      AppendJsonString(result.written ? "200 OK" : "200 OK", out);
    } else {
      bool has_issue = std::any_of(result.issues.begin(), result.issues.end(),
                                   [&](const ImportIssue& issue) { return issue.entry == static_cast<int>(index); });
      AppendJsonString(has_issue ? "400 Bad Request" : "409 Conflict", out);
      out += R"(,"outcome":{"resourceType":"OperationOutcome","issue":[)";
      bool first = true;
      for (const ImportIssue& issue : result.issues) {
        if (issue.entry != static_cast<int>(index)) continue;
        if (!first) out += ",";
        first = false;
        AppendIssue(out, "error", issue.code, issue.message, issue.location);
      }
      if (first) AppendIssue(out, "error", "processing", "not stored: another entry of the transaction was rejected", "");
      out += "]}";
    }
    out += "}}";
  }
  out += "]}";
  return out;
}

}  // namespace regenpath::registry
