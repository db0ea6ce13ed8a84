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
  // The data is in the record but cannot be read (a quantity whose unit does
  // not convert): when the definition `unreadable_when` finds a value, the
  // item is `<id>-unreadable`, shown as `unreadable_display` and proposed as
  // the next step `unreadable_step` ({value}: what that definition found;
  // {missing}: the display). Empty: no such case.
  std::string unreadable_when;
  std::string unreadable_display;
  std::string unreadable_step;
};

// A criterion that is known and false says why as a next step of its
// condition when it decides the condition's stage (e.g. a block whose relief
// is below the threshold). With `when` (a definition), only when that
// definition finds something, and {data} is what it found; without, {data} is
// the criterion's data. Each datum reads "display value, date". `step` may
// also hold {<parameter id>} (the parameter's value with unit).
struct NotMetStep {
  std::string when;  // empty: always
  std::string kind;  // a next-step kind (pathway next_step_order)
  std::string step;
};

struct Definition {
  std::string id;
  DefinitionScope scope = DefinitionScope::kPatient;
  std::string expression;
  std::optional<MissingData> missing_data;
  // Tried in order: the first whose `when` finds something (or has none)
  // gives the step (e.g. relief below the threshold; else too few blocks).
  std::vector<NotMetStep> not_met;
  std::string note;
  // The data definition whose resources are this criterion's evidence (the
  // CQL habit: a data definition plus a test); empty: its own resources, or
  // those of the definitions it uses.
  std::string evidence;
  SourceLocation location;
  // Filled by Load when the expression compiles.
  std::optional<fhirpath::CompiledExpression> compiled;
  // Definitions and parameters it refers to (%`name`).
  std::vector<std::string> uses;
  // The definitions among `uses`, as positions in KnowledgeBase::definitions()
  // (filled once the loader has put the definitions in their final order).
  std::vector<size_t> used_definitions;
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
  // The value set whose first code orders it (a draft ServiceRequest); empty:
  // the value set with the option's id, when there is one.
  std::string order;
  // In chronic pain, a next step only once one of these options was tried for
  // the condition (ACP 2017's order: non-drug care, then NSAIDs, then
  // tramadol or duloxetine, opioids last). Empty: no order.
  std::vector<std::string> chronic_after;
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
  // Facts of the condition a criterion role may read (`localized`).
  std::map<std::string, bool, std::less<>> facts;
  std::vector<std::string> first_line;
  // The definitions bound to the criterion roles the pathway marks
  // bound_by_condition: role id -> definition id (conventional-trial, ...).
  std::map<std::string, std::string, std::less<>> roles;
  std::vector<std::string> diagnostics;
  std::vector<std::string> regenerative;
  std::vector<std::string> integrative;
  std::vector<std::string> referral;
  std::vector<std::string> sources;
  std::string note;
  // The heading when the condition is known not to be chronic (acute or
  // subacute); empty: `display` in every phase.
  std::string display_not_chronic;
  std::string display_chronic;  // the heading when chronic; empty: `display`
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
  // Holds that replace `holds` when the patient's context says so (aspirin
  // for secondary prevention; dabigatran with renal impairment): the first
  // context whose patient-scope definition finds data applies.
  struct Context {
    std::string when;                   // patient-scope definition id
    std::map<std::string, Hold> holds;  // by category; a category not listed keeps `holds`
    std::string warning;                // added to the note (whom to consult)
    std::vector<std::string> sources;
    Confidence confidence = Confidence::kU;
  };
  std::vector<Context> contexts;
  // A definition whose data must be in the record before the procedure while
  // the drug is held (warfarin: the latest INR); empty: none.
  std::string check;
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
  // The definition finding this instrument's scores in the record, oldest
  // first (its last one is the baseline before a procedure); empty when the
  // knowledge base has no code to look for it with (WOMAC, KOOS, PGIC).
  std::string baseline;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  SourceLocation location;
};

// ASRA 2018: patients at higher bleeding risk (several antithrombotics, old
// age, renal or liver disease) move up `steps` procedure categories along
// PathwaySettings::bleeding_risk_ladder.
struct BleedingRiskEscalation {
  std::string definition;  // patient-scope criterion
  std::string display;
  int steps = 1;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  SourceLocation location;
};

// How the extra hold an option asks for (procedure.platelet_function_holds:
// the PRP platelet-function hold) merges with the bleeding-risk hold
// (medication-holds.yaml `hold_merge`): the longer of the two days, and,
// when `shared_decision_replaces_no_hold`, an extra "shared decision" (null
// days) replaces a "no hold" (0 days).
struct HoldMerge {
  std::string category;  // the extra hold's key in MedicationHold::holds
  bool shared_decision_replaces_no_hold = true;
  std::vector<std::string> sources;
  Confidence confidence = Confidence::kU;
  std::string note;
  SourceLocation location;
};

// A three-valued condition over criteria (stage rules).
struct RuleExpr {
  enum class Kind { kCriterion, kNot, kAll, kAny, kAlways };
  Kind kind = Kind::kAlways;
  std::string criterion;
  std::vector<RuleExpr> operands;
};

