#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/record_evaluator.h"
#include "fhirpath/operations.h"

namespace regenpath::engine {

namespace {

using knowledge::Confidence;
using knowledge::KnowledgeBase;

// The overall stage is the first of these that any condition has.
constexpr std::string_view kStagePriority[] = {"urgent-referral", "oncology-integrative", "regenerative-candidate",
                                               "diagnostic-evaluation", "conventional-care"};

std::string StageDisplay(std::string_view stage) {
  if (stage == "urgent-referral") return "urgent referral";
  if (stage == "oncology-integrative") return "integrative oncology";
  if (stage == "conventional-care") return "conventional first-line care";
  if (stage == "diagnostic-evaluation") return "diagnostic evaluation";
  if (stage == "regenerative-candidate") return "candidate for a regenerative option";
  return "not applicable";
}

// recommended -> consider -> not-recommended.
std::string LowerStatus(const std::string& status) {
  if (status == "recommended") return "consider";
  return "not-recommended";
}

// A criterion's truth from a definition's value: a single Boolean is itself;
// resources or other values mean "found" (true); empty is false, or unknown
// when the definition says what missing data would settle it.
std::optional<bool> Truth(const Collection& values, bool empty_is_unknown) {
  if (values.empty()) return empty_is_unknown ? std::nullopt : std::optional<bool>(false);
  if (values.size() == 1) {
    std::optional<Value> value = fhirpath::ToSystem(values.front());
    if (value && value->type() == fhirpath::ValueType::kBoolean) return value->boolean();
  }
  return true;
}

std::string Describe(const knowledge::Definition& definition) {
  if (!definition.note.empty()) return definition.note;
  return definition.id;
}

// The integer age in whole years at `now`, if the birth date is known to the day.
std::optional<int> AgeAt(const DateTime& birth, const DateTime& now) {
  if (birth.precision() < DateTimePrecision::kDay) return std::nullopt;
  int age = now.year() - birth.year();
  if (now.month() < birth.month() || (now.month() == birth.month() && now.day() < birth.day())) --age;
  return age;
}

class Assessor {
 public:
  Assessor(const KnowledgeBase& kb, const fhir::Document& record, const DateTime& now,
           const std::vector<std::pair<const knowledge::Condition*, const fhirpath::CompiledExpression*>>& conditions,
           const std::vector<std::pair<const knowledge::MedicationHold*, const fhirpath::CompiledExpression*>>& holds)
      : kb_(kb), evaluator_(kb, record, now), conditions_(conditions), holds_(holds) {}

  Assessment Run() {
    Assessment out;
    out.kb_name = kb_.name();
    out.kb_version = kb_.version();
    out.evaluated_at = evaluator_.now().ToString();
    DescribePatient(out);
    for (const fhir::Issue& issue : evaluator_.record().issues()) {
      out.issues.push_back(
          AssessmentIssue{std::string(fhir::IssueSeverityName(issue.severity)), issue.message, issue.location});
    }
    // The engine's own matchers read these two as variables.
    evaluator_.Patient("active-conditions");
    evaluator_.Patient("active-medications");
    FindRedFlags(out);
    FindContraindications();
    FindCurrentMedications();
    if (const auto& escalation = kb_.bleeding_risk_escalation()) {
      escalate_bleeding_risk_ = Truth(evaluator_.Patient(escalation->definition), false) == true;
      if (escalate_bleeding_risk_ && escalation->confidence == Confidence::kU) {
        NoteUnverified(fmt::format("bleeding-risk escalation: {}", escalation->display));
      }
    }
    for (const auto& [condition, matcher] : conditions_) AssessCondition(*condition, *matcher, out);
    out.stage = "not-applicable";
    for (std::string_view stage : kStagePriority) {
      bool any = std::any_of(out.conditions.begin(), out.conditions.end(),
                             [&](const AssessedCondition& condition) { return condition.stage == stage; });
      if (any) {
        out.stage = std::string(stage);
        break;
      }
    }
    if (!out.red_flags.empty()) {
      std::string flags;
      for (const AssessedRedFlag& flag : out.red_flags) {
        if (!flags.empty()) flags += "; ";
        flags += flag.display;
      }
      out.next_steps.insert(out.next_steps.begin(),
                            NextStep{"referral", fmt::format("Urgent evaluation: {}. No elective injection.", flags), ""});
    }
    for (const MissingDataItem& item : missing_) out.missing_data.push_back(item);
    for (const MissingDataItem& item : missing_) {
      out.next_steps.push_back(NextStep{"data", fmt::format("Record {}", item.display), ""});
    }
    for (AssessmentIssue& issue : evaluator_.issues()) out.issues.push_back(std::move(issue));
    out.unverified_facts.assign(unverified_.begin(), unverified_.end());
    return out;
  }

