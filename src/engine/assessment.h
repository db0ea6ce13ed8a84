// Assessment: the result of evaluating the knowledge base against one
// patient's record (contract: shared/spec/assessment.schema.json).
//
// Plain data, filled by Engine::Assess and written by AssessmentToJson /
// AssessmentToText. Field names follow the schema.
#ifndef REGENPATH_ENGINE_ASSESSMENT_H_
#define REGENPATH_ENGINE_ASSESSMENT_H_

#include <optional>
#include <string>
#include <vector>

namespace regenpath::engine {

// References to the input resources behind a fact: "Condition/abc".
using Refs = std::vector<std::string>;

struct Criterion {
  std::string id;
  std::string display;
  std::optional<bool> met;  // nullopt: unknown (data missing)
  Refs evidence;
  bool unverified = false;  // rests on a U fact (e.g. an unverified threshold)
};

struct AssessedCondition {
  std::string id;
  std::string display;
  std::string stage;
  std::optional<bool> chronic;
  std::vector<std::string> targets;
  std::vector<Criterion> criteria;
  Refs evidence;
  std::string stage_reason;  // why this stage, in a sentence
};

struct AssessedRedFlag {
  std::string id;
  std::string display;
  Refs evidence;
  bool unverified = false;
};

struct EvidenceStatement {
  std::string source;
  std::string level;
  std::string direction;
  std::string statement;
  std::string confidence;  // H | M | U
};

struct FoundContraindication {
  std::string id;
  std::string kind;  // absolute | relative
  std::string display;
  Refs evidence;
  bool unverified = false;
};

struct MedicationHoldResult {
  std::string medication;
  std::optional<double> hold_days_before;     // nullopt: shared decision
  std::optional<double> restart_hours_after;  // nullopt: not given
  std::string note;
  Refs evidence;
  bool unverified = false;
};

struct ProcedurePlan {
  std::vector<std::string> image_guidance;
  std::string bleeding_risk;
  std::string bleeding_risk_note;
  std::string protocol;
  std::vector<MedicationHoldResult> medication_holds;
  std::vector<std::string> monitoring;
  std::vector<std::string> pre_checks;
};

struct FollowUpInstrument {
  std::string id;
  std::string loinc;
  std::string mcid;
};

struct FollowUpPlan {
  std::vector<FollowUpInstrument> instruments;
  std::vector<double> schedule_weeks;
};

struct CostInfo {
  std::optional<double> usd_low;
  std::optional<double> usd_high;
  std::string per;
  std::string coverage;
  std::vector<std::string> billing_codes;
  bool unverified = false;
};

struct Recommendation {
  std::string id;
  std::string condition;
  std::string category;
  std::string therapy;
  std::optional<std::string> target;
  std::string display;
  std::string status;
  std::string summary;
  std::vector<EvidenceStatement> evidence;
  std::vector<Criterion> rationale;
  std::vector<FoundContraindication> contraindications;
  std::optional<ProcedurePlan> procedure;
  std::optional<FollowUpPlan> follow_up;
  std::optional<CostInfo> cost;
};

struct NextStep {
  std::string kind;  // referral | conventional | diagnostic | procedure | monitoring | follow-up | data
  std::string display;
  std::string condition;
};

struct MissingDataItem {
  std::string id;
  std::string display;
};

struct AssessmentIssue {
  std::string severity;  // information | warning | error
  std::string message;
  std::string location;
};

struct Assessment {
  std::string patient_reference;
  std::optional<int> age;
  std::optional<std::string> sex;
  std::string evaluated_at;
  std::string kb_name;
  std::string kb_version;
  std::string stage;
  std::vector<AssessedCondition> conditions;
  std::vector<AssessedRedFlag> red_flags;
  std::vector<Recommendation> recommendations;
  std::vector<NextStep> next_steps;
  std::vector<MissingDataItem> missing_data;
  std::vector<AssessmentIssue> issues;
  // Facts marked U (unverified) that this assessment used, for the report.
  std::vector<std::string> unverified_facts;
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_ASSESSMENT_H_