// A stage of the pathway (pathway.yaml `stages`), in the order the rules are
// checked. A stage without `when` is never the result of a rule (the
// fallback stage).
struct Stage {
  std::string id;
  std::string display;
  std::string title;
  std::string heading;
  std::string summary;            // may hold {open}: the options to discuss
  std::string summary_none_open;  // when no regenerative option is open
  std::string order_headline;     // an order review's headline for an order at this stage
  std::string indicator;          // info | warning | critical
  int priority = 0;               // lower wins for the overall stage
  bool offers_regenerative = false;
  std::optional<RuleExpr> when;
  bool apply_on_unknown = false;
  std::string note;
  SourceLocation location;
};

// What a criterion id of the stage rules means (pathway.yaml
// `criterion_roles`). Exactly one of `definition`, `bound_by_condition`,
// `condition_fact` says where its value comes from.
struct CriterionRole {
  std::string id;
  std::string display;
  std::string definition;      // a definition (patient or condition scope)
  bool bound_by_condition = false;  // the definition the condition's `roles` names
  std::string condition_fact;  // a fact of the condition (Condition::facts)
  bool always_report = false;  // reported for every condition, also when no rule needed it
  // When bound_by_condition and the condition names none.
  bool unbound_met = true;
  std::string unbound_display;
  SourceLocation location;
};

// How an option's status follows from the stage and contraindications.
struct StatusRule {
  enum class When { kContraindication, kCriterion, kStage, kStageNot };
  std::vector<std::string> applies_to;  // option categories, or "injection"
  When when = When::kCriterion;
  std::string when_value;  // absolute | relative, a role id, a stage id
  std::string status;      // a status, or "lower" (one step on the status ladder)
  std::string reason;      // may hold {stage}, {rationale}
  SourceLocation location;
};

// Which options become next steps.
struct NextStepRule {
  std::vector<std::string> categories;
  std::string stage;  // empty: any stage
  bool not_done = false;
  std::vector<std::string> status;      // empty: any
  std::vector<std::string> status_not;  // excluded statuses
  // True: only options that have criteria, all of them met (e.g. RF
  // denervation after a positive medial branch block).
  bool criteria_met = false;
  // When true, an option with a criterion of its own that is not met (false
  // or unknown) does not match (radiofrequency denervation before a positive
  // medial branch block is no conventional next step).
  bool no_unmet_criteria = false;
  std::string kind;
  std::string text;  // may hold {option}, {status}
  SourceLocation location;
};

struct StepTemplate {
  std::string kind;
  std::string text;
  // The option this step stands for (its own next step is not added again).
  std::string option;
  // When true, this step is the only next step (red flags: the urgent
  // evaluation, stated once).
  bool only = false;
};

// The words of a condition's "why" sentence for one criterion of the stage
// rules, per state; {data} is the criterion's data, {since} the date of its
// first datum, {type} that datum's resource type, {condition} the
// condition's name. An empty state leaves the criterion out.
struct WhyWords {
  std::string criterion;
  std::string met;
  std::string not_met;
  std::string unknown;
};

// How a follow-up instrument's baseline is judged before a procedure: its
// latest score counts when taken within the `window` parameter (days)
// before the planned procedure date (or the assessment date); the flags'
// words ({instrument}, {date}, {value}, {window}).
struct BaselineWords {
  std::string window;       // parameter id
  std::string missing;      // no score in the record
  std::string outdated;     // the latest score is older than the window
  std::string not_looked_for;  // the instrument has no baseline definition
  // A missing or outdated baseline of an open option as missing data ({id}:
  // the instrument's id) with its next step; empty: a flag only.
  std::string missing_id;
  std::string missing_display;
  std::string missing_step;   // no score in the record
  std::string outdated_step;  // the latest score is older than the window
};

// How a next step with no code of its own is ordered as a referral
// (pathway.yaml `referral_order`): a draft ServiceRequest whose category is
// the first concept of the value set `category` and whose code.text and
// suggestion label fill `text` and `label` ({option}: the option's display).
struct ReferralOrder {
  std::vector<std::string> kinds;  // next-step kinds ordered this way
  std::string category;            // value set id
  std::string text;
  std::string label;
};

// The pathway's settings (pathway.yaml `pathway`).
struct PathwaySettings {
  std::vector<std::string> status_ladder;
  // Next-step kinds in the order the next steps are listed (safety, then
  // diagnostics, then treatment); kinds not listed keep their place at the end.
  std::vector<std::string> next_step_order;
  std::vector<std::string> bleeding_risk_ladder;
  std::string fallback_stage;
  std::string chronic_criterion;  // the role whose value is a condition's `chronic`
  std::string deceased_stage;
  std::string deceased_reason;  // may hold {on}
  std::string no_condition_reason;
  StepTemplate red_flag_step;      // {red_flags}
  StepTemplate missing_data_step;  // {missing}
  std::string state_met;
  std::string state_not_met;
  std::string state_unknown;
  std::string no_data;
  // The condition's "why" sentence (cards, report): the stage's title, then
  // these criteria in this order, each in its words.
  std::vector<WhyWords> why;
  std::string why_data_more;  // after the data shown: " (+{n} more)"
  // A criterion's words for a data issue of a resource it read but left out
  // ({issue}, {resource}); empty: such issues are not attached.
  std::string issue_not_counted;
  BaselineWords baseline;
  ReferralOrder referral_order;  // empty kinds: referrals are not ordered
  SourceLocation location;
};

