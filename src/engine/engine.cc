#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <set>

#include "engine/assessor.h"
#include "engine/patient_scope.h"
#include "fhir/patient_compartment.h"

namespace regenpath::engine {

namespace {

using knowledge::KnowledgeBase;

// What a definition looks for, in words: its note, and the value sets and
// parameters it reads, directly or through the definitions it uses.
std::string LookedFor(const KnowledgeBase& kb, const knowledge::Definition& definition) {
  std::vector<std::string> valuesets;
  std::vector<std::string> parameters;
  for (const knowledge::Definition* current : kb.WithDependencies(definition)) {
    // memberOf('id') arguments, as the loader checked them.
    for (size_t at = current->expression.find("memberOf('"); at != std::string::npos;
         at = current->expression.find("memberOf('", at + 1)) {
      size_t start = at + 10;
      size_t end = current->expression.find('\'', start);
      if (end == std::string::npos) break;
      const knowledge::ValueSet* valueset = kb.FindValueSet(current->expression.substr(start, end - start));
      if (valueset == nullptr) continue;
      std::string name = valueset->title.empty() ? valueset->id : valueset->title;
      if (std::find(valuesets.begin(), valuesets.end(), name) == valuesets.end()) valuesets.push_back(name);
    }
    for (const std::string& used : current->uses) {
      if (const knowledge::Parameter* parameter = kb.FindParameter(used)) {
        std::string text = fmt::format("{} = {}{}", parameter->id, parameter->ValueText(),
                                       parameter->confidence == knowledge::Confidence::kU ? " (unverified)" : "");
        if (std::find(parameters.begin(), parameters.end(), text) == parameters.end()) parameters.push_back(text);
      }
    }
  }
  std::string text = definition.note.empty() ? definition.id : definition.note;
  if (!valuesets.empty()) text += fmt::format("; value sets: {}", fmt::join(valuesets, ", "));
  if (!parameters.empty()) text += fmt::format("; parameters: {}", fmt::join(parameters, ", "));
  return text;
}

// The resource filter for `gates`: per gated type, the codes (and code
// prefixes) and names of the value sets its gates name. A type one of whose
// value sets the knowledge base does not hold is not filtered.
std::shared_ptr<const fhir::ResourceFilter> ResourceFilterFor(const KnowledgeBase& kb,
                                                              const fhirpath::ResourceGates& gates) {
  std::map<std::string, std::vector<std::string>> needles;
  for (const auto& [type, value_sets] : gates.gated) {
    if (!gates.IsGated(type)) continue;
    std::vector<std::string> texts;
    bool known = true;
    for (const std::string& name : value_sets) {
      const knowledge::ValueSet* value_set = kb.FindValueSet(name);
      for (const knowledge::ValueSet& candidate : kb.valuesets()) {
        if (value_set == nullptr && candidate.url == name) value_set = &candidate;
      }
      if (value_set == nullptr) {
        known = false;
        break;
      }
      for (const knowledge::Concept& concept_entry : value_set->concepts) texts.push_back(concept_entry.code);
      texts.insert(texts.end(), value_set->text.begin(), value_set->text.end());
    }
    if (known) needles.emplace(type, std::move(texts));
  }
  return std::make_shared<fhir::ResourceFilter>(needles);
}

}  // namespace

fhir::ParseOptions Engine::RecordParseOptions() const {
  fhir::ParseOptions options;
  const fhir::ElementFilter* filter = element_filter_.get();
  options.filter_for_root = [filter](std::string_view root_type) -> const fhir::ElementFilter* {
    return root_type == "Bundle" ? filter : nullptr;
  };
  options.resource_filter = resource_filter_.get();
  return options;
}

Engine::Engine(std::shared_ptr<const KnowledgeBase> kb) : kb_(std::move(kb)) {
  static std::atomic<uint64_t> next_id{1};
  id_ = next_id++;
}

Result<Engine> Engine::Create(std::shared_ptr<const KnowledgeBase> kb) {
  if (!kb->usable()) {
    return Fail(InvalidInput(fmt::format("the knowledge base has {} problem(s); run `regenpath kb check` (first: {})",
                                         kb->problems().size(), kb->problems().front().ToString())));
  }
  Engine engine(kb);
  auto tables = std::make_shared<EngineTables>();
  tables->datum_paths = DatumPaths(*kb);
  fhirpath::CompileOptions options;
  options.context_type = "Bundle";
  std::vector<std::string> read;
  bool whole_tree = false;
  fhirpath::ResourceGates gates;
  auto note_reads = [&](const fhirpath::CompiledExpression& expression, const std::string& context) {
    gates.Merge(expression.GatesOnResources());
    std::optional<std::vector<std::string>> names = expression.ElementsRead(context);
    if (!names) {
      whole_tree = true;
      return;
    }
    read.insert(read.end(), names->begin(), names->end());
  };
  for (const knowledge::Condition& condition : kb->conditions()) {
    std::string text = fmt::format("%`active-conditions`.where(code.memberOf('{}'))", condition.valueset);
    RP_ASSIGN_OR_RETURN(fhirpath::CompiledExpression matches, fhirpath::CompiledExpression::Compile(text, options));
    note_reads(matches, "Bundle");
    tables->conditions.push_back(EngineTables::ConditionMatcher{&condition, std::move(matches)});
  }
  for (const knowledge::MedicationHold& hold : kb->medication_holds()) {
    // medication[x] is a CodeableConcept or a Reference to a Medication.
    std::string text = fmt::format(
        "%`active-medications`.where((medication.ofType(CodeableConcept).exists(memberOf('{0}')) or "
        "medication.ofType(Reference).resolve().ofType(Medication).code.exists(memberOf('{0}')))",
        hold.valueset);
    if (!hold.exclude_forms.empty()) {
      // Forms the hold does not apply to (a topical NSAID), by product name or route.
      std::string forms;
      for (const std::string& form : hold.exclude_forms) {
        if (!forms.empty()) forms += " or ";
        forms += fmt::format("lower().contains('{}')", form);
      }
      text += fmt::format(
          " and (medication.ofType(CodeableConcept).select(text | coding.display) | "
          "medication.ofType(Reference).resolve().ofType(Medication).code.select(text | coding.display) | "
          "dosageInstruction.route.ofType(CodeableConcept).select(text | coding.display)).where({}).empty()",
          forms);
    }
    text += ")";
    RP_ASSIGN_OR_RETURN(fhirpath::CompiledExpression matches, fhirpath::CompiledExpression::Compile(text, options));
    note_reads(matches, "Bundle");
    tables->holds.push_back(EngineTables::HoldMatcher{&hold, std::move(matches)});
  }
  for (const knowledge::Definition& definition : kb->definitions()) {
    if (definition.compiled) note_reads(*definition.compiled, "Bundle");
    tables->looked_for.emplace(definition.id, LookedFor(*kb, definition));
  }
  for (const knowledge::StatusRule& rule : kb->status_rules()) {
    if (rule.when != knowledge::StatusRule::When::kContraindication) continue;
    tables->contraindication_categories.insert(rule.applies_to.begin(), rule.applies_to.end());
  }
  for (const knowledge::DatumView& view : kb->datum_views()) {
    for (const auto* field : {&view.display, &view.date, &view.value}) {
      for (const fhirpath::CompiledExpression& expression : field->compiled) {
        // The fallback may meet any type: what it reads is read everywhere.
        note_reads(expression, view.type);
      }
    }
  }
  if (!whole_tree) {
    // What the engine itself reads: patients, codes, displays, statuses, and
    // the references that say whose a resource is (patient_scope.h).
    for (const char* name :
         {"gender", "birthDate", "deceased", "code", "coding", "system", "display", "text", "subject",
          "patient", "beneficiary", "reference", "link", "other", "type", "identifier", "value"}) {
      read.push_back(name);
    }
    engine.element_filter_ = std::make_shared<fhir::ElementFilter>(std::move(read));
  }
  // (Independent of whole_tree: a skeleton never passes a gate, so no
  // comparison of whole resources after the gates meets one.)
  engine.resource_filter_ = ResourceFilterFor(*kb, gates);
  // (A resolve() of no one type may reach any: every type outside the
  // compartment is then shared.)
  if (gates.resolves_untyped) {
    for (const fhir::TypeInfo* type : fhir::Model::R4().types()) {
      if (type->kind == fhir::TypeKind::kResource && !fhir::PatientElement(type->name)) {
        engine.shared_resource_types_.emplace(type->name);
      }
    }
  }
  for (const std::string& type : gates.resolved) {
    if (!fhir::PatientElement(type)) engine.shared_resource_types_.insert(type);
  }
  engine.tables_ = std::move(tables);
  return engine;
}

Result<Assessment> Engine::Assess(const fhir::Document& record, const DateTime& now,
                                  const AssessOptions& options) const {
  RP_ASSIGN_OR_RETURN(PatientSelection selection, SelectPatient(record, options.patient_id));
  auto dated = [&](Result<Assessment> assessment) -> Result<Assessment> {
    if (assessment.has_value() && options.procedure_date) PlanDates(*options.procedure_date, *assessment);
    return assessment;
  };
  if (selection.excluded.empty()) {
    Assessor assessor(*kb_, *tables_, record, now);
    assessor.set_procedure_date(options.procedure_date);
    return dated(assessor.Run(selection, record));
  }
  // Another patient's resources are in the record: assess a copy without them.
  RP_ASSIGN_OR_RETURN(fhir::Document own, WithoutExcluded(record, selection, element_filter_.get(), resource_filter_.get()));
  Assessor assessor(*kb_, *tables_, own, now);
  assessor.set_procedure_date(options.procedure_date);
  return dated(assessor.Run(selection, record));
}

}  // namespace regenpath::engine
