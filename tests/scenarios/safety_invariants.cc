#include "tests/scenarios/safety_invariants.h"

#include <algorithm>
#include <tuple>

namespace regenpath::engine {

namespace {

bool Offered(const Recommendation& item) { return IsOpen(item.status); }

bool IsInjection(const Recommendation& item) {
  return item.category == OptionCategory::kRegenerative || (item.procedure && item.procedure->bleeding_risk);
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string Condition(const std::string& id, const std::string& icd, const std::string& sct,
                      const std::string& display) {
  return R"({"resourceType":"Condition","id":")" + id +
         R"(","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},)"
         R"("verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},)"
         R"("code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":")" +
         icd + R"(","display":")" + display + R"("},{"system":"http://snomed.info/sct","code":")" + sct +
         R"(","display":")" + display + R"("}],"text":")" + display + R"("},"onsetDateTime":"2025-01-10"})";
}

std::string Order(const std::string& id, const std::string& rxnorm, const std::string& display) {
  return R"({"resourceType":"MedicationRequest","id":")" + id +
         R"(","status":"active","intent":"order","authoredOn":"2025-01-10",)"
         R"("medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":")" +
         rxnorm + R"(","display":")" + display + R"("}],"text":")" + display + R"("}})";
}

}  // namespace

std::vector<std::string> CheckSafetyInvariants(const Assessment& assessment, const RecordFacts& facts) {
  std::vector<std::string> violations;
  const bool red_flag = !assessment.red_flags.empty();
  if (facts.red_flag && !red_flag) violations.push_back("an added red flag (cauda equina) was not recognized");
  std::vector<std::string> oncology_conditions;
  for (const AssessedCondition& condition : assessment.conditions) {
    if (condition.stage.id == "oncology-integrative") oncology_conditions.push_back(condition.id);
  }
  auto find_option = [&](const std::string& condition, const std::string& id) -> const Recommendation* {
    for (const Recommendation& item : assessment.recommendations) {
      if (item.id == id && (condition.empty() || item.condition == condition)) return &item;
    }
    return nullptr;
  };
  for (const NextStep& step : assessment.next_steps) {
    if (step.option.empty()) continue;
    const Recommendation* option = find_option(step.condition, step.option);
    if (option != nullptr && !Offered(*option)) {
      violations.push_back("next step '" + step.display + "' proposes " + option->id + " (" +
                           std::string(ToString(option->status)) + ")");
    }
  }
  std::vector<std::string> urgent_conditions;
  for (const AssessedCondition& condition : assessment.conditions) {
    if (condition.stage.id == "urgent-referral") urgent_conditions.push_back(condition.id);
  }
  for (const Recommendation& item : assessment.recommendations) {
    const std::string label = item.id + " (" + std::string(ToString(item.status)) + ")";
    static const std::vector<std::string> kManual = {"spinal-manipulation", "massage"};
    if (Contains(urgent_conditions, item.condition) && Offered(item) &&
        (IsInjection(item) || Contains(kManual, item.therapy))) {
      violations.push_back("urgent referral, yet the manual or procedural therapy " + label + " is offered");
    }
    if (facts.secondary_prevention && item.procedure) {
      for (const MedicationHoldResult& hold : item.procedure->medication_holds) {
        // Strict (issue 9): with a secondary-prevention indication every aspirin
        // hold is a shared decision (null days), "no hold" (0) included.
        if (hold.medication == "aspirin" && hold.hold_days_before) {
          violations.push_back("secondary-prevention indication, yet " + label + " gives aspirin a hold of " +
                               std::to_string(*hold.hold_days_before) + " days instead of a shared decision");
        }
      }
    }
    if ((red_flag || facts.red_flag) && IsInjection(item) && Offered(item)) {
      violations.push_back("red flag, yet the injection " + label + " is offered");
    }
    if (item.category == OptionCategory::kRegenerative && Offered(item) &&
        (facts.active_cancer || Contains(oncology_conditions, item.condition))) {
      violations.push_back("active-cancer pain, yet " + label + " is offered");
    }
    bool absolute = false;
    bool relative = false;
    for (const FoundContraindication& found : item.contraindications) {
      if (found.kind == ContraindicationKind::kAbsolute) absolute = true;
      if (found.kind == ContraindicationKind::kRelative) relative = true;
    }
    if (absolute && item.status != RecommendationStatus::kContraindicated) {
      violations.push_back("absolute contraindication, yet " + label + " is not contraindicated");
    }
    if (relative && item.status == RecommendationStatus::kRecommended) {
      violations.push_back("relative contraindication, yet " + label + " is recommended");
    }
    if (item.category == OptionCategory::kRegenerative && Contains(facts.contraindicated_therapies, item.therapy) &&
        item.status != RecommendationStatus::kContraindicated) {
      violations.push_back("an added absolute contraindication does not make " + label + " contraindicated");
    }
    if (item.category == OptionCategory::kRegenerative && item.status != RecommendationStatus::kContraindicated) {
      if (!item.procedure || item.procedure->image_guidance.empty()) {
        violations.push_back(label + " carries no image guidance");
      }
      for (const std::string& medication : facts.antithrombotics) {
        bool held = item.procedure && std::any_of(item.procedure->medication_holds.begin(),
                                                  item.procedure->medication_holds.end(),
                                                  [&](const MedicationHoldResult& hold) {
                                                    return hold.medication == medication;
                                                  });
        if (!held) violations.push_back(label + " has no hold entry for the patient's " + medication);
      }
    }
  }
  return violations;
}

