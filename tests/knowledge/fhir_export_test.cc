// ExportFhir: the minimal and the built-in knowledge bases as FHIR R4
// resources. Every file validates against the FHIR R4 JSON schema
// (tools/validate_json_schema.py), parses without issues against regenpath's
// R4 model, and its structure is checked with FHIRPath on the parsed resource.
#include <algorithm>
#include "knowledge/fhir_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/output.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::knowledge {
namespace {

namespace fs = std::filesystem;

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kMinimal = std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/minimal";
const std::string kFhirSchema =
    std::string(REGENPATH_SHARED_DIR) + "/testdata/fhir-json-schema/fhir.schema.json";

std::string ReadMinimal() {
  std::ifstream file(kMinimal + "/kb.yaml");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The minimal knowledge base with every `from` replaced by `to`.
std::shared_ptr<const KnowledgeBase> LoadEdited(const std::string& from, const std::string& to) {
  std::string text = ReadMinimal();
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  for (; at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return KnowledgeBase::Load({SourceFile{"kb.yaml", text}});
}

std::shared_ptr<const KnowledgeBase> Minimal() {
  Result<std::shared_ptr<const KnowledgeBase>> kb = KnowledgeBase::LoadDirectory(kMinimal);
  EXPECT_TRUE(kb.has_value());
  return kb.has_value() ? *kb : nullptr;
}

std::vector<ExportedResource> MustExport(const KnowledgeBase& kb) {
  Result<std::vector<ExportedResource>> exported = ExportFhir(kb);
  EXPECT_TRUE(exported.has_value()) << exported.error().message();
  return exported.has_value() ? *exported : std::vector<ExportedResource>{};
}

std::string Base64Decode(std::string_view text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    size_t value = kAlphabet.find(c);
    if (value == std::string::npos) continue;  // padding
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// Writes the files into a fresh directory and runs the JSON Schema tool on
// them; returns its exit status (0: every file is valid).
int ValidateWithSchema(const std::vector<ExportedResource>& resources, const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("fhir-export-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR +
                        "/tools/validate_json_schema.py " + kFhirSchema;
  for (const ExportedResource& resource : resources) {
    std::ofstream(dir / resource.file_name) << resource.json;
    command += " " + (dir / resource.file_name).string();
  }
  return std::system(command.c_str());
}

// The exported resources parsed by regenpath's FHIR layer, for FHIRPath
// queries.
class Parsed {
 public:
  explicit Parsed(const std::vector<ExportedResource>& resources) {
    for (const ExportedResource& resource : resources) {
      Result<fhir::Document> document = parser_.ParseResource(resource.json, resource.file_name);
      if (!document.has_value()) {
        ADD_FAILURE() << document.error().message();
        continue;
      }
      for (const fhir::Issue& issue : document->issues()) {
        ADD_FAILURE() << resource.file_name << ": " << issue.location << ": " << issue.message;
      }
      documents_.emplace(resource.file_name, std::move(*document));
    }
  }

  // The result of `expression` on the file's resource, as a JSON array.
  std::string Eval(const std::string& file_name, const std::string& expression) {
    auto found = documents_.find(file_name);
    if (found == documents_.end()) return "no file " + file_name;
    Result<fhirpath::CompiledExpression> compiled = fhirpath::CompiledExpression::Compile(expression);
    if (!compiled.has_value()) return compiled.error().message();
    fhirpath::EvaluationContext context;
    context.document = &found->second;
    context.resource = &found->second.root();
    context.now = *DateTime::ParseDateTime("2025-01-01T00:00:00Z");
    fhirpath::Workspace workspace;
    Result<fhirpath::Collection> result = compiled->Evaluate(context, workspace);
    if (!result.has_value()) return result.error().message();
    return fhirpath::CollectionToJson(*result);
  }

  // The string values of `expression`, decoded from the JSON array.
  std::vector<std::string> Strings(const std::string& file_name, const std::string& expression) {
    std::string json = Eval(file_name, expression);
    std::vector<std::string> values;
    // Items are JSON strings without escapes in these tests' queries except
    // for backslashes, which are undone.
    size_t at = 0;
    while ((at = json.find('"', at)) != std::string::npos) {
      std::string value;
      for (++at; at < json.size() && json[at] != '"'; ++at) {
        if (json[at] == '\\' && at + 1 < json.size()) ++at;
        value += json[at];
      }
      values.push_back(value);
      ++at;
    }
    return values;
  }

 private:
  fhir::Parser parser_;
  std::map<std::string, fhir::Document> documents_;
};

std::map<std::string, int> CountByType(const std::vector<ExportedResource>& resources) {
  std::map<std::string, int> counts;
  for (const ExportedResource& resource : resources) ++counts[resource.resource_type];
  return counts;
}

// Checks that hold for any exported knowledge base: references resolve
// within the export and every FHIRPath expression compiles.
void ExpectConsistent(const KnowledgeBase& kb, const std::vector<ExportedResource>& resources,
                      Parsed& parsed) {
  const std::string plan = "PlanDefinition-" + kb.name() + ".json";
  const std::string library = "Library-" + kb.name() + ".json";
  std::set<std::string> urls;
  for (const ExportedResource& resource : resources) {
    EXPECT_EQ(resource.file_name, resource.resource_type + "-" + resource.id + ".json");
    std::vector<std::string> url = parsed.Strings(resource.file_name, resource.resource_type + ".url");
    ASSERT_EQ(url.size(), 1u) << resource.file_name;
    urls.insert(url.front());
    EXPECT_EQ(parsed.Strings(resource.file_name, resource.resource_type + ".version"),
              std::vector<std::string>{kb.version()});
  }
  // Every definitionCanonical and depends-on names an exported resource.
  for (const std::string& canonical :
       parsed.Strings(plan, "PlanDefinition.repeat(action).definitionCanonical")) {
    EXPECT_EQ(urls.count(canonical), 1u) << canonical;
  }
  for (const std::string& file : {plan, library}) {
    for (const std::string& canonical :
         parsed.Strings(file, "relatedArtifact.where(type = 'depends-on').resource")) {
      EXPECT_EQ(urls.count(canonical), 1u) << canonical;
    }
  }
  EXPECT_EQ(urls.count(parsed.Strings(plan, "PlanDefinition.library").at(0)), 1u);
  EXPECT_EQ(urls.count(parsed.Strings("Measure-" + kb.name() + ".json", "Measure.library").at(0)), 1u);
  // Every citation is in the PlanDefinition; every link inside it is one of them.
  std::vector<std::string> labels =
      parsed.Strings(plan, "PlanDefinition.relatedArtifact.where(type = 'citation').label");
  EXPECT_EQ(labels.size(), kb.citations().size());
  EXPECT_EQ(
      parsed.Eval(
          plan,
          "(PlanDefinition.repeat(action).documentation.label | PlanDefinition.goal.documentation.label)"
          ".subsetOf(PlanDefinition.relatedArtifact.label)"),
      "[true]");
  // Every option of a condition is an action pointing at its ActivityDefinition.
  for (const Condition& condition : kb.conditions()) {
    for (const std::vector<std::string>* ids :
         {&condition.first_line, &condition.diagnostics, &condition.regenerative, &condition.integrative,
          &condition.referral}) {
      for (const std::string& id : *ids) {
        EXPECT_EQ(parsed.Strings(plan, "PlanDefinition.repeat(action).where(id = '" + condition.id + "." +
                                           id + "').definitionCanonical"),
                  std::vector<std::string>{"http://regenpath.org/fhir/ActivityDefinition/" + id});
      }
    }
    EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.action.where(id = 'condition." + condition.id +
                                    "').action.where(id = '" + condition.id + ".stage').action.count()"),
              "[" + std::to_string(std::count_if(kb.stages().begin(), kb.stages().end(),
                                                 [](const Stage& stage) { return stage.when.has_value(); })) +
                  "]");
  }
  // Every expression is FHIRPath that compiles on a Bundle, and is labelled so.
  fhirpath::CompileOptions options;
  options.context_type = "Bundle";
  EXPECT_EQ(
      parsed.Eval(plan, "PlanDefinition.repeat(action).condition.expression.all(language = 'text/fhirpath')"),
      "[true]");
  for (const std::string& expression :
       parsed.Strings(plan, "PlanDefinition.repeat(action).condition.expression.expression")) {
    Result<fhirpath::CompiledExpression> compiled =
        fhirpath::CompiledExpression::Compile(expression, options);
    EXPECT_TRUE(compiled.has_value()) << expression << ": " << compiled.error().message();
  }
  // The Library holds every definition, in order, each one compiling.
  std::vector<std::string> titles = parsed.Strings(library, "Library.content.title");
  std::vector<std::string> data = parsed.Strings(library, "Library.content.data");
  ASSERT_EQ(titles.size(), kb.definitions().size());
  ASSERT_EQ(data.size(), kb.definitions().size());
  for (size_t index = 0; index < titles.size(); ++index) {
    EXPECT_EQ(titles[index], kb.definitions()[index].id);
    std::string expression = Base64Decode(data[index]);
    // Value sets are named by their canonical URL.
    EXPECT_THAT(expression, Not(ContainsRegex("memberOf\\('[a-z0-9-]+'\\)"))) << titles[index];
    Result<fhirpath::CompiledExpression> compiled =
        fhirpath::CompiledExpression::Compile(expression, options);
    EXPECT_TRUE(compiled.has_value()) << titles[index] << ": " << expression;
  }
  EXPECT_EQ(parsed.Eval(library, "Library.content.all(contentType = 'text/fhirpath')"), "[true]");
  EXPECT_EQ(parsed.Eval(library, "Library.parameter.count()"),
            "[" + std::to_string(kb.parameters().size()) + "]");
}

TEST(FhirExportTest, MinimalExportsOneResourcePerEntry) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb && kb->usable());
  std::vector<ExportedResource> resources = MustExport(*kb);
  EXPECT_EQ(CountByType(resources), (std::map<std::string, int>{{"ActivityDefinition", 4},
                                                                {"Library", 1},
                                                                {"Measure", 1},
                                                                {"PlanDefinition", 1},
                                                                {"ValueSet", 6}}));
  ASSERT_GE(resources.size(), 4u);
  EXPECT_EQ(resources[0].file_name, "PlanDefinition-test-kb.json");
  EXPECT_EQ(resources[1].file_name, "Library-test-kb.json");
  EXPECT_EQ(resources[2].file_name, "Measure-test-kb.json");
  EXPECT_EQ(resources[3].file_name, "ActivityDefinition-exercise.json");
  // Deterministic: the same knowledge base gives the same bytes.
  std::vector<ExportedResource> again = MustExport(*kb);
  ASSERT_EQ(again.size(), resources.size());
  for (size_t index = 0; index < resources.size(); ++index)
    EXPECT_EQ(again[index].json, resources[index].json);
}

TEST(FhirExportTest, MinimalValidatesAgainstTheFhirSchema) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb && kb->usable());
  EXPECT_EQ(ValidateWithSchema(MustExport(*kb), "minimal"), 0);
}

