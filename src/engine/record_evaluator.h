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

#include <cstdint>
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

class RecordEvaluator {
 public:
  RecordEvaluator(const knowledge::KnowledgeBase& kb, const fhir::Document& record, const DateTime& now);
  // Its variable scopes point back at it.
  RecordEvaluator(const RecordEvaluator&) = delete;
  RecordEvaluator& operator=(const RecordEvaluator&) = delete;

  // The value of a patient-scope definition (evaluated on first use).
  const Collection& Patient(std::string_view id);
  const Collection& Patient(const knowledge::Definition& definition) { return PatientValue(definition); }

  // Starts a condition scope: %condition = `conditions`, %target = `targets`.
  void EnterCondition(const Collection& conditions, const std::vector<std::string>& targets);

  // The value of a definition in the current condition scope (patient-scope
  // definitions are shared). Call EnterCondition first.
  const Collection& InCondition(std::string_view id);
  const Collection& InCondition(const knowledge::Definition& definition) { return ConditionValue(definition); }

  // Evaluates an expression compiled by the engine (not a definition) with
  // every patient-scope variable available.
  const Collection& EvaluateExpression(const fhirpath::CompiledExpression& expression, std::string_view label);

  // Data problems met while evaluating (definitions that failed).
  std::vector<AssessmentIssue>& issues() { return issues_; }

  const fhir::Document& record() const { return record_; }
  const DateTime& now() const { return now_; }
  fhirpath::Workspace& workspace() { return workspace_; }

 private:
  // The %name variables of one scope, looked up where they live: the
  // definitions evaluated so far (by definition number), the parameters and,
  // in a condition scope, %condition and %target. Nothing is copied.
  class ScopeVariables : public fhirpath::VariableSource {
   public:
    ScopeVariables(const RecordEvaluator& owner, bool condition_scope)
        : owner_(owner), condition_scope_(condition_scope) {}
    const Collection* Find(std::string_view name) const override;

   private:
    const RecordEvaluator& owner_;
    bool condition_scope_;
  };

  // Where a definition stands in one scope.
  enum class State : uint8_t { kNew, kStarted, kDone };

  size_t IndexOf(const knowledge::Definition& definition) const { return kb_.IndexOf(definition); }
  const Collection& PatientValue(const knowledge::Definition& definition);
  const Collection& ConditionValue(const knowledge::Definition& definition);
  const Collection& Evaluate(const knowledge::Definition& definition, bool condition_scope);

  const knowledge::KnowledgeBase& kb_;
  const fhir::Document& record_;
  DateTime now_;
  fhirpath::Workspace workspace_;
  // By definition number (index in kb_.definitions()); sized once, so the
  // references handed out stay valid.
  std::vector<Collection> patient_values_;
  std::vector<State> patient_state_;
  std::vector<Collection> condition_values_;
  std::vector<State> condition_state_;
  Collection condition_;
  Collection target_;
  ScopeVariables patient_scope_{*this, /*condition_scope=*/false};
  ScopeVariables condition_scope_{*this, /*condition_scope=*/true};
  std::vector<AssessmentIssue> issues_;
  std::vector<std::unique_ptr<Collection>> scratch_;
  const Collection empty_;
};

// "Condition/abc" for every resource among `values` (in order, unique).
Refs ReferencesOf(const Collection& values);

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_RECORD_EVALUATOR_H_