std::vector<std::string> CheckEvidenceCoverage(const Assessment& assessment, size_t* counts) {
  std::vector<std::string> problems;
  size_t checked = 0;
  size_t met_from_record = 0;
  auto refs_match = [](const Criterion& criterion) {
    if (criterion.evidence.size() != criterion.data.size()) return false;
    for (size_t index = 0; index < criterion.data.size(); ++index) {
      if (criterion.evidence[index] != criterion.data[index].reference) return false;
    }
    return true;
  };
  auto check = [&](const Criterion& criterion, const std::string& where) {
    if (!criterion.met) return;  // unknown: its missing data says what would settle it
    ++checked;
    if (criterion.data.empty() && criterion.looked_for.empty()) {
      problems.push_back(where + " criterion " + criterion.id + " has neither data nor what was looked for");
    }
    if (*criterion.met && criterion.from_record) {
      ++met_from_record;
      if (criterion.evidence.empty()) problems.push_back(where + " criterion " + criterion.id + " is met with no resource");
    }
    if (!refs_match(criterion)) problems.push_back(where + " criterion " + criterion.id + ": evidence and data differ");
    for (const Datum& datum : criterion.data) {
      if (datum.reference.empty() || datum.display.empty()) {
        problems.push_back(where + " criterion " + criterion.id + ": a datum without reference or display");
      }
    }
  };
  for (const AssessedCondition& condition : assessment.conditions) {
    for (const Criterion& criterion : condition.criteria) check(criterion, "condition " + condition.id);
    if (condition.data.empty()) problems.push_back("condition " + condition.id + " has no data");
  }
  for (const Recommendation& item : assessment.recommendations) {
    for (const Criterion& criterion : item.rationale) check(criterion, "option " + item.id);
    for (const Criterion& criterion : item.pre_checks) check(criterion, "option " + item.id + " pre-check");
    if (item.done == true && item.done_data.empty()) problems.push_back("option " + item.id + " is done with no data");
    for (const FoundContraindication& found : item.contraindications) {
      if (found.data.empty()) problems.push_back("option " + item.id + " contraindication " + found.id + " has no data");
    }
    if (!item.procedure) continue;
    for (const MedicationHoldResult& hold : item.procedure->medication_holds) {
      if (hold.data.empty()) problems.push_back("option " + item.id + " hold " + hold.medication + " has no data");
    }
  }
  for (const AssessedRedFlag& flag : assessment.red_flags) {
    if (flag.data.empty()) problems.push_back("red flag " + flag.id + " has no data");
  }
  if (counts != nullptr) {
    counts[0] += checked;
    counts[1] += met_from_record;
  }
  return problems;
}

std::string Variation::Apply(const std::string& bundle_json) const {
  std::string added;
  for (const std::string& resource : resources) added += R"({"resource":)" + resource + "},";
  size_t entry = bundle_json.find("\"entry\"");
  size_t open = entry == std::string::npos ? std::string::npos : bundle_json.find('[', entry);
  if (open == std::string::npos) {
    // No entries yet: add the array after the opening brace.
    std::string text = bundle_json;
    added.pop_back();
    text.insert(text.find('{') + 1, "\"entry\":[" + added + "],");
    return text;
  }
  std::string text = bundle_json;
  size_t next = text.find_first_not_of(" \t\r\n", open + 1);
  if (next != std::string::npos && text[next] == ']') added.pop_back();  // empty array: no trailing comma
  text.insert(open + 1, added);
  return text;
}

const std::vector<Variation>& Variations() {
  static const std::vector<Variation>* variations = [] {
    auto* list = new std::vector<Variation>();
    const std::string cauda = Condition("var-red-flag", "G83.4", "192970008", "Cauda equina syndrome");
    const std::string cancer = Condition("var-cancer", "C50.911", "254837009", "Malignant neoplasm of breast");
    const std::string sepsis = Condition("var-sepsis", "A41.9", "91302008", "Sepsis");
    list->push_back({"red flag", {cauda}, {.red_flag = true}});
    list->push_back({"active cancer", {cancer}, {.active_cancer = true}});
    list->push_back({"septicemia", {sepsis}, {.contraindicated_therapies = {"prp"}}});
    const std::vector<std::tuple<std::string, std::string, std::string>> drugs = {
        {"apixaban", "1364430", "apixaban 5 MG Oral Tablet"},
        {"rivaroxaban", "1114195", "rivaroxaban 20 MG Oral Tablet"},
        {"dabigatran", "1037042", "dabigatran etexilate 150 MG Oral Capsule"},
        {"warfarin", "11289", "warfarin sodium 5 MG Oral Tablet"},
        {"clopidogrel", "32968", "clopidogrel 75 MG Oral Tablet"},
        {"ticagrelor", "1116632", "ticagrelor 90 MG Oral Tablet"},
        {"aspirin", "1191", "aspirin 81 MG Oral Tablet"},
        {"naproxen", "7258", "naproxen sodium 220 MG Oral Tablet"},
        {"ibuprofen", "5640", "ibuprofen 400 MG Oral Tablet"},
        {"meloxicam", "41493", "meloxicam 15 MG Oral Tablet"},
    };
    for (const auto& [ingredient, code, display] : drugs) {
      list->push_back({"on " + ingredient, {Order("var-" + ingredient, code, display)}, {.antithrombotics = {ingredient}}});
    }
    const std::string stent = Condition("var-stent", "Z95.5", "414545008", "Presence of coronary stent");
    list->push_back({"aspirin with a coronary stent",
                     {stent, Order("var-aspirin", "1191", "aspirin 81 MG Oral Tablet")},
                     {.antithrombotics = {"aspirin"}, .secondary_prevention = true}});
    list->push_back({"red flag and apixaban",
                     {cauda, Order("var-apixaban", "1364430", "apixaban 5 MG Oral Tablet")},
                     {.red_flag = true, .antithrombotics = {"apixaban"}}});
    return list;
  }();
  return *variations;
}

}  // namespace regenpath::engine