TEST(FhirExportTest, TheSchemaToolRejectsAnInvalidResource) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb);
  std::vector<ExportedResource> resources = MustExport(*kb);
  ASSERT_FALSE(resources.empty());
  std::string& json = resources[0].json;
  json.replace(json.find("\"clinical-protocol\""), 19, "\"clinical protocol \"");
  json.replace(json.find("\"applicability\""), 15, "\"sometimes\"");
  resources.resize(1);
  EXPECT_NE(ValidateWithSchema(resources, "invalid"), 0);
}

TEST(FhirExportTest, MinimalIsConsistent) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb && kb->usable());
  std::vector<ExportedResource> resources = MustExport(*kb);
  Parsed parsed(resources);
  ExpectConsistent(*kb, resources, parsed);
}

TEST(FhirExportTest, PlanDefinitionIsTheCarePathway) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb);
  Parsed parsed(MustExport(*kb));
  const std::string plan = "PlanDefinition-test-kb.json";
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.type.coding.code"), "[\"clinical-protocol\"]");
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.status"), "[\"active\"]");
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.name"), "[\"TestKb\"]");
  EXPECT_THAT(parsed.Strings(plan, "PlanDefinition.relatedArtifact.where(type = 'citation').label"),
              ElementsAre("src-a", "src-b"));
  EXPECT_THAT(
      parsed.Strings(plan, "PlanDefinition.action.id"),
      ElementsAre("red-flags", "contraindications", "medication-holds", "condition.knee-osteoarthritis",
                  "next-steps"));
  // The pathway's tables in words: next-step rules in order with the status
  // ladder; the bleeding-risk ladder, its escalation and the hold merge.
  const std::string next_steps = parsed.Eval(plan, "PlanDefinition.action.where(id = 'next-steps').description");
  EXPECT_THAT(next_steps, HasSubstr("at stage conventional-care, an option of category conventional not yet done: "
                                    "conventional step"));
  EXPECT_THAT(next_steps, HasSubstr("an option of category regenerative rated consider or recommended: procedure step "
                                    "\\\"Shared decision on {option} ({status})\\\""));
  EXPECT_THAT(next_steps, HasSubstr("moves along: recommended, consider, not-recommended"));
  EXPECT_THAT(parsed.Strings(plan, "PlanDefinition.action.where(id = 'next-steps').action.id"),
              ElementsAre("next-step.red-flag", "next-step.missing-data"));
  const std::string holds = parsed.Eval(plan, "PlanDefinition.action.where(id = 'medication-holds').description");
  EXPECT_THAT(holds, HasSubstr("in increasing risk: low, intermediate, high"));
  EXPECT_THAT(holds, HasSubstr("When several-antithrombotics holds (several antithrombotics), the procedure moves 1 "
                               "step up that ladder"));
  EXPECT_THAT(holds, HasSubstr("the longer of its 'platelet-function' hold"));
  EXPECT_THAT(parsed.Strings(plan, "PlanDefinition.action.where(id = 'medication-holds').documentation.label"),
              ElementsAre("src-a"));

  // A red flag: an applicability condition on its definition.
  EXPECT_THAT(parsed.Strings(plan,
                             "PlanDefinition.action.where(id = 'red-flags').action.condition"
                             ".where(kind = 'applicability').expression.expression"),
              ElementsAre("(%`cauda-equina-findings`.exists() and %`cauda-equina-findings` != false)"));
  // A contraindication, with its kind.
  EXPECT_EQ(
      parsed.Eval(plan, "PlanDefinition.action.where(id = 'contraindications').action.code.coding.code"),
      "[\"absolute\"]");
  // A medication hold, recognized by its value set's canonical URL.
  EXPECT_THAT(parsed.Eval(plan,
                          "PlanDefinition.action.where(id = 'medication-holds').action.condition.expression"
                          ".expression"),
              HasSubstr("memberOf('http://regenpath.org/fhir/ValueSet/apixaban')"));

  // The condition group: in scope when an active condition is in its value set.
  const std::string group = "PlanDefinition.action.where(id = 'condition.knee-osteoarthritis')";
  EXPECT_EQ(parsed.Eval(plan, group + ".condition.expression.expression"),
            "[\"%`active-conditions`.where(code.memberOf('http://regenpath.org/fhir/ValueSet/"
            "knee-oa')).exists()\"]");
  EXPECT_THAT(parsed.Strings(plan, group + ".action.id"),
              ElementsAre("knee-osteoarthritis.stage", "knee-osteoarthritis.first-line",
                          "knee-osteoarthritis.diagnostics", "knee-osteoarthritis.regenerative"));
  // Stage rules: first applicable wins, so later ones require earlier ones not to apply.
  const std::string stages = group + ".action.where(id = 'knee-osteoarthritis.stage').action";
  EXPECT_THAT(
      parsed.Strings(plan, stages + ".code.coding.code"),
      ElementsAre("urgent-referral", "conventional-care", "diagnostic-evaluation", "regenerative-candidate"));
  EXPECT_EQ(parsed.Eval(plan, stages + ".select(condition.count())"), "[1,2,3,4]");
  EXPECT_EQ(
      parsed.Eval(plan, stages +
                            ".where(id = 'knee-osteoarthritis.stage.conventional-care').condition.first()"
                            ".expression.expression"),
      "[\"iif(((%`chronic` != false).not() or (%`pt-tried`.exists() and %`pt-tried` != false).not()).not(), "
      "false, true)\"]");
  // localized: true folds away: only imaging decides the diagnostic stage.
  EXPECT_EQ(
      parsed.Eval(plan, stages + ".where(id = 'knee-osteoarthritis.stage.diagnostic-evaluation').condition"
                                 ".first().expression.expression"),
      "[\"iif((%`knee-imaging-done`.exists() and %`knee-imaging-done` != false), false, true)\"]");

  // An option: the ActivityDefinition, strength, quality of evidence, rationale, citations, goals.
  const std::string prp = "PlanDefinition.repeat(action).where(id = 'knee-osteoarthritis.prp-knee')";
  EXPECT_EQ(parsed.Eval(plan, prp + ".definitionCanonical"),
            "[\"http://regenpath.org/fhir/ActivityDefinition/prp-knee\"]");
  EXPECT_EQ(parsed.Eval(plan, prp + ".extension.where(url = "
                                    "'http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation')"
                                    ".value.coding.code"),
            "[\"consider\"]");
  EXPECT_EQ(
      parsed.Eval(plan, prp + ".extension.where(url = "
                              "'http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence').value.text"),
      "[\"src-a: II (for); src-b: I (against)\"]");
  EXPECT_EQ(parsed.Eval(plan, prp + ".extension.where(url = "
                                    "'http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale').value"),
            "[\"Mixed evidence\"]");
  EXPECT_THAT(parsed.Strings(plan, prp + ".documentation.label"), ElementsAre("src-a", "src-b"));
  EXPECT_THAT(parsed.Strings(plan, prp + ".documentation.display"), ElementsAre("helps", "does not help"));
  EXPECT_EQ(
      parsed.Eval(plan, prp + ".documentation.extension.where(url = "
                              "'http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence').value.text"),
      "[\"II\",\"I\"]");
  EXPECT_EQ(
      parsed.Eval(plan, prp + ".documentation.extension.where(url = "
                              "'http://regenpath.org/fhir/StructureDefinition/evidence-direction').value"),
      "[\"for\",\"against\"]");
  EXPECT_EQ(parsed.Eval(plan, prp + ".goalId"), "[\"instrument.nrs\"]");
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.goal.where(id = 'instrument.nrs').target.measure.coding.code"),
            "[\"72514-3\"]");
  // Not recommended options are exported too, with their strength.
  EXPECT_EQ(parsed.Eval(plan,
                        "PlanDefinition.repeat(action).where(id = 'knee-osteoarthritis.prolotherapy-knee')"
                        ".extension.value.coding.code"),
            "[\"not-recommended\"]");
  // `done` is the option's stop condition.
  EXPECT_EQ(parsed.Eval(plan,
                        "PlanDefinition.repeat(action).where(id = 'knee-osteoarthritis.exercise').condition"
                        ".select(kind + ': ' + expression.expression)"),
            "[\"stop: (%`pt-tried`.exists() and %`pt-tried` != false)\"]");
}

