// The orchestration of one assessment (Assessor, see assessor.h): the patient,
// red flags, each condition with its stage and options, the overall stage and
// the sources; the patient-level contraindications, medications and
// bleeding-risk escalation, when an option first reads them.
#include "engine/assessor.h"

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>

namespace regenpath::engine {

namespace {

using knowledge::Confidence;

// The integer age in whole years at `now`, if the birth date is known to the day.
std::optional<int> AgeAt(const DateTime& birth, const DateTime& now) {
  if (birth.precision() < DateTimePrecision::kDay) return std::nullopt;
  int age = now.year() - birth.year();
  if (now.month() < birth.month() || (now.month() == birth.month() && now.day() < birth.day())) --age;
  return age;
}

}  // namespace

std::string FillTemplate(std::string text, const std::vector<std::pair<std::string_view, std::string>>& values) {
  for (const auto& [name, value] : values) {
    const std::string placeholder = "{" + std::string(name) + "}";
    for (size_t at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }
  return text;
}

StageInfo Assessor::StageOf(const std::string& id) const {
  const knowledge::Stage* stage = kb_.FindStage(id);
  if (stage == nullptr) return StageInfo{id, id, id, id, id, id, "info", 0, false};
  return StageInfo{stage->id,      stage->display,        stage->title,     stage->heading,
                   stage->summary, stage->order_headline, stage->indicator, stage->priority,
                   stage->offers_regenerative};
}

void Assessor::AddMissing(const MissingDataItem& item) {
  bool known = std::any_of(missing_.begin(), missing_.end(), [&](const MissingDataItem& m) { return m.id == item.id; });
  if (!known) missing_.push_back(item);
}

Assessment Assessor::Run(const PatientSelection& selection, const fhir::Document& original) {
  Assessment out;
  out.kb_name = kb_.name();
  out.kb_version = kb_.version();
  out.evaluated_at = evaluator_.now().ToString();
  for (const fhir::Issue& issue : original.issues()) {
    out.issues.push_back(
        AssessmentIssue{std::string(fhir::IssueSeverityName(issue.severity)), issue.message, issue.location});
  }
  DescribePatient(selection, out);
  // The engine's own matchers read these two as variables.
  evaluator_.Patient("active-conditions");
  evaluator_.Patient("active-medications");
  FindRedFlags(out);
  for (const auto& matcher : tables_.conditions) AssessCondition(*matcher.condition, matcher.matches, out);

  const knowledge::PathwaySettings& pathway = kb_.pathway();
  if (deceased_) {
    out.stage = StageOf(pathway.deceased_stage);
    out.stage_reason = FillTemplate(pathway.deceased_reason, {{"on", out.deceased_on ? " on " + *out.deceased_on : ""}});
  } else if (out.conditions.empty()) {
    out.stage = StageOf(pathway.fallback_stage);
    out.stage_reason = pathway.no_condition_reason;
  } else {
    // The overall stage: the condition stage with the lowest priority number.
    const AssessedCondition* first = &out.conditions.front();
    for (const AssessedCondition& condition : out.conditions) {
      if (condition.stage.priority < first->stage.priority) first = &condition;
    }
    out.stage = first->stage;
    out.stage_reason = first->stage_reason;
    out.regenerative_option_open =
        std::any_of(out.conditions.begin(), out.conditions.end(), [](const AssessedCondition& condition) {
          return condition.stage.offers_regenerative && condition.regenerative_open > 0;
        });
  }
  if (!deceased_) AddPatientNextSteps(out);
  out.missing_data = missing_;
  for (AssessmentIssue& issue : evaluator_.issues()) out.issues.push_back(std::move(issue));
  AttachIssues(original, out);
  out.unverified_facts.assign(unverified_.begin(), unverified_.end());
  CollectSources(out);
  return out;
}

void Assessor::DescribePatient(const PatientSelection& selection, Assessment& out) {
  out.patient_reference = "Patient/" + (selection.patient_id.empty() ? std::string("unknown") : selection.patient_id);
  // One issue per other patient, naming how many of its resources were left out.
  std::vector<std::string> owners;
  for (const std::string& owner : selection.excluded_owner) {
    if (std::find(owners.begin(), owners.end(), owner) == owners.end()) owners.push_back(owner);
  }
  for (const std::string& owner : owners) {
    std::vector<std::string> refs;
    size_t count = 0;
    for (size_t index = 0; index < selection.excluded.size(); ++index) {
      if (selection.excluded_owner[index] != owner) continue;
      if (++count <= 3) refs.push_back(ReferenceOf(*selection.excluded[index]));
    }
    out.issues.push_back(AssessmentIssue{
        "warning",
        owner.empty()
            ? fmt::format(
                  "{} resource(s) that name no patient were excluded: the record holds several patients, "
                  "and this assessment uses {}'s data only",
                  count, out.patient_reference)
            : fmt::format(
                  "{} resource(s) of another patient ({}) were excluded: this assessment uses {}'s data only",
                  count, owner, out.patient_reference),
        fmt::format("{}{}", fmt::join(refs, ", "), count > refs.size() ? ", ..." : "")});
  }
  const fhir::Node* patient = nullptr;
  for (const fhir::Node* resource : evaluator_.record().resources()) {
    if (resource->type_name() == "Patient") {
      patient = resource;
      break;
    }
  }
  if (patient == nullptr) {
    if (selection.inferred) {
      out.patient_note = fmt::format(
          "The record has no Patient resource: it is assessed as {}, the one patient its resources name; age, sex "
          "and vital status are unknown.",
          out.patient_reference);
      out.issues.push_back(AssessmentIssue{"warning", out.patient_note, ""});
    } else {
      out.issues.push_back(AssessmentIssue{"warning", "the record has no Patient resource", ""});
    }
    return;
  }
  if (const fhir::Node* gender = patient->Child("gender"); gender != nullptr && gender->has_value()) {
    out.sex = std::string(gender->text());
  }
  // A deceased patient's age is the age at death (at the assessment instant
  // when the death is recorded after it); no treatment stage is given.
  DateTime age_at = evaluator_.now();
  out.deceased = false;
  if (const fhir::Node* deceased = patient->Child("deceased"); deceased != nullptr && deceased->has_value()) {
    std::optional<DateTime> when = DateTime::ParseDateTime(deceased->text());
    if (when) {
      age_at = *when;
      out.deceased_on = when->ToString();
    }
    deceased_ = when.has_value() || deceased->text() == "true";
    out.deceased = deceased_;
    if (deceased_) {
      out.issues.push_back(AssessmentIssue{
          "warning", fmt::format("the patient is recorded as deceased{}", when ? " on " + when->ToString() : ""),
          patient->Path() + ".deceased"});
    }
    // A death known to come after the assessment instant (DateTime::Compare:
    // not when the precisions leave it open): a wrong date, or an assessment
    // as of an earlier day. The record is taken as it stands (deceased: no
    // option is offered on a record that says the patient died), said, and
    // the age given at the assessment instant. The instant is written at its
    // own precision (a death later the same day must read as later).
    if (when && DateTime::Compare(*when, evaluator_.now()).value_or(0) > 0) {
      age_at = evaluator_.now();
      out.issues.push_back(AssessmentIssue{
          "warning",
          fmt::format("the recorded date of death ({}) is after the assessment instant ({}): assessed as "
                      "deceased, as the record says; check the date",
                      when->ToString(), evaluator_.now().ToString()),
          patient->Path() + ".deceased"});
    }
  }
  // A record merged into another (Patient.link, replaced-by) must no longer
  // be used (FHIR R4 link-type): said, so that it is on no worklist.
  for (const fhir::Node& link : patient->Children("link")) {
    const fhir::Node* type = link.Child("type");
    const fhir::Node* other = link.Child("other");
    const fhir::Node* reference = other != nullptr ? other->Child("reference") : nullptr;
    if (type == nullptr || !type->has_value() || type->text() != "replaced-by") continue;
    // The other record as the link names it: its reference, else its
    // display, else its identifier (never empty: a reader tells a replaced
    // record from one that is not by its presence).
    const fhir::Node* display = other != nullptr ? other->Child("display") : nullptr;
    const fhir::Node* identifier = other != nullptr ? other->Child("identifier") : nullptr;
    const fhir::Node* identifier_value = identifier != nullptr ? identifier->Child("value") : nullptr;
    if (reference != nullptr && reference->has_value()) {
      out.replaced_by = std::string(reference->text());
    } else if (display != nullptr && display->has_value()) {
      out.replaced_by = std::string(display->text());
    } else if (identifier_value != nullptr && identifier_value->has_value()) {
      out.replaced_by = "identifier " + std::string(identifier_value->text());
    } else {
      out.replaced_by = "a record the link does not name";
    }
    out.issues.push_back(AssessmentIssue{
        "warning",
        fmt::format("this Patient record has been replaced by {}: FHIR says it must no longer be used",
                    *out.replaced_by),
        link.Path()});
    break;
  }
  if (const fhir::Node* active = patient->Child("active"); active != nullptr && active->has_value()) {
    out.inactive = active->text() == "false";
  }
  if (const fhir::Node* birth = patient->Child("birthDate"); birth != nullptr && birth->has_value()) {
    // (An invalid birthDate is already an issue from the parser.)
    std::optional<DateTime> date = DateTime::ParseDate(birth->text());
    if (date) out.age = AgeAt(*date, age_at);
  }
}

void Assessor::FindRedFlags(Assessment& out) {
  for (const knowledge::RedFlag& flag : kb_.red_flags()) {
    const Collection& found = evaluator_.Patient(flag.definition);
    if (Truth(found, false) != true) continue;
    AssessedRedFlag result{flag.id, flag.display, {}, {}, flag.confidence == Confidence::kU, flag.sources};
    data_.Append(found, result.evidence, result.data);
    // The code of each flag's record, for the urgent step (datum view `code`).
    for (const fhirpath::Value& value : found) {
      if (!value.is_node()) continue;
      const fhir::Node* resource = value.node()->EnclosingResource();
      if (resource == nullptr) continue;
      if (std::optional<std::string> code = data_.CodeOf(*resource)) red_flag_codes_[ReferenceOf(*resource)] = *code;
    }
    if (result.unverified) NoteUnverified(fmt::format("red flag '{}'", flag.display));
    out.red_flags.push_back(std::move(result));
  }
}

const std::map<std::string, std::pair<Refs, Data>>& Assessor::PatientContraindications() {
  if (patient_contraindications_) return *patient_contraindications_;
  std::map<std::string, std::pair<Refs, Data>>& found_by_id = patient_contraindications_.emplace();
  for (const knowledge::Contraindication& item : kb_.contraindications()) {
    const knowledge::Definition* definition = kb_.FindDefinition(item.definition);
    if (definition == nullptr || definition->scope == knowledge::DefinitionScope::kCondition) continue;
    const Collection& found = evaluator_.Patient(*definition);
    if (Truth(found, false) != true) continue;
    auto& [refs, data] = found_by_id[item.id];
    std::vector<size_t> seen;
    EvidenceOf(*definition, true, refs, data, seen);
  }
  return found_by_id;
}

bool Assessor::EscalatesBleedingRisk() {
  if (escalate_bleeding_risk_) return *escalate_bleeding_risk_;
  const auto& escalation = kb_.bleeding_risk_escalation();
  escalate_bleeding_risk_ = escalation && Truth(evaluator_.Patient(escalation->definition), false) == true;
  if (*escalate_bleeding_risk_ && escalation->confidence == Confidence::kU) {
    NoteUnverified(fmt::format("bleeding-risk escalation: {}", escalation->display));
  }
  return *escalate_bleeding_risk_;
}

const std::vector<Assessor::CurrentMedication>& Assessor::CurrentMedications() {
  if (current_medications_) return *current_medications_;
  std::vector<CurrentMedication>& medications = current_medications_.emplace();
  for (const auto& matcher : tables_.holds) {
    const Collection& found = evaluator_.EvaluateExpression(matcher.matches, "medication " + matcher.hold->medication);
    if (found.empty()) continue;
    CurrentMedication current{matcher.hold, {}, {}};
    data_.Append(found, current.evidence, current.data);
    medications.push_back(std::move(current));
  }
  return medications;
}

void Assessor::AssessCondition(const knowledge::Condition& condition, const fhirpath::CompiledExpression& matcher,
                               Assessment& out) {
  const Collection& found = evaluator_.EvaluateExpression(matcher, "condition " + condition.id);
  if (found.empty()) return;
  const Collection resources = found;
  evaluator_.EnterCondition(resources, condition.targets);
  criteria_cache_.clear();
  if (follow_up_cache_per_condition_) follow_up_cache_.clear();
  not_met_steps_.clear();
  current_condition_ = &condition;
  current_resources_ = &resources;

  AssessedCondition assessed;
  assessed.id = condition.id;
  assessed.display = condition.display;
  assessed.targets = condition.targets;
  assessed.sources = condition.sources;
  data_.Append(resources, assessed.evidence, assessed.data);
  DecideStage(condition, assessed);
  if (deceased_) {
    // No treatment stage for a patient who has died: the criteria stay (they
    // are the record), the options and next steps do not.
    assessed.stage = StageOf(kb_.pathway().deceased_stage);
    for (Criterion& criterion : assessed.criteria) criterion.decides_stage = false;
    assessed.stage_reason = FillTemplate(kb_.pathway().deceased_reason,
                                         {{"on", out.deceased_on ? " on " + *out.deceased_on : ""}});
    assessed.headline = assessed.stage.summary;
    out.conditions.push_back(std::move(assessed));
    current_resources_ = nullptr;
    return;
  }
  // The heading fits the phase: an acute low back pain is not titled chronic.
  if (assessed.chronic == false && !condition.display_not_chronic.empty()) assessed.display = condition.display_not_chronic;
  if (assessed.chronic == true && !condition.display_chronic.empty()) assessed.display = condition.display_chronic;
  assessed.stage_reason = StageReason(assessed);
  assessed.why = WhySentence(assessed);
  for (const Criterion& criterion : assessed.criteria) {
    if (!criterion.met && criterion.missing) {
      AddMissing(*criterion.missing);
      assessed.missing_data.push_back(*criterion.missing);
    }
  }

  const size_t first_option = out.recommendations.size();
  for (const auto* ids : {&condition.first_line, &condition.diagnostics, &condition.regenerative,
                          &condition.integrative, &condition.referral}) {
    for (const std::string& id : *ids) AddOption(id, condition, assessed, out);
  }
  // A stage-deciding criterion that is known and false says why (e.g. relief
  // below the threshold after a diagnostic block).
  for (const Criterion& criterion : assessed.criteria) {
    if (!criterion.decides_stage || criterion.met != false) continue;
    auto step = not_met_steps_.find(criterion.id);
    if (step != not_met_steps_.end()) out.next_steps.push_back(NextStep{step->second.first, step->second.second, assessed.id, "", std::nullopt});
  }

  // The headline never contradicts the options: a stage that offers
  // regenerative options says how many are open, or that none is.
  const knowledge::Stage* stage = kb_.FindStage(assessed.stage.id);
  // This condition's missing data: its unknown criteria (above), its
  // regenerative options' unknown criteria, and the pre-procedure checks of
  // the options still open.
  auto note_missing = [&](const Criterion& criterion) {
    if (criterion.met == true || !criterion.missing) return;
    bool listed = std::any_of(assessed.missing_data.begin(), assessed.missing_data.end(),
                              [&](const MissingDataItem& item) { return item.id == criterion.missing->id; });
    if (!listed) assessed.missing_data.push_back(*criterion.missing);
  };
  size_t open = 0;
  for (size_t index = first_option; index < out.recommendations.size(); ++index) {
    const Recommendation& option = out.recommendations[index];
    if (option.category != OptionCategory::kRegenerative) continue;
    const bool offered = IsOpen(option.status);
    if (offered) ++open;
    for (const Criterion& criterion : option.rationale) {
      if (!criterion.met) note_missing(criterion);
    }
    if (offered) {
      for (const Criterion& check : option.pre_checks) note_missing(check);
      for (const MissingDataItem& item : option.missing_data) {
        bool listed = std::any_of(assessed.missing_data.begin(), assessed.missing_data.end(),
                                  [&](const MissingDataItem& known) { return known.id == item.id; });
        if (!listed) assessed.missing_data.push_back(item);
      }
    }
  }
  assessed.regenerative_open = open;
  assessed.headline =
      FillTemplate(assessed.stage.summary, {{"open", std::to_string(open)}, {"s", open == 1 ? "" : "s"}});
  if (stage != nullptr && !stage->summary_none_open.empty() && open == 0) {
    assessed.headline = stage->summary_none_open;
    assessed.stage_reason += " — " + stage->summary_none_open;
  }
  out.conditions.push_back(std::move(assessed));
  current_resources_ = nullptr;
}

void Assessor::AddOption(const std::string& id, const knowledge::Condition& condition, AssessedCondition& assessed,
                         Assessment& out) {
  const knowledge::Option* option = kb_.FindOption(id);
  if (option == nullptr) return;
  // Options with a `when` are listed only for the patients it selects.
  if (!option->when.empty()) {
    const knowledge::Definition* when = kb_.FindDefinition(option->when);
    const Collection& selected = when != nullptr ? evaluator_.InCondition(*when) : evaluator_.InCondition(option->when);
    std::optional<bool> applies = Truth(selected, when != nullptr && when->missing_data.has_value());
    // Unknown (e.g. no birth date for an adults-only option): not listed,
    // but the data that would decide it is.
    if (!applies && when != nullptr && when->missing_data) AddMissing(MissingItem(*when->missing_data));
    if (applies != true) return;
  }
  Recommendation recommendation;
  recommendation.id = option->id;
  recommendation.condition = condition.id;
  recommendation.category = ParseOptionCategory(option->category).value_or(OptionCategory::kConventional);
  recommendation.therapy = option->therapy;
  if (!option->target.empty()) recommendation.target = option->target;
  recommendation.display = option->display;
  recommendation.summary = option->summary.empty() ? option->display : option->summary;
  for (const knowledge::Evidence& evidence : option->evidence) {
    recommendation.evidence.push_back(EvidenceStatement{evidence.source, evidence.level,
                                                        ParseEvidenceDirection(evidence.direction).value_or(EvidenceDirection::kNeutral),
                                                        evidence.statement,
                                                        std::string(knowledge::ConfidenceName(evidence.confidence))});
    if (evidence.confidence == Confidence::kU) {
      NoteUnverified(fmt::format("evidence of {} from {}", option->id, evidence.source));
    }
  }
  for (const std::string& criterion_id : option->criteria) {
    const Criterion& criterion = EvaluateCriterion(criterion_id, condition);
    if (!criterion.met && criterion.missing) AddMissing(*criterion.missing);
    recommendation.rationale.push_back(criterion);
  }
  if (!option->done.empty()) {
    if (const knowledge::Definition* done = kb_.FindDefinition(option->done)) {
      recommendation.done = Truth(evaluator_.InCondition(*done), false) == true;
      Refs refs;
      std::vector<size_t> seen;
      if (*recommendation.done) EvidenceOf(*done, true, refs, recommendation.done_data, seen);
    }
  }
  if (const knowledge::ValueSet* valueset = kb_.FindValueSet(option->order.empty() ? option->id : option->order)) {
    for (const knowledge::Concept& entry : valueset->concepts) {
      if (entry.prefix || entry.code.empty() || entry.system.empty()) continue;
      recommendation.order_code = OrderCode{entry.system, entry.code, entry.display};
      break;
    }
  }
  DecideStatus(*option, assessed, recommendation);
  if (option->procedure || !option->monitoring.empty()) recommendation.procedure = PlanProcedure(*option, recommendation);
  if (option->follow_up) {
    recommendation.follow_up = PlanFollowUp(*option->follow_up);
    if (IsOpen(recommendation.status)) NoteMissingBaselines(recommendation);
  }
  if (option->cost) {
    const knowledge::Cost& cost = *option->cost;
    recommendation.cost = CostInfo{cost.usd_low, cost.usd_high, cost.per, cost.coverage, cost.billing_codes,
                                   cost.confidence == Confidence::kU};
    if (cost.confidence == Confidence::kU) NoteUnverified(fmt::format("cost of {}", option->id));
  }
  AddNextSteps(*option, assessed, recommendation, out);
  out.recommendations.push_back(std::move(recommendation));
}

void Assessor::CollectSources(Assessment& out) const {
  std::vector<std::string> ids;
  auto add = [&](const std::string& id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  for (const AssessedRedFlag& flag : out.red_flags) {
    for (const std::string& id : flag.sources) add(id);
  }
  for (const AssessedCondition& condition : out.conditions) {
    for (const std::string& id : condition.sources) add(id);
  }
  for (const Recommendation& recommendation : out.recommendations) {
    for (const EvidenceStatement& evidence : recommendation.evidence) add(evidence.source);
    if (!recommendation.procedure) continue;
    for (const MedicationHoldResult& hold : recommendation.procedure->medication_holds) {
      for (const std::string& id : hold.sources) add(id);
    }
  }
  for (const std::string& id : ids) {
    SourceInfo source{id, "(not in the knowledge base)", "", "", false};
    if (const knowledge::Citation* citation = kb_.FindCitation(id)) {
      source.reference = citation->reference;
      source.url = citation->url;
      source.doi = citation->doi;
      source.unverified = citation->confidence == Confidence::kU;
    }
    out.sources.push_back(std::move(source));
  }
}

}  // namespace regenpath::engine