 private:
  void NoteUnverified(std::string fact) { unverified_.insert(std::move(fact)); }

  void AddMissing(const knowledge::MissingData& missing) {
    bool known = std::any_of(missing_.begin(), missing_.end(),
                             [&](const MissingDataItem& item) { return item.id == missing.id; });
    if (!known) missing_.push_back(MissingDataItem{missing.id, missing.display});
  }

  void DescribePatient(Assessment& out) {
    const fhir::Node* patient = nullptr;
    for (const fhir::Node* resource : evaluator_.record().resources()) {
      if (resource->type_name() == "Patient") {
        patient = resource;
        break;
      }
    }
    if (patient == nullptr) {
      out.patient_reference = "Patient/unknown";
      out.issues.push_back(AssessmentIssue{"warning", "the record has no Patient resource", ""});
      return;
    }
    const fhir::Node* id = patient->Child("id");
    out.patient_reference = "Patient/" + std::string(id != nullptr && id->has_value() ? id->text() : "unknown");
    if (const fhir::Node* gender = patient->Child("gender"); gender != nullptr && gender->has_value()) {
      out.sex = std::string(gender->text());
    }
    // A deceased patient's age is the age at death, and the clinician is told.
    DateTime age_at = evaluator_.now();
    if (const fhir::Node* deceased = patient->Child("deceased"); deceased != nullptr && deceased->has_value()) {
      std::optional<DateTime> when = DateTime::ParseDateTime(deceased->text());
      if (when) age_at = *when;
      if (when || deceased->text() == "true") {
        out.issues.push_back(AssessmentIssue{
            "warning", fmt::format("the patient is recorded as deceased{}", when ? " on " + when->ToString() : ""),
            patient->Path() + ".deceased"});
      }
    }
    if (const fhir::Node* birth = patient->Child("birthDate"); birth != nullptr && birth->has_value()) {
      // (An invalid birthDate is already an issue from the parser.)
      std::optional<DateTime> date = DateTime::ParseDate(birth->text());
      if (date) out.age = AgeAt(*date, age_at);
    }
  }

  void FindRedFlags(Assessment& out) {
    for (const knowledge::RedFlag& flag : kb_.red_flags()) {
      const Collection& found = evaluator_.Patient(flag.definition);
      std::optional<bool> present = Truth(found, false);
      if (present != true) continue;
      AssessedRedFlag result{flag.id, flag.display, ReferencesOf(found), flag.confidence == Confidence::kU};
      if (result.unverified) NoteUnverified(fmt::format("red flag '{}'", flag.display));
      out.red_flags.push_back(std::move(result));
    }
    red_flag_ = !out.red_flags.empty();
  }

  // Contraindications that do not depend on a condition, found once.
  void FindContraindications() {
    for (const knowledge::Contraindication& item : kb_.contraindications()) {
      const knowledge::Definition* definition = kb_.FindDefinition(item.definition);
      if (definition == nullptr || definition->scope == knowledge::DefinitionScope::kCondition) continue;
      const Collection& found = evaluator_.Patient(item.definition);
      if (Truth(found, false) == true) patient_contraindications_[item.id] = ReferencesOf(found);
    }
  }

  void FindCurrentMedications() {
    for (const auto& [hold, matcher] : holds_) {
      const Collection& found = evaluator_.EvaluateExpression(*matcher, "medication " + hold->medication);
      if (!found.empty()) current_medications_.push_back({hold, ReferencesOf(found)});
    }
  }

