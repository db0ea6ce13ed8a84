// Engine: evaluates a knowledge base against one patient's record and
// explains every result (docs/knowledge-base.md, "How the engine uses it").
//
//   RP_ASSIGN_OR_RETURN(Engine engine, Engine::Create(knowledge::KnowledgeBase::Embedded()));
//   Assessment assessment = engine.Assess(document, now);
//
// An Engine is immutable after Create and may assess many records from many
// threads at once. Assess never fails on data: problems in the record become
// `issues` of the assessment.
#ifndef REGENPATH_ENGINE_ENGINE_H_
#define REGENPATH_ENGINE_ENGINE_H_

#include <memory>
#include <string>
#include <vector>

#include "common/date_time.h"
#include "common/status.h"
#include "engine/assessment.h"
#include "fhir/document.h"
#include "fhir/element_filter.h"
#include "fhirpath/compiled_expression.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

class Engine {
 public:
  // Fails (kInvalidInput) when the knowledge base has problems (see
  // KnowledgeBase::problems(); `regenpath kb check` lists them).
  static Result<Engine> Create(std::shared_ptr<const knowledge::KnowledgeBase> kb);

  // Assesses the record (a Bundle, or a single resource) as of `now`.
  Assessment Assess(const fhir::Document& record, const DateTime& now) const;

  // The elements assessing a Bundle can read: parse records with this filter
  // to skip the rest (nullptr when every element may be needed).
  const fhir::ElementFilter* element_filter() const { return element_filter_.get(); }

  const knowledge::KnowledgeBase& kb() const { return *kb_; }

 private:
  struct ConditionMatcher {
    const knowledge::Condition* condition = nullptr;
    fhirpath::CompiledExpression matches;  // this condition's resources among the active conditions
  };
  struct HoldMatcher {
    const knowledge::MedicationHold* hold = nullptr;
    fhirpath::CompiledExpression matches;  // the patient's active requests for this drug
  };

  explicit Engine(std::shared_ptr<const knowledge::KnowledgeBase> kb) : kb_(std::move(kb)) {}

  std::shared_ptr<const knowledge::KnowledgeBase> kb_;
  std::vector<ConditionMatcher> conditions_;
  std::vector<HoldMatcher> holds_;
  std::shared_ptr<const fhir::ElementFilter> element_filter_;
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_ENGINE_H_
