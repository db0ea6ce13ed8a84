#include "screen/patient_line.h"

#include <fmt/format.h>

#include "common/csv_field.h"
#include "common/json_string.h"
#include "engine/vocabulary.h"

namespace regenpath::screen {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view StringOr(object item, std::string_view key, std::string_view fallback = {}) {
  std::string_view value;
  if (item[key].get_string().get(value) != simdjson::SUCCESS) return fallback;
  return value;
}

void AppendMember(std::string& out, std::string_view key, std::string_view value, bool first = false) {
  if (!first) out += ',';
  AppendJsonString(key, out);
  out += ':';
  AppendJsonString(value, out);
}

Result<array> ArrayField(object root, std::string_view key) {
  array items;
  if (root[key].get_array().get(items) != simdjson::SUCCESS) {
    return Fail(InvalidInput(fmt::format("the assessment has no '{}' array", key)));
  }
  return items;
}

// What a screening line says, read from an assessment (views into it), in
// the line's order. One writer (LineText) for the two readers.
struct LineFields {
  std::optional<bool> deceased;  // nullopt: the record does not say
  std::optional<std::string_view> replaced_by;
  bool inactive = false;
  std::string_view stage;
  bool candidate = false;
  bool option_open = false;
  struct Condition {
    std::string_view id, stage;
  };
  std::vector<Condition> conditions;
  struct Option {
    std::string_view id, condition, therapy, status;
  };
  std::vector<Option> options;  // the regenerative recommendations only
  struct Step {
    std::string_view kind, condition, display;  // condition: "" for a step of no one condition
  };
  std::vector<Step> next_steps;
  std::vector<std::string_view> missing_data;  // ids
  std::vector<std::string_view> red_flags;     // ids
  size_t issues = 0;
};

void AppendStrings(std::string& out, const std::vector<std::string_view>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(items[i], out);
  }
  out += ']';
}

std::string LineText(std::string_view reference, const LineFields& line) {
  std::string out = "{";
  AppendMember(out, "patient", reference, true);
  out += ",\"deceased\":";
  out += !line.deceased ? "null" : *line.deceased ? "true" : "false";
  // Only for a record merged into another (so that it is on no worklist).
  if (line.replaced_by) AppendMember(out, "replaced_by", *line.replaced_by);
  // Only for a record not in active use (Patient.active false).
  if (line.inactive) out += ",\"active\":false";
  AppendMember(out, "stage", line.stage);
  // A regenerative candidate: the overall stage is one where regenerative
  // options may be offered (the knowledge base's stage table says which).
  out += line.candidate ? ",\"candidate\":true" : ",\"candidate\":false";
  // A regenerative option open for a shared decision (the engine's
  // regenerative_option_open): a worklist's member, alive and in use.
  out += line.option_open ? ",\"option_open\":true" : ",\"option_open\":false";
  out += ",\"conditions\":[";
  for (size_t i = 0; i < line.conditions.size(); ++i) {
    out += i > 0 ? ",{" : "{";
    AppendMember(out, "id", line.conditions[i].id, true);
    AppendMember(out, "stage", line.conditions[i].stage);
    out += '}';
  }
  out += "],\"regenerative_options\":[";
  for (size_t i = 0; i < line.options.size(); ++i) {
    const LineFields::Option& option = line.options[i];
    out += i > 0 ? ",{" : "{";
    AppendMember(out, "id", option.id, true);
    AppendMember(out, "condition", option.condition);
    AppendMember(out, "therapy", option.therapy);
    AppendMember(out, "status", option.status);
    out += '}';
  }
  out += "],\"next_steps\":[";
  for (size_t i = 0; i < line.next_steps.size(); ++i) {
    const LineFields::Step& step = line.next_steps[i];
    out += i > 0 ? ",{" : "{";
    AppendMember(out, "kind", step.kind, true);
    AppendMember(out, "condition", step.condition);
    AppendMember(out, "display", step.display);
    out += '}';
  }
  out += "],\"missing_data\":";
  AppendStrings(out, line.missing_data);
  out += ",\"red_flags\":";
  AppendStrings(out, line.red_flags);
  out += fmt::format(",\"issues\":{}}}", line.issues);
  return out;
}

// The `key` member of each object of `items`.
std::vector<std::string_view> Ids(array items, std::string_view key) {
  std::vector<std::string_view> ids;
  for (element item : items) {
    object fields;
    if (item.get_object().get(fields) == simdjson::SUCCESS) ids.push_back(StringOr(fields, key));
  }
  return ids;
}

}  // namespace