  // Evaluates a criterion in the current condition scope.
  Criterion EvaluateCriterion(const std::string& id, const knowledge::Condition& condition) {
    Criterion criterion;
    criterion.id = id;
    std::string definition_id = id;
    if (id == "red-flag") {
      criterion.display = "A red flag is present";
      criterion.met = red_flag_;
      return criterion;
    }
    if (id == "localized") {
      criterion.display = "Pain source localized and injectable";
      criterion.met = condition.localized;
      return criterion;
    }
    if (id == "always") {
      criterion.met = true;
      return criterion;
    }
    if (id == "conventional-trial") definition_id = condition.conventional_trial;
    if (id == "diagnostics-done") definition_id = condition.diagnostics_done;
    if (id == "chronic") definition_id = "chronic";
    const knowledge::Definition* definition = definition_id.empty() ? nullptr : kb_.FindDefinition(definition_id);
    if (definition == nullptr) {
      // The condition has no such criterion (e.g. no diagnostic evaluation
      // is expected for it): it is satisfied.
      criterion.display = id == "diagnostics-done"     ? "No diagnostic evaluation is expected for this condition"
                          : id == "conventional-trial" ? "No first-line conventional care is expected for this condition"
                                                       : id + " (not defined for this condition)";
      criterion.met = true;
      return criterion;
    }
    criterion.display = Describe(*definition);
    const Collection& values = evaluator_.InCondition(definition_id);
    criterion.met = Truth(values, definition->missing_data.has_value());
    criterion.evidence = ReferencesOf(values);
    for (const std::string& used : definition->uses) {
      const knowledge::Parameter* parameter = kb_.FindParameter(used);
      if (parameter != nullptr && parameter->confidence == Confidence::kU) {
        criterion.unverified = true;
        NoteUnverified(fmt::format("parameter '{}' = {}", parameter->id, parameter->ValueText()));
      }
    }
    if (!criterion.met && definition->missing_data) AddMissing(*definition->missing_data);
    return criterion;
  }

  std::optional<bool> EvaluateRule(const knowledge::RuleExpr& rule, const knowledge::Condition& condition,
                                   std::vector<Criterion>& criteria) {
    using Kind = knowledge::RuleExpr::Kind;
    switch (rule.kind) {
      case Kind::kAlways:
        return true;
      case Kind::kCriterion: {
        auto known = std::find_if(criteria.begin(), criteria.end(),
                                  [&](const Criterion& criterion) { return criterion.id == rule.criterion; });
        if (known != criteria.end()) return known->met;
        Criterion criterion = EvaluateCriterion(rule.criterion, condition);
        std::optional<bool> met = criterion.met;
        criteria.push_back(std::move(criterion));
        return met;
      }
      case Kind::kNot: {
        std::optional<bool> operand = EvaluateRule(rule.operands[0], condition, criteria);
        if (!operand) return std::nullopt;
        return !*operand;
      }
      case Kind::kAll: {
        bool unknown = false;
        for (const knowledge::RuleExpr& operand : rule.operands) {
          std::optional<bool> value = EvaluateRule(operand, condition, criteria);
          if (value == false) return false;
          if (!value) unknown = true;
        }
        return unknown ? std::nullopt : std::optional<bool>(true);
      }
      case Kind::kAny: {
        bool unknown = false;
        for (const knowledge::RuleExpr& operand : rule.operands) {
          std::optional<bool> value = EvaluateRule(operand, condition, criteria);
          if (value == true) return true;
          if (!value) unknown = true;
        }
        return unknown ? std::nullopt : std::optional<bool>(false);
      }
    }
    return std::nullopt;
  }

