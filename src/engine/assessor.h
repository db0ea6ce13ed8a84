// Assessor: one assessment of one patient's record (internal to the engine).
//
// Engine::Assess builds one per call. Its work is split by concept:
//   assessor.cc        orchestration: patient, red flags, conditions, overall stage
//   criteria.cc        criteria, criterion roles, stage rules, their evidence
//   option_status.cc   an option's status from the pathway's status rules
//   procedure_plan.cc  procedure plan, bleeding-risk ladder, holds, pre-checks
//   next_steps.cc      next steps from the pathway's next-step rules
// Every rule it applies comes from the knowledge base (pathway.yaml); the
// C++ knows how to evaluate the tables, not what they say.
#ifndef REGENPATH_ENGINE_ASSESSOR_H_
#define REGENPATH_ENGINE_ASSESSOR_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/assessment.h"
#include "engine/datum_reader.h"
#include "engine/definition_reads.h"
#include "engine/patient_scope.h"
#include "engine/record_evaluator.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

// What Engine::Create compiles once and every assessment reads (and one
// cache, definition_reads, filled on first use).
struct EngineTables {
  struct ConditionMatcher {
    const knowledge::Condition* condition = nullptr;
    fhirpath::CompiledExpression matches;  // this condition's resources among the active conditions
  };
  struct HoldMatcher {
    const knowledge::MedicationHold* hold = nullptr;
    fhirpath::CompiledExpression matches;  // the patient's active requests for this drug
  };
  std::vector<ConditionMatcher> conditions;
  std::vector<HoldMatcher> holds;
  // Definition id -> what it looks for (note, value sets, parameters), for
  // criteria without data.
  std::unordered_map<std::string, std::string> looked_for;
  // The option categories some status rule reads contraindications for
  // (their contraindications are looked for).
  std::set<std::string, std::less<>> contraindication_categories;
  // The datum views' alternatives read as member paths.
  DatumPaths datum_paths;
  // What each definition reads, for attaching data issues to criteria: the
  // one part filled after Create, on first use by any assessment, under its
  // own lock (derived from the knowledge base alone; computing it for every
  // definition in Create would add ~16 M instructions to each `assess`).
  mutable DefinitionReadsCache definition_reads;
};

// A criterion's truth from a definition's value: a single Boolean is itself;
// resources or other values mean "found" (true); empty is false, or unknown
// when `empty_is_unknown` (the definition says what missing data would settle it).
std::optional<bool> Truth(const Collection& values, bool empty_is_unknown);

// "{name}" placeholders of `text` replaced by their values.
std::string FillTemplate(std::string text, const std::vector<std::pair<std::string_view, std::string>>& values);

class Assessor {
 public:
  Assessor(const knowledge::KnowledgeBase& kb, const EngineTables& tables, const fhir::Document& record,
           const DateTime& now)
      : kb_(kb), tables_(tables), evaluator_(kb, record, now), data_(kb, tables.datum_paths, record, now) {}

  // `original`: the record as read (its data issues are reported); the
  // evaluator's record is `original` without `selection.excluded`.
  Assessment Run(const PatientSelection& selection, const fhir::Document& original);

  // The planned procedure date the follow-up baselines are judged against
  // (default: the assessment date).
  void set_procedure_date(const std::optional<DateTime>& date) { procedure_date_ = date; }

 private:
  struct CurrentMedication {
    const knowledge::MedicationHold* hold;
    Refs evidence;
    Data data;
  };

  // assessor.cc
  void DescribePatient(const PatientSelection& selection, Assessment& out);
  void FindRedFlags(Assessment& out);
  // Each of these three is evaluated once per patient, when first read, so a
  // patient with no option to weigh (no condition in scope, or deceased) is
  // not searched for them: a failure of their definitions or matchers is then
  // not reported. What they evaluate is patient-scope (definitions, and
  // evidence definitions, by the loader's rule), so the values do not depend
  // on which condition reads them first; only the order of evaluation
  // failures among the issues does.
  //
  // Every contraindication that does not depend on a condition, with its
  // data: all of them at once, for the first option whose category a status
  // rule reads contraindications for and to which a contraindication applies.
  const std::map<std::string, std::pair<Refs, Data>>& PatientContraindications();
  // The medications the knowledge base holds before a procedure that the
  // patient takes: at the first procedure's holds.
  const std::vector<CurrentMedication>& CurrentMedications();
  // Whether the knowledge base's bleeding-risk escalation holds: at the first
  // procedure with a bleeding-risk category (contraindicated or not, at the
  // top of the ladder or not); an unverified escalation that holds is then
  // noted as used.
  bool EscalatesBleedingRisk();
  void AssessCondition(const knowledge::Condition& condition, const fhirpath::CompiledExpression& matcher,
                       Assessment& out);
  void AddOption(const std::string& id, const knowledge::Condition& condition, AssessedCondition& assessed,
                 Assessment& out);
  void CollectSources(Assessment& out) const;
  StageInfo StageOf(const std::string& id) const;
  void NoteUnverified(std::string fact) { unverified_.insert(std::move(fact)); }
  void AddMissing(const MissingDataItem& item);