TEST(FhirExportTest, LibraryHoldsDefinitionsAndParameters) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb);
  Parsed parsed(MustExport(*kb));
  const std::string library = "Library-test-kb.json";
  EXPECT_EQ(parsed.Eval(library, "Library.type.coding.code"), "[\"logic-library\"]");
  std::vector<std::string> data =
      parsed.Strings(library, "Library.content.where(title = 'cauda-equina-findings').data");
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(Base64Decode(data[0]),
            "%`active-conditions`.where(code.memberOf('http://regenpath.org/fhir/ValueSet/cauda-equina'))");
  const std::string chronic = "Library.content.where(title = 'chronic').extension";
  EXPECT_EQ(
      parsed.Eval(library,
                  chronic + ".where(url = 'http://regenpath.org/fhir/StructureDefinition/definition-scope')"
                            ".value"),
      "[\"condition\"]");
  EXPECT_EQ(parsed.Eval(library,
                        chronic + ".where(url = 'http://regenpath.org/fhir/StructureDefinition/missing-data')"
                                  ".value.select(code + ': ' + display)"),
            "[\"pain-duration: Pain onset date\"]");
  EXPECT_EQ(parsed.Eval(library,
                        "Library.parameter.where(name = 'chronic-pain-duration').select(use + ' ' + type)"),
            "[\"in Quantity\"]");
  EXPECT_EQ(parsed.Eval(library,
                        "Library.parameter.where(name = 'chronic-pain-duration').extension.where(url = "
                        "'http://regenpath.org/fhir/StructureDefinition/parameter-value').value"
                        ".select(value.toString() + ' ' + unit)"),
            "[\"3 months\"]");
  EXPECT_EQ(parsed.Eval(library,
                        "Library.parameter.where(name = 'adequate-trial').extension.where(url = "
                        "'http://regenpath.org/fhir/StructureDefinition/confidence').value"),
            "[\"U\"]");
  EXPECT_THAT(parsed.Strings(library, "Library.relatedArtifact.where(type = 'depends-on').resource"),
              ElementsAre("http://regenpath.org/fhir/ValueSet/cauda-equina",
                          "http://regenpath.org/fhir/ValueSet/septicemia",
                          "http://regenpath.org/fhir/ValueSet/physical-therapy",
                          "http://regenpath.org/fhir/ValueSet/platelet-count"));
  EXPECT_THAT(parsed.Strings(library, "Library.relatedArtifact.where(type = 'citation').label"),
              ElementsAre("src-a", "src-b"));
}