  void AssessCondition(const knowledge::Condition& condition, const fhirpath::CompiledExpression& matcher,
                       Assessment& out) {
    const Collection& found = evaluator_.EvaluateExpression(matcher, "condition " + condition.id);
    if (found.empty()) return;
    Collection resources = found;
    evaluator_.EnterCondition(resources, condition.targets);

    AssessedCondition assessed;
    assessed.id = condition.id;
    assessed.display = condition.display;
    assessed.targets = condition.targets;
    assessed.evidence = ReferencesOf(resources);

    // Stage: the first rule that holds (or is unknown and applies on unknown).
    std::vector<Criterion> criteria;
    for (const knowledge::StageRule& rule : kb_.stage_rules()) {
      std::optional<bool> holds = EvaluateRule(rule.when, condition, criteria);
      if (holds == true || (!holds && rule.apply_on_unknown)) {
        assessed.stage = rule.stage;
        assessed.stage_reason = holds ? "its criteria are met" : "data needed to rule it out is missing";
        break;
      }
    }
    if (assessed.stage.empty()) assessed.stage = "not-applicable";
    // `chronic` is reported even when no rule needed it.
    auto chronic = std::find_if(criteria.begin(), criteria.end(), [](const Criterion& c) { return c.id == "chronic"; });
    if (chronic == criteria.end() && kb_.FindDefinition("chronic") != nullptr) {
      criteria.push_back(EvaluateCriterion("chronic", condition));
      chronic = criteria.end() - 1;
    }
    if (chronic != criteria.end()) assessed.chronic = chronic->met;
    assessed.criteria = criteria;
    assessed.stage_reason = fmt::format("{}: {} ({})", condition.display, StageDisplay(assessed.stage),
                                        assessed.stage_reason);

    for (const std::string& id : condition.first_line) AddOption(id, condition, assessed, out);
    for (const std::string& id : condition.diagnostics) AddOption(id, condition, assessed, out);
    for (const std::string& id : condition.regenerative) AddOption(id, condition, assessed, out);
    for (const std::string& id : condition.integrative) AddOption(id, condition, assessed, out);
    for (const std::string& id : condition.referral) AddOption(id, condition, assessed, out);
    out.conditions.push_back(std::move(assessed));
  }

  std::vector<EvidenceStatement> EvidenceOf(const knowledge::Option& option) {
    std::vector<EvidenceStatement> statements;
    for (const knowledge::Evidence& evidence : option.evidence) {
      statements.push_back(EvidenceStatement{evidence.source, evidence.level, evidence.direction, evidence.statement,
                                             std::string(knowledge::ConfidenceName(evidence.confidence))});
      if (evidence.confidence == Confidence::kU) {
        NoteUnverified(fmt::format("evidence of {} from {}", option.id, evidence.source));
      }
    }
    return statements;
  }

  // Contraindications of a regenerative option for this patient.
  std::vector<FoundContraindication> ContraindicationsOf(const knowledge::Option& option) {
    std::vector<FoundContraindication> found;
    for (const knowledge::Contraindication& item : kb_.contraindications()) {
      if (!item.applies_to.empty() &&
          std::find(item.applies_to.begin(), item.applies_to.end(), option.therapy) == item.applies_to.end()) {
        continue;
      }
      if (!item.applies_to_targets.empty() && std::find(item.applies_to_targets.begin(), item.applies_to_targets.end(),
                                                        option.target) == item.applies_to_targets.end()) {
        continue;
      }
      Refs evidence;
      const knowledge::Definition* definition = kb_.FindDefinition(item.definition);
      if (definition != nullptr && definition->scope == knowledge::DefinitionScope::kCondition) {
        const Collection& values = evaluator_.InCondition(item.definition);
        if (Truth(values, false) != true) continue;
        evidence = ReferencesOf(values);
      } else {
        auto present = patient_contraindications_.find(item.id);
        if (present == patient_contraindications_.end()) continue;
        evidence = present->second;
      }
      FoundContraindication result{item.id,
                                   item.kind == knowledge::ContraindicationKind::kAbsolute ? "absolute" : "relative",
                                   item.display, std::move(evidence), item.confidence == Confidence::kU};
      if (result.unverified) NoteUnverified(fmt::format("contraindication '{}'", item.display));
      found.push_back(std::move(result));
    }
    return found;
  }

  std::vector<MedicationHoldResult> HoldsFor(const knowledge::Procedure& procedure) {
    std::vector<MedicationHoldResult> holds;
    for (const CurrentMedication& current : current_medications_) {
      const knowledge::MedicationHold& hold = *current.hold;
      MedicationHoldResult result;
      result.medication = hold.medication;
      result.evidence = current.evidence;
      result.unverified = hold.confidence == Confidence::kU;
      auto category = hold.holds.find(procedure.bleeding_risk);
      std::string note;
      if (category != hold.holds.end()) {
        result.hold_days_before = category->second.days;
        note = category->second.note;
      } else {
        note = fmt::format("no hold listed for a {}-risk procedure", procedure.bleeding_risk);
      }
      // PRP: NSAIDs and aspirin impair platelet function, so they are
      // stopped whatever the bleeding category.
      if (procedure.platelet_function_holds) {
        auto platelet = hold.holds.find("platelet-function");
        if (platelet != hold.holds.end()) {
          if (platelet->second.days) {
            if (!result.hold_days_before || *result.hold_days_before < *platelet->second.days) {
              result.hold_days_before = platelet->second.days;
            }
          } else if (result.hold_days_before == 0) {
            // The platelet-function hold is a shared decision: "no hold" no longer stands.
            result.hold_days_before = std::nullopt;
          }
          note = note.empty() ? platelet->second.note : note + "; " + platelet->second.note;
        }
      }
      result.restart_hours_after = hold.restart_hours;
      if (!hold.restart_note.empty()) note = note.empty() ? hold.restart_note : note + "; restart: " + hold.restart_note;
      if (result.unverified) {
        note = note.empty() ? "unverified" : note + " (unverified)";
        NoteUnverified(fmt::format("hold times for {}", hold.medication));
      }
      result.note = note;
      holds.push_back(std::move(result));
    }
    return holds;
  }

