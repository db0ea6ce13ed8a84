// Reads the knowledge base's YAML trees and checks them as a whole.
#include <fmt/format.h>

#include <algorithm>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "common/line_breaks.h"
#include "common/terminal_text.h"
#include "common/utf8.h"
#include "knowledge/kb_terminology.h"
#include "knowledge/knowledge_base.h"
#include "knowledge/yaml_tree.h"

namespace regenpath::knowledge {

namespace {

constexpr std::string_view kCategories[] = {"regenerative", "integrative", "conventional", "diagnostic", "referral"};
constexpr std::string_view kRegenerativeTherapies[] = {"prp", "bmc", "msc", "prolotherapy"};
constexpr std::string_view kIntegrativeTherapies[] = {"acupuncture",          "massage",        "yoga",
                                                      "reflexology-acupressure", "guided-imagery", "hypnosis",
                                                      "music-therapy"};
constexpr std::string_view kTargets[] = {"lumbar-disc",     "cervical-disc",      "lumbar-facet",   "cervical-facet",
                                         "sacroiliac-joint", "lumbar-epidural",   "knee",           "hip",
                                         "shoulder",         "lateral-epicondyle", "achilles-tendon", "patellar-tendon",
                                         "plantar-fascia",   "gluteal-tendon",    "rotator-cuff"};
constexpr std::string_view kImageGuidance[] = {"fluoroscopy", "ct", "ultrasound", "landmark"};
constexpr std::string_view kBleedingRisks[] = {"low", "intermediate", "high"};
constexpr std::string_view kStatuses[] = {"recommended", "consider", "not-recommended"};
constexpr std::string_view kDirections[] = {"for", "against", "neutral"};
constexpr std::string_view kIndicators[] = {"info", "warning", "critical"};
// Resource types a datum view may name besides the model's ("Resource": the fallback).
constexpr std::string_view kFallbackDatumType = "Resource";
// Variables the engine provides to expressions.
constexpr std::string_view kBuiltinVariables[] = {"resource", "rootResource", "context", "condition", "target",
                                                  "ucum",     "sct",          "loinc"};

template <size_t N>
bool OneOf(std::string_view value, const std::string_view (&allowed)[N]) {
  return std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed);
}

template <size_t N>
std::string Joined(const std::string_view (&allowed)[N]) {
  std::string text;
  for (std::string_view value : allowed) {
    if (!text.empty()) text += ", ";
    text += value;
  }
  return text;
}

// The %`name` and %name variables an expression uses.
std::vector<std::string> VariablesUsed(std::string_view expression) {
  std::vector<std::string> names;
  bool in_string = false;
  for (size_t i = 0; i < expression.size(); ++i) {
    char c = expression[i];
    if (c == '\'' && (i == 0 || expression[i - 1] != '\\')) in_string = !in_string;
    if (in_string || c != '%' || i + 1 >= expression.size()) continue;
    if (expression[i + 1] == '`') {
      size_t end = expression.find('`', i + 2);
      if (end == std::string_view::npos) break;
      names.emplace_back(expression.substr(i + 2, end - i - 2));
      i = end;
    } else {
      size_t end = i + 1;
      while (end < expression.size() && (std::isalnum(static_cast<unsigned char>(expression[end])) || expression[end] == '_')) ++end;
      if (end > i + 1) names.emplace_back(expression.substr(i + 1, end - i - 1));
      i = end - 1;
    }
  }
  return names;
}

// The string literal first arguments of calls to `function` ("memberOf(",
// "defineVariable(").
std::vector<std::string> LiteralArguments(std::string_view expression, std::string_view function) {
  std::vector<std::string> ids;
  size_t at = 0;
  while ((at = expression.find(function, at)) != std::string_view::npos) {
    at += function.size();
    while (at < expression.size() && expression[at] == ' ') ++at;
    if (at >= expression.size() || expression[at] != '\'') continue;
    size_t end = expression.find('\'', at + 1);
    if (end == std::string_view::npos) break;
    ids.emplace_back(expression.substr(at + 1, end - at - 1));
    at = end;
  }
  return ids;
}

}  // namespace

std::string_view ConfidenceName(Confidence confidence) {
  switch (confidence) {
    case Confidence::kH:
      return "H";
    case Confidence::kM:
      return "M";
    case Confidence::kU:
      return "U";
  }
  return "U";
}

std::string Problem::ToString() const {
  if (location.line > 0) return fmt::format("{}:{}: {}", location.file, location.line, message);
  if (!location.file.empty()) return fmt::format("{}: {}", location.file, message);
  return message;
}

std::string ValueSetUrl(std::string_view id) { return "http://regenpath.org/fhir/ValueSet/" + std::string(id); }

std::string CanonicalSystem(std::string_view system) {
  if (system == "sct" || system == "snomed") return "http://snomed.info/sct";
  if (system == "icd10cm" || system == "icd10") return "http://hl7.org/fhir/sid/icd-10-cm";
  if (system == "loinc") return "http://loinc.org";
  if (system == "rxnorm") return "http://www.nlm.nih.gov/research/umls/rxnorm";
  if (system == "cpt") return "http://www.ama-assn.org/go/cpt";
  if (system == "hcpcs") return "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
  if (system == "ucum") return "http://unitsofmeasure.org";
  return std::string(system);
}

std::string Parameter::ValueText() const {
  return unit.empty() ? value.ToString() : value.ToString() + " " + unit;
}

// Turns YAML documents into a KnowledgeBase, collecting problems.
class Loader {
 public:
  std::shared_ptr<KnowledgeBase> Run(const std::vector<SourceFile>& files) {
    kb_ = std::shared_ptr<KnowledgeBase>(new KnowledgeBase());
    for (const SourceFile& file : files) ReadFile(file);
    return Finish();
  }

  std::shared_ptr<KnowledgeBase> RunTrees(const std::vector<std::pair<std::string, YamlTree>>& trees,
                                          const std::vector<SourceFile>& files) {
    kb_ = std::shared_ptr<KnowledgeBase>(new KnowledgeBase());
    for (const auto& [name, tree] : trees) ReadTree(name, tree);
    for (const SourceFile& file : files) ReadFile(file);
    return Finish();
  }

 private:
  std::shared_ptr<KnowledgeBase> Finish() {
    if (!saw_header_) Report({"", 0}, "no file has the knowledge_base header (name, version)");
    CheckReferences();
    CompileDefinitions();
    auto terminology = std::make_unique<KbTerminology>();
    for (const ValueSet& value_set : kb_->valuesets_) terminology->Add(value_set);
    kb_->terminology_ = std::move(terminology);
    kb_->IndexIds();
    // In file and line order; problems of the knowledge base as a whole last.
    std::stable_sort(kb_->problems_.begin(), kb_->problems_.end(), [](const Problem& a, const Problem& b) {
      return std::make_tuple(a.location.file.empty(), a.location.file, a.location.line) <
             std::make_tuple(b.location.file.empty(), b.location.file, b.location.line);
    });
    return kb_;
  }

  // --- problems -------------------------------------------------------------
  void Report(const SourceLocation& location, std::string message) {
    kb_->problems_.push_back(Problem{location, std::move(message)});
  }
  SourceLocation At(const YamlTree& node) const {
    return SourceLocation{file_, node.GetMark().line >= 0 ? node.GetMark().line + 1 : 0};
  }
  void Report(const YamlTree& at, std::string message) { Report(At(at), std::move(message)); }

  // --- field readers ---------------------------------------------------------
  // Each reader reports a problem (and returns a default) instead of throwing.
  std::string String(const YamlTree& map, const char* key, bool required = false) {
    const YamlTree& value = map[key];
    if (!value || value.IsNull()) {
      if (required) Report(map, fmt::format("missing '{}'", key));
      return std::string();
    }
    if (!value.IsScalar()) {
      Report(value, fmt::format("'{}' must be text", key));
      return std::string();
    }
    return value.Scalar();
  }

  std::vector<std::string> Strings(const YamlTree& map, const char* key, bool required = false) {
    std::vector<std::string> values;
    const YamlTree& value = map[key];
    if (!value || value.IsNull()) {
      if (required) Report(map, fmt::format("missing '{}'", key));
      return values;
    }
    if (value.IsScalar()) {
      values.push_back(value.Scalar());
      return values;
    }
    if (!value.IsSequence()) {
      Report(value, fmt::format("'{}' must be a list", key));
      return values;
    }
    for (const YamlTree& item : value) {
      if (item.IsScalar()) {
        values.push_back(item.Scalar());
      } else {
        Report(item, fmt::format("items of '{}' must be text", key));
      }
    }
    return values;
  }