// The Measure that `regenpath screen`'s MeasureReport names: a cohort whose
// stratifiers are the report's, and whose population criteria say in
// FHIRPath which patients the report counts (docs/screening.md).
TEST(FhirExportTest, MeasureIsTheScreeningCohort) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb);
  Parsed parsed(MustExport(*kb));
  const std::string measure = "Measure-test-kb.json";
  EXPECT_EQ(parsed.Strings(measure, "Measure.url"),
            std::vector<std::string>{CanonicalUrl("Measure", "test-kb")});
  EXPECT_EQ(CanonicalUrl("Measure", "test-kb"), "http://regenpath.org/fhir/Measure/test-kb");
  EXPECT_EQ(parsed.Eval(measure, "Measure.scoring.coding.code"), "[\"cohort\"]");
  EXPECT_EQ(parsed.Eval(measure, "Measure.library"), "[\"http://regenpath.org/fhir/Library/test-kb\"]");
  EXPECT_EQ(parsed.Strings(measure, "Measure.group.code.text"),
            std::vector<std::string>{"assessed patients"});
  std::vector<std::string> codes;
  for (const ScreeningStratifier& stratifier : ScreeningStratifiers()) codes.emplace_back(stratifier.code);
  EXPECT_EQ(parsed.Strings(measure, "Measure.group.stratifier.code.text"), codes);
  EXPECT_EQ(parsed.Eval(measure, "Measure.group.population.code.coding.code"), "[\"initial-population\"]");
  std::vector<std::string> criteria = parsed.Strings(
      measure, "Measure.group.population.criteria.where(language = 'text/fhirpath').expression");
  ASSERT_EQ(criteria.size(), 1u);

  // The criteria, on Patients: who is in the cohort.
  fhirpath::CompileOptions options;
  options.context_type = "Patient";
  Result<fhirpath::CompiledExpression> compiled = fhirpath::CompiledExpression::Compile(criteria[0], options);
  ASSERT_TRUE(compiled.has_value()) << criteria[0] << ": " << compiled.error().message();
  const std::pair<std::string, std::string> patients[] = {
      {R"({"resourceType":"Patient","id":"a"})", "[true]"},
      {R"({"resourceType":"Patient","id":"a","deceasedBoolean":false})", "[true]"},
      {R"({"resourceType":"Patient","id":"a","deceasedBoolean":true})", "[false]"},
      {R"({"resourceType":"Patient","id":"a","deceasedDateTime":"2020-01-01"})", "[false]"},
      {R"({"resourceType":"Patient","id":"a","link":[{"other":{"reference":"Patient/b"},"type":"replaced-by"}]})",
       "[false]"},
      {R"({"resourceType":"Patient","id":"a","link":[{"other":{"reference":"Patient/b"},"type":"seealso"}]})",
       "[true]"},
  };
  fhir::Parser parser;
  for (const auto& [json, expected] : patients) {
    Result<fhir::Document> document = parser.ParseResource(json, "patient.json");
    ASSERT_TRUE(document.has_value()) << json;
    fhirpath::EvaluationContext context;
    context.document = &*document;
    context.resource = &document->root();
    context.now = *DateTime::ParseDateTime("2025-01-01T00:00:00Z");
    fhirpath::Workspace workspace;
    Result<fhirpath::Collection> result = compiled->Evaluate(context, workspace);
    ASSERT_TRUE(result.has_value()) << json;
    // Empty counts as not in the cohort, as a criterion's result does.
    std::string got = fhirpath::CollectionToJson(*result);
    EXPECT_EQ(got == "[]" ? "[false]" : got, expected) << json;
  }
}

