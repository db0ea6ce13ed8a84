#include "cli/assess_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <ostream>

#include "cli/exit_codes.h"
#include "common/clock.h"
#include "common/now_option.h"
#include "common/terminal_text.h"
#include "engine/datum_reader.h"
#include "engine/engine.h"
#include "engine/patient_scope.h"
#include "engine/record_evaluator.h"
#include "fhir/parser.h"
#include "fhirpath/output.h"
#include "registry/instrument_catalog.h"
#include "registry/open_store.h"
#include "report/assessment_json.h"
#include "report/text_report.h"
#include "server/clinic_evidence_source.h"

namespace regenpath::cli {

namespace {

Result<std::shared_ptr<const knowledge::KnowledgeBase>> LoadKb(const std::optional<std::string>& directory) {
  if (!directory) return knowledge::KnowledgeBase::Embedded();
  return knowledge::KnowledgeBase::LoadDirectory(*directory);
}

// The clinic's own evidence from the registry at `database`, after the
// engine ran (the engine never reads the registry).
void AddClinicEvidence(const std::string& database, const DateTime& now, engine::Assessment& assessment,
                       std::ostream& err) {
  auto warn = [&](const Status& status) {
    err << "regenpath assess: warning: the clinic's evidence is not shown: " << status.message() << "\n";
  };
  if (!registry::IsPostgresDatabase(database) && !std::filesystem::exists(database)) {
    warn(NotFound(fmt::format("no registry database {}", database)));
    return;
  }
  auto store = registry::OpenRegistryStore(database);
  if (!store) return warn(store.error());
  auto catalog = registry::InstrumentCatalog::Embedded();
  if (!catalog) return warn(catalog.error());
  server::ClinicEvidenceSource source(store->get(), catalog->get(), 0, 0);
  Status attached = source.Attach(assessment, now.ToString().substr(0, 10));
  if (!attached.ok()) warn(attached);
}

}  // namespace

int RunAssess(const AssessOptions& options, std::ostream& out, std::ostream& err) {
  std::string format = options.format.value_or(isatty(STDOUT_FILENO) ? "text" : "json");
  if (format != "json" && format != "text") {
    err << "regenpath assess: --format must be json or text\n";
    return kExitUsage;
  }
  Result<DateTime> now = ParseNowOption(options.now);
  if (!now.has_value()) {
    err << "regenpath assess: " << now.error().message() << "\n";
    return kExitUsage;
  }
  engine::AssessOptions assess_options{options.patient, std::nullopt};
  if (options.procedure_date) {
    assess_options.procedure_date = DateTime::ParseDate(*options.procedure_date);
    if (!assess_options.procedure_date || options.procedure_date->size() != 10) {
      err << "regenpath assess: --procedure-date must be a date YYYY-MM-DD, not '" << *options.procedure_date << "'\n";
      return kExitUsage;
    }
  }
  Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb = LoadKb(options.kb_dir);
  if (!kb.has_value()) {
    err << "regenpath assess: " << kb.error().message() << "\n";
    return kExitInvalidInput;
  }
  Result<engine::Engine> engine = engine::Engine::Create(*kb);
  if (!engine.has_value()) {
    err << "regenpath assess: " << engine.error().message() << "\n";
    return kExitInvalidInput;
  }
  // Read only what the knowledge base can look at.
  fhir::Parser parser(engine->RecordParseOptions());
  Result<fhir::Document> record = parser.ParseFile(options.file);
  if (!record.has_value()) {
    err << "regenpath assess: " << record.error().message() << "\n";
    return kExitInvalidInput;
  }
  Result<engine::Assessment> assessment = engine->Assess(*record, *now, assess_options);
  if (!assessment.has_value()) {
    err << "regenpath assess: " << assessment.error().message() << "\n";
    return kExitInvalidInput;
  }
  if (options.registry) AddClinicEvidence(*options.registry, *now, *assessment, err);
  if (format == "json") {
    out << report::AssessmentToJson(*assessment);
  } else {
    out << report::AssessmentToText(*assessment);
  }
  out.flush();
  return kExitOk;
}

int RunKbCheck(const KbOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb = LoadKb(options.kb_dir);
  if (!kb.has_value()) {
    err << "regenpath kb check: " << kb.error().message() << "\n";
    return kExitInvalidInput;
  }
  const knowledge::KnowledgeBase& base = **kb;
  for (const knowledge::Problem& problem : base.problems()) err << problem.ToString() << "\n";
  if (!base.usable()) {
    err << fmt::format("regenpath kb check: {} problem(s)\n", base.problems().size());
    return kExitInvalidInput;
  }
  out << fmt::format(
      "{} {}: {} citations, {} parameters, {} value sets, {} definitions, {} red flags, {} contraindications, "
      "{} conditions, {} options, {} medication holds, {} instruments, {} stages, {} criterion roles, "
      "{} status rules, {} next-step rules, {} datum views; no problem\n",
      base.name(), base.version(), base.citations().size(), base.parameters().size(), base.valuesets().size(),
      base.definitions().size(), base.red_flags().size(), base.contraindications().size(), base.conditions().size(),
      base.options().size(), base.medication_holds().size(), base.instruments().size(), base.stages().size(),
      base.criterion_roles().size(), base.status_rules().size(), base.next_step_rules().size(),
      base.datum_views().size());
  return kExitOk;
}

int RunKbEval(const KbOptions& options, std::ostream& out, std::ostream& err) {
  Result<DateTime> now = ParseNowOption(options.now);
  if (!now.has_value()) {
    err << "regenpath kb eval: " << now.error().message() << "\n";
    return kExitUsage;
  }
  Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb = LoadKb(options.kb_dir);
  if (!kb.has_value()) {
    err << "regenpath kb eval: " << kb.error().message() << "\n";
    return kExitInvalidInput;
  }
  const knowledge::KnowledgeBase& base = **kb;
  for (const knowledge::Problem& problem : base.problems()) err << "warning: " << problem.ToString() << "\n";
  const knowledge::Definition* definition = base.FindDefinition(options.definition);
  if (definition == nullptr) {
    err << fmt::format("regenpath kb eval: no definition '{}'\n", options.definition);
    return kExitUsage;
  }
  fhir::Parser parser;
  Result<fhir::Document> whole = parser.ParseFile(options.file);
  if (!whole.has_value()) {
    err << "regenpath kb eval: " << whole.error().message() << "\n";
    return kExitInvalidInput;
  }
  // One patient, as `assess` evaluates it: other patients' resources are left out.
  Result<engine::PatientSelection> selection = engine::SelectPatient(*whole, options.patient);
  if (!selection.has_value()) {
    err << "regenpath kb eval: " << selection.error().message() << "\n";
    return kExitInvalidInput;
  }
  std::optional<fhir::Document> own;
  if (!selection->excluded.empty()) {
    Result<fhir::Document> without = engine::WithoutExcluded(*whole, *selection, nullptr, nullptr);
    if (!without.has_value()) {
      err << "regenpath kb eval: " << without.error().message() << "\n";
      return kExitInvalidInput;
    }
    own = std::move(*without);
    err << fmt::format("note: {} resource(s) of other patients left out; evaluated for Patient/{}\n",
                       selection->excluded.size(), selection->patient_id);
  }
  const fhir::Document& record = own ? *own : *whole;
  engine::RecordEvaluator evaluator(base, record, *now);
  const fhirpath::Collection* result = nullptr;
  if (definition->scope == knowledge::DefinitionScope::kCondition) {
    if (!options.condition) {
      err << fmt::format("regenpath kb eval: '{}' is condition-scoped; pass --condition ID\n", definition->id);
      return kExitUsage;
    }
    const knowledge::Condition* condition = base.FindCondition(*options.condition);
    if (condition == nullptr) {
      err << fmt::format("regenpath kb eval: no condition '{}'\n", *options.condition);
      return kExitUsage;
    }
    fhirpath::CompileOptions compile_options;
    compile_options.context_type = "Bundle";
    Result<fhirpath::CompiledExpression> matcher = fhirpath::CompiledExpression::Compile(
        fmt::format("%`active-conditions`.where(code.memberOf('{}'))", condition->valueset), compile_options);
    if (!matcher.has_value()) {
      err << "regenpath kb eval: " << matcher.error().message() << "\n";
      return kExitInvalidInput;
    }
    evaluator.Patient("active-conditions");
    fhirpath::Collection conditions = evaluator.EvaluateExpression(*matcher, "condition");
    evaluator.EnterCondition(conditions, condition->targets);
    result = &evaluator.InCondition(definition->id);
  } else {
    result = &evaluator.Patient(definition->id);
  }
  for (const engine::AssessmentIssue& issue : evaluator.issues()) err << issue.severity << ": " << issue.message << "\n";
  out << fhirpath::CollectionToJson(*result) << "\n";
  // The record data behind the value, dated, as the assessment shows them.
  const engine::DatumPaths paths(base);
  engine::DatumReader reader(base, paths, record, *now);
  engine::Refs refs;
  engine::Data data;
  reader.Append(*result, refs, data);
  for (const engine::Datum& datum : data) {
    out << TerminalSafe(fmt::format("  {}  {}  {}  {}\n", datum.reference, datum.display,
                                    datum.date.value_or("-"), datum.value.value_or("-")));
  }
  return evaluator.issues().empty() ? kExitOk : kExitEvaluationError;
}

}  // namespace regenpath::cli