  std::optional<double> Number(const YamlTree& map, const char* key, bool required = false) {
    const YamlTree& value = map[key];
    if (!value || value.IsNull()) {
      if (required) Report(map, fmt::format("missing '{}'", key));
      return std::nullopt;
    }
    double number = 0;
    if (!value.IsScalar() || !value.AsDouble(number)) {
      Report(value, fmt::format("'{}' must be a number", key));
      return std::nullopt;
    }
    return number;
  }

  std::vector<double> Numbers(const YamlTree& map, const char* key) {
    std::vector<double> values;
    const YamlTree& value = map[key];
    if (!value || value.IsNull()) return values;
    if (!value.IsSequence()) {
      Report(value, fmt::format("'{}' must be a list of numbers", key));
      return values;
    }
    for (const YamlTree& item : value) {
      double number = 0;
      if (item.AsDouble(number)) {
        values.push_back(number);
      } else {
        Report(item, fmt::format("items of '{}' must be numbers", key));
      }
    }
    return values;
  }

  bool Bool(const YamlTree& map, const char* key, bool fallback) {
    const YamlTree& value = map[key];
    if (!value || value.IsNull()) return fallback;
    bool flag = false;
    if (!value.AsBool(flag)) {
      Report(value, fmt::format("'{}' must be true or false", key));
      return fallback;
    }
    return flag;
  }

  Confidence ReadConfidence(const YamlTree& map, const char* key = "confidence") {
    std::string text = String(map, key, /*required=*/true);
    if (text == "H") return Confidence::kH;
    if (text == "M") return Confidence::kM;
    if (text == "U") return Confidence::kU;
    if (!text.empty()) Report(map[key], fmt::format("confidence must be H, M or U, not '{}'", text));
    return Confidence::kU;
  }