TEST(FhirExportTest, ActivityDefinitionPerOption) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb);
  Parsed parsed(MustExport(*kb));
  const std::string prp = "ActivityDefinition-prp-knee.json";
  EXPECT_EQ(parsed.Eval(prp, "ActivityDefinition.kind"), "[\"ServiceRequest\"]");
  EXPECT_EQ(parsed.Eval(prp, "ActivityDefinition.code.coding.select(system + '|' + code)"),
            "[\"http://www.ama-assn.org/go/cpt|0232T\"]");
  EXPECT_EQ(parsed.Eval(prp, "ActivityDefinition.topic.coding.code"), "[\"regenerative\",\"prp\"]");
  EXPECT_EQ(parsed.Eval(prp, "ActivityDefinition.bodySite.text"), "[\"knee\"]");
  EXPECT_THAT(parsed.Strings(prp, "ActivityDefinition.relatedArtifact.label"), ElementsAre("src-a", "src-b"));
  std::vector<std::string> usage = parsed.Strings(prp, "ActivityDefinition.usage");
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_THAT(usage[0], HasSubstr("Image guidance: ultrasound, landmark"));
  EXPECT_THAT(usage[0], HasSubstr("Bleeding-risk category: low (confidence M)"));
  EXPECT_THAT(usage[0], HasSubstr("Before the procedure: A recent platelet count (last-platelet-count)"));
  EXPECT_THAT(usage[0], HasSubstr("NRS (LOINC 72514-3) at weeks 4, 12, 26"));
  EXPECT_EQ(parsed.Eval("ActivityDefinition-exercise.json", "ActivityDefinition.code.text"),
            "[\"Exercise therapy\"]");
}