// One field of a datum view: FHIRPath alternatives on the resource, tried in
// order; the first that yields text gives the field.
struct DatumField {
  std::vector<std::string> expressions;
  std::vector<fhirpath::CompiledExpression> compiled;  // filled by Load
};

// How a record resource is shown as a datum (datum-views.yaml).
struct DatumView {
  std::string type;  // resource type; "Resource" is the fallback
  DatumField display;
  DatumField date;
  DatumField value;
  // Optional: the resource's code as "system|code" (no expressions: none).
  // Read only where a next step names a code (the red-flag step).
  DatumField code;
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
  // files still to parse. Never fails: problems are in problems(). The
  // trees are not checked for control characters (kb_embed checks the
  // built-in ones at build time); the files are, as LoadDirectory's.
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
  // The pathway's stages in rule order, criterion roles, status and
  // next-step rules and settings (pathway.yaml).
  const std::vector<Stage>& stages() const { return stages_; }
  const std::vector<CriterionRole>& criterion_roles() const { return criterion_roles_; }
  const std::vector<StatusRule>& status_rules() const { return status_rules_; }
  const std::vector<NextStepRule>& next_step_rules() const { return next_step_rules_; }
  const PathwaySettings& pathway() const { return pathway_; }
  const std::vector<DatumView>& datum_views() const { return datum_views_; }
  const std::optional<BleedingRiskEscalation>& bleeding_risk_escalation() const { return bleeding_risk_escalation_; }
  const HoldMerge& hold_merge() const { return hold_merge_; }

  // Lookups by id; nullptr when absent.
  const Citation* FindCitation(std::string_view id) const;
  const Parameter* FindParameter(std::string_view id) const;
  const ValueSet* FindValueSet(std::string_view id) const;
  const Definition* FindDefinition(std::string_view id) const;
  // `definition` (one of definitions()) first, then every definition it
  // uses, directly or through others, each once, depth first (the last used
  // first).
  std::vector<const Definition*> WithDependencies(const Definition& definition) const;
  // The position of `definition` (one of definitions()) in definitions().
  size_t IndexOf(const Definition& definition) const {
    return static_cast<size_t>(&definition - definitions_.data());
  }
  // A parameter's value as the %`id` variable of definitions: a Decimal, or
  // a Quantity in its unit (nullptr when there is no such parameter).
  const fhirpath::Collection* ParameterVariable(std::string_view id) const;
  const Option* FindOption(std::string_view id) const;
  const Condition* FindCondition(std::string_view id) const;
  const Instrument* FindInstrument(std::string_view id) const;
  const Stage* FindStage(std::string_view id) const;
  const CriterionRole* FindCriterionRole(std::string_view id) const;
  // The datum view of a resource type (the `Resource` fallback when the type
  // has none; nullptr when there is no fallback either).
  const DatumView* FindDatumView(std::string_view type) const;

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
  std::vector<Stage> stages_;
  std::vector<CriterionRole> criterion_roles_;
  std::vector<StatusRule> status_rules_;
  std::vector<NextStepRule> next_step_rules_;
  PathwaySettings pathway_;
  bool saw_pathway_ = false;
  std::vector<DatumView> datum_views_;
  std::optional<BleedingRiskEscalation> bleeding_risk_escalation_;
  HoldMerge hold_merge_;
  bool saw_hold_merge_ = false;
  std::unique_ptr<fhirpath::Terminology> terminology_;

  // Positions by id of the definitions, options, citations, parameters and
  // value sets (looked up for every definition and option an assessment
  // evaluates), built once the loader has put them in their final order;
  // until then lookups scan.
  // Ids are looked up tens of thousands of times per assessment: the hash
  // reads the length and three 8-byte words (first, middle, last) instead of
  // every byte; ids that share all three still differ in the equality test.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const;
  };
  using IdIndex = std::unordered_map<std::string, size_t, IdHash, std::equal_to<>>;
  // Builds the indexes above, Definition::used_definitions and the
  // parameters' variables.
  void IndexIds();
  IdIndex definition_index_;
  IdIndex option_index_;
  IdIndex citation_index_;
  IdIndex parameter_index_;
  IdIndex valueset_index_;
  // ParameterVariable's values, by parameter position.
  std::vector<fhirpath::Collection> parameter_variables_;
};

// The canonical URL of a knowledge-base value set.
std::string ValueSetUrl(std::string_view id);

// Expands a system alias (sct, icd10cm, loinc, rxnorm, cpt, hcpcs, ucum) to its
// canonical URL; other text is returned unchanged.
std::string CanonicalSystem(std::string_view system);

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_KNOWLEDGE_BASE_H_