  // Reports keys of `map` not in `known` (typos would otherwise be silent).
  void CheckKeys(const YamlTree& map, std::initializer_list<std::string_view> known) {
    for (const auto& entry : map.entries()) {
      if (!entry.first.IsScalar()) continue;
      const std::string& key = entry.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        Report(entry.first, fmt::format("unknown field '{}'", key));
      }
    }
  }

  template <typename T>
  void CheckUnique(const std::vector<T>& items, std::string_view kind, std::function<const std::string&(const T&)> id_of) {
    std::map<std::string, SourceLocation> seen;
    for (const T& item : items) {
      const std::string& id = id_of(item);
      if (id.empty()) continue;
      auto [it, inserted] = seen.emplace(id, item.location);
      if (!inserted) {
        Report(item.location, fmt::format("duplicate {} id '{}' (first at {}:{})", kind, id, it->second.file, it->second.line));
      }
    }
  }

  // --- files -----------------------------------------------------------------
  void ReadFile(const SourceFile& file) {
    // Every word of a knowledge base reaches reports, cards and JSON, which
    // are UTF-8: a file in another encoding (Latin-1 from an old editor) is
    // a problem named where its author can find the byte (and the file is
    // read on, so that this is its only problem when it has no other).
    if (std::optional<size_t> bad = FirstInvalidUtf8(file.content)) {
      file_ = file.name;
      // Lines as the YAML reader counts them (a lone CR ends one too).
      const std::string lines = LoneCrAsLf(file.content.substr(0, *bad));
      const std::string_view before = lines;
      const int line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
      const size_t line_start = before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1;
      Report(SourceLocation{file_, line},
             fmt::format(
                 "not UTF-8: byte 0x{:02X} at column {}, counted in bytes (a knowledge base is UTF-8 text)",
                 static_cast<unsigned char>(file.content[*bad]), *bad - line_start + 1));
    }
    int error_line = 0;
    Result<YamlTree> root = ParseYaml(file.content, &error_line);
    if (!root.has_value()) {
      file_ = file.name;
      Report(SourceLocation{file_, error_line}, "not valid YAML: " + root.error().message());
      return;
    }
    // A knowledge base's words reach cards, reports, logs and terminals: a
    // control character in one (a YAML escape: "\e", "\x1b", "\u202e") is
    // a problem where it is written, not a sequence a terminal would run.
    // Newline and tab are text. (The built-in knowledge base's files are
    // checked at build time: kb_embed embeds a file with one as raw text,
    // which comes here.)
    file_ = file.name;
    ForEachControlCharacter(*root, [&](const YamlTree& text, uint32_t control) {
      Report(text, IsBidiOverride(control)
                       ? fmt::format("a bidirectional override (U+{:04X}) in a text, which reorders what "
                                     "a reader sees",
                                     control)
                       : fmt::format("a control character (U+{:04X}) in a text; only newline and tab are "
                                     "allowed",
                                     control));
    });
    ReadTree(file.name, *root);
  }

  void ReadTree(const std::string& name, const YamlTree& root) {
    file_ = name;
    if (root.IsNull()) return;
    if (!root.IsMap()) {
      Report(root, "the file must be a mapping of sections (citations:, valuesets:, ...)");
      return;
    }
    for (const auto& section : root.entries()) {
      const std::string key = section.first.Scalar();
      const YamlTree& body = section.second;
      if (key == "knowledge_base") {
        ReadHeader(body);
        continue;
      }
      if (key == "bleeding_risk_escalation") {
        ReadEscalation(body);
        continue;
      }
      if (key == "pathway") {
        ReadPathway(body);
        continue;
      }
      if (key == "hold_merge") {
        ReadHoldMerge(body);
        continue;
      }
      if (!body.IsSequence()) {
        if (!body.IsNull()) Report(body, fmt::format("'{}' must be a list", key));
        continue;
      }
      for (const YamlTree& item : body) {
        if (!item.IsMap()) {
          Report(item, fmt::format("each item of '{}' must be a mapping", key));
          continue;
        }
        if (key == "citations") {
          ReadCitation(item);
        } else if (key == "parameters") {
          ReadParameter(item);
        } else if (key == "valuesets") {
          ReadValueSet(item);
        } else if (key == "definitions") {
          ReadDefinition(item);
        } else if (key == "red_flags") {
          ReadRedFlag(item);
        } else if (key == "contraindications") {
          ReadContraindication(item);
        } else if (key == "conditions") {
          ReadCondition(item);
        } else if (key == "options") {
          ReadOption(item);
        } else if (key == "medication_holds") {
          ReadMedicationHold(item);
        } else if (key == "instruments") {
          ReadInstrument(item);
        } else if (key == "stages") {
          ReadStage(item);
        } else if (key == "criterion_roles") {
          ReadCriterionRole(item);
        } else if (key == "status_rules") {
          ReadStatusRule(item);
        } else if (key == "next_step_rules") {
          ReadNextStepRule(item);
        } else if (key == "datum_views") {
          ReadDatumView(item);
        } else {
          Report(section.first, fmt::format("unknown section '{}'", key));
          break;
        }
      }
    }
  }

  void ReadHeader(const YamlTree& node) {
    if (saw_header_) Report(node, "a second knowledge_base header");
    saw_header_ = true;
    if (!node.IsMap()) {
      Report(node, "knowledge_base must be a mapping");
      return;
    }
    CheckKeys(node, {"name", "version", "title", "description"});
    kb_->name_ = String(node, "name", true);
    kb_->version_ = String(node, "version", true);
    kb_->title_ = String(node, "title");
    kb_->description_ = String(node, "description");
  }

  void ReadEscalation(const YamlTree& node) {
    if (!node.IsMap()) {
      Report(node, "bleeding_risk_escalation must be a mapping {definition, display, sources, confidence}");
      return;
    }
    if (kb_->bleeding_risk_escalation_) Report(node, "a second bleeding_risk_escalation");
    CheckKeys(node, {"definition", "display", "steps", "sources", "confidence", "note"});
    BleedingRiskEscalation escalation;
    escalation.location = At(node);
    escalation.definition = String(node, "definition", true);
    if (std::optional<double> steps = Number(node, "steps")) {
      escalation.steps = static_cast<int>(*steps);
      if (*steps != escalation.steps || escalation.steps < 1) Report(node["steps"], "steps must be a positive integer");
    }
    escalation.display = String(node, "display", true);
    escalation.sources = Strings(node, "sources", true);
    escalation.confidence = ReadConfidence(node);
    kb_->bleeding_risk_escalation_ = std::move(escalation);
  }

  void ReadHoldMerge(const YamlTree& node) {
    if (!node.IsMap()) {
      Report(node, "hold_merge must be a mapping {category, combine, shared_decision_replaces_no_hold, sources, confidence}");
      return;
    }
    if (kb_->saw_hold_merge_) Report(node, "a second hold_merge");
    kb_->saw_hold_merge_ = true;
    CheckKeys(node, {"category", "combine", "shared_decision_replaces_no_hold", "sources", "confidence", "note"});
    HoldMerge& merge = kb_->hold_merge_;
    merge.location = At(node);
    merge.category = String(node, "category", true);
    if (String(node, "combine", true) != "longer") Report(node, "combine must be 'longer' (the longer of the two holds)");
    merge.shared_decision_replaces_no_hold = Bool(node, "shared_decision_replaces_no_hold", true);
    merge.sources = Strings(node, "sources", true);
    merge.confidence = ReadConfidence(node);
    merge.note = String(node, "note");
  }

  void ReadCitation(const YamlTree& node) {
    CheckKeys(node, {"id", "reference", "doi", "url", "says", "confidence", "note"});
    Citation citation;
    citation.location = At(node);
    citation.id = String(node, "id", true);
    citation.reference = String(node, "reference", true);
    citation.doi = String(node, "doi");
    citation.url = String(node, "url");
    citation.says = String(node, "says");
    citation.confidence = ReadConfidence(node);
    kb_->citations_.push_back(std::move(citation));
  }

  void ReadParameter(const YamlTree& node) {
    CheckKeys(node, {"id", "display", "value", "unit", "sources", "confidence", "note"});
    Parameter parameter;
    parameter.location = At(node);
    parameter.id = String(node, "id", true);
    parameter.display = String(node, "display", true);
    std::string value = String(node, "value", true);
    if (!value.empty()) {
      std::optional<Decimal> number = Decimal::Parse(value);
      if (number) {
        parameter.value = *number;
      } else {
        Report(node["value"], fmt::format("parameter value '{}' is not a number", value));
      }
    }
    parameter.unit = String(node, "unit");
    parameter.sources = Strings(node, "sources", true);
    parameter.confidence = ReadConfidence(node);
    parameter.note = String(node, "note");
    kb_->parameters_.push_back(std::move(parameter));
  }

  void ReadValueSet(const YamlTree& node) {
    CheckKeys(node, {"id", "title", "confidence", "sources", "concepts", "text", "note"});
    ValueSet value_set;
    value_set.location = At(node);
    value_set.id = String(node, "id", true);
    value_set.url = ValueSetUrl(value_set.id);
    value_set.title = String(node, "title", true);
    value_set.confidence = ReadConfidence(node);
    value_set.sources = Strings(node, "sources");
    value_set.note = String(node, "note");
    for (std::string name : Strings(node, "text")) {
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      value_set.text.push_back(std::move(name));
    }
    const YamlTree& concepts = node["concepts"];
    if (concepts && concepts.IsSequence()) {
      for (const YamlTree& item : concepts) {
        if (!item.IsMap()) {
          Report(item, "a concept must be a mapping {system, code, display, confidence}");
          continue;
        }
        CheckKeys(item, {"system", "code", "display", "match", "confidence", "note"});
        Concept concept_entry;
        std::string system = String(item, "system");
        if (system.empty()) Report(item, fmt::format("code '{}' has no system", String(item, "code")));
        concept_entry.system = CanonicalSystem(system);
        concept_entry.code = String(item, "code", true);
        concept_entry.display = String(item, "display");
        std::string match = String(item, "match");
        if (!match.empty() && match != "prefix" && match != "exact") {
          Report(item["match"], "match must be 'prefix' or 'exact'");
        }
        concept_entry.prefix = match == "prefix";
        concept_entry.confidence = ReadConfidence(item);
        value_set.concepts.push_back(std::move(concept_entry));
      }
    } else if (concepts && !concepts.IsNull()) {
      Report(concepts, "concepts must be a list");
    }
    if (value_set.concepts.empty() && value_set.text.empty()) {
      Report(node, fmt::format("value set '{}' has neither concepts nor text names", value_set.id));
    }
    kb_->valuesets_.push_back(std::move(value_set));
  }

  void ReadDefinition(const YamlTree& node) {
    CheckKeys(node, {"id", "scope", "expression", "missing_data", "not_met", "evidence", "note"});
    Definition definition;
    definition.location = At(node);
    definition.id = String(node, "id", true);
    std::string scope = String(node, "scope");
    if (scope == "condition") {
      definition.scope = DefinitionScope::kCondition;
    } else if (!scope.empty() && scope != "patient") {
      Report(node["scope"], "scope must be 'patient' or 'condition'");
    }
    definition.expression = String(node, "expression", true);
    definition.note = String(node, "note");
    definition.evidence = String(node, "evidence");
    const YamlTree& missing = node["missing_data"];
    if (missing && missing.IsMap()) {
      CheckKeys(missing, {"id", "display", "unreadable"});
      definition.missing_data = MissingData{String(missing, "id", true), String(missing, "display", true), "", "", ""};
      const YamlTree& unreadable = missing["unreadable"];
      if (unreadable && unreadable.IsMap()) {
        CheckKeys(unreadable, {"when", "display", "step"});
        definition.missing_data->unreadable_when = String(unreadable, "when", true);
        definition.missing_data->unreadable_display = String(unreadable, "display", true);
        definition.missing_data->unreadable_step = String(unreadable, "step", true);
      } else if (unreadable && !unreadable.IsNull()) {
        Report(unreadable, "missing_data.unreadable must be a mapping {when, display, step}");
      }
    } else if (missing && !missing.IsNull()) {
      Report(missing, "missing_data must be a mapping {id, display}");
    }
    const YamlTree& not_met = node["not_met"];
    auto read_not_met = [&](const YamlTree& item) {
      if (!item.IsMap()) {
        Report(item, "not_met must be a mapping {when, kind, step} or a list of them");
        return;
      }
      CheckKeys(item, {"when", "kind", "step"});
      definition.not_met.push_back(
          NotMetStep{String(item, "when"), String(item, "kind", true), String(item, "step", true)});
    };
    if (not_met && not_met.IsSequence()) {
      for (const YamlTree& item : not_met) read_not_met(item);
    } else if (not_met && !not_met.IsNull()) {
      read_not_met(not_met);
    }
    kb_->definitions_.push_back(std::move(definition));
  }

  void ReadRedFlag(const YamlTree& node) {
    CheckKeys(node, {"id", "display", "definition", "sources", "confidence", "note"});
    RedFlag flag;
    flag.location = At(node);
    flag.id = String(node, "id", true);
    flag.display = String(node, "display", true);
    flag.definition = String(node, "definition", true);
    flag.sources = Strings(node, "sources", true);
    flag.confidence = ReadConfidence(node);
    flag.note = String(node, "note");
    kb_->red_flags_.push_back(std::move(flag));
  }

  void ReadContraindication(const YamlTree& node) {
    CheckKeys(node, {"id", "kind", "display", "definition", "applies_to", "applies_to_targets", "sources",
                     "confidence", "note"});
    Contraindication item;
    item.location = At(node);
    item.id = String(node, "id", true);
    std::string kind = String(node, "kind", true);
    if (kind == "absolute") {
      item.kind = ContraindicationKind::kAbsolute;
    } else if (kind != "relative" && !kind.empty()) {
      Report(node["kind"], "kind must be 'absolute' or 'relative'");
    }
    item.display = String(node, "display", true);
    item.definition = String(node, "definition", true);
    item.applies_to = Strings(node, "applies_to");
    item.applies_to_targets = Strings(node, "applies_to_targets");
    item.sources = Strings(node, "sources", true);
    item.confidence = ReadConfidence(node);
    item.note = String(node, "note");
    for (const std::string& therapy : item.applies_to) {
      if (!OneOf(therapy, kRegenerativeTherapies)) {
        Report(node["applies_to"], fmt::format("unknown therapy '{}' (expected {})", therapy, Joined(kRegenerativeTherapies)));
      }
    }
    kb_->contraindications_.push_back(std::move(item));
  }

  void ReadCondition(const YamlTree& node) {
    CheckKeys(node, {"id", "display", "valueset", "nature", "targets", "facts", "first_line", "roles",
                     "diagnostics", "regenerative", "integrative", "referral", "sources", "note",
                     "display_not_chronic", "display_chronic"});
    Condition condition;
    condition.location = At(node);
    condition.id = String(node, "id", true);
    condition.display = String(node, "display", true);
    condition.valueset = String(node, "valueset", true);
    condition.nature = String(node, "nature", true);
    condition.targets = Strings(node, "targets");
    if (const YamlTree& facts = node["facts"]; facts) {
      if (!facts.IsMap()) {
        Report(facts, "facts must be a mapping of fact -> true or false");
      } else {
        for (const auto& entry : facts.entries()) condition.facts[entry.first.Scalar()] = Bool(facts, entry.first.Scalar().c_str(), false);
      }
    }
    condition.first_line = Strings(node, "first_line");
    if (const YamlTree& roles = node["roles"]; roles) {
      if (!roles.IsMap()) {
        Report(roles, "roles must be a mapping of criterion role -> definition id");
      } else {
        for (const auto& entry : roles.entries()) condition.roles[entry.first.Scalar()] = entry.second.Scalar();
      }
    }
    condition.diagnostics = Strings(node, "diagnostics");
    condition.regenerative = Strings(node, "regenerative");
    condition.integrative = Strings(node, "integrative");
    condition.referral = Strings(node, "referral");
    condition.sources = Strings(node, "sources");
    condition.note = String(node, "note");
    condition.display_not_chronic = String(node, "display_not_chronic");
    condition.display_chronic = String(node, "display_chronic");
    for (const std::string& target : condition.targets) {
      if (!OneOf(target, kTargets)) Report(node["targets"], fmt::format("unknown target '{}'", target));
    }
    kb_->conditions_.push_back(std::move(condition));
  }

  void ReadOption(const YamlTree& node) {
    CheckKeys(node, {"id", "category", "therapy", "target", "display", "summary", "base_status", "status_rationale",
                     "evidence", "procedure", "monitoring", "follow_up", "cost", "criteria", "when", "done",
                     "chronic_after", "order", "sources", "confidence", "note"});
    Option option;
    option.location = At(node);
    option.id = String(node, "id", true);
    option.category = String(node, "category", true);
    option.therapy = String(node, "therapy", true);
    option.target = String(node, "target");
    option.display = String(node, "display", true);
    option.summary = String(node, "summary");
    option.base_status = String(node, "base_status", true);
    option.status_rationale = String(node, "status_rationale", true);
    option.monitoring = Strings(node, "monitoring");
    option.criteria = Strings(node, "criteria");
    option.when = String(node, "when");
    option.done = String(node, "done");
    option.order = String(node, "order");
    option.chronic_after = Strings(node, "chronic_after");
    option.sources = Strings(node, "sources");
    option.note = String(node, "note");
    option.confidence = node["confidence"] ? ReadConfidence(node) : Confidence::kH;
    if (!option.category.empty() && !OneOf(option.category, kCategories)) {
      Report(node["category"], fmt::format("category must be one of {}", Joined(kCategories)));
    }
    if (option.category == "regenerative" && !OneOf(option.therapy, kRegenerativeTherapies)) {
      Report(node["therapy"], fmt::format("a regenerative therapy must be one of {}", Joined(kRegenerativeTherapies)));
    }
    if (option.category == "integrative" && !OneOf(option.therapy, kIntegrativeTherapies)) {
      Report(node["therapy"], fmt::format("an integrative therapy must be one of {}", Joined(kIntegrativeTherapies)));
    }
    if (option.category == "regenerative" && !OneOf(option.target, kTargets)) {
      Report(node, fmt::format("regenerative option '{}' needs a target from the assessment schema", option.id));
    }
    if (!option.base_status.empty() && !OneOf(option.base_status, kStatuses)) {
      Report(node["base_status"], fmt::format("base_status must be one of {}", Joined(kStatuses)));
    }
    const YamlTree& evidence = node["evidence"];
    if (evidence && evidence.IsSequence()) {
      for (const YamlTree& item : evidence) {
        if (!item.IsMap()) {
          Report(item, "evidence items must be mappings");
          continue;
        }
        CheckKeys(item, {"source", "level", "direction", "statement", "confidence"});
        Evidence entry;
        entry.source = String(item, "source", true);
        entry.level = String(item, "level");
        entry.direction = String(item, "direction", true);
        entry.statement = String(item, "statement", true);
        entry.confidence = ReadConfidence(item);
        if (!entry.direction.empty() && !OneOf(entry.direction, kDirections)) {
          Report(item["direction"], "direction must be for, against or neutral");
        }
        option.evidence.push_back(std::move(entry));
      }
    }
    if (option.category == "regenerative" && option.evidence.empty()) {
      Report(node, fmt::format("regenerative option '{}' has no evidence", option.id));
    }
    const YamlTree& procedure = node["procedure"];
    if (procedure && procedure.IsMap()) {
      CheckKeys(procedure, {"image_guidance", "guidance_sources", "protocol", "bleeding_risk", "bleeding_risk_note",
                            "bleeding_risk_confidence", "pre_checks", "platelet_function_holds"});
      Procedure plan;
      plan.image_guidance = Strings(procedure, "image_guidance");
      for (const std::string& guidance : plan.image_guidance) {
        if (!OneOf(guidance, kImageGuidance)) {
          Report(procedure["image_guidance"], fmt::format("image guidance must be one of {}", Joined(kImageGuidance)));
        }
      }
      plan.guidance_sources = Strings(procedure, "guidance_sources");
      const YamlTree& protocol = procedure["protocol"];
      if (protocol && protocol.IsMap()) {
        plan.protocol = String(protocol, "text", true);
        plan.protocol_confidence = ReadConfidence(protocol);
      } else if (protocol && protocol.IsScalar()) {
        Report(protocol, "protocol must be {text, confidence}");
      }
      plan.bleeding_risk = String(procedure, "bleeding_risk");
      if (!plan.bleeding_risk.empty() && !OneOf(plan.bleeding_risk, kBleedingRisks)) {
        Report(procedure["bleeding_risk"], "bleeding_risk must be low, intermediate or high");
      }
      plan.bleeding_risk_note = String(procedure, "bleeding_risk_note");
      if (!plan.bleeding_risk.empty()) {
        plan.bleeding_risk_confidence = ReadConfidence(procedure, "bleeding_risk_confidence");
      }
      plan.pre_checks = Strings(procedure, "pre_checks");
      plan.platelet_function_holds = Bool(procedure, "platelet_function_holds", false);
      option.procedure = std::move(plan);
    }
    if (option.category == "regenerative" &&
        (!option.procedure || option.procedure->image_guidance.empty() || option.procedure->bleeding_risk.empty())) {
      Report(node, fmt::format("regenerative option '{}' needs procedure.image_guidance and procedure.bleeding_risk", option.id));
    }
    const YamlTree& follow_up = node["follow_up"];
    if (follow_up && follow_up.IsMap()) {
      CheckKeys(follow_up, {"instruments", "schedule_weeks", "sources"});
      option.follow_up = FollowUp{Strings(follow_up, "instruments"), Numbers(follow_up, "schedule_weeks"),
                                  Strings(follow_up, "sources")};
    }
    const YamlTree& cost = node["cost"];
    if (cost && cost.IsMap()) {
      CheckKeys(cost, {"usd_low", "usd_high", "per", "coverage", "billing_codes", "sources", "confidence"});
      Cost entry;
      entry.usd_low = Number(cost, "usd_low");
      entry.usd_high = Number(cost, "usd_high");
      entry.per = String(cost, "per");
      entry.coverage = String(cost, "coverage");
      entry.billing_codes = Strings(cost, "billing_codes");
      entry.sources = Strings(cost, "sources");
      entry.confidence = ReadConfidence(cost);
      option.cost = std::move(entry);
    }
    kb_->options_.push_back(std::move(option));
  }

  void ReadMedicationHold(const YamlTree& node) {
    CheckKeys(node, {"medication", "class", "valueset", "exclude_forms", "holds", "contexts", "check", "restart_hours",
                     "restart_note", "sources", "confidence", "note"});
    MedicationHold hold;
    hold.location = At(node);
    hold.check = String(node, "check");
    hold.medication = String(node, "medication", true);
    hold.drug_class = String(node, "class", true);
    hold.valueset = String(node, "valueset", true);
    for (std::string form : Strings(node, "exclude_forms")) {
      std::transform(form.begin(), form.end(), form.begin(), [](unsigned char c) { return std::tolower(c); });
      if (form.find('\'') != std::string::npos) {
        Report(node["exclude_forms"], "exclude_forms entries cannot contain a quote");
        continue;
      }
      hold.exclude_forms.push_back(std::move(form));
    }
    hold.restart_hours = Number(node, "restart_hours");
    hold.restart_note = String(node, "restart_note");
    hold.sources = Strings(node, "sources", true);
    hold.confidence = ReadConfidence(node);
    hold.note = String(node, "note");
    const YamlTree& holds = node["holds"];
    if (holds && holds.IsMap()) {
      for (const auto& entry : holds.entries()) {
        const std::string category = entry.first.Scalar();
        // The category is checked once every file is read (CheckReferences):
        // a bleeding-risk category or the hold_merge category.
        if (!entry.second.IsMap()) {
          Report(entry.second, "a hold must be {days, note}");
          continue;
        }
        CheckKeys(entry.second, {"days", "note"});
        hold.holds[category] = Hold{Number(entry.second, "days"), String(entry.second, "note")};
      }
    } else {
      Report(node, "missing 'holds' (by category: high, intermediate, low)");
    }
    if (const YamlTree& contexts = node["contexts"]; contexts) {
      if (!contexts.IsSequence()) {
        Report(contexts, "contexts must be a list of {when, holds, warning, sources, confidence}");
      } else {
        for (const YamlTree& item : contexts) {
          CheckKeys(item, {"when", "holds", "warning", "sources", "confidence", "note"});
          MedicationHold::Context context;
          context.when = String(item, "when", true);
          context.warning = String(item, "warning");
          context.sources = Strings(item, "sources");
          context.confidence = ReadConfidence(item);
          const YamlTree& by_category = item["holds"];
          if (by_category && by_category.IsMap()) {
            for (const auto& entry : by_category.entries()) {
              if (!entry.second.IsMap()) {
                Report(entry.second, "a hold must be {days, note}");
                continue;
              }
              CheckKeys(entry.second, {"days", "note"});
              context.holds[entry.first.Scalar()] = Hold{Number(entry.second, "days"), String(entry.second, "note")};
            }
          }
          hold.contexts.push_back(std::move(context));
        }
      }
    }
    kb_->medication_holds_.push_back(std::move(hold));
  }

  void ReadInstrument(const YamlTree& node) {
    CheckKeys(node, {"id", "display", "loinc", "mcid", "baseline", "sources", "confidence", "note"});
    Instrument instrument;
    instrument.location = At(node);
    instrument.id = String(node, "id", true);
    instrument.display = String(node, "display", true);
    instrument.loinc = String(node, "loinc");
    instrument.mcid = String(node, "mcid");
    instrument.baseline = String(node, "baseline");
    instrument.sources = Strings(node, "sources");
    instrument.confidence = ReadConfidence(node);
    kb_->instruments_.push_back(std::move(instrument));
  }

  RuleExpr ReadRule(const YamlTree& node) {
    RuleExpr rule;
    if (node.IsScalar()) {
      if (node.Scalar() == "always") return rule;
      rule.kind = RuleExpr::Kind::kCriterion;
      rule.criterion = node.Scalar();
      return rule;
    }
    if (node.IsMap() && node.size() == 1) {
      const auto& entry = node.entries().front();
      const std::string key = entry.first.Scalar();
      if (key == "not") {
        rule.kind = RuleExpr::Kind::kNot;
        rule.operands.push_back(ReadRule(entry.second));
        return rule;
      }
      if ((key == "all" || key == "any") && entry.second.IsSequence()) {
        rule.kind = key == "all" ? RuleExpr::Kind::kAll : RuleExpr::Kind::kAny;
        for (const YamlTree& operand : entry.second) rule.operands.push_back(ReadRule(operand));
        return rule;
      }
    }
    Report(node, "a rule is a criterion id, {not: rule}, {all: [rules]}, {any: [rules]} or always");
    return rule;
  }

  void ReadPathway(const YamlTree& node) {
    if (!node.IsMap()) {
      Report(node, "pathway must be a mapping");
      return;
    }
    if (kb_->saw_pathway_) Report(node, "a second pathway section");
    kb_->saw_pathway_ = true;
    CheckKeys(node, {"status_ladder", "bleeding_risk_ladder", "fallback_stage", "chronic_criterion", "deceased",
                     "no_condition_reason",
                     "red_flag_step", "missing_data_step", "criterion_states", "no_data", "next_step_order", "why",
                     "why_data_more", "baseline", "referral_order", "issue_not_counted"});
    PathwaySettings& pathway = kb_->pathway_;
    pathway.location = At(node);
    pathway.status_ladder = Strings(node, "status_ladder", true);
    pathway.next_step_order = Strings(node, "next_step_order");
    pathway.bleeding_risk_ladder = Strings(node, "bleeding_risk_ladder", true);
    pathway.fallback_stage = String(node, "fallback_stage", true);
    pathway.chronic_criterion = String(node, "chronic_criterion", true);
    pathway.no_condition_reason = String(node, "no_condition_reason", true);
    pathway.no_data = String(node, "no_data", true);
    const YamlTree& deceased = node["deceased"];
    if (deceased && deceased.IsMap()) {
      CheckKeys(deceased, {"stage", "reason"});
      pathway.deceased_stage = String(deceased, "stage", true);
      pathway.deceased_reason = String(deceased, "reason", true);
    } else {
      Report(node, "pathway.deceased must be a mapping {stage, reason}");
    }
    const auto step = [&](const char* key, StepTemplate& out) {
      const YamlTree& value = node[key];
      if (!value || !value.IsMap()) {
        Report(node, fmt::format("pathway.{} must be a mapping {{kind, text}}", key));
        return;
      }
      CheckKeys(value, {"kind", "text", "option", "only"});
      out.kind = String(value, "kind", true);
      out.text = String(value, "text", true);
      out.option = String(value, "option");
      out.only = Bool(value, "only", false);
    };
    step("red_flag_step", pathway.red_flag_step);
    step("missing_data_step", pathway.missing_data_step);
    const YamlTree& states = node["criterion_states"];
    if (states && states.IsMap()) {
      CheckKeys(states, {"met", "not_met", "unknown"});
      pathway.state_met = String(states, "met", true);
      pathway.state_not_met = String(states, "not_met", true);
      pathway.state_unknown = String(states, "unknown", true);
    } else {
      Report(node, "pathway.criterion_states must be a mapping {met, not_met, unknown}");
    }
    pathway.why_data_more = String(node, "why_data_more");
    pathway.issue_not_counted = String(node, "issue_not_counted");
    if (const YamlTree& why = node["why"]; why) {
      if (!why.IsSequence()) {
        Report(why, "pathway.why must be a list of {criterion, met, not_met, unknown}");
      } else {
        for (const YamlTree& item : why) {
          if (!item.IsMap()) {
            Report(item, "pathway.why: each entry must be a mapping {criterion, met, not_met, unknown}");
            continue;
          }
          CheckKeys(item, {"criterion", "met", "not_met", "unknown"});
          pathway.why.push_back(WhyWords{String(item, "criterion", true), String(item, "met"),
                                         String(item, "not_met"), String(item, "unknown")});
        }
      }
    }
    if (const YamlTree& baseline = node["baseline"]; baseline) {
      if (!baseline.IsMap()) {
        Report(baseline, "pathway.baseline must be a mapping {window, missing, outdated, not_looked_for}");
      } else {
        CheckKeys(baseline, {"window", "missing", "outdated", "not_looked_for", "missing_item", "missing_step",
                             "outdated_step"});
        pathway.baseline.window = String(baseline, "window", true);
        pathway.baseline.missing = String(baseline, "missing", true);
        pathway.baseline.outdated = String(baseline, "outdated", true);
        pathway.baseline.not_looked_for = String(baseline, "not_looked_for", true);
        if (const YamlTree& item = baseline["missing_item"]; item) {
          if (!item.IsMap()) {
            Report(item, "pathway.baseline.missing_item must be a mapping {id, display}");
          } else {
            CheckKeys(item, {"id", "display"});
            pathway.baseline.missing_id = String(item, "id", true);
            pathway.baseline.missing_display = String(item, "display", true);
            pathway.baseline.missing_step = String(baseline, "missing_step", true);
            pathway.baseline.outdated_step = String(baseline, "outdated_step", true);
          }
        }
      }
    }
    if (const YamlTree& order = node["referral_order"]; order) {
      if (!order.IsMap()) {
        Report(order, "pathway.referral_order must be a mapping {kinds, category, text, label}");
      } else {
        CheckKeys(order, {"kinds", "category", "text", "label"});
        pathway.referral_order.kinds = Strings(order, "kinds", true);
        pathway.referral_order.category = String(order, "category", true);
        pathway.referral_order.text = String(order, "text", true);
        pathway.referral_order.label = String(order, "label", true);
      }
    }
  }

  void ReadStage(const YamlTree& node) {
    CheckKeys(node, {"id", "display", "title", "heading", "summary", "summary_none_open", "order_headline", "indicator", "priority",
                     "offers_regenerative", "when", "on_unknown", "note"});
    Stage stage;
    stage.location = At(node);
    stage.id = String(node, "id", true);
    stage.display = String(node, "display", true);
    stage.title = String(node, "title", true);
    stage.heading = String(node, "heading", true);
    stage.summary = String(node, "summary", true);
    stage.summary_none_open = String(node, "summary_none_open");
    stage.order_headline = String(node, "order_headline");
    stage.indicator = String(node, "indicator", true);
    if (!stage.indicator.empty() && !OneOf(stage.indicator, kIndicators)) {
      Report(node["indicator"], fmt::format("indicator must be one of {}", Joined(kIndicators)));
    }
    stage.priority = static_cast<int>(Number(node, "priority", true).value_or(0));
    stage.offers_regenerative = Bool(node, "offers_regenerative", false);
    stage.note = String(node, "note");
    if (node["when"]) stage.when = ReadRule(node["when"]);
    std::string on_unknown = String(node, "on_unknown");
    if (!on_unknown.empty() && on_unknown != "apply" && on_unknown != "skip") {
      Report(node["on_unknown"], "on_unknown must be 'apply' or 'skip'");
    }
    if (!on_unknown.empty() && !stage.when) Report(node["on_unknown"], "on_unknown without a 'when'");
    stage.apply_on_unknown = on_unknown == "apply";
    kb_->stages_.push_back(std::move(stage));
  }

  void ReadCriterionRole(const YamlTree& node) {
    CheckKeys(node, {"id", "display", "definition", "bound_by_condition", "condition_fact", "unbound", "always_report",
                     "note"});
    CriterionRole role;
    role.location = At(node);
    role.id = String(node, "id", true);
    role.display = String(node, "display");
    role.definition = String(node, "definition");
    role.bound_by_condition = Bool(node, "bound_by_condition", false);
    role.condition_fact = String(node, "condition_fact");
    role.always_report = Bool(node, "always_report", false);
    const int sources = (role.definition.empty() ? 0 : 1) + (role.bound_by_condition ? 1 : 0) +
                        (role.condition_fact.empty() ? 0 : 1);
    if (sources != 1) Report(node, "a criterion role has exactly one of definition, bound_by_condition, condition_fact");
    if (const YamlTree& unbound = node["unbound"]; unbound) {
      if (!role.bound_by_condition) Report(unbound, "unbound is only for bound_by_condition roles");
      if (unbound.IsMap()) {
        CheckKeys(unbound, {"met", "display"});
        role.unbound_met = Bool(unbound, "met", true);
        role.unbound_display = String(unbound, "display", true);
      } else {
        Report(unbound, "unbound must be a mapping {met, display}");
      }
    } else if (role.bound_by_condition) {
      Report(node, "a bound_by_condition role needs 'unbound' (what holds when a condition names no definition)");
    }
    kb_->criterion_roles_.push_back(std::move(role));
  }

  void ReadStatusRule(const YamlTree& node) {
    CheckKeys(node, {"applies_to", "when", "status", "reason", "note"});
    StatusRule rule;
    rule.location = At(node);
    rule.applies_to = Strings(node, "applies_to", true);
    for (const std::string& item : rule.applies_to) {
      // A category, "injection", or "therapy:<therapy>" (e.g. therapy:spinal-manipulation).
      if (item != "injection" && !item.starts_with("therapy:") && !OneOf(item, kCategories)) {
        Report(node["applies_to"], fmt::format("applies_to: '{}' is neither a category ({}), injection nor "
                                               "therapy:<therapy>", item, Joined(kCategories)));
      }
    }
    const YamlTree& when = node["when"];
    if (when && when.IsMap() && when.size() == 1) {
      const std::string key = when.entries().front().first.Scalar();
      rule.when_value = when.entries().front().second.Scalar();
      if (key == "contraindication") {
        rule.when = StatusRule::When::kContraindication;
        if (rule.when_value != "absolute" && rule.when_value != "relative") {
          Report(when, "contraindication must be absolute or relative");
        }
      } else if (key == "criterion") {
        rule.when = StatusRule::When::kCriterion;
      } else if (key == "stage") {
        rule.when = StatusRule::When::kStage;
      } else if (key == "stage_not") {
        rule.when = StatusRule::When::kStageNot;
      } else {
        Report(when, "when is one of {contraindication: absolute|relative}, {criterion: ID}, {stage: ID}, {stage_not: ID}");
      }
    } else {
      Report(node, "when is one of {contraindication: absolute|relative}, {criterion: ID}, {stage: ID}, {stage_not: ID}");
    }
    rule.status = String(node, "status", true);
    rule.reason = String(node, "reason", true);
    kb_->status_rules_.push_back(std::move(rule));
  }

  void ReadNextStepRule(const YamlTree& node) {
    CheckKeys(node, {"categories", "stage", "not_done", "status", "status_not", "criteria_met", "no_unmet_criteria", "kind", "text",
                     "note"});
    NextStepRule rule;
    rule.location = At(node);
    rule.categories = Strings(node, "categories", true);
    for (const std::string& category : rule.categories) {
      if (!OneOf(category, kCategories)) Report(node["categories"], fmt::format("unknown category '{}'", category));
    }
    rule.stage = String(node, "stage");
    rule.not_done = Bool(node, "not_done", false);
    rule.status = Strings(node, "status");
    rule.status_not = Strings(node, "status_not");
    rule.criteria_met = Bool(node, "criteria_met", false);
    rule.no_unmet_criteria = Bool(node, "no_unmet_criteria", false);
    rule.kind = String(node, "kind", true);
    rule.text = String(node, "text", true);
    kb_->next_step_rules_.push_back(std::move(rule));
  }

  void ReadDatumView(const YamlTree& node) {
    CheckKeys(node, {"type", "display", "date", "value", "code"});
    DatumView view;
    view.location = At(node);
    view.type = String(node, "type", true);
    fhirpath::CompileOptions options;
    if (view.type != kFallbackDatumType) options.context_type = view.type;
    const auto field = [&](const char* key, DatumField& out, bool optional = false) {
      const YamlTree& value = node[key];
      if (!value) {
        if (!optional) Report(node, fmt::format("missing '{}'", key));
        return;
      }
      // One expression, or a list of alternatives tried in order.
      out.expressions = value.IsSequence() ? Strings(node, key) : std::vector<std::string>{String(node, key)};
      for (const std::string& text : out.expressions) {
        Result<fhirpath::CompiledExpression> compiled = fhirpath::CompiledExpression::Compile(text, options);
        if (compiled.has_value()) {
          out.compiled.push_back(std::move(*compiled));
        } else {
          Report(value, fmt::format("datum view {} {} does not compile: {}", view.type, key, compiled.error().message()));
        }
      }
    };
    field("display", view.display);
    field("date", view.date);
    field("value", view.value);
    field("code", view.code, true);
    kb_->datum_views_.push_back(std::move(view));
  }

  // --- cross references --------------------------------------------------------
  void CheckCitations(const SourceLocation& at, const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      if (kb_->FindCitation(id) == nullptr) Report(at, fmt::format("citation '{}' does not resolve", id));
    }
  }
  void CheckDefinition(const SourceLocation& at, const std::string& id, std::string_view what) {
    if (!id.empty() && kb_->FindDefinition(id) == nullptr) {
      Report(at, fmt::format("{} '{}' is not a definition", what, id));
    }
  }

  void CheckRule(const Stage& stage, const RuleExpr& rule) {
    if (rule.kind == RuleExpr::Kind::kCriterion && kb_->FindCriterionRole(rule.criterion) == nullptr &&
        kb_->FindDefinition(rule.criterion) == nullptr) {
      Report(stage.location, fmt::format("criterion '{}' is neither a criterion role nor a definition", rule.criterion));
    }
    for (const RuleExpr& operand : rule.operands) CheckRule(stage, operand);
  }

  void CheckStage(const SourceLocation& at, const std::string& id, std::string_view what) {
    if (!id.empty() && kb_->FindStage(id) == nullptr) Report(at, fmt::format("{} '{}' is not a stage", what, id));
  }

  void CheckPathway() {
    CheckUnique<Stage>(kb_->stages_, "stage", [](const Stage& s) -> const std::string& { return s.id; });
    CheckUnique<CriterionRole>(kb_->criterion_roles_, "criterion role",
                               [](const CriterionRole& r) -> const std::string& { return r.id; });
    if (kb_->stages_.empty()) Report({"", 0}, "no stages");
    if (!kb_->saw_pathway_) Report({"", 0}, "no pathway section (status and bleeding-risk ladders, fallback stage)");
    for (const Stage& stage : kb_->stages_) {
      if (stage.when) CheckRule(stage, *stage.when);
    }
    const PathwaySettings& pathway = kb_->pathway_;
    CheckStage(pathway.location, pathway.fallback_stage, "fallback_stage");
    CheckStage(pathway.location, pathway.deceased_stage, "deceased stage");
    if (!pathway.chronic_criterion.empty() && kb_->FindCriterionRole(pathway.chronic_criterion) == nullptr) {
      Report(pathway.location, fmt::format("chronic_criterion '{}' is not a criterion role", pathway.chronic_criterion));
    }
    if (const Stage* fallback = kb_->FindStage(pathway.fallback_stage); fallback != nullptr && fallback->when) {
      Report(fallback->location, "the fallback stage must have no 'when' (it is never the result of a rule)");
    }
    for (const std::string& status : pathway.status_ladder) {
      if (!OneOf(status, kStatuses)) Report(pathway.location, fmt::format("status_ladder: unknown status '{}'", status));
    }
    for (const std::string& risk : pathway.bleeding_risk_ladder) {
      if (!OneOf(risk, kBleedingRisks)) Report(pathway.location, fmt::format("bleeding_risk_ladder: unknown category '{}'", risk));
    }
    for (const CriterionRole& role : kb_->criterion_roles_) {
      CheckDefinition(role.location, role.definition, "criterion role definition");
      if (!role.condition_fact.empty()) {
        // Every condition states the fact (true or false): a missing one is a typo, not a "false".
        for (const Condition& condition : kb_->conditions_) {
          if (condition.facts.find(role.condition_fact) == condition.facts.end()) {
            Report(condition.location, fmt::format("condition '{}' does not state the fact '{}' (criterion role '{}')",
                                                   condition.id, role.condition_fact, role.id));
          }
        }
      }
      if (const Definition* definition = kb_->FindDefinition(role.definition);
          definition != nullptr && kb_->FindCriterionRole(role.definition) != nullptr && role.definition != role.id) {
        Report(role.location, fmt::format("criterion role '{}' names '{}', which is also a role", role.id, role.definition));
      }
    }
    for (const StatusRule& rule : kb_->status_rules_) {
      if (rule.status != "lower" && rule.status != "contraindicated" && !OneOf(rule.status, kStatuses)) {
        Report(rule.location, fmt::format("status '{}' is neither a status, contraindicated nor lower", rule.status));
      }
      if (rule.when == StatusRule::When::kStage || rule.when == StatusRule::When::kStageNot) {
        CheckStage(rule.location, rule.when_value, "when");
      }
      if (rule.when == StatusRule::When::kCriterion && kb_->FindCriterionRole(rule.when_value) == nullptr &&
          kb_->FindDefinition(rule.when_value) == nullptr) {
        Report(rule.location, fmt::format("criterion '{}' is neither a criterion role nor a definition", rule.when_value));
      }
    }
    for (const NextStepRule& rule : kb_->next_step_rules_) {
      CheckStage(rule.location, rule.stage, "stage");
      for (const auto* list : {&rule.status, &rule.status_not}) {
        for (const std::string& status : *list) {
          if (status != "contraindicated" && !OneOf(status, kStatuses)) {
            Report(rule.location, fmt::format("unknown status '{}'", status));
          }
        }
      }
    }
    bool fallback_view = false;
    for (const DatumView& view : kb_->datum_views_) fallback_view = fallback_view || view.type == kFallbackDatumType;
    if (!kb_->datum_views_.empty() && !fallback_view) {
      Report(kb_->datum_views_.front().location, "datum_views needs a 'Resource' entry (the fallback)");
    }
  }

  void CheckReferences() {
    CheckUnique<Citation>(kb_->citations_, "citation", [](const Citation& c) -> const std::string& { return c.id; });
    CheckUnique<Parameter>(kb_->parameters_, "parameter", [](const Parameter& p) -> const std::string& { return p.id; });
    CheckUnique<ValueSet>(kb_->valuesets_, "value set", [](const ValueSet& v) -> const std::string& { return v.id; });
    CheckUnique<Definition>(kb_->definitions_, "definition", [](const Definition& d) -> const std::string& { return d.id; });
    CheckUnique<Option>(kb_->options_, "option", [](const Option& o) -> const std::string& { return o.id; });
    CheckUnique<Condition>(kb_->conditions_, "condition", [](const Condition& c) -> const std::string& { return c.id; });
    CheckUnique<RedFlag>(kb_->red_flags_, "red flag", [](const RedFlag& r) -> const std::string& { return r.id; });
    CheckUnique<Contraindication>(kb_->contraindications_, "contraindication",
                                  [](const Contraindication& c) -> const std::string& { return c.id; });
    CheckUnique<Instrument>(kb_->instruments_, "instrument", [](const Instrument& i) -> const std::string& { return i.id; });
    CheckUnique<MedicationHold>(kb_->medication_holds_, "medication hold",
                                [](const MedicationHold& m) -> const std::string& { return m.medication; });
    for (const Definition& definition : kb_->definitions_) {
      CheckDefinition(definition.location, definition.evidence, "evidence");
      if (definition.scope == DefinitionScope::kPatient && !definition.evidence.empty()) {
        // A patient's value shows the patient's data: not one condition's
        // (the engine reads a patient-scope definition's evidence once, in
        // whichever condition first needs it).
        auto named = std::find_if(kb_->definitions_.begin(), kb_->definitions_.end(),
                                  [&](const Definition& other) { return other.id == definition.evidence; });
        if (named != kb_->definitions_.end() && named->scope == DefinitionScope::kCondition) {
          Report(definition.location,
                 fmt::format("patient-scope definition '{}' takes its evidence from condition-scope '{}'",
                             definition.id, named->id));
        }
      }
      if (definition.missing_data) {
        CheckDefinition(definition.location, definition.missing_data->unreadable_when, "missing_data.unreadable.when");
      }
      const std::vector<std::string>& kinds = kb_->pathway_.next_step_order;
      for (const NotMetStep& not_met : definition.not_met) {
        CheckDefinition(definition.location, not_met.when, "not_met.when");
        if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), not_met.kind) == kinds.end()) {
          Report(definition.location, fmt::format("not_met.kind '{}' is not in pathway.next_step_order", not_met.kind));
        }
      }
      if (kb_->FindParameter(definition.id) != nullptr) {
        Report(definition.location, fmt::format("'{}' is both a parameter and a definition", definition.id));
      }
    }

    for (const Parameter& parameter : kb_->parameters_) CheckCitations(parameter.location, parameter.sources);
    for (const ValueSet& value_set : kb_->valuesets_) CheckCitations(value_set.location, value_set.sources);
    for (const RedFlag& flag : kb_->red_flags_) {
      CheckCitations(flag.location, flag.sources);
      CheckDefinition(flag.location, flag.definition, "red flag definition");
    }
    for (const Contraindication& item : kb_->contraindications_) {
      CheckCitations(item.location, item.sources);
      CheckDefinition(item.location, item.definition, "contraindication definition");
    }
    for (const MedicationHold& hold : kb_->medication_holds_) {
      CheckCitations(hold.location, hold.sources);
      for (const MedicationHold::Context& context : hold.contexts) {
        CheckDefinition(hold.location, context.when, "contexts.when");
        CheckCitations(hold.location, context.sources);
      }
      for (const auto& [category, entry] : hold.holds) {
        if (!OneOf(category, kBleedingRisks) && !(kb_->saw_hold_merge_ && category == kb_->hold_merge_.category)) {
          Report(hold.location, fmt::format("hold category '{}' is neither a bleeding-risk category ({}) nor the "
                                            "hold_merge category", category, Joined(kBleedingRisks)));
        }
      }
      if (kb_->FindValueSet(hold.valueset) == nullptr) {
        Report(hold.location, fmt::format("value set '{}' does not exist", hold.valueset));
      }
    }
    for (const MedicationHold& hold : kb_->medication_holds_) CheckDefinition(hold.location, hold.check, "check");
    for (const Instrument& instrument : kb_->instruments_) {
      CheckCitations(instrument.location, instrument.sources);
      CheckDefinition(instrument.location, instrument.baseline, "baseline");
    }
    if (!kb_->pathway_.baseline.window.empty() && kb_->FindParameter(kb_->pathway_.baseline.window) == nullptr) {
      Report(kb_->pathway_.location,
             fmt::format("pathway.baseline.window: parameter '{}' does not exist", kb_->pathway_.baseline.window));
    }
    if (const ReferralOrder& order = kb_->pathway_.referral_order; !order.kinds.empty()) {
      const ValueSet* category = kb_->FindValueSet(order.category);
      if (category == nullptr) {
        Report(kb_->pathway_.location,
               fmt::format("pathway.referral_order.category: value set '{}' does not exist", order.category));
      } else if (category->concepts.empty() || category->concepts.front().prefix) {
        Report(kb_->pathway_.location,
               fmt::format("pathway.referral_order.category: value set '{}' needs a first concept that is one code",
                           order.category));
      }
      for (const std::string& kind : order.kinds) {
        const std::vector<std::string>& kinds = kb_->pathway_.next_step_order;
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
          Report(kb_->pathway_.location,
                 fmt::format("pathway.referral_order.kinds: '{}' is not a word of next_step_order", kind));
        }
      }
    }
    if (kb_->saw_hold_merge_) CheckCitations(kb_->hold_merge_.location, kb_->hold_merge_.sources);
    for (const Option& option : kb_->options_) {
      if (option.procedure && option.procedure->platelet_function_holds && !kb_->saw_hold_merge_) {
        Report(option.location, fmt::format("option '{}' asks for platelet_function_holds but no hold_merge says how", option.id));
        break;
      }
    }
    if (const auto& escalation = kb_->bleeding_risk_escalation_) {
      CheckCitations(escalation->location, escalation->sources);
      CheckDefinition(escalation->location, escalation->definition, "bleeding_risk_escalation definition");
    }

    std::set<std::string> reachable;
    auto check_slot = [&](const Condition& condition, const std::vector<std::string>& ids, std::string_view category) {
      for (const std::string& id : ids) {
        const Option* option = kb_->FindOption(id);
        if (option == nullptr) {
          Report(condition.location, fmt::format("option '{}' does not exist", id));
        } else if (option->category != category) {
          Report(condition.location, fmt::format("option '{}' is {}, not {}", id, option->category, category));
        }
        reachable.insert(id);
      }
    };
    for (const Condition& condition : kb_->conditions_) {
      CheckCitations(condition.location, condition.sources);
      if (kb_->FindValueSet(condition.valueset) == nullptr) {
        Report(condition.location, fmt::format("value set '{}' does not exist", condition.valueset));
      }
      for (const auto& [role_id, definition_id] : condition.roles) {
        const CriterionRole* role = kb_->FindCriterionRole(role_id);
        if (role == nullptr || !role->bound_by_condition) {
          Report(condition.location, fmt::format("roles: '{}' is not a criterion role bound by the condition", role_id));
        }
        CheckDefinition(condition.location, definition_id, fmt::format("roles.{}", role_id));
      }
      check_slot(condition, condition.first_line, "conventional");
      check_slot(condition, condition.diagnostics, "diagnostic");
      check_slot(condition, condition.regenerative, "regenerative");
      check_slot(condition, condition.integrative, "integrative");
      check_slot(condition, condition.referral, "referral");
      for (const std::string& id : condition.regenerative) {
        const Option* option = kb_->FindOption(id);
        if (option != nullptr && std::find(condition.targets.begin(), condition.targets.end(), option->target) ==
                                     condition.targets.end()) {
          Report(condition.location, fmt::format("option '{}' targets {}, which is not a target of {}", id,
                                                 option->target, condition.id));
        }
      }
    }
    for (const Option& option : kb_->options_) {
      CheckCitations(option.location, option.sources);
      for (const Evidence& evidence : option.evidence) CheckCitations(option.location, {evidence.source});
      if (option.procedure) {
        CheckCitations(option.location, option.procedure->guidance_sources);
        for (const std::string& check : option.procedure->pre_checks) CheckDefinition(option.location, check, "pre_check");
      }
      if (option.follow_up) {
        CheckCitations(option.location, option.follow_up->sources);
        for (const std::string& id : option.follow_up->instruments) {
          if (kb_->FindInstrument(id) == nullptr) Report(option.location, fmt::format("instrument '{}' does not exist", id));
        }
      }
      if (option.cost) CheckCitations(option.location, option.cost->sources);
      for (const std::string& id : option.criteria) CheckDefinition(option.location, id, "criterion");
      CheckDefinition(option.location, option.when, "when");
      CheckDefinition(option.location, option.done, "done");
      if (!option.order.empty() && kb_->FindValueSet(option.order) == nullptr) {
        Report(option.location, fmt::format("order: value set '{}' does not exist", option.order));
      }
      for (const std::string& id : option.chronic_after) {
        if (kb_->FindOption(id) == nullptr) Report(option.location, fmt::format("chronic_after: option '{}' does not exist", id));
      }
      if (reachable.count(option.id) == 0) {
        Report(option.location, fmt::format("option '{}' is not reachable: no condition lists it", option.id));
      }
    }
    CheckPathway();
    for (std::string_view required : {"active-conditions", "active-medications"}) {
      if (kb_->FindDefinition(required) == nullptr) {
        Report({"", 0}, fmt::format("the engine needs a definition named '{}'", required));
      }
    }
  }

  // Compiles every definition, orders them by dependency and rejects cycles.
  void CompileDefinitions() {
    std::map<std::string, const Definition*> by_id;
    for (Definition& definition : kb_->definitions_) {
      definition.uses.clear();
      // Variables the expression defines itself with defineVariable().
      const std::vector<std::string> local = LiteralArguments(definition.expression, "defineVariable(");
      for (const std::string& name : VariablesUsed(definition.expression)) {
        if (OneOf(name, kBuiltinVariables) || name.starts_with("vs-") || name.starts_with("ext-")) continue;
        if (std::find(local.begin(), local.end(), name) != local.end()) continue;
        if (kb_->FindDefinition(name) == nullptr && kb_->FindParameter(name) == nullptr) {
          Report(definition.location, fmt::format("definition '{}' uses %{} which is neither a definition nor a parameter",
                                                  definition.id, name));
          continue;
        }
        if (std::find(definition.uses.begin(), definition.uses.end(), name) == definition.uses.end()) {
          definition.uses.push_back(name);
        }
      }
      for (const std::string& value_set : LiteralArguments(definition.expression, "memberOf(")) {
        if (kb_->FindValueSet(value_set) == nullptr) {
          Report(definition.location, fmt::format("definition '{}' uses value set '{}' which does not exist",
                                                  definition.id, value_set));
        }
      }
      fhirpath::CompileOptions options;
      options.context_type = "Bundle";
      Result<fhirpath::CompiledExpression> compiled = fhirpath::CompiledExpression::Compile(definition.expression, options);
      if (compiled.has_value()) {
        definition.compiled = std::move(*compiled);
      } else {
        Report(definition.location, fmt::format("definition '{}' does not compile: {}", definition.id,
                                                compiled.error().message()));
      }
    }
    // Topological order; a definition after everything it uses.
    std::vector<Definition> ordered;
    std::map<std::string, int> state;  // 0 new, 1 visiting, 2 done
    std::function<void(Definition&)> visit = [&](Definition& definition) {
      int& mark = state[definition.id];
      if (mark == 2) return;
      if (mark == 1) {
        Report(definition.location, fmt::format("definition '{}' depends on itself (a cycle)", definition.id));
        return;
      }
      mark = 1;
      for (const std::string& name : definition.uses) {
        auto it = std::find_if(kb_->definitions_.begin(), kb_->definitions_.end(),
                               [&](const Definition& other) { return other.id == name; });
        if (it == kb_->definitions_.end()) continue;
        if (definition.scope == DefinitionScope::kPatient && it->scope == DefinitionScope::kCondition) {
          Report(definition.location, fmt::format("patient-scope definition '{}' uses condition-scope '{}'",
                                                  definition.id, it->id));
        }
        visit(*it);
      }
      state[definition.id] = 2;
      ordered.push_back(definition);
    };
    for (Definition& definition : kb_->definitions_) visit(definition);
    kb_->definitions_ = std::move(ordered);
  }

  std::shared_ptr<KnowledgeBase> kb_;
  std::string file_;
  bool saw_header_ = false;
};

std::shared_ptr<const KnowledgeBase> KnowledgeBase::Load(const std::vector<SourceFile>& files) {
  return Loader().Run(files);
}

std::shared_ptr<const KnowledgeBase> KnowledgeBase::LoadTrees(const std::vector<std::pair<std::string, YamlTree>>& trees,
                                                              const std::vector<SourceFile>& files) {
  return Loader().RunTrees(trees, files);
}

Result<std::shared_ptr<const KnowledgeBase>> KnowledgeBase::LoadDirectory(const std::string& directory) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) {
    return Fail(InvalidInput(fmt::format("{}: cannot read the knowledge-base directory: {}", directory, std::strerror(errno))));
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() > 5 && name.ends_with(".yaml")) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  if (names.empty()) return Fail(InvalidInput(fmt::format("{}: no *.yaml file", directory)));
  std::vector<SourceFile> files;
  for (const std::string& name : names) {
    std::string path = directory + "/" + name;
    std::ifstream input(path, std::ios::binary);
    if (!input) return Fail(InvalidInput(fmt::format("{}: cannot open", path)));
    std::stringstream content;
    content << input.rdbuf();
    files.push_back(SourceFile{path, content.str()});
  }
  return Load(files);
}

}  // namespace regenpath::knowledge