Result<std::string> ProjectAssessment(std::string_view reference, std::string_view assessment_json,
                                      simdjson::dom::parser& parser) {
  element root_element;
  if (auto error = parser.parse(assessment_json).get(root_element)) {
    return Fail(InvalidInput(fmt::format("the assessment is not JSON: {}", simdjson::error_message(error))));
  }
  object root;
  if (root_element.get_object().get(root) != simdjson::SUCCESS) {
    return Fail(InvalidInput("the assessment is not a JSON object"));
  }
  LineFields line;
  if (bool deceased = false; root["patient"]["deceased"].get_bool().get(deceased) == simdjson::SUCCESS) {
    line.deceased = deceased;
  }
  if (std::string_view replaced_by;
      root["patient"]["replaced_by"].get_string().get(replaced_by) == simdjson::SUCCESS) {
    line.replaced_by = replaced_by;
  }
  if (bool active = true; root["patient"]["active"].get_bool().get(active) == simdjson::SUCCESS && !active) {
    line.inactive = true;
  }
  line.stage = StringOr(root, "stage");
  if (root["stage_offers_regenerative"].get_bool().get(line.candidate) != simdjson::SUCCESS) {
    line.candidate = false;
  }
  if (root["regenerative_option_open"].get_bool().get(line.option_open) != simdjson::SUCCESS) {
    line.option_open = false;
  }
  RP_ASSIGN_OR_RETURN(array conditions, ArrayField(root, "conditions"));
  for (element item : conditions) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    line.conditions.push_back({StringOr(fields, "id"), StringOr(fields, "stage")});
  }
  RP_ASSIGN_OR_RETURN(array recommendations, ArrayField(root, "recommendations"));
  for (element item : recommendations) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    if (StringOr(fields, "category") != "regenerative") continue;
    line.options.push_back({StringOr(fields, "id"), StringOr(fields, "condition"),
                            StringOr(fields, "therapy"), StringOr(fields, "status")});
  }
  RP_ASSIGN_OR_RETURN(array next_steps, ArrayField(root, "next_steps"));
  for (element item : next_steps) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    line.next_steps.push_back(
        {StringOr(fields, "kind"), StringOr(fields, "condition"), StringOr(fields, "display")});
  }
  RP_ASSIGN_OR_RETURN(array missing, ArrayField(root, "missing_data"));
  line.missing_data = Ids(missing, "id");
  RP_ASSIGN_OR_RETURN(array red_flags, ArrayField(root, "red_flags"));
  line.red_flags = Ids(red_flags, "id");
  array issues;
  line.issues = root["issues"].get_array().get(issues) == simdjson::SUCCESS ? issues.size() : 0;
  return LineText(reference, line);
}

std::string ScreeningLine(std::string_view reference, const engine::Assessment& assessment) {
  LineFields line;
  line.deceased = assessment.deceased;
  if (assessment.replaced_by) line.replaced_by = *assessment.replaced_by;
  line.inactive = assessment.inactive;
  line.stage = assessment.stage.id;
  line.candidate = assessment.stage.offers_regenerative;
  line.option_open = assessment.regenerative_option_open;
  for (const engine::AssessedCondition& condition : assessment.conditions) {
    line.conditions.push_back({condition.id, condition.stage.id});
  }
  for (const engine::Recommendation& item : assessment.recommendations) {
    if (item.category != engine::OptionCategory::kRegenerative) continue;
    line.options.push_back({item.id, item.condition, item.therapy, engine::ToString(item.status)});
  }
  for (const engine::NextStep& step : assessment.next_steps) {
    line.next_steps.push_back({step.kind, step.condition, step.display});
  }
  for (const engine::MissingDataItem& item : assessment.missing_data) line.missing_data.push_back(item.id);
  for (const engine::AssessedRedFlag& flag : assessment.red_flags) line.red_flags.push_back(flag.id);
  line.issues = assessment.issues.size();
  return LineText(reference, line);
}

std::string UnreadableRecordLine(std::string_view reference, std::string_view error) {
  std::string out = "{";
  AppendMember(out, "patient", reference, true);
  AppendMember(out, "error", error);
  out += '}';
  return out;
}

