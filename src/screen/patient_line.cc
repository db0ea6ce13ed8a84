#include "screen/patient_line.h"

#include <fmt/format.h>

#include "common/json_string.h"

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

// ["a","b"] from the `key` member of each item of `items`.
void AppendIds(std::string& out, array items, std::string_view key) {
  out += '[';
  bool first = true;
  for (element item : items) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(StringOr(fields, key), out);
  }
  out += ']';
}

Result<array> ArrayField(object root, std::string_view key) {
  array items;
  if (root[key].get_array().get(items) != simdjson::SUCCESS) {
    return Fail(InvalidInput(fmt::format("the assessment has no '{}' array", key)));
  }
  return items;
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
  std::string out = "{";
  AppendMember(out, "patient", reference, true);
  out += ",\"deceased\":";
  bool deceased = false;
  if (root["patient"]["deceased"].get_bool().get(deceased) == simdjson::SUCCESS) {
    out += deceased ? "true" : "false";
  } else {
    out += "null";
  }
  // Only for a record merged into another (so that it is on no worklist).
  if (std::string_view replaced_by;
      root["patient"]["replaced_by"].get_string().get(replaced_by) == simdjson::SUCCESS) {
    AppendMember(out, "replaced_by", replaced_by);
  }
  // Only for a record not in active use (Patient.active false).
  if (bool active = true; root["patient"]["active"].get_bool().get(active) == simdjson::SUCCESS && !active) {
    out += ",\"active\":false";
  }
  AppendMember(out, "stage", StringOr(root, "stage"));
  // A regenerative candidate: the overall stage is one where regenerative
  // options may be offered (the knowledge base's stage table says which).
  bool candidate = false;
  if (root["stage_offers_regenerative"].get_bool().get(candidate) != simdjson::SUCCESS) candidate = false;
  out += candidate ? ",\"candidate\":true" : ",\"candidate\":false";
  // A regenerative option open for a shared decision (the engine's
  // regenerative_option_open): a worklist's member, alive and in use.
  bool option_open = false;
  if (root["regenerative_option_open"].get_bool().get(option_open) != simdjson::SUCCESS) option_open = false;
  out += option_open ? ",\"option_open\":true" : ",\"option_open\":false";

  RP_ASSIGN_OR_RETURN(array conditions, ArrayField(root, "conditions"));
  out += ",\"conditions\":[";
  bool first = true;
  for (element item : conditions) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendMember(out, "id", StringOr(fields, "id"), true);
    AppendMember(out, "stage", StringOr(fields, "stage"));
    out += '}';
  }
  out += ']';

  RP_ASSIGN_OR_RETURN(array recommendations, ArrayField(root, "recommendations"));
  out += ",\"regenerative_options\":[";
  first = true;
  for (element item : recommendations) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    if (StringOr(fields, "category") != "regenerative") continue;
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendMember(out, "id", StringOr(fields, "id"), true);
    AppendMember(out, "condition", StringOr(fields, "condition"));
    AppendMember(out, "therapy", StringOr(fields, "therapy"));
    AppendMember(out, "status", StringOr(fields, "status"));
    out += '}';
  }
  out += ']';

  RP_ASSIGN_OR_RETURN(array next_steps, ArrayField(root, "next_steps"));
  out += ",\"next_steps\":[";
  first = true;
  for (element item : next_steps) {
    object fields;
    if (item.get_object().get(fields) != simdjson::SUCCESS) continue;
    if (!first) out += ',';
    first = false;
    out += '{';
    AppendMember(out, "kind", StringOr(fields, "kind"), true);
    AppendMember(out, "condition", StringOr(fields, "condition"));
    AppendMember(out, "display", StringOr(fields, "display"));
    out += '}';
  }
  out += ']';

  RP_ASSIGN_OR_RETURN(array missing, ArrayField(root, "missing_data"));
  out += ",\"missing_data\":";
  AppendIds(out, missing, "id");
  RP_ASSIGN_OR_RETURN(array red_flags, ArrayField(root, "red_flags"));
  out += ",\"red_flags\":";
  AppendIds(out, red_flags, "id");
  array issues;
  size_t issue_count = root["issues"].get_array().get(issues) == simdjson::SUCCESS ? issues.size() : 0;
  out += fmt::format(",\"issues\":{}}}", issue_count);
  return out;
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

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

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
