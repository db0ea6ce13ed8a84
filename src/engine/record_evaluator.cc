#include "engine/record_evaluator.h"

#include <fmt/format.h>

#include <algorithm>

namespace regenpath::engine {

RecordEvaluator::RecordEvaluator(const knowledge::KnowledgeBase& kb, const fhir::Document& record,
                                 const DateTime& now)
    : kb_(kb), record_(record), now_(now) {
  for (const knowledge::Parameter& parameter : kb.parameters()) {
    // Units live in the knowledge base, which outlives the evaluator.
    patient_variables_[parameter.id] = {parameter.unit.empty() ? Value::MakeDecimal(parameter.value)
                                                               : Value::Quantity(parameter.value, parameter.unit)};
  }
}

const Collection& RecordEvaluator::Patient(std::string_view id) {
  auto cached = patient_cache_.find(id);
  if (cached != patient_cache_.end()) return cached->second;
  const knowledge::Definition* definition = kb_.FindDefinition(id);
  if (definition == nullptr) return empty_;
  return Evaluate(*definition, patient_variables_, patient_cache_, /*condition_scope=*/false);
}

void RecordEvaluator::EnterCondition(const Collection& conditions, const std::vector<std::string>& targets) {
  condition_cache_.clear();
  condition_variables_ = patient_variables_;
  condition_variables_["condition"] = conditions;
  Collection& target_values = *scratch_.emplace_back(std::make_unique<Collection>());
  for (const std::string& target : targets) target_values.push_back(Value::String(target));
  condition_variables_["target"] = target_values;
}

const Collection& RecordEvaluator::InCondition(std::string_view id) {
  const knowledge::Definition* definition = kb_.FindDefinition(id);
  if (definition == nullptr) return empty_;
  if (definition->scope == knowledge::DefinitionScope::kPatient) return Patient(id);
  auto cached = condition_cache_.find(id);
  if (cached != condition_cache_.end()) return cached->second;
  return Evaluate(*definition, condition_variables_, condition_cache_, /*condition_scope=*/true);
}

const Collection& RecordEvaluator::Evaluate(const knowledge::Definition& definition, VariableMap& variables,
                                            std::map<std::string, Collection, std::less<>>& cache,
                                            bool condition_scope) {
  // Insert first: a cycle (rejected by the loader) could otherwise recurse.
  Collection& result = cache[definition.id];
  for (const std::string& used : definition.uses) {
    const knowledge::Definition* dependency = kb_.FindDefinition(used);
    if (dependency == nullptr) continue;  // a parameter, already a variable
    const Collection& value = condition_scope ? InCondition(used) : Patient(used);
    // Evaluating a definition binds it in its own scope's variables; only a
    // patient-scope value first computed after EnterCondition copied the
    // patient variables is still missing from the condition scope.
    if (variables.find(used) == variables.end()) variables.emplace(used, value);
  }
  if (!definition.compiled) return result;
  fhirpath::EvaluationContext context;
  context.document = &record_;
  context.resource = &record_.root();
  context.now = now_;
  context.terminology = &kb_.terminology();
  context.variables = &variables;
  Result<Collection> evaluated = definition.compiled->Evaluate(context, workspace_);
  if (evaluated.has_value()) {
    result = std::move(*evaluated);
  } else {
    issues_.push_back(AssessmentIssue{"error",
                                      fmt::format("definition '{}' could not be evaluated on this record: {}",
                                                  definition.id, evaluated.error().message()),
                                      ""});
  }
  variables[definition.id] = result;
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
  context.variables = &patient_variables_;
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
