// KnowledgeBase: the care pathway, its facts and their sources, loaded from
// the YAML files of knowledge/ (format: docs/knowledge-base.md).
//
// Loading never throws and never stops at the first problem: Load() returns
// the knowledge base together with every problem found (file, line, message),
// so `regenpath kb check` can report them all at once. A knowledge base with
// problems must not be used to assess patients (usable() is false).
//
// A loaded KnowledgeBase is immutable: its compiled FHIRPath definitions and
// its terminology are safe to share across threads.
#ifndef REGENPATH_KNOWLEDGE_KNOWLEDGE_BASE_H_
#define REGENPATH_KNOWLEDGE_KNOWLEDGE_BASE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/decimal.h"
#include "common/status.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/terminology.h"

namespace regenpath::knowledge {

// H: checked in a source; M: partly checked; U: not verified (shown as such).
enum class Confidence { kH, kM, kU };
std::string_view ConfidenceName(Confidence confidence);

// Where an entry was written, for messages.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
};

struct Problem {
  SourceLocation location;
  std::string message;
  // "file:line: message"
  std::string ToString() const;
};

struct Citation {
  std::string id;
  std::string reference;
  std::string doi;
  std::string url;
  std::string says;
  Confidence confidence = Confidence::kU;
  SourceLocation location;
};

struct Parameter {
  std::string id;
  std::string display;
  Decimal value;
  std::string unit;  // a calendar unit or UCUM code; empty for a plain number
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  std::string note;
  SourceLocation location;
  // "3 months", "100 10*9/L", "6"
  std::string ValueText() const;
};

struct Concept {
  std::string system;  // canonical system URL
  std::string code;
  std::string display;
  bool prefix = false;  // matches every code starting with `code`
  Confidence confidence = Confidence::kU;
};

struct ValueSet {
  std::string id;
  std::string url;  // http://regenpath.org/fhir/ValueSet/<id>
  std::string title;
  Confidence confidence = Confidence::kU;
  std::vector<std::string> sources;
  std::vector<Concept> concepts;
  std::vector<std::string> text;  // lower-case names matched in display / text
  std::string note;
  SourceLocation location;
};

enum class DefinitionScope { kPatient, kCondition };

struct MissingData {
  std::string id;
  std::string display;
};

struct Definition {
  std::string id;
  DefinitionScope scope = DefinitionScope::kPatient;
  std::string expression;
  std::optional<MissingData> missing_data;
  std::string note;
  SourceLocation location;
  // Filled by Load when the expression compiles.
  std::optional<fhirpath::CompiledExpression> compiled;
  // Definitions and parameters it refers to (%`name`).
  std::vector<std::string> uses;
};

struct RedFlag {
  std::string id;
  std::string display;
  std::string definition;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  std::string note;
  SourceLocation location;
};

enum class ContraindicationKind { kAbsolute, kRelative };

struct Contraindication {
  std::string id;
  ContraindicationKind kind = ContraindicationKind::kRelative;
  std::string display;
  std::string definition;
  std::vector<std::string> applies_to;          // therapies; empty = every regenerative therapy
  std::vector<std::string> applies_to_targets;  // empty = every target
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  std::string note;
  SourceLocation location;
};

struct Evidence {
  std::string source;
  std::string level;
  std::string direction;  // for | against | neutral
  std::string statement;
  Confidence confidence = Confidence::kU;
};

struct Procedure {
  std::vector<std::string> image_guidance;
  std::vector<std::string> guidance_sources;
  std::string protocol;
  Confidence protocol_confidence = Confidence::kU;
  std::string bleeding_risk;  // low | intermediate | high; empty when not an injection
  std::string bleeding_risk_note;
  Confidence bleeding_risk_confidence = Confidence::kU;
  std::vector<std::string> pre_checks;
  bool platelet_function_holds = false;
};

struct FollowUp {
  std::vector<std::string> instruments;
  std::vector<double> schedule_weeks;
  std::vector<std::string> sources;
};

struct Cost {
  std::optional<double> usd_low;
  std::optional<double> usd_high;
  std::string per;
  std::string coverage;
  std::vector<std::string> billing_codes;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
};

struct Option {
  std::string id;
  std::string category;  // regenerative | integrative | conventional | diagnostic | referral
  std::string therapy;
  std::string target;
  std::string display;
  std::string summary;
  std::string base_status;  // recommended | consider | not-recommended
  std::string status_rationale;
  std::vector<Evidence> evidence;
  std::optional<Procedure> procedure;
  std::vector<std::string> monitoring;
  std::optional<FollowUp> follow_up;
  std::optional<Cost> cost;
  std::vector<std::string> criteria;  // definition ids shown as rationale
  std::string when;                   // definition id: listed only when true
  std::string done;                   // definition id: the option was already done / tried
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  std::string note;
  SourceLocation location;
};

struct Condition {
  std::string id;
  std::string display;
  std::string valueset;
  std::string nature;
  std::vector<std::string> targets;
  bool localized = false;
  std::vector<std::string> first_line;
  std::string conventional_trial;  // criterion definition id
  std::vector<std::string> diagnostics;
  std::string diagnostics_done;  // criterion definition id
  std::vector<std::string> regenerative;
  std::vector<std::string> integrative;
  std::vector<std::string> referral;
  std::vector<std::string> sources;
  std::string note;
  SourceLocation location;
};

struct Hold {
  std::optional<double> days;  // nullopt: shared decision
  std::string note;
};

