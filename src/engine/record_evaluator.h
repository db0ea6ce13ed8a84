// RecordEvaluator: evaluates knowledge-base definitions on one patient's
// record, each at most once, in dependency order.
//
// Patient-scope definitions see the parameters and the other patient-scope
// definitions as %`id` variables; condition-scope ones also see %condition
// (the Condition resources of one in-scope condition), %target and the
// condition-scope definitions evaluated for that condition. An evaluation
// error becomes an issue and an empty result (the criterion is then unknown),
// never a failure of the assessment.
//
// One RecordEvaluator serves one assessment on one thread. Results stay valid
// as long as the evaluator and the record.
#ifndef REGENPATH_ENGINE_RECORD_EVALUATOR_H_
#define REGENPATH_ENGINE_RECORD_EVALUATOR_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/date_time.h"
#include "engine/assessment.h"
#include "fhir/document.h"
#include "fhirpath/compiled_expression.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

using fhirpath::Collection;
using fhirpath::Value;
using VariableMap = std::map<std::string, std::vector<Value>, std::less<>>;

class RecordEvaluator {
 public:
  RecordEvaluator(const knowledge::KnowledgeBase& kb, const fhir::Document& record, const DateTime& now);

  // The value of a patient-scope definition (evaluated on first use).
  const Collection& Patient(std::string_view id);

  // Starts a condition scope: %condition = `conditions`, %target = `targets`.
  void EnterCondition(const Collection& conditions, const std::vector<std::string>& targets);

  // The value of a definition in the current condition scope (patient-scope
  // definitions are shared). Call EnterCondition first.
  const Collection& InCondition(std::string_view id);

  // Evaluates an expression compiled by the engine (not a definition) with
  // every patient-scope variable available.
  const Collection& EvaluateExpression(const fhirpath::CompiledExpression& expression, std::string_view label);

  // Data problems met while evaluating (definitions that failed).
  std::vector<AssessmentIssue>& issues() { return issues_; }

  const fhir::Document& record() const { return record_; }
  const DateTime& now() const { return now_; }
  fhirpath::Workspace& workspace() { return workspace_; }

 private:
  const Collection& Evaluate(const knowledge::Definition& definition, VariableMap& variables,
                             std::map<std::string, Collection, std::less<>>& cache, bool condition_scope);

  const knowledge::KnowledgeBase& kb_;
  const fhir::Document& record_;
  DateTime now_;
  fhirpath::Workspace workspace_;
  VariableMap patient_variables_;
  std::map<std::string, Collection, std::less<>> patient_cache_;
  VariableMap condition_variables_;
  std::map<std::string, Collection, std::less<>> condition_cache_;
  std::vector<AssessmentIssue> issues_;
  std::vector<std::unique_ptr<Collection>> scratch_;
  const Collection empty_;
};

// "Condition/abc" for every resource among `values` (in order, unique).
Refs ReferencesOf(const Collection& values);

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_RECORD_EVALUATOR_H_