TEST(FhirExportTest, ValueSetsKeepCodesPrefixesNamesAndConfidence) {
  std::shared_ptr<const KnowledgeBase> kb = Minimal();
  ASSERT_TRUE(kb);
  Parsed parsed(MustExport(*kb));
  const std::string knee = "ValueSet-knee-oa.json";
  EXPECT_EQ(parsed.Eval(knee, "ValueSet.url"), "[\"http://regenpath.org/fhir/ValueSet/knee-oa\"]");
  EXPECT_EQ(parsed.Eval(knee, "ValueSet.status"), "[\"active\"]");
  // A prefix is a regex filter in an include of its own (filters in one include are ANDed).
  EXPECT_EQ(parsed.Eval(knee,
                        "ValueSet.compose.include.where(filter.exists()).filter"
                        ".select(property + ' ' + op + ' ' + value)"),
            "[\"code regex M17\\\\.1.*\"]");
  EXPECT_EQ(parsed.Eval(knee,
                        "ValueSet.compose.include.where(concept.exists())"
                        ".select(system + '|' + concept.code)"),
            "[\"http://snomed.info/sct|239873007\"]");
  EXPECT_EQ(parsed.Eval(knee, "ValueSet.compose.include.concept.extension.value"), "[\"H\"]");
  EXPECT_EQ(parsed.Eval("ValueSet-apixaban.json",
                        "ValueSet.extension.where(url = "
                        "'http://regenpath.org/fhir/StructureDefinition/valueset-text-match').value"),
            "[\"apixaban\"]");
  // Unverified content is a draft.
  EXPECT_EQ(parsed.Eval("ValueSet-septicemia.json", "ValueSet.status"), "[\"draft\"]");
}