  void AddOption(const std::string& id, const knowledge::Condition& condition, AssessedCondition& assessed,
                 Assessment& out) {
    const knowledge::Option* option = kb_.FindOption(id);
    if (option == nullptr) return;
    // Options with a `when` are listed only for the patients it selects.
    if (!option->when.empty()) {
      const Collection& selected = evaluator_.InCondition(option->when);
      const knowledge::Definition* when = kb_.FindDefinition(option->when);
      std::optional<bool> applies = Truth(selected, when != nullptr && when->missing_data.has_value());
      // Unknown (e.g. no birth date for an adults-only option): not listed,
      // but the data that would decide it is.
      if (!applies && when != nullptr && when->missing_data) AddMissing(*when->missing_data);
      if (applies != true) return;
    }
    Recommendation recommendation;
    recommendation.id = option->id;
    recommendation.condition = condition.id;
    recommendation.category = option->category;
    recommendation.therapy = option->therapy;
    if (!option->target.empty()) recommendation.target = option->target;
    recommendation.display = option->display;
    recommendation.summary = option->summary.empty() ? option->display : option->summary;
    recommendation.evidence = EvidenceOf(*option);
    for (const std::string& criterion_id : option->criteria) {
      recommendation.rationale.push_back(EvaluateCriterion(criterion_id, condition));
    }
    bool done = false;
    if (!option->done.empty()) {
      const Collection& values = evaluator_.InCondition(option->done);
      done = Truth(values, false) == true;
      Criterion tried{"done", "Already done or tried", done, ReferencesOf(values), false};
      recommendation.rationale.push_back(std::move(tried));
    }

    std::string status = option->base_status;
    std::string why = option->status_rationale;
    const bool is_injection = option->procedure && !option->procedure->bleeding_risk.empty();
    if (option->category == "regenerative") {
      recommendation.contraindications = ContraindicationsOf(*option);
      const bool absolute = std::any_of(recommendation.contraindications.begin(), recommendation.contraindications.end(),
                                        [](const FoundContraindication& c) { return c.kind == "absolute"; });
      const bool relative = std::any_of(recommendation.contraindications.begin(), recommendation.contraindications.end(),
                                        [](const FoundContraindication& c) { return c.kind == "relative"; });
      if (absolute) {
        status = "contraindicated";
        why = "an absolute contraindication is present";
      } else if (red_flag_) {
        status = "not-recommended";
        why = "a red flag is present: urgent evaluation, no elective injection";
      } else if (assessed.stage == "oncology-integrative") {
        status = "not-recommended";
        why = "pain with active cancer: regenerative injections are not offered (SIO–ASCO integrative options instead)";
      } else if (assessed.stage != "regenerative-candidate") {
        status = "not-recommended";
        why = fmt::format("not yet indicated: the condition is at the {} stage", StageDisplay(assessed.stage));
      } else if (relative) {
        status = LowerStatus(status);
        why = option->status_rationale + "; lowered for a relative contraindication";
      }
    } else if (is_injection && red_flag_) {
      status = "not-recommended";
      why = "a red flag is present: urgent evaluation, no elective injection";
    }
    recommendation.status = status;
    recommendation.rationale.insert(recommendation.rationale.begin(),
                                    Criterion{"status", why, std::nullopt, {}, false});

    if (option->procedure) {
      const knowledge::Procedure& procedure = *option->procedure;
      ProcedurePlan plan;
      plan.image_guidance = procedure.image_guidance;
      plan.bleeding_risk = procedure.bleeding_risk;
      plan.bleeding_risk_note = procedure.bleeding_risk_note;
      knowledge::Procedure effective = procedure;
      if (escalate_bleeding_risk_ && !procedure.bleeding_risk.empty() && procedure.bleeding_risk != "high") {
        // ASRA 2018: a patient at higher bleeding risk moves up one category.
        effective.bleeding_risk = procedure.bleeding_risk == "low" ? "intermediate" : "high";
        plan.bleeding_risk = effective.bleeding_risk;
        std::string moved = fmt::format("moved up from {}: {}", procedure.bleeding_risk,
                                        kb_.bleeding_risk_escalation()->display);
        plan.bleeding_risk_note = plan.bleeding_risk_note.empty() ? moved : plan.bleeding_risk_note + "; " + moved;
      }
      plan.protocol = procedure.protocol;
      plan.monitoring = option->monitoring;
      plan.pre_checks = procedure.pre_checks;
      if (!procedure.bleeding_risk.empty() && status != "contraindicated") plan.medication_holds = HoldsFor(effective);
      if (!procedure.protocol.empty() && procedure.protocol_confidence == Confidence::kU) {
        NoteUnverified(fmt::format("protocol of {}", option->id));
      }
      if (!procedure.bleeding_risk.empty() && procedure.bleeding_risk_confidence == Confidence::kU) {
        NoteUnverified(fmt::format("bleeding-risk category of {}", option->id));
      }
      // Pre-procedure checks are data: when they are missing, say so.
      if (option->category == "regenerative" && (status == "consider" || status == "recommended")) {
        for (const std::string& check : procedure.pre_checks) {
          const knowledge::Definition* definition = kb_.FindDefinition(check);
          if (definition == nullptr) continue;
          if (Truth(evaluator_.InCondition(check), true) != true && definition->missing_data) {
            AddMissing(*definition->missing_data);
          }
        }
      }
      recommendation.procedure = std::move(plan);
    } else if (!option->monitoring.empty()) {
      ProcedurePlan plan;
      plan.monitoring = option->monitoring;
      recommendation.procedure = std::move(plan);
    }
    if (option->follow_up) {
      FollowUpPlan plan;
      for (const std::string& instrument_id : option->follow_up->instruments) {
        const knowledge::Instrument* instrument = kb_.FindInstrument(instrument_id);
        if (instrument == nullptr) continue;
        plan.instruments.push_back(FollowUpInstrument{instrument->id, instrument->loinc, instrument->mcid});
        if (instrument->confidence == Confidence::kU) NoteUnverified(fmt::format("instrument {}", instrument->display));
      }
      plan.schedule_weeks = option->follow_up->schedule_weeks;
      recommendation.follow_up = std::move(plan);
    }
    if (option->cost) {
      const knowledge::Cost& cost = *option->cost;
      recommendation.cost = CostInfo{cost.usd_low, cost.usd_high, cost.per, cost.coverage, cost.billing_codes,
                                     cost.confidence == Confidence::kU};
      if (cost.confidence == Confidence::kU) NoteUnverified(fmt::format("cost of {}", option->id));
    }

    // Next steps follow the condition's stage.
    const std::string& stage = assessed.stage;
    if (option->category == "conventional" && stage == "conventional-care" && !done) {
      out.next_steps.push_back(NextStep{"conventional", option->display, condition.id});
    } else if (option->category == "diagnostic" && stage == "diagnostic-evaluation" && !done &&
               status != "not-recommended") {
      out.next_steps.push_back(NextStep{"diagnostic", option->display, condition.id});
    } else if ((option->category == "integrative" || option->category == "referral") &&
               (status == "recommended" || status == "consider")) {
      out.next_steps.push_back(NextStep{"referral", option->display, condition.id});
    } else if (option->category == "regenerative" && (status == "consider" || status == "recommended")) {
      out.next_steps.push_back(NextStep{
          "procedure",
          fmt::format("Shared decision on {} ({}): image-guided, holds as listed, then follow-up", option->display,
                      status),
          condition.id});
    }
    out.recommendations.push_back(std::move(recommendation));
  }

