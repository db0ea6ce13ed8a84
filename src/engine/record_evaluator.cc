#include "engine/record_evaluator.h"

#include <fmt/format.h>

#include <algorithm>

namespace regenpath::engine {

RecordEvaluator::RecordEvaluator(const knowledge::KnowledgeBase& kb, const fhir::Document& record,
                                 const DateTime& now)
    : kb_(kb),
      record_(record),
      now_(now),
      patient_values_(kb.definitions().size()),
      patient_state_(kb.definitions().size(), State::kNew),
      condition_values_(kb.definitions().size()),
      condition_state_(kb.definitions().size(), State::kNew) {}

const Collection* RecordEvaluator::ScopeVariables::Find(std::string_view name) const {
  if (condition_scope_) {
    if (name == "condition") return &owner_.condition_;
    if (name == "target") return &owner_.target_;
  }
  if (const knowledge::Definition* definition = owner_.kb_.FindDefinition(name); definition != nullptr) {
    // A definition is a variable once evaluated (in its own scope); before,
    // a parameter of the same name (if any) stands.
    const size_t index = owner_.IndexOf(*definition);
    if (condition_scope_ && definition->scope == knowledge::DefinitionScope::kCondition) {
      if (owner_.condition_state_[index] == State::kDone) return &owner_.condition_values_[index];
    } else if (owner_.patient_state_[index] == State::kDone) {
      return &owner_.patient_values_[index];
    }
  }
  return owner_.kb_.ParameterVariable(name);
}

const Collection& RecordEvaluator::Patient(std::string_view id) {
  const knowledge::Definition* definition = kb_.FindDefinition(id);
  if (definition == nullptr) return empty_;
  return PatientValue(*definition);
}

const Collection& RecordEvaluator::PatientValue(const knowledge::Definition& definition) {
  const size_t index = IndexOf(definition);
  if (patient_state_[index] != State::kNew) return patient_values_[index];
  return Evaluate(definition, /*condition_scope=*/false);
}

void RecordEvaluator::EnterCondition(const Collection& conditions, const std::vector<std::string>& targets) {
  for (size_t index = 0; index < condition_state_.size(); ++index) {
    if (condition_state_[index] == State::kNew) continue;
    condition_state_[index] = State::kNew;
    condition_values_[index].clear();
  }
  condition_ = conditions;
  target_.clear();
  for (const std::string& target : targets) target_.push_back(Value::String(target));
}

const Collection& RecordEvaluator::InCondition(std::string_view id) {
  const knowledge::Definition* definition = kb_.FindDefinition(id);
  if (definition == nullptr) return empty_;
  return ConditionValue(*definition);
}

const Collection& RecordEvaluator::ConditionValue(const knowledge::Definition& definition) {
  if (definition.scope == knowledge::DefinitionScope::kPatient) return PatientValue(definition);
  const size_t index = IndexOf(definition);
  if (condition_state_[index] != State::kNew) return condition_values_[index];
  return Evaluate(definition, /*condition_scope=*/true);
}

const Collection& RecordEvaluator::Evaluate(const knowledge::Definition& definition, bool condition_scope) {
  const size_t index = IndexOf(definition);
  // Mark first: a cycle (rejected by the loader) could otherwise recurse.
  std::vector<State>& state = condition_scope ? condition_state_ : patient_state_;
  state[index] = State::kStarted;
  for (size_t used : definition.used_definitions) {
    const knowledge::Definition& dependency = kb_.definitions()[used];
    if (condition_scope) {
      ConditionValue(dependency);
    } else {
      PatientValue(dependency);
    }
  }
  Collection& result = condition_scope ? condition_values_[index] : patient_values_[index];
  if (!definition.compiled) return result;
  fhirpath::EvaluationContext context;
  context.document = &record_;
  context.resource = &record_.root();
  context.now = now_;
  context.terminology = &kb_.terminology();
  context.variable_source = condition_scope ? &condition_scope_ : &patient_scope_;
  Result<Collection> evaluated = definition.compiled->Evaluate(context, workspace_);
  if (evaluated.has_value()) {
    result = std::move(*evaluated);
  } else {
    issues_.push_back(AssessmentIssue{"error",
                                      fmt::format("definition '{}' could not be evaluated on this record: {}",
                                                  definition.id, evaluated.error().message()),
                                      ""});
  }
  state[index] = State::kDone;
  return result;
}

const Collection& RecordEvaluator::EvaluateExpression(const fhirpath::CompiledExpression& expression,
                                                      std::string_view label) {
  Collection& result = *scratch_.emplace_back(std::make_unique<Collection>());
  fhirpath::EvaluationContext context;
  context.document = &record_;
  context.resource = &record_.root();
  context.now = now_;
  context.terminology = &kb_.terminology();
  context.variable_source = &patient_scope_;
  Result<Collection> evaluated = expression.Evaluate(context, workspace_);
  if (evaluated.has_value()) {
    result = std::move(*evaluated);
  } else {
    issues_.push_back(AssessmentIssue{"error", fmt::format("{}: {}", label, evaluated.error().message()), ""});
  }
  return result;
}

Refs ReferencesOf(const Collection& values) {
  Refs refs;
  for (const Value& value : values) {
    if (!value.is_node()) continue;
    const fhir::Node* resource = value.node()->EnclosingResource();
    if (resource == nullptr) continue;
    const fhir::Node* id = resource->Child("id");
    std::string reference = std::string(resource->type_name()) + "/" +
                            (id != nullptr && id->has_value() ? std::string(id->text()) : std::string("?"));
    if (std::find(refs.begin(), refs.end(), reference) == refs.end()) refs.push_back(std::move(reference));
  }
  return refs;
}

}  // namespace regenpath::engine
