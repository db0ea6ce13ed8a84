// The only knowledge file that includes Boost.JSON. The mapping is
// documented in docs/knowledge-base.md ("FHIR export"); the comments here say
// why each choice was made.
#include "knowledge/fhir_export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <set>

#include "fhir/fhir_id.h"

namespace regenpath::knowledge {

namespace json = boost::json;

using fhir::IsFhirId;

namespace {

constexpr std::string_view kBaseUrl = "http://regenpath.org/fhir/";

// Extensions defined by regenpath (their StructureDefinitions are not part of
// the export; the URLs identify them).
constexpr std::string_view kConfidenceExtension = "http://regenpath.org/fhir/StructureDefinition/confidence";
constexpr std::string_view kTextMatchExtension =
    "http://regenpath.org/fhir/StructureDefinition/valueset-text-match";
constexpr std::string_view kDisplayExtension = "http://regenpath.org/fhir/StructureDefinition/display";
constexpr std::string_view kNoteExtension = "http://regenpath.org/fhir/StructureDefinition/note";
constexpr std::string_view kScopeExtension = "http://regenpath.org/fhir/StructureDefinition/definition-scope";
constexpr std::string_view kMissingDataExtension =
    "http://regenpath.org/fhir/StructureDefinition/missing-data";
constexpr std::string_view kParameterValueExtension =
    "http://regenpath.org/fhir/StructureDefinition/parameter-value";
constexpr std::string_view kDirectionExtension =
    "http://regenpath.org/fhir/StructureDefinition/evidence-direction";
// HL7 extensions: R4 core (cqf-*) and the CPG implementation guide.
constexpr std::string_view kStrengthExtension =
    "http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation";
constexpr std::string_view kQualityExtension =
    "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence";
constexpr std::string_view kCitationExtension = "http://hl7.org/fhir/StructureDefinition/cqf-citation";
constexpr std::string_view kRationaleExtension =
    "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale";
// Code systems of the knowledge base's own enumerations (identifiers only).
constexpr std::string_view kStatusSystem = "http://regenpath.org/fhir/CodeSystem/recommendation-status";
constexpr std::string_view kStageSystem = "http://regenpath.org/fhir/CodeSystem/stage";
constexpr std::string_view kCategorySystem = "http://regenpath.org/fhir/CodeSystem/option-category";
constexpr std::string_view kTherapySystem = "http://regenpath.org/fhir/CodeSystem/therapy";
constexpr std::string_view kContraindicationSystem =
    "http://regenpath.org/fhir/CodeSystem/contraindication-kind";
constexpr std::string_view kMissingDataSystem = "http://regenpath.org/fhir/CodeSystem/missing-data";

constexpr std::string_view kFhirPath = "text/fhirpath";

// ---------------------------------------------------------------------------
// Text

// Whitespace other than space, tab, CR and LF: JSON Schema's \s (ECMA-262,
// Unicode-aware) matches it, so FHIR's string pattern ^[ \r\n\t\S]+$ rejects
// it. Returns its length in bytes at `text[at]`, 0 when there is none.
size_t OddWhitespaceAt(std::string_view text, size_t at) {
  const auto byte = [&](size_t offset) -> unsigned char {
    return at + offset < text.size() ? static_cast<unsigned char>(text[at + offset]) : 0;
  };
  unsigned char first = byte(0);
  if (first == 0x0B || first == 0x0C || (first >= 0x1C && first <= 0x1F)) return 1;
  if (first == 0xC2 && (byte(1) == 0x85 || byte(1) == 0xA0)) return 2;  // U+0085, U+00A0
  if (first == 0xE1 && byte(1) == 0x9A && byte(2) == 0x80) return 3;    // U+1680
  if (first == 0xE2 && byte(1) == 0x80) {
    unsigned char last = byte(2);  // U+2000..U+200A, U+2028, U+2029, U+202F
    if ((last >= 0x80 && last <= 0x8A) || last == 0xA8 || last == 0xA9 || last == 0xAF) return 3;
  }
  if (first == 0xE2 && byte(1) == 0x81 && byte(2) == 0x9F) return 3;  // U+205F
  if (first == 0xE3 && byte(1) == 0x80 && byte(2) == 0x80) return 3;  // U+3000
  return 0;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Without leading and trailing whitespace (YAML folded scalars end with a
// newline).
std::string Trim(std::string_view text) {
  size_t begin = 0;
  while (begin < text.size() && IsSpace(text[begin])) ++begin;
  size_t end = text.size();
  while (end > begin && IsSpace(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

// The text as a FHIR string: odd whitespace (no-break and thin spaces) becomes
// a space, and leading/trailing whitespace is dropped.
std::string Clean(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    size_t odd = OddWhitespaceAt(text, at);
    if (odd > 0) {
      out += ' ';
      at += odd;
    } else {
      out += text[at++];
    }
  }
  return Trim(out);
}

// FHIR code: no leading or trailing whitespace, single spaces inside.
bool IsFhirCode(std::string_view code) {
  if (code.empty() || code.front() == ' ' || code.back() == ' ') return false;
  for (size_t at = 0; at < code.size(); ++at) {
    unsigned char c = static_cast<unsigned char>(code[at]);
    if (c == '\t' || c == '\r' || c == '\n' || OddWhitespaceAt(code, at) > 0) return false;
    if (c == ' ' && code[at + 1] == ' ') return false;
  }
  return true;
}

bool HasWhitespace(std::string_view text) {
  for (size_t at = 0; at < text.size(); ++at) {
    if (std::isspace(static_cast<unsigned char>(text[at])) || OddWhitespaceAt(text, at) > 0) return true;
  }
  return false;
}

std::string Url(std::string_view resource_type, std::string_view id) {
  return fmt::format("{}{}/{}", kBaseUrl, resource_type, id);
}

// A computable name (FHIR inv-0: [A-Z]([A-Za-z0-9_]){0,254}) from a kebab id.
std::string ComputableName(std::string_view id) {
  std::string name;
  bool upper = true;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  if (name.empty() || !std::isupper(static_cast<unsigned char>(name.front()))) name = "Kb" + name;
  return name.substr(0, 255);
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t at = 0;
  for (; at + 2 < bytes.size(); at += 3) {
    uint32_t chunk = (static_cast<unsigned char>(bytes[at]) << 16) |
                     (static_cast<unsigned char>(bytes[at + 1]) << 8) |
                     static_cast<unsigned char>(bytes[at + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += kAlphabet[(chunk >> 6) & 63];
    out += kAlphabet[chunk & 63];
  }
  if (at < bytes.size()) {
    uint32_t chunk = static_cast<unsigned char>(bytes[at]) << 16;
    if (at + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[at + 1]) << 8;
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += at + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string Joined(const std::vector<std::string>& items, std::string_view separator = ", ") {
  return fmt::format("{}", fmt::join(items, separator));
}

std::string Number(double value) { return fmt::format("{}", value); }

std::string ConfidenceText(Confidence confidence) {
  return confidence == Confidence::kU ? "confidence U: unverified"
                                      : fmt::format("confidence {}", ConfidenceName(confidence));
}

// A prefix code as a FHIR regex filter value: the code, escaped, then ".*".
// FHIR's `regex` operator matches the whole property value (XML Schema regex
// semantics), so there is no anchor.
std::string PrefixRegex(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out + ".*";
}

bool IsCalendarUnit(std::string_view unit) {
  static constexpr std::string_view kUnits[] = {
      "year", "years", "month",  "months",  "week",   "weeks",   "day",         "days",
      "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  return std::find(std::begin(kUnits), std::end(kUnits), unit) != std::end(kUnits);
}

// ---------------------------------------------------------------------------
// JSON

// Pretty-printed with two-space indentation, members in insertion order (the
// FHIR element order), decimals without exponent where possible (Boost's
// serializer writes 3.5 as 3.5E0).
void WriteJson(const json::value& value, int depth, std::string& out) {
  const auto indent = [&](int level) { out.append(static_cast<size_t>(2 * level), ' '); };
  switch (value.kind()) {
    case json::kind::object: {
      const json::object& object = value.get_object();
      if (object.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const json::key_value_pair& member : object) {
        if (!first) out += ",\n";
        first = false;
        indent(depth + 1);
        out += json::serialize(member.key());
        out += ": ";
        WriteJson(member.value(), depth + 1, out);
      }
      out += "\n";
      indent(depth);
      out += "}";
      return;
    }
    case json::kind::array: {
      const json::array& array = value.get_array();
      if (array.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (size_t index = 0; index < array.size(); ++index) {
        if (index > 0) out += ",\n";
        indent(depth + 1);
        WriteJson(array[index], depth + 1, out);
      }
      out += "\n";
      indent(depth);
      out += "]";
      return;
    }
    case json::kind::string:
      out += json::serialize(value.get_string());
      return;
    case json::kind::int64:
      out += std::to_string(value.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(value.get_uint64());
      return;
    case json::kind::double_:
      out += Number(value.get_double());
      return;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case json::kind::null:
      out += "null";
      return;
  }
}

json::value DecimalJson(const Decimal& value) {
  if (value.IsIntegral()) {
    std::optional<int64_t> integer = value.ToInt64();
    if (integer) return *integer;
  }
  return value.ToDouble();
}

// Sets `key` to the cleaned text; an empty text is left out (FHIR strings
// have at least one character).
void Put(json::object& object, std::string_view key, std::string_view text) {
  std::string clean = Clean(text);
  if (!clean.empty()) object[key] = std::move(clean);
}

// A JSON string (std::string converts to json::value only through string_view).
json::value Text(std::string_view text) { return json::value(json::string_view(text.data(), text.size())); }

json::object Extension(std::string_view url, std::string_view value_key, json::value value) {
  json::object extension;
  extension["url"] = url;
  extension[value_key] = std::move(value);
  return extension;
}

json::object ConfidenceExtension(Confidence confidence) {
  return Extension(kConfidenceExtension, "valueCode", Text(ConfidenceName(confidence)));
}

json::object Coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  json::object coding;
  coding["system"] = system;
  coding["code"] = code;
  Put(coding, "display", display);
  return coding;
}

json::object CodeableConcept(json::object coding, std::string_view text = {}) {
  json::object concept_json;
  concept_json["coding"] = json::array{std::move(coding)};
  Put(concept_json, "text", text);
  return concept_json;
}

json::object TextConcept(std::string_view text) {
  json::object concept_json;
  Put(concept_json, "text", text);
  return concept_json;
}

json::object Expression(std::string_view description, std::string expression) {
  json::object object;
  Put(object, "description", description);
  object["language"] = kFhirPath;
  object["expression"] = std::move(expression);
  return object;
}

// PlanDefinition.action.condition: kind applicability | start | stop.
json::object ActionCondition(std::string_view kind, std::string_view description, std::string expression) {
  json::object condition;
  condition["kind"] = kind;
  condition["expression"] = Expression(description, std::move(expression));
  return condition;
}

std::string StatusDisplay(std::string_view status) {
  if (status == "recommended") return "Recommended";
  if (status == "consider") return "Consider";
  if (status == "not-recommended") return "Not recommended";
  return std::string(status);
}

std::string RuleText(const RuleExpr& rule) {
  std::vector<std::string> operands;
  for (const RuleExpr& operand : rule.operands) operands.push_back(RuleText(operand));
  switch (rule.kind) {
    case RuleExpr::Kind::kAlways:
      return "always";
    case RuleExpr::Kind::kCriterion:
      return rule.criterion;
    case RuleExpr::Kind::kNot:
      return fmt::format("not {}", operands.empty() ? "?" : operands.front());
    case RuleExpr::Kind::kAll:
      return fmt::format("all({})", Joined(operands));
    case RuleExpr::Kind::kAny:
      return fmt::format("any({})", Joined(operands));
  }
  return "";
}

// ---------------------------------------------------------------------------
// The export

class Exporter {
 public:
  explicit Exporter(const KnowledgeBase& kb) : kb_(kb) {}

  Result<std::vector<ExportedResource>> Run() {
    CheckId("knowledge base name", kb_.name());
    for (const Option& option : kb_.options()) CheckId("option", option.id);
    for (const ValueSet& value_set : kb_.valuesets()) CheckId("value set", value_set.id);
    if (!status_.ok()) return Fail(status_);

    std::vector<ExportedResource> resources;
    Add("PlanDefinition", kb_.name(), PlanDefinition(), resources);
    Add("Library", kb_.name(), Library(), resources);
    Add("Measure", kb_.name(), Measure(), resources);
    for (const Option& option : kb_.options())
      Add("ActivityDefinition", option.id, ActivityDefinition(option), resources);
    for (const ValueSet& value_set : kb_.valuesets())
      Add("ValueSet", value_set.id, ValueSetResource(value_set), resources);
    if (!status_.ok()) return Fail(status_);
    return resources;
  }

 private:
  void CheckId(std::string_view what, std::string_view id) {
    if (status_.ok() && !IsFhirId(id)) {
      status_ =
          InvalidInput(fmt::format("{} '{}' is not a valid FHIR id ([A-Za-z0-9\\-.]{{1,64}})", what, id));
    }
  }

  // A value for an element of type code; records a failure when invalid.
  std::string Code(std::string_view what, std::string_view code) const {
    if (status_.ok() && !IsFhirCode(code)) {
      status_ = InvalidInput(fmt::format("{} '{}' is not a valid FHIR code", what, code));
    }
    return std::string(code);
  }

  static void Add(std::string_view type, std::string_view id, const json::object& resource,
                  std::vector<ExportedResource>& resources) {
    ExportedResource exported;
    exported.resource_type = type;
    exported.id = id;
    exported.file_name = fmt::format("{}-{}.json", type, id);
    WriteJson(resource, 0, exported.json);
    exported.json += "\n";
    resources.push_back(std::move(exported));
  }

  // Common metadata of a knowledge artifact, in FHIR element order.
  json::object Artifact(std::string_view type, std::string_view id, json::array extensions) const {
    json::object resource;
    resource["resourceType"] = type;
    resource["id"] = id;
    if (!extensions.empty()) resource["extension"] = std::move(extensions);
    resource["url"] = Url(type, id);
    resource["version"] = kb_.version();
    resource["name"] = ComputableName(id);
    return resource;
  }

  // ----- citations

  std::string CitationUrl(const Citation& citation) const {
    std::string url = citation.url;
    if (url.empty() && !citation.doi.empty()) {
      url = citation.doi.rfind("http", 0) == 0 ? citation.doi : "https://doi.org/" + citation.doi;
    }
    // A url element may not contain whitespace; such a link is left out.
    return HasWhitespace(url) ? "" : url;
  }

  std::string CitationText(const Citation& citation) const {
    std::string text = Clean(citation.reference);
    if (!citation.doi.empty() && text.find(citation.doi) == std::string::npos) text += " doi:" + citation.doi;
    return text;
  }

  // A RelatedArtifact citing `citation`: label (its id), what it says, the
  // reference and a link.
  json::object CitationArtifact(const Citation& citation) const {
    json::object artifact;
    artifact["extension"] = json::array{ConfidenceExtension(citation.confidence)};
    artifact["type"] = "citation";
    artifact["label"] = citation.id;
    Put(artifact, "display", citation.says);
    Put(artifact, "citation", CitationText(citation));
    std::string url = CitationUrl(citation);
    if (!url.empty()) artifact["url"] = url;
    return artifact;
  }

  // Inside the PlanDefinition, a link to one of its relatedArtifact
  // citations: the same label, and the url when there is one.
  json::object CitationLink(const Citation& citation, std::string_view display = {},
                            json::array extensions = {}) const {
    json::object artifact;
    if (!extensions.empty()) artifact["extension"] = std::move(extensions);
    artifact["type"] = "citation";
    artifact["label"] = citation.id;
    Put(artifact, "display", display);
    std::string url = CitationUrl(citation);
    if (!url.empty()) artifact["url"] = url;
    return artifact;
  }

  // RelatedArtifacts for citation ids, each once, skipping those in `seen`:
  // links (inside the PlanDefinition) or full citations.
  void AddCitations(const std::vector<std::string>& ids, bool links, std::set<std::string>& seen,
                    json::array& artifacts) const {
    for (const std::string& id : ids) {
      const Citation* citation = kb_.FindCitation(id);
      if (citation == nullptr || !seen.insert(id).second) continue;
      artifacts.push_back(links ? CitationLink(*citation) : CitationArtifact(*citation));
    }
  }

  static json::object DependsOn(const ValueSet& value_set) {
    json::object artifact;
    artifact["type"] = "depends-on";
    Put(artifact, "display", value_set.title);
    artifact["resource"] = value_set.url;
    return artifact;
  }

  json::array Citations(const std::vector<std::string>& ids) const {
    std::set<std::string> seen;
    json::array artifacts;
    AddCitations(ids, false, seen, artifacts);
    return artifacts;
  }

  json::array Links(const std::vector<std::string>& ids) const {
    std::set<std::string> seen;
    json::array artifacts;
    AddCitations(ids, true, seen, artifacts);
    return artifacts;
  }

  // ----- ValueSet

  json::object ValueSetResource(const ValueSet& value_set) {
    json::array extensions{ConfidenceExtension(value_set.confidence)};
    // Records carrying product-level codes are recognized by names in
    // coding.display / text: not expressible in compose, so kept as an
    // extension (and said in the description).
    for (const std::string& name : value_set.text)
      extensions.push_back(Extension(kTextMatchExtension, "valueString", Text(Clean(name))));
    // R4 ValueSet has no relatedArtifact: sources become cqf-citation.
    for (const std::string& id : value_set.sources) {
      const Citation* citation = kb_.FindCitation(id);
      if (citation != nullptr) {
        extensions.push_back(Extension(kCitationExtension, "valueString",
                                       Text(fmt::format("[{}] {}", citation->id, CitationText(*citation)))));
      }
    }
    json::object resource = Artifact("ValueSet", value_set.id, std::move(extensions));
    resource["url"] = value_set.url;
    Put(resource, "title", value_set.title);
    // U (not verified) content is published as draft.
    resource["status"] = value_set.confidence == Confidence::kU ? "draft" : "active";
    std::vector<std::string> description;
    if (!value_set.note.empty()) description.push_back(Clean(value_set.note));
    if (!value_set.text.empty()) {
      description.push_back(
          fmt::format("Also a member: a Coding whose display, or a CodeableConcept whose text, contains "
                      "(ignoring case) one of: {}.",
                      Joined(value_set.text)));
    }
    if (std::any_of(value_set.concepts.begin(), value_set.concepts.end(),
                    [](const Concept& c) { return c.prefix; })) {
      description.push_back(
          "Regex filters on the code stand for every code that starts with the given code.");
    }
    Put(resource, "description", Joined(description, "\n\n"));
    if (!value_set.concepts.empty()) resource["compose"] = Compose(value_set);
    return resource;
  }

  // One include per system with its exact codes, and one include per prefix
  // code (the filters of one include are ANDed, includes are ORed). A prefix
  // is a `regex` filter on the code rather than `concept is-a`: is-a is right
  // only when the prefix is itself a code of the system (ICD-10-CM "M17.1"
  // is, "C" for all malignant neoplasms is not), while the regex states the
  // knowledge base's rule exactly.
  json::object Compose(const ValueSet& value_set) {
    json::array includes;
    std::vector<std::pair<std::string, size_t>> exact_include;  // system -> index in includes
    for (const Concept& concept_entry : value_set.concepts) {
      std::string what = fmt::format("code of value set '{}'", value_set.id);
      if (concept_entry.prefix) {
        json::object filter;
        json::array extensions;
        if (!Clean(concept_entry.display).empty()) {
          extensions.push_back(
              Extension(kDisplayExtension, "valueString", Text(Clean(concept_entry.display))));
        }
        extensions.push_back(ConfidenceExtension(concept_entry.confidence));
        filter["extension"] = std::move(extensions);
        filter["property"] = "code";
        filter["op"] = "regex";
        filter["value"] = PrefixRegex(Code(what, concept_entry.code));
        json::object include;
        include["system"] = concept_entry.system;
        include["filter"] = json::array{std::move(filter)};
        includes.push_back(std::move(include));
        continue;
      }
      auto found = std::find_if(exact_include.begin(), exact_include.end(),
                                [&](const auto& entry) { return entry.first == concept_entry.system; });
      if (found == exact_include.end()) {
        json::object include;
        include["system"] = concept_entry.system;
        include["concept"] = json::array();
        includes.push_back(std::move(include));
        exact_include.emplace_back(concept_entry.system, includes.size() - 1);
        found = exact_include.end() - 1;
      }
      json::object concept_json;
      concept_json["extension"] = json::array{ConfidenceExtension(concept_entry.confidence)};
      concept_json["code"] = Code(what, concept_entry.code);
      Put(concept_json, "display", concept_entry.display);
      includes[found->second].as_object()["concept"].as_array().push_back(std::move(concept_json));
    }
    json::object compose;
    compose["include"] = std::move(includes);
    return compose;
  }

  // ----- Library

  // Definitions say memberOf('<value set id>'); standard FHIRPath takes the
  // value set's canonical URL, which regenpath also accepts, so the exported
  // expressions use the URL. Records the value sets used.
  std::string WithValueSetUrls(std::string_view expression, std::set<std::string>& used) const {
    static constexpr std::string_view kCall = "memberOf(";
    std::string out;
    size_t at = 0;
    while (true) {
      size_t call = expression.find(kCall, at);
      if (call == std::string_view::npos) break;
      size_t quote = call + kCall.size();
      while (quote < expression.size() && expression[quote] == ' ') ++quote;
      size_t close = quote < expression.size() && expression[quote] == '\'' ? expression.find('\'', quote + 1)
                                                                            : std::string_view::npos;
      if (close == std::string_view::npos) {
        out.append(expression.substr(at, quote - at));
        at = quote;
        continue;
      }
      std::string_view name = expression.substr(quote + 1, close - quote - 1);
      const ValueSet* value_set = kb_.FindValueSet(name);
      if (value_set == nullptr) {
        auto by_url = std::find_if(kb_.valuesets().begin(), kb_.valuesets().end(),
                                   [&](const ValueSet& candidate) { return candidate.url == name; });
        if (by_url != kb_.valuesets().end()) value_set = &*by_url;
      }
      out.append(expression.substr(at, quote + 1 - at));
      if (value_set != nullptr) {
        used.insert(value_set->id);
        out += value_set->url;
      } else {
        out.append(name);
      }
      at = close;
    }
    out.append(expression.substr(at));
    return out;
  }

  json::object ParameterDefinition(const Parameter& parameter) {
    json::array extensions;
    if (parameter.unit.empty()) {
      extensions.push_back(Extension(kParameterValueExtension, "valueDecimal", DecimalJson(parameter.value)));
    } else {
      json::object quantity;
      quantity["value"] = DecimalJson(parameter.value);
      quantity["unit"] = parameter.unit;
      // Calendar durations (FHIRPath `3 months`) are not UCUM units ('mo' is
      // a mean month), so they carry no system.
      if (!IsCalendarUnit(parameter.unit)) {
        quantity["system"] = "http://unitsofmeasure.org";
        quantity["code"] = Code(fmt::format("unit of parameter '{}'", parameter.id), parameter.unit);
      }
      extensions.push_back(Extension(kParameterValueExtension, "valueQuantity", std::move(quantity)));
    }
    extensions.push_back(ConfidenceExtension(parameter.confidence));
    json::object definition;
    definition["extension"] = std::move(extensions);
    definition["name"] = Code("parameter id", parameter.id);
    definition["use"] = "in";
    definition["min"] = 0;
    definition["max"] = "1";
    std::string documentation = fmt::format("{}: {} ({}", Clean(parameter.display), parameter.ValueText(),
                                            ConfidenceText(parameter.confidence));
    if (!parameter.sources.empty()) documentation += "; sources: " + Joined(parameter.sources);
    documentation += ").";
    if (!parameter.note.empty()) documentation += " " + Clean(parameter.note);
    Put(definition, "documentation", documentation);
    definition["type"] = parameter.unit.empty() ? "decimal" : "Quantity";
    return definition;
  }

  // One Library for every definition: the definitions form one namespace
  // (they use each other and the parameters as %`name`) and are checked,
  // versioned and evaluated together, like one CQL library; the
  // PlanDefinition names it in `library` and refers to definitions the same
  // way. Content is in dependency order, one text/fhirpath attachment each.
  json::object Library() {
    json::object resource = Artifact("Library", kb_.name(), {});
    Put(resource, "title",
        kb_.title().empty() ? kb_.name() + " definitions" : kb_.title() + " (definitions)");
    resource["status"] = "active";
    resource["type"] = CodeableConcept(
        Coding("http://terminology.hl7.org/CodeSystem/library-type", "logic-library", "Logic Library"));
    Put(resource, "description",
        "The FHIRPath definitions of the care pathway, evaluated on the patient's record as a Bundle (paths "
        "start at "
        "Bundle.entry.resource). A definition refers to other definitions and to the parameters as %`name`; "
        "condition-scoped definitions are evaluated once per in-scope condition with %condition bound to its "
        "Condition resources and %target to its target ids. now() and today() are the assessment date. Each "
        "content "
        "attachment is one definition: its title is the name, its data the base64 expression.");

    std::set<std::string> used_valuesets;
    json::array content;
    for (const Definition& definition : kb_.definitions()) {
      json::array extensions;
      extensions.push_back(
          Extension(kScopeExtension, "valueCode",
                    definition.scope == DefinitionScope::kCondition ? "condition" : "patient"));
      if (definition.missing_data) {
        extensions.push_back(
            Extension(kMissingDataExtension, "valueCoding",
                      Coding(kMissingDataSystem, Code("missing_data id", definition.missing_data->id),
                             definition.missing_data->display)));
      }
      if (!Clean(definition.note).empty())
        extensions.push_back(Extension(kNoteExtension, "valueString", Text(Clean(definition.note))));
      json::object attachment;
      attachment["extension"] = std::move(extensions);
      attachment["contentType"] = kFhirPath;
      // base64Binary has no string pattern: the expression is kept as written
      // (a no-break space in a string literal is part of its meaning).
      attachment["data"] = Base64(Trim(WithValueSetUrls(definition.expression, used_valuesets)));
      attachment["title"] = definition.id;
      content.push_back(std::move(attachment));
    }

    std::vector<std::string> sources;
    for (const Parameter& parameter : kb_.parameters()) {
      sources.insert(sources.end(), parameter.sources.begin(), parameter.sources.end());
    }
    json::array related = Citations(sources);
    for (const ValueSet& value_set : kb_.valuesets()) {
      if (used_valuesets.count(value_set.id) > 0) related.push_back(DependsOn(value_set));
    }
    if (!related.empty()) resource["relatedArtifact"] = std::move(related);
    json::array parameters;
    for (const Parameter& parameter : kb_.parameters()) parameters.push_back(ParameterDefinition(parameter));
    if (!parameters.empty()) resource["parameter"] = std::move(parameters);
    if (!content.empty()) resource["content"] = std::move(content);
    return resource;
  }

  // ----- ActivityDefinition

  // Every source an option refers to, in order of appearance.
  std::vector<std::string> OptionSources(const Option& option) const {
    std::vector<std::string> ids = option.sources;
    for (const Evidence& evidence : option.evidence) ids.push_back(evidence.source);
    if (option.procedure)
      ids.insert(ids.end(), option.procedure->guidance_sources.begin(),
                 option.procedure->guidance_sources.end());
    if (option.follow_up)
      ids.insert(ids.end(), option.follow_up->sources.begin(), option.follow_up->sources.end());
    if (option.cost) ids.insert(ids.end(), option.cost->sources.begin(), option.cost->sources.end());
    return ids;
  }

  std::string DefinitionText(const std::string& id) const {
    const Definition* definition = kb_.FindDefinition(id);
    if (definition == nullptr) return id;
    if (definition->missing_data) return fmt::format("{} ({})", Clean(definition->missing_data->display), id);
    if (!Clean(definition->note).empty()) return fmt::format("{} ({})", Clean(definition->note), id);
    return id;
  }

  // The option's procedure, monitoring, follow-up and cost as markdown.
  std::string Usage(const Option& option) const {
    std::vector<std::string> lines;
    if (option.procedure) {
      const Procedure& procedure = *option.procedure;
      if (!procedure.image_guidance.empty()) {
        std::string line = "- Image guidance: " + Joined(procedure.image_guidance);
        if (!procedure.guidance_sources.empty()) line += " [" + Joined(procedure.guidance_sources) + "]";
        lines.push_back(line);
      }
      if (!procedure.protocol.empty()) {
        lines.push_back(fmt::format("- Protocol: {} ({})", Clean(procedure.protocol),
                                    ConfidenceText(procedure.protocol_confidence)));
      }
      if (!procedure.bleeding_risk.empty()) {
        std::string line = "- Bleeding-risk category: " + procedure.bleeding_risk;
        if (!procedure.bleeding_risk_note.empty()) line += ". " + Clean(procedure.bleeding_risk_note);
        lines.push_back(fmt::format("{} ({})", line, ConfidenceText(procedure.bleeding_risk_confidence)));
      }
      if (procedure.platelet_function_holds)
        lines.push_back("- The medications' platelet-function holds apply.");
      if (!procedure.pre_checks.empty()) {
        std::vector<std::string> checks;
        for (const std::string& id : procedure.pre_checks) checks.push_back(DefinitionText(id));
        lines.push_back("- Before the procedure: " + Joined(checks, "; "));
      }
    }
    if (!option.monitoring.empty()) lines.push_back("- Monitoring: " + Joined(option.monitoring));
    if (option.follow_up && !option.follow_up->instruments.empty()) {
      std::vector<std::string> instruments;
      for (const std::string& id : option.follow_up->instruments) {
        const Instrument* instrument = kb_.FindInstrument(id);
        if (instrument == nullptr) {
          instruments.push_back(id);
        } else if (instrument->loinc.empty()) {
          instruments.push_back(Clean(instrument->display));
        } else {
          instruments.push_back(fmt::format("{} (LOINC {})", Clean(instrument->display), instrument->loinc));
        }
      }
      std::string line = "- Follow-up: " + Joined(instruments);
      if (!option.follow_up->schedule_weeks.empty()) {
        std::vector<std::string> weeks;
        for (double week : option.follow_up->schedule_weeks) weeks.push_back(Number(week));
        line += " at weeks " + Joined(weeks);
      }
      lines.push_back(line);
    }
    if (option.cost) {
      const Cost& cost = *option.cost;
      std::string line = "- Cost:";
      if (cost.usd_low && cost.usd_high) {
        line += fmt::format(" USD {}–{}", Number(*cost.usd_low), Number(*cost.usd_high));
      } else if (cost.usd_low || cost.usd_high) {
        line += fmt::format(" USD {}", Number(cost.usd_low ? *cost.usd_low : *cost.usd_high));
      }
      if (!cost.per.empty()) line += " per " + Clean(cost.per);
      if (!cost.coverage.empty()) line += "; coverage: " + Clean(cost.coverage);
      if (!cost.billing_codes.empty()) line += "; billing codes: " + Joined(cost.billing_codes);
      lines.push_back(fmt::format("{} ({})", line, ConfidenceText(cost.confidence)));
    }
    if (!option.note.empty()) lines.push_back("- Note: " + Clean(option.note));
    return Joined(lines, "\n");
  }

  // Billing codes by their format: CPT is five characters, digits or four
  // digits and F/T/U (categories II, III, PLA); HCPCS Level II a letter and
  // four digits. Others stay in the text.
  static std::string BillingSystem(std::string_view code) {
    const auto digits = [&](size_t from, size_t to) {
      return std::all_of(code.begin() + from, code.begin() + to, [](char c) { return c >= '0' && c <= '9'; });
    };
    if (code.size() != 5) return "";
    if (digits(0, 4) && (std::isdigit(static_cast<unsigned char>(code[4])) || code[4] == 'F' ||
                         code[4] == 'T' || code[4] == 'U')) {
      return CanonicalSystem("cpt");
    }
    if (code[0] >= 'A' && code[0] <= 'V' && digits(1, 5)) return CanonicalSystem("hcpcs");
    return "";
  }

  // kind ServiceRequest for every option: R4 ActivityDefinition.kind must be
  // a request resource type (Procedure is not one), and the knowledge base
  // names no product that a MedicationRequest would need.
  json::object ActivityDefinition(const Option& option) {
    json::object resource =
        Artifact("ActivityDefinition", option.id, json::array{ConfidenceExtension(option.confidence)});
    Put(resource, "title", option.display);
    resource["status"] = option.confidence == Confidence::kU ? "draft" : "active";
    Put(resource, "description", option.summary.empty() ? option.display : option.summary);
    Put(resource, "usage", Usage(option));
    json::array topics;
    topics.push_back(CodeableConcept(Coding(kCategorySystem, Code("option category", option.category))));
    topics.push_back(CodeableConcept(Coding(kTherapySystem, Code("option therapy", option.therapy))));
    resource["topic"] = std::move(topics);
    json::array related = Citations(OptionSources(option));
    if (!related.empty()) resource["relatedArtifact"] = std::move(related);
    resource["kind"] = "ServiceRequest";
    json::object code;
    json::array codings;
    std::vector<std::string> uncoded;
    if (option.cost) {
      for (const std::string& billing : option.cost->billing_codes) {
        std::string system = BillingSystem(billing);
        if (system.empty()) {
          uncoded.push_back(billing);
        } else {
          codings.push_back(Coding(system, billing));
        }
      }
    }
    if (!codings.empty()) code["coding"] = std::move(codings);
    Put(code, "text",
        uncoded.empty() ? option.display : fmt::format("{} (billing: {})", option.display, Joined(uncoded)));
    resource["code"] = std::move(code);
    resource["intent"] = "proposal";
    if (!option.target.empty()) resource["bodySite"] = json::array{TextConcept(option.target)};
    return resource;
  }

  // ----- PlanDefinition

  // A criterion definition as a Boolean, the way the engine reads it: a
  // Boolean is itself, any other result is true when it is not empty. Empty
  // is false, or unknown (empty) when the definition has missing_data.
  std::string Truth(const std::string& definition_id) const {
    std::string name = fmt::format("%`{}`", definition_id);
    const Definition* definition = kb_.FindDefinition(definition_id);
    if (definition != nullptr && definition->missing_data) return fmt::format("({} != false)", name);
    return fmt::format("({0}.exists() and {0} != false)", name);
  }

  // A stage-rule criterion for `condition`: its criterion role (pathway.yaml),
  // else a definition; a role the condition does not bind is what the role's
  // `unbound` says.
  std::string CriterionExpression(const std::string& criterion, const Condition& condition) const {
    std::string definition_id = criterion;
    if (const CriterionRole* role = kb_.FindCriterionRole(criterion)) {
      if (!role->condition_fact.empty()) {
        auto fact = condition.facts.find(role->condition_fact);
        return fact != condition.facts.end() && fact->second ? "true" : "false";
      }
      if (role->bound_by_condition) {
        auto bound = condition.roles.find(role->id);
        if (bound == condition.roles.end()) return role->unbound_met ? "true" : "false";
        definition_id = bound->second;
      } else {
        definition_id = role->definition;
      }
    }
    if (definition_id.empty() || kb_.FindDefinition(definition_id) == nullptr) return "true";
    return Truth(definition_id);
  }

  // `expression`.not(), for an expression that is a literal, parenthesized or
  // ends with a function call (not(not(x)) is x, also when x is empty).
  static std::string Negated(const std::string& expression) {
    static constexpr std::string_view kNot = ".not()";
    if (expression == "true") return "false";
    if (expression == "false") return "true";
    if (expression.size() > kNot.size() &&
        expression.compare(expression.size() - kNot.size(), kNot.size(), kNot) == 0) {
      return expression.substr(0, expression.size() - kNot.size());
    }
    return expression + std::string(kNot);
  }

  // The rule as FHIRPath: every result is a literal, a parenthesized
  // expression or ends with a function call, so `.not()` can follow it.
  // Literal criteria (localized, a criterion the condition does not have)
  // are folded away.
  std::string RuleExpression(const RuleExpr& rule, const Condition& condition) const {
    std::vector<std::string> operands;
    for (const RuleExpr& operand : rule.operands) operands.push_back(RuleExpression(operand, condition));
    const auto combine = [&](std::string_view op, std::string_view unit, std::string_view absorbing) {
      std::vector<std::string> kept;
      for (const std::string& operand : operands) {
        if (operand == absorbing) return std::string(absorbing);
        if (operand != unit) kept.push_back(operand);
      }
      if (kept.empty()) return std::string(unit);
      if (kept.size() == 1) return kept.front();
      return "(" + Joined(kept, fmt::format(" {} ", op)) + ")";
    };
    switch (rule.kind) {
      case RuleExpr::Kind::kAlways:
        return "true";
      case RuleExpr::Kind::kCriterion:
        return CriterionExpression(rule.criterion, condition);
      case RuleExpr::Kind::kNot:
        return Negated(operands.empty() ? "{}" : operands.front());
      case RuleExpr::Kind::kAll:
        return combine("and", "true", "false");
      case RuleExpr::Kind::kAny:
        return combine("or", "false", "true");
    }
    return "{}";
  }

  // Whether the rule applies (or, `negate`, does not), always true or false:
  // when its `when` is unknown (empty) it applies iff on_unknown is apply.
  std::string RuleApplies(const Stage& rule, const Condition& condition, bool negate) const {
    std::string when = RuleExpression(*rule.when, condition);
    if (when == "true" || when == "false") return negate ? Negated(when) : when;
    const char* met = negate ? "false" : "true";
    const char* unmet = negate ? "true" : "false";
    return rule.apply_on_unknown ? fmt::format("iif({}, {}, {})", Negated(when), unmet, met)
                                 : fmt::format("iif({}, {}, {})", when, met, unmet);
  }

  // The pathway's status rules in words, in order ("with an absolute
  // contraindication: contraindicated (an absolute contraindication is
  // present); ...").
  std::string StatusRulesText() const {
    std::vector<std::string> rules;
    for (const StatusRule& rule : kb_.status_rules()) {
      std::string when;
      switch (rule.when) {
        case StatusRule::When::kContraindication:
          when = fmt::format("with a{} {} contraindication", rule.when_value == "absolute" ? "n" : "", rule.when_value);
          break;
        case StatusRule::When::kCriterion:
          when = fmt::format("when {} holds", rule.when_value);
          break;
        case StatusRule::When::kStage:
          when = fmt::format("at stage {}", rule.when_value);
          break;
        case StatusRule::When::kStageNot:
          when = fmt::format("before or outside stage {}", rule.when_value);
          break;
      }
      std::string status = rule.status == "lower" ? "one step lower" : rule.status;
      rules.push_back(fmt::format("{} ({}): {}", when, Joined(rule.applies_to), status));
    }
    return Joined(rules, "; ");
  }

  // The stage rules in order; the first that applies gives the stage, so
  // each rule's action also requires that no earlier rule applies (every
  // condition of an action must hold).
  json::object StageGroup(const Condition& condition) const {
    json::array actions;
    std::vector<std::pair<std::string, std::string>> earlier;  // stage, does not apply
    for (const Stage& rule : kb_.stages()) {
      if (!rule.when) continue;  // the fallback stage
      std::string applies = RuleApplies(rule, condition, false);
      json::array conditions;
      conditions.push_back(
          ActionCondition("applicability",
                          fmt::format("when: {}{}", RuleText(*rule.when),
                                      rule.apply_on_unknown ? " (applies when unknown)" : ""),
                          applies));
      for (const auto& [stage, expression] : earlier) {
        conditions.push_back(
            ActionCondition("applicability", fmt::format("not at the earlier stage {}", stage), expression));
      }
      json::object action;
      action["id"] = fmt::format("{}.stage.{}", condition.id, rule.id);
      action["title"] = fmt::format("Stage: {}", rule.title);
      Put(action, "description", rule.note);
      action["code"] = json::array{CodeableConcept(Coding(kStageSystem, Code("stage", rule.id), rule.display))};
      action["priority"] = rule.indicator == "info" ? "routine" : "urgent";
      action["condition"] = std::move(conditions);
      actions.push_back(std::move(action));
      earlier.emplace_back(rule.id, RuleApplies(rule, condition, true));
    }
    json::object group;
    group["id"] = condition.id + ".stage";
    group["title"] = "Stage";
    group["description"] =
        "The stage rules in order: the first whose criteria hold (or are unknown, when it applies on "
        "unknown) gives "
        "the condition's stage.";
    group["groupingBehavior"] = "logical-group";
    group["selectionBehavior"] = "exactly-one";
    group["action"] = std::move(actions);
    return group;
  }

  json::object OptionAction(const Option& option, const Condition& condition) const {
    json::array extensions;
    extensions.push_back(Extension(
        kStrengthExtension, "valueCodeableConcept",
        CodeableConcept(Coding(kStatusSystem, option.base_status, StatusDisplay(option.base_status)))));
    if (!option.evidence.empty()) {
      // The grading schemes differ per source, so the levels are text, side
      // by side; each documentation entry carries its own.
      std::vector<std::string> levels;
      for (const Evidence& evidence : option.evidence) {
        levels.push_back(evidence.level.empty() ? fmt::format("{}: {}", evidence.source, evidence.direction)
                                                : fmt::format("{}: {} ({})", evidence.source,
                                                              Clean(evidence.level), evidence.direction));
      }
      extensions.push_back(
          Extension(kQualityExtension, "valueCodeableConcept", TextConcept(Joined(levels, "; "))));
    }
    if (!Clean(option.status_rationale).empty()) {
      extensions.push_back(
          Extension(kRationaleExtension, "valueMarkdown", Text(Clean(option.status_rationale))));
    }
    extensions.push_back(ConfidenceExtension(option.confidence));

    json::object action;
    action["id"] = fmt::format("{}.{}", condition.id, option.id);
    action["extension"] = std::move(extensions);
    Put(action, "title", option.display);
    Put(action, "description", option.summary);
    json::array reasons;
    for (const std::string& criterion : option.criteria)
      reasons.push_back(TextConcept(DefinitionText(criterion)));
    if (!reasons.empty()) action["reason"] = std::move(reasons);

    json::array documentation;
    std::set<std::string> seen;
    for (const Evidence& evidence : option.evidence) {
      const Citation* citation = kb_.FindCitation(evidence.source);
      if (citation == nullptr) continue;
      seen.insert(evidence.source);
      json::array evidence_extensions;
      if (!Clean(evidence.level).empty()) {
        evidence_extensions.push_back(
            Extension(kQualityExtension, "valueCodeableConcept", TextConcept(evidence.level)));
      }
      evidence_extensions.push_back(
          Extension(kDirectionExtension, "valueCode", Text(Code("evidence direction", evidence.direction))));
      evidence_extensions.push_back(ConfidenceExtension(evidence.confidence));
      documentation.push_back(CitationLink(*citation, evidence.statement, std::move(evidence_extensions)));
    }
    AddCitations(OptionSources(option), true, seen, documentation);
    if (!documentation.empty()) action["documentation"] = std::move(documentation);

    if (option.follow_up) {
      json::array goals;
      for (const std::string& id : option.follow_up->instruments) {
        if (kb_.FindInstrument(id) != nullptr) goals.push_back(Text("instrument." + id));
      }
      if (!goals.empty()) action["goalId"] = std::move(goals);
    }
    json::array conditions;
    if (!option.when.empty()) {
      conditions.push_back(ActionCondition("applicability",
                                           fmt::format("listed only when {}", DefinitionText(option.when)),
                                           Truth(option.when)));
    }
    if (!option.done.empty()) {
      // Already done or tried: the exit criterion of the action.
      conditions.push_back(ActionCondition(
          "stop", fmt::format("already done or tried: {}", DefinitionText(option.done)), Truth(option.done)));
    }
    if (!conditions.empty()) action["condition"] = std::move(conditions);
    action["definitionCanonical"] = Url("ActivityDefinition", option.id);
    return action;
  }

  json::object OptionGroup(const Condition& condition, std::string_view key, std::string_view title,
                           std::string_view description, const std::vector<std::string>& ids) const {
    json::array actions;
    for (const std::string& id : ids) {
      const Option* option = kb_.FindOption(id);
      if (option != nullptr) actions.push_back(OptionAction(*option, condition));
    }
    json::object group;
    if (actions.empty()) return group;
    group["id"] = fmt::format("{}.{}", condition.id, key);
    group["title"] = title;
    Put(group, "description", description);
    group["groupingBehavior"] = "logical-group";
    group["selectionBehavior"] = "any";
    group["action"] = std::move(actions);
    return group;
  }

  json::object ConditionGroup(const Condition& condition) const {
    const ValueSet* value_set = kb_.FindValueSet(condition.valueset);
    std::string url = value_set != nullptr ? value_set->url : ValueSetUrl(condition.valueset);
    json::object group;
    group["id"] = "condition." + condition.id;
    Put(group, "title", condition.display);
    std::vector<std::string> facts;
    for (const auto& [fact, value] : condition.facts) facts.push_back(fmt::format("{}: {}", fact, value ? "yes" : "no"));
    std::string description = fmt::format("Nature: {}; targets: {}; {}.", condition.nature,
                                          condition.targets.empty() ? "none" : Joined(condition.targets),
                                          facts.empty() ? "no facts" : Joined(facts, "; "));
    if (!condition.note.empty()) description += " " + Clean(condition.note);
    description +=
        " The actions below are evaluated with %condition bound to the patient's matching Condition "
        "resources and "
        "%target to the condition's targets.";
    Put(group, "description", description);
    json::array documentation = Links(condition.sources);
    if (!documentation.empty()) group["documentation"] = std::move(documentation);
    // The engine's matcher for an in-scope condition.
    group["condition"] = json::array{
        ActionCondition("applicability",
                        fmt::format("An active condition in value set {}",
                                    value_set != nullptr ? Clean(value_set->title) : condition.valueset),
                        fmt::format("%`active-conditions`.where(code.memberOf('{}')).exists()", url))};
    group["groupingBehavior"] = "logical-group";
    json::array actions;
    actions.push_back(StageGroup(condition));
    const auto add = [&](json::object option_group) {
      if (!option_group.empty()) actions.push_back(std::move(option_group));
    };
    add(OptionGroup(
        condition, "first-line", "First-line care",
        "Guideline first-line care; an option whose stop condition holds was already done or tried.",
        condition.first_line));
    add(OptionGroup(condition, "diagnostics", "Diagnostic evaluation",
                    "Evaluation that localizes the pain generator before any injection.",
                    condition.diagnostics));
    add(OptionGroup(condition, "regenerative", "Regenerative options",
                    "Always listed with their evidence side by side, including the options advised against. The "
                    "strength of recommendation is the base one, changed by the first status rule that applies: " +
                        StatusRulesText() + ".",
                    condition.regenerative));
    add(OptionGroup(condition, "integrative", "Integrative options", "", condition.integrative));
    add(OptionGroup(condition, "referral", "Referral", "", condition.referral));
    group["action"] = std::move(actions);
    return group;
  }

  json::object RedFlagGroup() const {
    json::array actions;
    for (const RedFlag& flag : kb_.red_flags()) {
      json::object action;
      action["id"] = "red-flag." + flag.id;
      action["extension"] = json::array{ConfidenceExtension(flag.confidence)};
      Put(action, "title", flag.display);
      Put(action, "description", flag.note);
      json::array documentation = Links(flag.sources);
      if (!documentation.empty()) action["documentation"] = std::move(documentation);
      action["condition"] = json::array{ActionCondition(
          "applicability", fmt::format("The record shows {} ({})", Clean(flag.display), flag.definition),
          Truth(flag.definition))};
      actions.push_back(std::move(action));
    }
    json::object group;
    group["id"] = "red-flags";
    group["title"] = "Red flags";
    group["description"] =
        "Findings that send the patient to urgent evaluation: any of them meets the stage-rule criterion "
        "red-flag and "
        "makes every elective injection not recommended.";
    group["groupingBehavior"] = "logical-group";
    group["selectionBehavior"] = "any";
    group["action"] = std::move(actions);
    return group;
  }

  json::object ContraindicationGroup() const {
    json::array actions;
    for (const Contraindication& item : kb_.contraindications()) {
      const bool absolute = item.kind == ContraindicationKind::kAbsolute;
      const Definition* definition = kb_.FindDefinition(item.definition);
      std::string description =
          fmt::format("{} contraindication to {}{}.", absolute ? "Absolute" : "Relative",
                      item.applies_to.empty() ? "every regenerative therapy" : Joined(item.applies_to),
                      item.applies_to_targets.empty() ? "" : " at " + Joined(item.applies_to_targets));
      if (definition != nullptr && definition->scope == DefinitionScope::kCondition) {
        description += " Evaluated for each in-scope condition.";
      }
      if (!item.note.empty()) description += " " + Clean(item.note);
      json::object action;
      action["id"] = "contraindication." + item.id;
      action["extension"] = json::array{ConfidenceExtension(item.confidence)};
      Put(action, "title", item.display);
      Put(action, "description", description);
      action["code"] =
          json::array{CodeableConcept(Coding(kContraindicationSystem, absolute ? "absolute" : "relative"))};
      json::array documentation = Links(item.sources);
      if (!documentation.empty()) action["documentation"] = std::move(documentation);
      action["condition"] = json::array{ActionCondition(
          "applicability", fmt::format("The record shows {} ({})", Clean(item.display), item.definition),
          Truth(item.definition))};
      actions.push_back(std::move(action));
    }
    json::object group;
    group["id"] = "contraindications";
    group["title"] = "Contraindications to regenerative injections";
    group["groupingBehavior"] = "logical-group";
    group["selectionBehavior"] = "any";
    group["action"] = std::move(actions);
    return group;
  }

  json::object MedicationHoldGroup() const {
    json::array actions;
    for (const MedicationHold& hold : kb_.medication_holds()) {
      const ValueSet* value_set = kb_.FindValueSet(hold.valueset);
      std::string url = value_set != nullptr ? value_set->url : ValueSetUrl(hold.valueset);
      std::vector<std::string> parts;
      for (const auto& [category, entry] : hold.holds) {
        std::string when = category == kb_.hold_merge().category
                               ? "procedures that need platelet function"
                               : fmt::format("{} bleeding-risk procedures", category);
        std::string what = "shared decision";
        if (entry.days)
          what = fmt::format("hold {} {} before", Number(*entry.days), *entry.days == 1 ? "day" : "days");
        if (!Clean(entry.note).empty())
          what = entry.days ? what + " (" + Clean(entry.note) + ")" : Clean(entry.note);
        parts.push_back(fmt::format("{}: {}", when, what));
      }
      std::string description =
          fmt::format("{} ({}). {}.", Clean(hold.medication), hold.drug_class, Joined(parts, "; "));
      description[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(description[0])));
      if (hold.restart_hours) {
        description += fmt::format(" Restart {} h after the procedure", Number(*hold.restart_hours));
        if (!hold.restart_note.empty()) description += " (" + Clean(hold.restart_note) + ")";
        description += ".";
      }
      description += fmt::format(" ({})", ConfidenceText(hold.confidence));
      if (!hold.note.empty()) description += " " + Clean(hold.note);
      std::string id = hold.medication;
      std::replace(id.begin(), id.end(), ' ', '-');
      json::object action;
      action["id"] = "medication-hold." + id;
      action["extension"] = json::array{ConfidenceExtension(hold.confidence)};
      action["title"] = fmt::format("Hold {} before an injection", Clean(hold.medication));
      Put(action, "description", description);
      json::array documentation = Links(hold.sources);
      if (!documentation.empty()) action["documentation"] = std::move(documentation);
      // The engine's matcher: medication[x] is a CodeableConcept or a
      // reference to a Medication.
      action["condition"] = json::array{ActionCondition(
          "applicability", fmt::format("The patient takes {}", Clean(hold.medication)),
          fmt::format(
              "%`active-medications`.where(medication.ofType(CodeableConcept).exists(memberOf('{0}')) or "
              "medication.ofType(Reference).resolve().code.exists(memberOf('{0}'))).exists()",
              url))};
      actions.push_back(std::move(action));
    }
    json::object group;
    group["id"] = "medication-holds";
    group["title"] = "Periprocedural medication holds";
    Put(group, "description", HoldPolicyText());
    json::array documentation = Links(HoldPolicySources());
    if (!documentation.empty()) group["documentation"] = std::move(documentation);
    group["groupingBehavior"] = "logical-group";
    group["selectionBehavior"] = "any";
    group["action"] = std::move(actions);
    return group;
  }

  // How the holds are chosen, from the pathway's tables: the bleeding-risk
  // ladder, the escalation along it, and the merge of an option's extra
  // (platelet-function) hold.
  std::string HoldPolicyText() const {
    const PathwaySettings& pathway = kb_.pathway();
    std::string text =
        "For a regenerative injection that is not contraindicated: the holds of the patient's current "
        "antithrombotics and NSAIDs by the procedure's bleeding-risk category (ActivityDefinition.usage).";
    if (!pathway.bleeding_risk_ladder.empty()) {
      text += fmt::format(" Bleeding-risk categories, in increasing risk: {}.", Joined(pathway.bleeding_risk_ladder));
    }
    if (const std::optional<BleedingRiskEscalation>& escalation = kb_.bleeding_risk_escalation()) {
      text += fmt::format(" When {} holds ({}), the procedure moves {} {} up that ladder ({}).", escalation->definition,
                          Clean(escalation->display), escalation->steps, escalation->steps == 1 ? "step" : "steps",
                          ConfidenceText(escalation->confidence));
    }
    const HoldMerge& merge = kb_.hold_merge();
    if (!merge.category.empty()) {
      text += fmt::format(
          " An option that needs platelet function takes, per drug, the longer of its '{}' hold and the hold of "
          "its bleeding-risk category{} ({}).",
          merge.category,
          merge.shared_decision_replaces_no_hold ? "; a shared decision with the prescriber replaces \"no hold\"" : "",
          ConfidenceText(merge.confidence));
    }
    return text;
  }

  std::vector<std::string> HoldPolicySources() const {
    std::vector<std::string> sources;
    const auto add = [&](const std::vector<std::string>& more) {
      for (const std::string& source : more) {
        if (std::find(sources.begin(), sources.end(), source) == sources.end()) sources.push_back(source);
      }
    };
    if (kb_.bleeding_risk_escalation()) add(kb_.bleeding_risk_escalation()->sources);
    add(kb_.hold_merge().sources);
    return sources;
  }

  // The pathway's next-step rules in words, in order ("at stage
  // diagnostic-evaluation, a diagnostic option not yet done and not rated
  // not-recommended or contraindicated: diagnostic step \"{option}\"").
  std::string NextStepRulesText() const {
    std::vector<std::string> rules;
    for (const NextStepRule& rule : kb_.next_step_rules()) {
      std::vector<std::string> when;
      if (!rule.stage.empty()) when.push_back(fmt::format("at stage {}", rule.stage));
      std::vector<std::string> qualifiers;
      if (rule.not_done) qualifiers.push_back("not yet done");
      if (!rule.status.empty()) qualifiers.push_back(fmt::format("rated {}", Joined(rule.status, " or ")));
      if (!rule.status_not.empty()) qualifiers.push_back(fmt::format("not rated {}", Joined(rule.status_not, " or ")));
      std::string option = fmt::format("an option of category {}", Joined(rule.categories, " or "));
      if (!qualifiers.empty()) option += " " + Joined(qualifiers, " and ");
      when.push_back(option);
      rules.push_back(fmt::format("{}: {} step \"{}\"", Joined(when, ", "), rule.kind, Clean(rule.text)));
    }
    return Joined(rules, "; ");
  }

  // The patient-level next steps and the per-option next-step rules, as a
  // group the PlanDefinition's consumers can read (the rules are evaluated
  // over the options' statuses, not over the record, so they are text).
  json::object NextStepGroup() const {
    const PathwaySettings& pathway = kb_.pathway();
    json::array actions;
    const auto step = [&](std::string id, std::string title, std::string description) {
      json::object action;
      action["id"] = std::move(id);
      Put(action, "title", title);
      Put(action, "description", description);
      actions.push_back(std::move(action));
    };
    if (!pathway.red_flag_step.text.empty()) {
      step("next-step.red-flag", "With a red flag",
           fmt::format("{} step: \"{}\"", pathway.red_flag_step.kind,
                       Clean(pathway.red_flag_step.text)));
    }
    if (!pathway.missing_data_step.text.empty()) {
      step("next-step.missing-data", "With missing data",
           fmt::format("{} step: \"{}\"", pathway.missing_data_step.kind, Clean(pathway.missing_data_step.text)));
    }
    json::object group;
    group["id"] = "next-steps";
    group["title"] = "Next steps";
    std::string description = "Next steps per condition, from the options' statuses, in this order: " +
                              NextStepRulesText() + ".";
    if (!pathway.status_ladder.empty()) {
      description += fmt::format(" \"One step lower\" (status rules) moves along: {}.", Joined(pathway.status_ladder));
    }
    Put(group, "description", description);
    group["groupingBehavior"] = "logical-group";
    group["selectionBehavior"] = "any";
    if (!actions.empty()) group["action"] = std::move(actions);
    return group;
  }

  // Outcome instruments as goals: a clinically important change on the
  // instrument, measured by its LOINC code; option actions name them.
  json::array Goals() const {
    json::array goals;
    for (const Instrument& instrument : kb_.instruments()) {
      json::object goal;
      goal["id"] = "instrument." + instrument.id;
      goal["extension"] = json::array{ConfidenceExtension(instrument.confidence)};
      goal["description"] =
          TextConcept(fmt::format("Clinically important improvement on {}", Clean(instrument.display)));
      json::array documentation = Links(instrument.sources);
      if (!documentation.empty()) goal["documentation"] = std::move(documentation);
      json::object target;
      if (!instrument.loinc.empty()) {
        target["measure"] =
            CodeableConcept(Coding(CanonicalSystem("loinc"), instrument.loinc, instrument.display));
      }
      if (!Clean(instrument.mcid).empty()) {
        target["detailCodeableConcept"] =
            TextConcept(fmt::format("Minimal clinically important difference: {}", instrument.mcid));
      }
      if (!target.empty()) goal["target"] = json::array{std::move(target)};
      goals.push_back(std::move(goal));
    }
    return goals;
  }

  json::object PlanDefinition() const {
    json::object resource = Artifact("PlanDefinition", kb_.name(), {});
    Put(resource, "title", kb_.title());
    resource["type"] = CodeableConcept(Coding("http://terminology.hl7.org/CodeSystem/plan-definition-type",
                                              "clinical-protocol", "Clinical Protocol"));
    resource["status"] = "active";
    Put(resource, "description", kb_.description());
    json::array related;
    for (const Citation& citation : kb_.citations()) related.push_back(CitationArtifact(citation));
    // The value sets its own expressions name (conditions, medications); the
    // Library lists those of the definitions.
    std::vector<std::string> used;
    for (const Condition& condition : kb_.conditions()) used.push_back(condition.valueset);
    for (const MedicationHold& hold : kb_.medication_holds()) used.push_back(hold.valueset);
    std::set<std::string> seen;
    for (const std::string& id : used) {
      const ValueSet* value_set = kb_.FindValueSet(id);
      if (value_set != nullptr && seen.insert(id).second) related.push_back(DependsOn(*value_set));
    }
    if (!related.empty()) resource["relatedArtifact"] = std::move(related);
    resource["library"] = json::array{Url("Library", kb_.name())};
    json::array goals = Goals();
    if (!goals.empty()) resource["goal"] = std::move(goals);
    json::array actions;
    if (!kb_.red_flags().empty()) actions.push_back(RedFlagGroup());
    if (!kb_.contraindications().empty()) actions.push_back(ContraindicationGroup());
    if (!kb_.medication_holds().empty()) actions.push_back(MedicationHoldGroup());
    for (const Condition& condition : kb_.conditions()) actions.push_back(ConditionGroup(condition));
    if (!kb_.next_step_rules().empty()) actions.push_back(NextStepGroup());
    if (!actions.empty()) resource["action"] = std::move(actions);
    return resource;
  }

  // ----- Measure

  // What `regenpath screen` reports over a population (its MeasureReport,
  // type summary): the cohort of assessed patients (docs/screening.md) and
  // the counts by stage, condition, option status and red flag.
  json::object Measure() const {
    json::object resource = Artifact("Measure", kb_.name(), {});
    std::string title = kb_.title().empty() ? kb_.name() : kb_.title();
    Put(resource, "title", "Population screening: " + title);
    resource["status"] = "active";
    Put(resource, "description",
        "The patients of a FHIR Bulk Data export assessed with this knowledge base by `regenpath screen`, "
        "counted by overall stage, by condition in scope, by regenerative option and status, and by red "
        "flag. The assessment's logic is the PlanDefinition's and the Library's.");
    resource["library"] = json::array{Url("Library", kb_.name())};
    resource["scoring"] =
        CodeableConcept(Coding("http://terminology.hl7.org/CodeSystem/measure-scoring", "cohort", "Cohort"));
    json::object population;
    population["code"] = CodeableConcept(Coding("http://terminology.hl7.org/CodeSystem/measure-population",
                                                "initial-population", "Initial Population"));
    Put(population, "description",
        "Every patient of the export whose record can be read, except those known to have died and those "
        "whose record was replaced by another (Patient.link replaced-by; the person is counted through "
        "that record). A patient whose export holds no Patient resource is in it.");
    population["criteria"] =
        Expression({},
                   "(Patient.deceased.empty() or (Patient.deceased as boolean) = false) and "
                   "Patient.link.where(type = 'replaced-by').empty()");
    json::array stratifiers;
    for (const ScreeningStratifier& stratifier : ScreeningStratifiers()) {
      json::object entry;
      entry["code"] = TextConcept(stratifier.code);
      Put(entry, "description", stratifier.description);
      stratifiers.push_back(std::move(entry));
    }
    json::object group;
    group["code"] = TextConcept(kScreeningGroup);
    group["population"] = json::array{std::move(population)};
    group["stratifier"] = std::move(stratifiers);
    resource["group"] = json::array{std::move(group)};
    return resource;
  }

  const KnowledgeBase& kb_;
  // The first id or code that FHIR does not accept; the builders record it
  // and carry on, Run() reports it.
  mutable Status status_;
};

}  // namespace

std::string CanonicalUrl(std::string_view resource_type, std::string_view id) {
  return Url(resource_type, id);
}

std::span<const ScreeningStratifier> ScreeningStratifiers() {
  static constexpr ScreeningStratifier kStratifiers[] = {
      {"stage", "The patients at each overall stage of the pathway (the stage's id)."},
      {"condition", "The patients with each condition in scope (the condition's id)."},
      {"regenerative option:status",
       "The patients for whom each regenerative option has each status (stratum: option id:status)."},
      {"red flag", "The patients with each red flag (the red flag's id)."},
  };
  return kStratifiers;
}

Result<std::vector<ExportedResource>> ExportFhir(const KnowledgeBase& kb) {
  if (!kb.usable()) {
    return Fail(InvalidInput(
        fmt::format("the knowledge base has {} problem(s); run `regenpath kb check`", kb.problems().size())));
  }
  return Exporter(kb).Run();
}

}  // namespace regenpath::knowledge