Result<PatientSummary> ReadPatientLine(std::string_view line, simdjson::dom::parser& parser) {
  element root_element;
  object root;
  if (parser.parse(line).get(root_element) || root_element.get_object().get(root)) {
    return Fail(InvalidInput("not a screening line (a JSON object)"));
  }
  PatientSummary patient;
  patient.patient = std::string(StringOr(root, "patient"));
  if (patient.patient.empty()) return Fail(InvalidInput("a screening line without \"patient\""));
  patient.error = std::string(StringOr(root, "error"));
  if (!patient.error.empty()) return patient;
  bool deceased = false;
  if (root["deceased"].get_bool().get(deceased) == simdjson::SUCCESS) patient.deceased = deceased ? "true" : "false";
  if (std::string_view replaced_by; root["replaced_by"].get_string().get(replaced_by) == simdjson::SUCCESS) {
    patient.replaced_by = std::string(replaced_by);
  }
  if (bool active = true; root["active"].get_bool().get(active) == simdjson::SUCCESS)
    patient.inactive = !active;
  patient.stage = std::string(StringOr(root, "stage"));
  bool candidate = false;
  if (root["candidate"].get_bool().get(candidate) == simdjson::SUCCESS) patient.candidate = candidate;
  bool option_open = false;
  if (root["option_open"].get_bool().get(option_open) == simdjson::SUCCESS) patient.option_open = option_open;
  array items;
  if (root["conditions"].get_array().get(items) == simdjson::SUCCESS) {
    for (element item : items) {
      object fields;
      if (item.get_object().get(fields)) continue;
      patient.conditions.emplace_back(StringOr(fields, "id"), StringOr(fields, "stage"));
    }
  }
  if (root["regenerative_options"].get_array().get(items) == simdjson::SUCCESS) {
    for (element item : items) {
      object fields;
      if (item.get_object().get(fields)) continue;
      patient.options.push_back({std::string(StringOr(fields, "id")), std::string(StringOr(fields, "condition")),
                                 std::string(StringOr(fields, "therapy")), std::string(StringOr(fields, "status"))});
    }
  }
  if (root["next_steps"].get_array().get(items) == simdjson::SUCCESS) {
    for (element item : items) {
      object fields;
      if (item.get_object().get(fields)) continue;
      patient.next_steps.push_back({std::string(StringOr(fields, "condition")),
                                    std::string(StringOr(fields, "kind")),
                                    std::string(StringOr(fields, "display"))});
    }
  }
  for (auto [key, target] : {std::pair{"missing_data", &patient.missing_data}, std::pair{"red_flags", &patient.red_flags}}) {
    if (root[key].get_array().get(items) != simdjson::SUCCESS) continue;
    for (element item : items) {
      std::string_view value;
      if (item.get_string().get(value) == simdjson::SUCCESS) target->emplace_back(value);
    }
  }
  int64_t issues = 0;
  if (root["issues"].get_int64().get(issues) == simdjson::SUCCESS) patient.issues = issues;
  return patient;
}

namespace {

// The items of a list, joined with ';'. An item's own ';' and '\\' are
// escaped with '\\' (next steps' wording may hold a ';'), so that splitting
// at every unescaped ';' gives the items back.
template <typename Items, typename Format>
std::string Joined(const Items& items, Format format) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ';';
    first = false;
    for (char c : format(item)) {
      if (c == ';' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string CsvHeader() {
  return "patient,deceased,replaced_by,active,stage,candidate,option_open,conditions,regenerative_options,"
         "next_steps,"
         "missing_data,red_flags,issues,error\r\n";
}

std::string CsvRow(const PatientSummary& patient) {
  std::string row = CsvField(patient.patient);
  row += ',' + CsvField(patient.deceased);
  row += ',' + CsvField(patient.replaced_by ? *patient.replaced_by : std::string());
  row += ',' + std::string(patient.inactive ? "false" : "");
  row += ',' + CsvField(patient.stage);
  row += ',' + std::string(patient.error.empty() ? (patient.candidate ? "true" : "false") : "");
  row += ',' + std::string(patient.error.empty() ? (patient.option_open ? "true" : "false") : "");
  row += ',' + CsvField(Joined(patient.conditions, [](const auto& c) { return c.first + ":" + c.second; }));
  row += ',' + CsvField(Joined(patient.options, [](const auto& o) { return o.id + ":" + o.status; }));
  row += ',' + CsvField(Joined(patient.next_steps, [](const PatientSummary::NextStep& s) {
           return s.condition + ":" + s.kind + ":" + s.display;
         }));
  row += ',' + CsvField(Joined(patient.missing_data, [](const std::string& s) { return s; }));
  row += ',' + CsvField(Joined(patient.red_flags, [](const std::string& s) { return s; }));
  row += ',' + (patient.error.empty() ? std::to_string(patient.issues) : std::string());
  row += ',' + CsvField(patient.error);
  row += "\r\n";
  return row;
}

}  // namespace regenpath::screen