  // criteria.cc
  // A criterion (a role or a definition id) in the current condition scope;
  // evaluated once per condition (the reference stays valid until the next
  // condition).
  const Criterion& EvaluateCriterion(const std::string& id, const knowledge::Condition& condition);
  Criterion EvaluateCriterionUncached(const std::string& id, const knowledge::Condition& condition);
  Criterion FromDefinition(std::string id, const knowledge::Definition& definition);
  std::optional<bool> EvaluateRule(const knowledge::RuleExpr& rule, const knowledge::Condition& condition,
                                   std::vector<Criterion>& criteria, std::vector<std::string>* used);
  void DecideStage(const knowledge::Condition& condition, AssessedCondition& assessed);
  // The resources behind a definition's value: those of its `evidence`
  // definition, else its own, else (a Boolean) those of the definitions it
  // uses that found something, and the condition's own resources when it
  // reads %condition and `met`. `seen`: the definitions visited (positions
  // in the knowledge base), each visited once.
  void EvidenceOf(const knowledge::Definition& definition, bool met, Refs& refs, Data& data,
                  std::vector<size_t>& seen);
  std::string StageReason(const AssessedCondition& assessed) const;
  // The short "why" of a condition's stage (pathway.why words, dated data).
  std::string WhySentence(const AssessedCondition& assessed) const;
  MissingDataItem MissingItem(const knowledge::MissingData& missing);
  // Records the next step that says why `criterion` (known, false) is not met.
  // Adds the step when its `when` finds something (or it has none); false
  // when it does not apply.
  bool AddNotMetStep(const Criterion& criterion, const knowledge::NotMetStep& not_met);

  // option_status.cc
  void DecideStatus(const knowledge::Option& option, const AssessedCondition& assessed,
                    Recommendation& recommendation);

  // procedure_plan.cc
  ProcedurePlan PlanProcedure(const knowledge::Option& option, Recommendation& recommendation);
  std::vector<MedicationHoldResult> HoldsFor(const knowledge::Procedure& procedure, const std::string& bleeding_risk);
  void CheckPreProcedure(const knowledge::Procedure& procedure, Recommendation& recommendation);

  // criterion_issues.cc
  // Attaches each data issue of `original` to the criteria whose data are the
  // resource it is about, and to those whose definition reads the element it
  // is on (in a resource of a type they read) but left that resource out.
  void AttachIssues(const fhir::Document& original, Assessment& out) const;

  // follow_up_plan.cc
  // A missing or outdated baseline of an open option's follow-up instrument
  // as missing data of the option and the patient, with its own next step
  // (pathway.baseline missing_item; nothing when the knowledge base has none).
  void NoteMissingBaselines(Recommendation& recommendation);
  FollowUpPlan PlanFollowUp(const knowledge::FollowUp& follow_up);
  void JudgeBaseline(const knowledge::Instrument& instrument, FollowUpInstrument& entry);

  // next_steps.cc
  void AddNextSteps(const knowledge::Option& option, const AssessedCondition& assessed, const Recommendation& recommendation, Assessment& out);
  void AddPatientNextSteps(Assessment& out);
  // How the next step proposing `option` (shown as `display`, of `kind`) is
  // ordered: the option's order code, else a referral order for the kinds of
  // pathway.referral_order; nullopt when it is not an order.
  std::optional<StepOrder> OrderOf(const std::string& kind, const std::string& display,
                                   const std::optional<OrderCode>& code);

  const knowledge::KnowledgeBase& kb_;
  const EngineTables& tables_;
  RecordEvaluator evaluator_;
  DatumReader data_;
  bool deceased_ = false;
  std::optional<DateTime> procedure_date_;
  std::optional<bool> escalate_bleeding_risk_;
  const knowledge::Condition* current_condition_ = nullptr;
  // Criteria already evaluated in the current condition scope (options share
  // their rationale, pre-checks and the status rules' criteria).
  std::map<std::string, Criterion, std::less<>> criteria_cache_;
  // Follow-up instruments already judged (options name the same instruments,
  // and their baselines), by id; cleared for each condition when a baseline
  // definition is condition-scoped, kept for the patient otherwise.
  std::map<std::string, FollowUpInstrument, std::less<>> follow_up_cache_;
  bool follow_up_cache_per_condition_ = false;
  const Collection* current_resources_ = nullptr;
  std::optional<std::map<std::string, std::pair<Refs, Data>>> patient_contraindications_;
  std::optional<std::vector<CurrentMedication>> current_medications_;
  std::vector<MissingDataItem> missing_;
  std::map<std::string, std::string> missing_steps_;  // a missing item's own next-step text (unreadable data)
  // In the current condition: criterion id -> {kind, text} of the step that
  // says why it is not met (definition `not_met`).
  std::map<std::string, std::pair<std::string, std::string>> not_met_steps_;
  std::map<std::string, std::string> red_flag_codes_;  // "Condition/x" -> "system|code" (datum view `code`)
  std::set<std::string> unverified_;
  std::vector<std::string> cited_;  // citation ids in first-use order
  std::string key_;  // scratch for cache keys
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_ASSESSOR_H_