TEST(FhirExportTest, OddWhitespaceBecomesASpace) {
  // A no-break space and a narrow no-break space: JSON Schema's \s matches
  // them, so FHIR's string pattern would reject them.
  std::shared_ptr<const KnowledgeBase> kb = LoadEdited("title: Knee OA", "title: Knee\u00a0OA\u202f(test)");
  ASSERT_TRUE(kb->usable());
  std::vector<ExportedResource> resources = MustExport(*kb);
  Parsed parsed(resources);
  EXPECT_EQ(parsed.Eval("ValueSet-knee-oa.json", "ValueSet.title"), "[\"Knee OA (test)\"]");
  EXPECT_EQ(ValidateWithSchema(resources, "whitespace"), 0);
}

TEST(FhirExportTest, RefusesAnUnusableKnowledgeBase) {
  std::shared_ptr<const KnowledgeBase> kb =
      LoadEdited("definition: septicemia-findings", "definition: nowhere");
  ASSERT_FALSE(kb->usable());
  Result<std::vector<ExportedResource>> exported = ExportFhir(*kb);
  ASSERT_FALSE(exported.has_value());
  EXPECT_THAT(exported.error().message(), HasSubstr("kb check"));
}

TEST(FhirExportTest, RefusesAnIdThatIsNotAFhirId) {
  const std::string long_id(70, 'p');
  std::shared_ptr<const KnowledgeBase> kb = LoadEdited("prolotherapy-knee", long_id);
  ASSERT_TRUE(kb->usable());
  Result<std::vector<ExportedResource>> exported = ExportFhir(*kb);
  ASSERT_FALSE(exported.has_value());
  EXPECT_THAT(exported.error().message(), HasSubstr("option '" + long_id + "' is not a valid FHIR id"));
}

