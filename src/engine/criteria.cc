// Criteria, criterion roles and stage rules, with the patient data behind
// each criterion (Assessor, see assessor.h).
#include <fmt/format.h>

#include <algorithm>

#include "engine/assessor.h"
#include "fhirpath/operations.h"

namespace regenpath::engine {

namespace {

using knowledge::Confidence;

Criterion MakeCriterion(const std::string& id, const std::string& display, std::optional<bool> met) {
  Criterion criterion;
  criterion.id = id;
  criterion.display = display;
  criterion.met = met;
  return criterion;
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

std::optional<bool> Truth(const Collection& values, bool empty_is_unknown) {
  if (values.empty()) return empty_is_unknown ? std::nullopt : std::optional<bool>(false);
  if (values.size() == 1) {
    std::optional<fhirpath::Value> value = fhirpath::ToSystem(values.front());
    if (value && value->type() == fhirpath::ValueType::kBoolean) return value->boolean();
  }
  return true;
}

MissingDataItem Assessor::MissingItem(const knowledge::MissingData& missing) {
  MissingDataItem item{missing.id, missing.display, missing.display, std::nullopt};
  // A test the knowledge base has a value set for (platelet count,
  // hemoglobin) can be ordered: its title names it, its first code orders it.
  if (const knowledge::ValueSet* valueset = kb_.FindValueSet(missing.id)) {
    if (!valueset->title.empty()) item.title = valueset->title;
    for (const knowledge::Concept& entry : valueset->concepts) {
      if (entry.prefix || entry.code.empty() || entry.system.empty()) continue;
      item.order_code = OrderCode{entry.system, entry.code, entry.display};
      break;
    }
  }
  // Present but unreadable (a unit that does not convert): say so, never
  // "record it" (knowledge: missing_data.unreadable).
  if (!missing.unreadable_when.empty()) {
    const Collection& found = evaluator_.InCondition(missing.unreadable_when);
    if (!found.empty()) {
      std::string value;
      std::optional<fhirpath::Value> first = fhirpath::ToSystem(found.front());
      if (first && first->type() == fhirpath::ValueType::kString) value = std::string(first->string());
      item.id = missing.id + "-unreadable";
      item.display = FillTemplate(missing.unreadable_display, {{"value", value}});
      item.title = item.display;
      missing_steps_[item.id] = FillTemplate(missing.unreadable_step, {{"value", value}, {"missing", item.display}});
    }
  }
  return item;
}

void Assessor::EvidenceOf(const knowledge::Definition& definition, bool met, Refs& refs, Data& data,
                          std::vector<size_t>& seen) {
  const size_t position = kb_.IndexOf(definition);
  if (std::find(seen.begin(), seen.end(), position) != seen.end()) return;
  seen.push_back(position);
  const size_t before = refs.size();
  if (!definition.evidence.empty()) {
    if (const knowledge::Definition* named = kb_.FindDefinition(definition.evidence)) {
      data_.Append(evaluator_.InCondition(*named), refs, data);
      if (refs.size() > before) return;
    }
  }
  const Collection& values = evaluator_.InCondition(definition);
  data_.Append(values, refs, data);
  if (refs.size() > before) return;
  if (values.empty() && seen.size() > 1) return;  // a used definition that found nothing: no data of its own
  // A Boolean: the data of what it was computed from (definitions that found
  // something; those that found nothing add nothing).
  for (size_t used : definition.used_definitions) {
    EvidenceOf(kb_.definitions()[used], met, refs, data, seen);
  }
  // What it says of the condition itself (chronic from its onset, ...), when
  // that made it true.
  if (met && current_resources_ != nullptr && definition.scope == knowledge::DefinitionScope::kCondition &&
      definition.expression.find("%condition") != std::string::npos) {
    data_.Append(*current_resources_, refs, data);
  }
}

Criterion Assessor::FromDefinition(std::string id, const knowledge::Definition& definition) {
  Criterion criterion;
  criterion.id = std::move(id);
  criterion.display = definition.note.empty() ? definition.id : definition.note;
  criterion.definition = definition.id;
  const Collection& values = evaluator_.InCondition(definition);
  criterion.met = Truth(values, definition.missing_data.has_value());
  std::vector<size_t> seen;
  EvidenceOf(definition, criterion.met == true, criterion.evidence, criterion.data, seen);
  if (criterion.met != true || criterion.data.empty()) {
    auto looked = tables_.looked_for.find(definition.id);
    criterion.looked_for = looked != tables_.looked_for.end() ? looked->second : definition.id;
  }
  for (const std::string& used : definition.uses) {
    const knowledge::Parameter* parameter = kb_.FindParameter(used);
    if (parameter != nullptr && parameter->confidence == Confidence::kU) {
      criterion.unverified = true;
      NoteUnverified(fmt::format("parameter '{}' = {}", parameter->id, parameter->ValueText()));
    }
  }
  if (!criterion.met && definition.missing_data) criterion.missing = MissingItem(*definition.missing_data);
  if (criterion.met == false) {
    for (const knowledge::NotMetStep& not_met : definition.not_met) {
      if (AddNotMetStep(criterion, not_met)) break;
    }
  }
  return criterion;
}

bool Assessor::AddNotMetStep(const Criterion& criterion, const knowledge::NotMetStep& not_met) {
  // Why it is not met, with its data and thresholds (knowledge: not_met).
  Data found;
  if (!not_met.when.empty()) {
    const Collection& values = evaluator_.InCondition(not_met.when);
    if (values.empty()) return false;
    Refs refs;
    data_.Append(values, refs, found);
  }
  std::string shown;
  for (const Datum& datum : not_met.when.empty() ? criterion.data : found) {
    if (!shown.empty()) shown += "; ";
    shown += datum.display;
    if (datum.value) shown += " " + *datum.value;
    if (datum.date) shown += ", " + datum.date->substr(0, 10);
  }
  std::vector<std::pair<std::string_view, std::string>> values{{"data", shown.empty() ? kb_.pathway().no_data : shown}};
  for (const knowledge::Parameter& parameter : kb_.parameters()) {
    if (not_met.step.find("{" + parameter.id + "}") != std::string::npos) values.emplace_back(parameter.id, parameter.ValueText());
  }
  not_met_steps_[criterion.id] = {not_met.kind, FillTemplate(not_met.step, values)};
  return true;
}

const Criterion& Assessor::EvaluateCriterion(const std::string& id, const knowledge::Condition& condition) {
  auto cached = criteria_cache_.find(id);
  if (cached != criteria_cache_.end()) return cached->second;
  return criteria_cache_.emplace(id, EvaluateCriterionUncached(id, condition)).first->second;
}

Criterion Assessor::EvaluateCriterionUncached(const std::string& id, const knowledge::Condition& condition) {
  const knowledge::CriterionRole* role = kb_.FindCriterionRole(id);
  std::string definition_id = id;
  if (role != nullptr) {
    if (!role->condition_fact.empty()) {
      // A fact of the condition in the knowledge base, not of the record.
      auto fact = condition.facts.find(role->condition_fact);
      const bool value = fact != condition.facts.end() && fact->second;
      Criterion criterion = MakeCriterion(id, role->display.empty() ? id : role->display, value);
      criterion.from_record = false;
      criterion.looked_for = fmt::format("knowledge base (conditions.yaml): {} {} {}", condition.display,
                                         value ? "is" : "is not", role->condition_fact);
      return criterion;
    }
    if (role->bound_by_condition) {
      auto bound = condition.roles.find(role->id);
      if (bound == condition.roles.end()) {
        Criterion criterion = MakeCriterion(id, role->unbound_display, role->unbound_met);
        criterion.from_record = false;
        criterion.looked_for = fmt::format("knowledge base (conditions.yaml): {} names no '{}' criterion",
                                           condition.display, role->id);
        return criterion;
      }
      definition_id = bound->second;
    } else {
      definition_id = role->definition;
    }
  }
  const knowledge::Definition* definition = kb_.FindDefinition(definition_id);
  if (definition == nullptr) {
    // kb check refuses this; kept safe for a knowledge base loaded unchecked.
    Criterion criterion = MakeCriterion(id, id, std::nullopt);
    criterion.looked_for = fmt::format("'{}' is not defined in the knowledge base", definition_id);
    return criterion;
  }
  Criterion criterion = FromDefinition(id, *definition);
  if (role != nullptr && !role->display.empty()) criterion.display = role->display;
  return criterion;
}

std::optional<bool> Assessor::EvaluateRule(const knowledge::RuleExpr& rule, const knowledge::Condition& condition,
                                           std::vector<Criterion>& criteria, std::vector<std::string>* used) {
  using Kind = knowledge::RuleExpr::Kind;
  switch (rule.kind) {
    case Kind::kAlways:
      return true;
    case Kind::kCriterion: {
      if (used != nullptr && !Contains(*used, rule.criterion)) used->push_back(rule.criterion);
      auto known = std::find_if(criteria.begin(), criteria.end(),
                                [&](const Criterion& criterion) { return criterion.id == rule.criterion; });
      if (known != criteria.end()) return known->met;
      criteria.push_back(EvaluateCriterion(rule.criterion, condition));
      return criteria.back().met;
    }
    case Kind::kNot: {
      std::optional<bool> operand = EvaluateRule(rule.operands[0], condition, criteria, used);
      if (!operand) return std::nullopt;
      return !*operand;
    }
    case Kind::kAll: {
      bool unknown = false;
      for (const knowledge::RuleExpr& operand : rule.operands) {
        std::optional<bool> value = EvaluateRule(operand, condition, criteria, used);
        if (value == false) return false;
        if (!value) unknown = true;
      }
      return unknown ? std::nullopt : std::optional<bool>(true);
    }
    case Kind::kAny: {
      bool unknown = false;
      for (const knowledge::RuleExpr& operand : rule.operands) {
        std::optional<bool> value = EvaluateRule(operand, condition, criteria, used);
        if (value == true) return true;
        if (!value) unknown = true;
      }
      return unknown ? std::nullopt : std::optional<bool>(false);
    }
  }
  return std::nullopt;
}

void Assessor::DecideStage(const knowledge::Condition& condition, AssessedCondition& assessed) {
  // The first stage whose rule holds (or is unknown and applies on unknown).
  std::vector<Criterion> criteria;
  std::vector<std::string> earlier;  // criteria of the rules that did not apply
  std::vector<std::string> deciding;
  std::string stage_id = kb_.pathway().fallback_stage;
  for (const knowledge::Stage& stage : kb_.stages()) {
    if (!stage.when) continue;
    std::vector<std::string> used;
    std::optional<bool> holds = EvaluateRule(*stage.when, condition, criteria, &used);
    if (holds == true || (!holds && stage.apply_on_unknown)) {
      stage_id = stage.id;
      // A rule without criteria (always) is decided by every earlier rule
      // having failed.
      deciding = used.empty() ? earlier : used;
      break;
    }
    for (const std::string& id : used) {
      if (!Contains(earlier, id)) earlier.push_back(id);
    }
  }
  // Every role the pathway defines is reported, also when no rule needed it
  // (chronic: acute or chronic matters to every reader).
  for (const knowledge::CriterionRole& role : kb_.criterion_roles()) {
    if (role.always_report) {
      bool known = std::any_of(criteria.begin(), criteria.end(), [&](const Criterion& c) { return c.id == role.id; });
      if (!known) criteria.push_back(EvaluateCriterion(role.id, condition));
    }
  }
  for (Criterion& criterion : criteria) criterion.decides_stage = Contains(deciding, criterion.id);
  const std::string& chronic_id = kb_.pathway().chronic_criterion;
  auto chronic = std::find_if(criteria.begin(), criteria.end(), [&](const Criterion& c) { return c.id == chronic_id; });
  if (chronic != criteria.end()) assessed.chronic = chronic->met;
  assessed.criteria = std::move(criteria);
  assessed.stage = StageOf(stage_id);
}

std::string Assessor::StageReason(const AssessedCondition& assessed) const {
  const knowledge::PathwaySettings& pathway = kb_.pathway();
  std::string reasons;
  for (const Criterion& criterion : assessed.criteria) {
    if (!criterion.decides_stage) continue;
    if (!reasons.empty()) reasons += "; ";
    const std::string& state = !criterion.met ? pathway.state_unknown
                               : *criterion.met ? pathway.state_met
                                                : pathway.state_not_met;
    std::string shown;
    if (!criterion.data.empty()) {
      const Datum& datum = criterion.data.front();
      shown = datum.display;
      if (datum.date) shown += " " + datum.date->substr(0, 10);
      if (datum.value && datum.reference.starts_with("Observation/")) shown += " " + *datum.value;
      if (criterion.data.size() > 1) shown += fmt::format(" (+{})", criterion.data.size() - 1);
    } else if (!criterion.looked_for.empty() && criterion.met != true) {
      shown = pathway.no_data;
    }
    reasons += fmt::format("{}: {}{}", criterion.display, state, shown.empty() ? "" : " — " + shown);
  }
  std::string reason = fmt::format("{}: {}", assessed.display, assessed.stage.display);
  if (!reasons.empty()) reason += " (" + reasons + ")";
  return reason;
}

}  // namespace regenpath::engine

namespace regenpath::engine {

std::string Assessor::WhySentence(const AssessedCondition& assessed) const {
  const knowledge::PathwaySettings& pathway = kb_.pathway();
  if (pathway.why.empty()) return "";
  constexpr size_t kShown = 3;
  std::string parts;
  for (const knowledge::WhyWords& words : pathway.why) {
    // Every criterion shown for the condition: those it passed to reach its
    // stage and the one that holds it there.
    auto criterion = std::find_if(assessed.criteria.begin(), assessed.criteria.end(),
                                  [&](const Criterion& c) { return c.id == words.criterion; });
    if (criterion == assessed.criteria.end()) continue;
    const std::string& text = !criterion->met ? words.unknown : *criterion->met ? words.met : words.not_met;
    if (text.empty()) continue;
    std::string data;
    for (size_t index = 0; index < criterion->data.size() && index < kShown; ++index) {
      const Datum& datum = criterion->data[index];
      if (!data.empty()) data += ", ";
      data += datum.display;
      if (datum.value && datum.reference.starts_with("Observation/")) data += " " + *datum.value;
      if (datum.date) data += " " + datum.date->substr(0, 10);
    }
    if (criterion->data.size() > kShown) {
      data += FillTemplate(pathway.why_data_more, {{"n", std::to_string(criterion->data.size() - kShown)}});
    }
    if (data.empty()) data = pathway.no_data;
    std::string first;
    std::string since;
    std::string type;
    if (!criterion->data.empty()) {
      const Datum& datum = criterion->data.front();
      first = datum.display;
      since = datum.date ? datum.date->substr(0, 10) : pathway.no_data;
      type = datum.reference.substr(0, datum.reference.find('/'));
    }
    if (!parts.empty()) parts += "; ";
    parts += FillTemplate(text, {{"data", data},
                                 {"first", first},
                                 {"since", since},
                                 {"type", type},
                                 {"condition", assessed.display},
                                 {"criterion", criterion->display}});
  }
  if (parts.empty()) return "";
  return fmt::format("{}: {}", assessed.stage.title, parts);
}

}  // namespace regenpath::engine