struct MedicationHold {
  std::string medication;  // ingredient, lower case
  std::string drug_class;
  std::string valueset;
  // Product-name fragments (lower case) of forms the hold does not apply to,
  // e.g. topical NSAIDs: "gel", "topical".
  std::vector<std::string> exclude_forms;
  std::map<std::string, Hold> holds;  // by bleeding-risk category
  std::optional<double> restart_hours;
  std::string restart_note;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  std::string note;
  SourceLocation location;
};

struct Instrument {
  std::string id;
  std::string display;
  std::string loinc;
  std::string mcid;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  SourceLocation location;
};

// ASRA 2018: patients at higher bleeding risk (several antithrombotics, old
// age, renal or liver disease) move up one procedure category.
struct BleedingRiskEscalation {
  std::string definition;  // patient-scope criterion
  std::string display;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  SourceLocation location;
};

// A three-valued condition over criteria (stage rules).
struct RuleExpr {
  enum class Kind { kCriterion, kNot, kAll, kAny, kAlways };
  Kind kind = Kind::kAlways;
  std::string criterion;
  std::vector<RuleExpr> operands;
};

struct StageRule {
  std::string stage;
  RuleExpr when;
  bool apply_on_unknown = false;
  SourceLocation location;
};

// One YAML file's name and content.
class YamlTree;

struct SourceFile {
  std::string name;
  std::string content;
};

class KnowledgeBase {
 public:
  // Loads from files in memory (the embedded knowledge base, tests).
  // Never fails: problems are in problems().
  static std::shared_ptr<const KnowledgeBase> Load(const std::vector<SourceFile>& files);

  // Loads every *.yaml file of `directory`. Fails only when the directory
  // cannot be read; problems inside it are in problems().
  static Result<std::shared_ptr<const KnowledgeBase>> LoadDirectory(const std::string& directory);

  // The knowledge base compiled into the binary (knowledge/ at build time).
  static std::shared_ptr<const KnowledgeBase> Embedded();

  // Loads from YAML trees already parsed (named "knowledge/x.yaml"), plus
  // files still to parse. Never fails: problems are in problems().
  static std::shared_ptr<const KnowledgeBase> LoadTrees(
      const std::vector<std::pair<std::string, YamlTree>>& trees, const std::vector<SourceFile>& files);

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& title() const { return title_; }
  const std::string& description() const { return description_; }

  // Every problem found while loading and checking, in file order.
  const std::vector<Problem>& problems() const { return problems_; }
  // True iff there is no problem: the knowledge base may assess patients.
  bool usable() const { return problems_.empty(); }

  const std::vector<Citation>& citations() const { return citations_; }
  const std::vector<Parameter>& parameters() const { return parameters_; }
  const std::vector<ValueSet>& valuesets() const { return valuesets_; }
  // Definitions in dependency order (a definition comes after those it uses).
  const std::vector<Definition>& definitions() const { return definitions_; }
  const std::vector<RedFlag>& red_flags() const { return red_flags_; }
  const std::vector<Contraindication>& contraindications() const { return contraindications_; }
  const std::vector<Condition>& conditions() const { return conditions_; }
  const std::vector<Option>& options() const { return options_; }
  const std::vector<MedicationHold>& medication_holds() const { return medication_holds_; }
  const std::vector<Instrument>& instruments() const { return instruments_; }
  const std::vector<StageRule>& stage_rules() const { return stage_rules_; }
  const std::optional<BleedingRiskEscalation>& bleeding_risk_escalation() const { return bleeding_risk_escalation_; }

  // Lookups by id; nullptr when absent.
  const Citation* FindCitation(std::string_view id) const;
  const Parameter* FindParameter(std::string_view id) const;
  const ValueSet* FindValueSet(std::string_view id) const;
  const Definition* FindDefinition(std::string_view id) const;
  const Option* FindOption(std::string_view id) const;
  const Condition* FindCondition(std::string_view id) const;
  const Instrument* FindInstrument(std::string_view id) const;

  // memberOf() for the knowledge base's value sets (by id or canonical URL):
  // codes (with prefix matching) and names in display/text.
  const fhirpath::Terminology& terminology() const { return *terminology_; }

 private:
  friend class Loader;
  KnowledgeBase() = default;

  std::string name_;
  std::string version_;
  std::string title_;
  std::string description_;
  std::vector<Problem> problems_;
  std::vector<Citation> citations_;
  std::vector<Parameter> parameters_;
  std::vector<ValueSet> valuesets_;
  std::vector<Definition> definitions_;
  std::vector<RedFlag> red_flags_;
  std::vector<Contraindication> contraindications_;
  std::vector<Condition> conditions_;
  std::vector<Option> options_;
  std::vector<MedicationHold> medication_holds_;
  std::vector<Instrument> instruments_;
  std::vector<StageRule> stage_rules_;
  std::optional<BleedingRiskEscalation> bleeding_risk_escalation_;
  std::unique_ptr<fhirpath::Terminology> terminology_;

  // Positions by id of the definitions and options (looked up for every
  // definition an assessment evaluates), built once the loader has put them
  // in their final order; until then lookups scan.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>()(id); }
  };
  using IdIndex = std::unordered_map<std::string, size_t, IdHash, std::equal_to<>>;
  void IndexIds();
  IdIndex definition_index_;
  IdIndex option_index_;
};

// The canonical URL of a knowledge-base value set.
std::string ValueSetUrl(std::string_view id);

// Expands a system alias (sct, icd10cm, loinc, rxnorm, cpt, hcpcs, ucum) to its
// canonical URL; other text is returned unchanged.
std::string CanonicalSystem(std::string_view system);

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_KNOWLEDGE_BASE_H_