// The built-in knowledge base (knowledge/): all of it, valid and consistent.
TEST(FhirExportTest, BuiltInKnowledgeBaseExportsValidResources) {
  std::shared_ptr<const KnowledgeBase> kb = KnowledgeBase::Embedded();
  ASSERT_TRUE(kb->usable()) << kb->problems().size()
                            << " problem(s), first: " << kb->problems().front().ToString();
  std::vector<ExportedResource> resources = MustExport(*kb);
  EXPECT_EQ(CountByType(resources),
            (std::map<std::string, int>{{"ActivityDefinition", static_cast<int>(kb->options().size())},
                                        {"Library", 1},
                                        {"Measure", 1},
                                        {"PlanDefinition", 1},
                                        {"ValueSet", static_cast<int>(kb->valuesets().size())}}));
  EXPECT_EQ(ValidateWithSchema(resources, "builtin"), 0);
  Parsed parsed(resources);
  ExpectConsistent(*kb, resources, parsed);
  const std::string plan = "PlanDefinition-" + kb->name() + ".json";
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.action.where(id = 'red-flags').action.count()"),
            "[" + std::to_string(kb->red_flags().size()) + "]");
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.action.where(id = 'contraindications').action.count()"),
            "[" + std::to_string(kb->contraindications().size()) + "]");
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.action.where(id.startsWith('condition.')).count()"),
            "[" + std::to_string(kb->conditions().size()) + "]");
  EXPECT_EQ(parsed.Eval(plan, "PlanDefinition.goal.count()"),
            "[" + std::to_string(kb->instruments().size()) + "]");
  // Every regenerative option action carries its strength and quality of evidence.
  EXPECT_EQ(parsed.Eval(plan,
                        "PlanDefinition.action.action.where(id.endsWith('.regenerative')).action.all("
                        "extension.where(url = 'http://hl7.org/fhir/StructureDefinition/"
                        "cqf-strengthOfRecommendation').exists() and extension.where(url = "
                        "'http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence').exists())"),
            "[true]");
}

}  // namespace
}  // namespace regenpath::knowledge
