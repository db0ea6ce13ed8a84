// Assessment: the result of evaluating the knowledge base against one
// patient's record (contract: shared/spec/assessment.schema.json).
//
// Plain data, filled by Engine::Assess. It is the only seam between the
// engine and its renderers (src/report/, the CDS Hooks cards, the web app):
// everything a renderer shows is here — stage wording and indicator from the
// knowledge base's stage table, the patient data behind every criterion,
// pre-procedure checks with their values, resolved citations — so renderers
// never include the knowledge base or the evaluator.
#ifndef REGENPATH_ENGINE_ASSESSMENT_H_
#define REGENPATH_ENGINE_ASSESSMENT_H_

#include <optional>
#include <string>
#include <vector>

#include "engine/vocabulary.h"

namespace regenpath::engine {

// References to the input resources behind a fact: "Condition/abc".
using Refs = std::vector<std::string>;

// One piece of the patient's record behind a finding, as a clinician checks
// it: "MedicationRequest/m1", "naproxen 500 MG Oral Tablet", "2024-03-02".
struct Datum {
  std::string reference;
  std::string display;
  std::optional<std::string> date;   // FHIR date/dateTime text
  std::optional<std::string> value;  // with its unit: "210 10*9/L"
};
using Data = std::vector<Datum>;

// A code to order something with (a draft ServiceRequest), from a
// knowledge-base value set.
struct OrderCode {
  std::string system;
  std::string code;
  std::string display;
};

// Data whose absence leaves a criterion unknown or a pre-check open.
struct MissingDataItem {
  std::string id;
  std::string display;
  std::string title;                    // short name (a value set's title), or display
  std::optional<OrderCode> order_code;  // how to order it, when it is a test
};

struct Criterion {
  std::string id;
  std::string display;
  std::optional<bool> met;  // nullopt: unknown (data missing)
  Refs evidence;            // the resources behind it (references of `data`)
  Data data;                // the same resources as a clinician reads them
  // For a criterion without data: what was looked for (definitions, value
  // sets, parameters, time window).
  std::string looked_for;
  bool unverified = false;  // rests on a U fact (e.g. an unverified threshold)
  // False when it is a fact of the knowledge base, not of the record (a
  // condition's localized source, a criterion the condition does not have).
  bool from_record = true;
  // True for the criteria of the stage rule that decided the condition's
  // stage (what keeps it from the next stage when not met).
  bool decides_stage = false;
  std::optional<MissingDataItem> missing;  // what would settle it, when it is unknown or open
  // The record's data issues on the resources behind it ("warning: unknown
  // element 'x' in Condition at Bundle.entry[2].resource.x"), shown next to
  // it; they are also in Assessment::issues.
  std::vector<std::string> issues;
  // The knowledge-base definition it was evaluated from ("" for a fact of the
  // knowledge base): what it reads, for the issues of resources it left out.
  std::string definition;
};

// A stage of the care pathway, as the knowledge base's stage table words it.
struct StageInfo {
  std::string id;         // urgent-referral, ..., not-applicable (schema vocabulary)
  std::string display;    // "diagnostic evaluation"
  std::string title;      // "Diagnostic evaluation"
  std::string heading;    // "DIAGNOSTIC EVALUATION"
  std::string summary;    // "diagnostic evaluation before any injection"
  std::string order_headline;  // "diagnostic evaluation not yet done" (order review)
  std::string indicator;  // info | warning | critical (CDS card)
  int priority = 0;       // lower wins for the overall stage
  bool offers_regenerative = false;  // regenerative options may be offered at this stage
};

struct AssessedCondition {
  std::string id;
  std::string display;
  StageInfo stage;
  std::optional<bool> chronic;
  std::vector<std::string> targets;
  std::vector<Criterion> criteria;
  Refs evidence;
  Data data;
  std::string stage_reason;  // why this stage, in a sentence, with the deciding data
  // The same, short, for a card or a report heading: the stage's title and
  // the deciding criteria in the knowledge base's words with their dated
  // data ("... since 2024-09-16 (Condition); conventional care tried: ...").
  std::string why;
  // One line for a card or report heading; never contradicts the options
  // (a candidate whose every regenerative option is advised against says so).
  std::string headline;
  std::vector<MissingDataItem> missing_data;  // what would settle this condition's unknowns
  std::vector<std::string> sources;           // citation ids (see Assessment::sources)
  // How many of its regenerative options are open for a shared decision
  // (IsOpen: recommended or consider).
  size_t regenerative_open = 0;
};

struct AssessedRedFlag {
  std::string id;
  std::string display;
  Refs evidence;
  Data data;
  bool unverified = false;
  std::vector<std::string> sources;
};

struct EvidenceStatement {
  std::string source;
  std::string level;
  EvidenceDirection direction = EvidenceDirection::kNeutral;
  std::string statement;
  std::string confidence;  // H | M | U
};

struct FoundContraindication {
  std::string id;
  ContraindicationKind kind = ContraindicationKind::kRelative;
  std::string display;
  Refs evidence;
  Data data;
  bool unverified = false;
};

struct MedicationHoldResult {
  std::string medication;
  std::optional<double> hold_days_before;     // nullopt: shared decision
  std::optional<double> restart_hours_after;  // nullopt: not given
  // With a planned procedure date (AssessOptions::procedure_date): the first
  // day without it (procedure date minus hold_days_before) and the day it may
  // be restarted (procedure date plus restart_hours_after), YYYY-MM-DD. Unset when there is no date, no hold (0 days) or
  // the hold is a shared decision (null days).
  std::optional<std::string> stop_on;
  std::optional<std::string> restart_on;
  // What the hold asks to check before the procedure (warfarin: the latest
  // INR), with its value and date; unset when the hold asks for none.
  std::optional<Criterion> check;
  std::string note;
  Refs evidence;
  Data data;
  bool unverified = false;
  std::vector<std::string> sources;
};

struct ProcedurePlan {
  std::vector<std::string> image_guidance;
  std::optional<BleedingRisk> bleeding_risk;  // nullopt: not an injection
  std::string bleeding_risk_note;
  std::string protocol;
  std::vector<MedicationHoldResult> medication_holds;
  std::vector<std::string> monitoring;
  std::vector<std::string> pre_checks;  // definition ids (the results are Recommendation::pre_checks)
};

struct FollowUpInstrument {
  std::string id;
  std::string loinc;
  std::string mcid;
  std::string display;  // "Oswestry Disability Index"
  // The baseline before the procedure: the latest score in the record (its
  // value and date), how it stands against the knowledge base's window
  // before the planned procedure date (or the assessment date), and the
  // flag to show when it is missing or outdated (empty when recorded).
  std::optional<Datum> baseline;
  BaselineStatus baseline_status = BaselineStatus::kNotLookedFor;
  std::string baseline_flag;
};

struct FollowUpPlan {
  std::vector<FollowUpInstrument> instruments;
  std::vector<double> schedule_weeks;
  // The calendar date of each scheduled visit (YYYY-MM-DD) from the planned
  // procedure date; empty without one.
  std::vector<std::string> dates;
};

struct CostInfo {
  std::optional<double> usd_low;
  std::optional<double> usd_high;
  std::string per;
  std::string coverage;
  std::vector<std::string> billing_codes;
  bool unverified = false;
};

// The clinic's own result for an option, from its outcomes registry
// (docs/registry.md, "The clinic's evidence"): observational data shown next
// to the published evidence. The engine never fills it; the CLI (`assess
// --registry`) and the CDS service fill it after the engine ran, from the
// registry, when it holds at least the knowledge base's
// registry-min-episodes episodes of the option.
struct ClinicEvidence {
  int episodes = 0;        // episodes of the option in the registry
  std::string instrument;  // the instrument of the responder rate (e.g. nrs)
  double weeks = 0;        // its timepoint
  int responders = 0;      // MCID responders ...
  int assessed = 0;        // ... among the episodes with paired scores
  double rate = 0;         // responders / assessed, with its Wilson 95 % CI
  double lower = 0;
  double upper = 0;
  int lost_to_follow_up = 0;
  bool observational = true;  // always: registry data, not a trial
  std::string summary;        // one line: "this clinic: 42 episodes of ..., nrs MCID responders at 26 weeks 48 % (95 % CI 34–62 %, ...)"
};

struct Recommendation {
  std::string id;
  std::string condition;
  OptionCategory category = OptionCategory::kConventional;
  std::string therapy;
  std::optional<std::string> target;
  std::string display;
  RecommendationStatus status = RecommendationStatus::kConsider;
  std::string status_reason;  // why it has its status, in one sentence
  std::string summary;
  std::optional<bool> done;   // the record shows it already tried for this condition
  Data done_data;             // what shows it
  std::vector<EvidenceStatement> evidence;
  std::vector<Criterion> rationale;
  std::vector<Criterion> pre_checks;  // pre-procedure checks with their values
  std::vector<FoundContraindication> contraindications;
  std::optional<ProcedurePlan> procedure;
  std::optional<FollowUpPlan> follow_up;
  std::optional<CostInfo> cost;
  std::optional<OrderCode> order_code;  // for an orderable option (imaging, a block)
  // What an open option still lacks before its procedure (a follow-up
  // instrument's baseline); also in its condition's and the patient's lists.
  std::vector<MissingDataItem> missing_data;
  std::optional<ClinicEvidence> clinic_evidence;  // never set by the engine (see ClinicEvidence)
};

// How a next step is ordered, as a draft ServiceRequest (a CDS Hooks
// suggestion): with its code (the option's value set: imaging, a block) or,
// for a referral the knowledge base has no code for, with its category
// ("Patient referral") and the knowledge base's words as code.text.
struct StepOrder {
  std::optional<OrderCode> code;      // ServiceRequest.code.coding
  std::optional<OrderCode> category;  // ServiceRequest.category
  std::string text;                   // ServiceRequest.code.text
  std::string label;                  // the suggestion's label; empty: the renderer's "Order <text>"
  bool unverified = false;            // the code or category rests on a U fact
};

struct NextStep {
  std::string kind;  // referral | conventional | diagnostic | procedure | monitoring | follow-up | data
  std::string display;
  std::string condition;
  std::string option;  // the recommendation it proposes, when it is one
  std::optional<StepOrder> order;  // set when the step is an order
};

struct AssessmentIssue {
  std::string severity;  // information | warning | error
  std::string message;
  std::string location;
};

// A citation as the knowledge base resolves it.
struct SourceInfo {
  std::string id;
  std::string reference;
  std::string url;  // the citation's url, or ""
  std::string doi;  // its DOI, or ""
  bool unverified = false;
};

struct Assessment {
  std::string patient_reference;
  std::optional<int> age;
  std::optional<std::string> sex;
  std::optional<bool> deceased;          // nullopt: the record does not say
  std::optional<std::string> deceased_on;
  // The Patient resource's link of type replaced-by: the other record as it
  // names it ("Patient/y", else its display or "identifier <value>"; never
  // empty). FHIR says this record must no longer be used, the other instead.
  std::optional<std::string> replaced_by;
  // True when the Patient resource says the record is not in active use
  // (Patient.active false: FHIR R4, often a patient no longer seen; patient
  // lists leave such records out).
  bool inactive = false;
  // True when a condition whose stage offers regenerative options has one of
  // them open for a shared decision (recommended or consider): the patient
  // is one to offer a regenerative option to (a population worklist's
  // member), not only at a stage that would allow one.
  bool regenerative_option_open = false;
  // Set when the record had no Patient resource and the assessment rests on
  // the one patient its resources name ("the report says so at the top").
  std::string patient_note;
  std::string evaluated_at;
  std::optional<std::string> procedure_date;  // the planned procedure date the hold and follow-up dates use
  std::string kb_name;
  std::string kb_version;
  StageInfo stage;
  std::string stage_reason;  // the overall stage's reason (deceased, no condition in scope, ...)
  std::vector<AssessedCondition> conditions;
  std::vector<AssessedRedFlag> red_flags;
  std::vector<Recommendation> recommendations;
  std::vector<NextStep> next_steps;
  std::vector<MissingDataItem> missing_data;
  std::vector<AssessmentIssue> issues;
  // Facts marked U (unverified) that this assessment used, for the report.
  std::vector<std::string> unverified_facts;
  // Every citation the assessment names (options' evidence, conditions, red
  // flags, holds), resolved, in first-use order.
  std::vector<SourceInfo> sources;

  // The source with this id, or nullptr.
  const SourceInfo* FindSource(const std::string& id) const {
    for (const SourceInfo& source : sources) {
      if (source.id == id) return &source;
    }
    return nullptr;
  }
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_ASSESSMENT_H_