  struct CurrentMedication {
    const knowledge::MedicationHold* hold;
    Refs evidence;
  };

  const KnowledgeBase& kb_;
  RecordEvaluator evaluator_;
  const std::vector<std::pair<const knowledge::Condition*, const fhirpath::CompiledExpression*>>& conditions_;
  const std::vector<std::pair<const knowledge::MedicationHold*, const fhirpath::CompiledExpression*>>& holds_;
  bool red_flag_ = false;
  bool escalate_bleeding_risk_ = false;
  std::map<std::string, Refs> patient_contraindications_;
  std::vector<CurrentMedication> current_medications_;
  std::vector<MissingDataItem> missing_;
  std::set<std::string> unverified_;
};

}  // namespace

Result<Engine> Engine::Create(std::shared_ptr<const KnowledgeBase> kb) {
  if (!kb->usable()) {
    return Fail(InvalidInput(fmt::format("the knowledge base has {} problem(s); run `regenpath kb check` (first: {})",
                                         kb->problems().size(), kb->problems().front().ToString())));
  }
  Engine engine(kb);
  fhirpath::CompileOptions options;
  options.context_type = "Bundle";
  std::vector<std::string> read;
  bool whole_tree = false;
  auto note_reads = [&](const fhirpath::CompiledExpression& expression) {
    std::optional<std::vector<std::string>> names = expression.ElementsRead("Bundle");
    if (!names) {
      whole_tree = true;
      return;
    }
    read.insert(read.end(), names->begin(), names->end());
  };
  for (const knowledge::Condition& condition : kb->conditions()) {
    std::string text = fmt::format("%`active-conditions`.where(code.memberOf('{}'))", condition.valueset);
    RP_ASSIGN_OR_RETURN(fhirpath::CompiledExpression matches, fhirpath::CompiledExpression::Compile(text, options));
    note_reads(matches);
    engine.conditions_.push_back(ConditionMatcher{&condition, std::move(matches)});
  }
  for (const knowledge::MedicationHold& hold : kb->medication_holds()) {
    // medication[x] is a CodeableConcept or a Reference to a Medication.
    std::string text = fmt::format(
        "%`active-medications`.where((medication.ofType(CodeableConcept).exists(memberOf('{0}')) or "
        "medication.ofType(Reference).resolve().code.exists(memberOf('{0}')))",
        hold.valueset);
    if (!hold.exclude_forms.empty()) {
      // Forms the hold does not apply to (a topical NSAID), by product name or route.
      std::string forms;
      for (const std::string& form : hold.exclude_forms) {
        if (!forms.empty()) forms += " or ";
        forms += fmt::format("lower().contains('{}')", form);
      }
      text += fmt::format(
          " and (medication.ofType(CodeableConcept).select(text | coding.display) | "
          "medication.ofType(Reference).resolve().code.select(text | coding.display) | "
          "dosageInstruction.route.select(text | coding.display)).where({}).empty()",
          forms);
    }
    text += ")";
    RP_ASSIGN_OR_RETURN(fhirpath::CompiledExpression matches, fhirpath::CompiledExpression::Compile(text, options));
    note_reads(matches);
    engine.holds_.push_back(HoldMatcher{&hold, std::move(matches)});
  }
  for (const knowledge::Definition& definition : kb->definitions()) {
    if (definition.compiled) note_reads(*definition.compiled);
  }
  if (!whole_tree) {
    // What the engine itself reads: patients, codes, displays, statuses.
    for (const char* name : {"gender", "birthDate", "deceased", "code", "coding", "system", "display", "text"}) read.push_back(name);
    engine.element_filter_ = std::make_shared<fhir::ElementFilter>(std::move(read));
  }
  return engine;
}

Assessment Engine::Assess(const fhir::Document& record, const DateTime& now) const {
  std::vector<std::pair<const knowledge::Condition*, const fhirpath::CompiledExpression*>> conditions;
  for (const ConditionMatcher& matcher : conditions_) conditions.emplace_back(matcher.condition, &matcher.matches);
  std::vector<std::pair<const knowledge::MedicationHold*, const fhirpath::CompiledExpression*>> holds;
  for (const HoldMatcher& matcher : holds_) holds.emplace_back(matcher.hold, &matcher.matches);
  return Assessor(*kb_, record, now, conditions, holds).Run();
}

}  // namespace regenpath::engine
