#include "registry/csv_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <variant>

#include "common/json_string.h"
#include "registry/fhir_codes.h"
#include "registry/instrument_catalog.h"

namespace regenpath::registry {

namespace {

namespace codes = fhir_codes;

// Record types and the columns each may fill (besides the common ones).
constexpr const char* kCommon[] = {"record", "patient", "patient_system", "id", "date"};
constexpr const char* kProcedureColumns[] = {"option", "side", "condition", "kind", "series", "image_guidance",
                                             "prp_leukocytes", "volume_ml", "platelet_concentration",
                                             "bmc_nucleated_cells", "dextrose_percent", "stage", "option_status",
                                             "kb_version", "feedback", "override_reason"};
constexpr const char* kScoreColumns[] = {"instrument", "value", "procedure"};
constexpr const char* kAdverseEventColumns[] = {"category", "serious", "resolved", "relatedness", "procedure"};

template <size_t N>
bool In(const char* const (&list)[N], std::string_view name) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* item) { return name == item; });
}

bool KnownColumn(std::string_view name) {
  return In(kCommon, name) || In(kProcedureColumns, name) || In(kScoreColumns, name) || In(kAdverseEventColumns, name);
}

// Splits one line into fields (RFC 4180 quoting). nullopt and the 1-based
// character position of the problem for a malformed line.
std::optional<std::vector<std::string>> SplitLine(std::string_view line, int& error_field) {
  std::vector<std::string> fields;
  std::string field;
  size_t at = 0;
  bool quoted = false;
  bool was_quoted = false;
  while (at <= line.size()) {
    if (at == line.size()) {
      if (quoted) {
        error_field = static_cast<int>(fields.size()) + 1;
        return std::nullopt;
      }
      fields.push_back(std::move(field));
      break;
    }
    char c = line[at];
    if (quoted) {
      if (c == '"') {
        if (at + 1 < line.size() && line[at + 1] == '"') {
          field += '"';
          ++at;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (was_quoted) {
      error_field = static_cast<int>(fields.size()) + 1;  // text after a closing quote
      return std::nullopt;
    } else {
      field += c;
    }
    ++at;
  }
  return fields;
}

std::optional<double> ParseNumber(const std::string& text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(text, out);
  return out;
}

// One data row being converted.
class Row {
 public:
  Row(const std::vector<std::string>& header, std::vector<std::string> fields, int line)
      : header_(header), fields_(std::move(fields)), line_(line) {}

  int Column(std::string_view name) const {
    for (size_t index = 0; index < header_.size(); ++index) {
      if (header_[index] == name) return static_cast<int>(index) + 1;
    }
    return 0;
  }
  std::string Get(std::string_view name) const {
    int column = Column(name);
    if (column == 0 || column > static_cast<int>(fields_.size())) return "";
    std::string value = fields_[column - 1];
    size_t first = value.find_first_not_of(" \t");
    size_t last = value.find_last_not_of(" \t");
    return first == std::string::npos ? "" : value.substr(first, last - first + 1);
  }
  CsvIssue Issue(std::string_view column, std::string message) const {
    return CsvIssue{line_, Column(column), std::move(message)};
  }

 private:
  const std::vector<std::string>& header_;
  std::vector<std::string> fields_;
  int line_;
};

std::string Identifier(const std::string& id, bool list) {
  std::string value = fmt::format(R"({{"system":"{}","value":{}}})", kCsvIdentifierSystem, Quoted(id));
  return list ? "[" + value + "]" : value;
}

std::string Subject(const Row& row) {
  std::string system = row.Get("patient_system");
  if (system.empty()) system = std::string(kCsvPatientSystem);
  return fmt::format(R"("subject":{{"identifier":{{"system":{},"value":{}}}}})", Quoted(system), Quoted(row.Get("patient")));
}

std::string ProcedureReference(const std::string& id) {
  return fmt::format(R"({{"identifier":{{"system":"{}","value":{}}}}})", kCsvIdentifierSystem, Quoted(id));
}

// The FHIR resource of a row, or the issue that prevents it.
std::variant<std::string, CsvIssue> Convert(const Row& row) {
  std::string record = row.Get("record");
  for (const char* required : {"patient", "id", "date"}) {
    if (row.Get(required).empty()) return row.Issue(required, fmt::format("'{}' is required", required));
  }
  // A value in a column of another record type is an error, not ignored.
  auto only = [&](auto& allowed) -> std::optional<CsvIssue> {
    auto check = [&](const char* name) -> std::optional<CsvIssue> {
      if (!In(allowed, name) && !row.Get(name).empty()) {
        return row.Issue(name, fmt::format("'{}' does not apply to a {} row", name, record));
      }
      return std::nullopt;
    };
    for (const char* name : kProcedureColumns) {
      if (auto issue = check(name)) return issue;
    }
    for (const char* name : kScoreColumns) {
      if (auto issue = check(name)) return issue;
    }
    for (const char* name : kAdverseEventColumns) {
      if (auto issue = check(name)) return issue;
    }
    return std::nullopt;
  };
  const std::string id = row.Get("id");
  const std::string date = row.Get("date");
  if (record == "procedure") {
    if (auto issue = only(kProcedureColumns)) return *issue;
    if (row.Get("option").empty()) return row.Issue("option", "'option' (a knowledge-base option id) is required");
    std::string json = R"({"resourceType":"Procedure","identifier":)" + Identifier(id, true) +
                       fmt::format(R"(,"status":"completed","code":{{"coding":[{{"system":"{}","code":{}}}]}})",
                                   codes::kOptionSystem, Quoted(row.Get("option")));
    std::string kind = row.Get("kind");
    if (!kind.empty()) {
      json += fmt::format(R"(,"category":{{"coding":[{{"system":"{}","code":{}}}]}})", codes::kProcedureKindSystem,
                          Quoted(kind));
    }
    if (!row.Get("condition").empty()) {
      json += fmt::format(R"(,"reasonCode":[{{"coding":[{{"system":"{}","code":{}}}]}}])", codes::kConditionSystem,
                          Quoted(row.Get("condition")));
    }
    json += "," + Subject(row) + R"(,"performedDateTime":)" + Quoted(date);
    std::vector<std::string> extensions;
    auto code_extension = [&](const char* column, std::string_view name) {
      std::string value = row.Get(column);
      if (!value.empty()) {
        extensions.push_back(fmt::format(R"({{"url":"{}{}","valueCode":{}}})", codes::kExtensionPrefix, name, Quoted(value)));
      }
    };
    code_extension("side", codes::kLaterality);
    code_extension("image_guidance", codes::kImageGuidance);
    code_extension("prp_leukocytes", codes::kPrpLeukocytes);
    for (auto [column, name] : {std::pair{"volume_ml", codes::kInjectateVolume},
                                std::pair{"platelet_concentration", codes::kPlateletConcentration},
                                std::pair{"bmc_nucleated_cells", codes::kNucleatedCells},
                                std::pair{"dextrose_percent", codes::kDextrosePercent}}) {
      std::string text = row.Get(column);
      if (text.empty()) continue;
      std::optional<double> value = ParseNumber(text);
      if (!value) return row.Issue(column, fmt::format("'{}' is not a number", text));
      extensions.push_back(fmt::format(R"({{"url":"{}{}","valueDecimal":{}}})", codes::kExtensionPrefix, name, *value));
    }
    if (std::string text = row.Get("series"); !text.empty()) {
      std::optional<double> value = ParseNumber(text);
      if (!value || *value < 1 || *value != std::floor(*value) || *value > 1000) {
        return row.Issue("series", fmt::format("'{}' is not a series number (1, 2, 3, ...)", text));
      }
      extensions.push_back(fmt::format(R"({{"url":"{}{}","valuePositiveInt":{}}})", codes::kExtensionPrefix,
                                       codes::kSeriesNumber, static_cast<int>(*value)));
    }
    std::string assessment;
    for (auto [column, name] : {std::pair{"stage", "stage"}, std::pair{"option_status", "optionStatus"},
                                std::pair{"kb_version", "kbVersion"}, std::pair{"feedback", "feedback"},
                                std::pair{"override_reason", "overrideReason"}}) {
      std::string value = row.Get(column);
      if (value.empty()) continue;
      if (!assessment.empty()) assessment += ",";
      assessment += fmt::format(R"({{"url":"{}","valueString":{}}})", name, Quoted(value));
    }
    if (!assessment.empty()) {
      extensions.push_back(fmt::format(R"({{"url":"{}{}","extension":[{}]}})", codes::kExtensionPrefix,
                                       codes::kAssessment, assessment));
    }
    if (!extensions.empty()) {
      json += R"(,"extension":[)";
      for (size_t index = 0; index < extensions.size(); ++index) json += (index > 0 ? "," : "") + extensions[index];
      json += "]";
    }
    return json + "}";
  }
  if (record == "score") {
    if (auto issue = only(kScoreColumns)) return *issue;
    if (row.Get("instrument").empty()) return row.Issue("instrument", "'instrument' (a knowledge-base instrument id) is required");
    std::string text = row.Get("value");
    if (text.empty()) return row.Issue("value", "'value' (the score) is required");
    std::optional<double> value = ParseNumber(text);
    if (!value) return row.Issue("value", fmt::format("'{}' is not a number", text));
    std::string json = R"({"resourceType":"Observation","identifier":)" + Identifier(id, true) +
                       fmt::format(R"(,"status":"final","code":{{"coding":[{{"system":"{}","code":{}}}]}},)",
                                   kInstrumentSystem, Quoted(row.Get("instrument"))) +
                       Subject(row) + R"(,"effectiveDateTime":)" + Quoted(date) +
                       fmt::format(R"(,"valueQuantity":{{"value":{}}})", *value);
    if (std::string procedure = row.Get("procedure"); !procedure.empty()) {
      json += R"(,"partOf":[)" + ProcedureReference(procedure) + "]";
    }
    return json + "}";
  }
  if (record == "adverse-event") {
    if (auto issue = only(kAdverseEventColumns)) return *issue;
    if (row.Get("category").empty()) {
      return row.Issue("category", "'category' is required (infection, bleeding, sensory-disturbance, "
                                   "post-injection-flare, vasovagal, other)");
    }
    std::string serious = row.Get("serious");
    std::transform(serious.begin(), serious.end(), serious.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!serious.empty() && serious != "yes" && serious != "no" && serious != "true" && serious != "false") {
      return row.Issue("serious", fmt::format("'{}': serious is yes or no", row.Get("serious")));
    }
    std::string json = R"({"resourceType":"AdverseEvent","identifier":)" + Identifier(id, false) +
                       fmt::format(R"(,"actuality":"actual","event":{{"coding":[{{"system":"{}","code":{}}}]}})",
                                   codes::kAdverseEventSystem, Quoted(row.Get("category")));
    if (!serious.empty()) {
      json += fmt::format(R"(,"seriousness":{{"coding":[{{"system":"{}","code":"{}"}}]}})", codes::kSeveritySystem,
                          serious == "yes" || serious == "true" ? "serious" : "non-serious");
    }
    json += "," + Subject(row) + R"(,"date":)" + Quoted(date);
    if (std::string resolved = row.Get("resolved"); !resolved.empty()) {
      json += R"(,"outcome":{"coding":[{"code":)" + Quoted(resolved) + "}]}";
    }
    std::string procedure = row.Get("procedure");
    std::string relatedness = row.Get("relatedness");
    if (!relatedness.empty() && procedure.empty()) {
      return row.Issue("relatedness", "'relatedness' needs the 'procedure' the event is related to");
    }
    if (!procedure.empty()) {
      json += R"(,"suspectEntity":[{"instance":)" + ProcedureReference(procedure);
      if (!relatedness.empty()) json += R"(,"causality":[{"assessment":{"coding":[{"code":)" + Quoted(relatedness) + "}]}}]";
      json += "}]";
    }
    return json + "}";
  }
  return row.Issue("record", fmt::format("'{}': record is procedure, score or adverse-event", record));
}

}  // namespace

Result<CsvConversion> ConvertCsv(std::string_view csv) {
  CsvConversion out;
  if (csv.starts_with("\xEF\xBB\xBF")) csv.remove_prefix(3);  // a byte-order mark
  std::vector<std::pair<int, std::string_view>> lines;
  int number = 0;
  for (size_t start = 0; start <= csv.size();) {
    size_t end = csv.find('\n', start);
    if (end == std::string_view::npos) end = csv.size();
    std::string_view line = csv.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number;
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.emplace_back(number, line);
    start = end + 1;
  }
  if (lines.empty()) return Fail(InvalidInput("1:1: empty file: a header line is required"));
  int error_field = 0;
  auto header = SplitLine(lines[0].second, error_field);
  if (!header) return Fail(InvalidInput(fmt::format("{}:{}: malformed quoting in the header", lines[0].first, error_field)));
  for (size_t index = 0; index < header->size(); ++index) {
    std::string& name = (*header)[index];
    size_t first = name.find_first_not_of(" \t");
    size_t last = name.find_last_not_of(" \t");
    name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
    if (!KnownColumn(name)) {
      return Fail(InvalidInput(fmt::format("{}:{}: unknown column '{}' (docs/registry.md, \"CSV import\")", lines[0].first,
                                           index + 1, name)));
    }
    if (std::count(header->begin(), header->begin() + static_cast<long>(index), name) > 0) {
      return Fail(InvalidInput(fmt::format("{}:{}: column '{}' appears twice", lines[0].first, index + 1, name)));
    }
  }
  for (const char* required : {"record", "patient", "id", "date"}) {
    if (std::find(header->begin(), header->end(), required) == header->end()) {
      return Fail(InvalidInput(fmt::format("{}:{}: the header needs the column '{}'", lines[0].first, header->size() + 1,
                                           required)));
    }
  }
  out.header = *header;
  for (size_t index = 1; index < lines.size(); ++index) {
    const auto& [line_number, text] = lines[index];
    ++out.rows;
    auto fields = SplitLine(text, error_field);
    if (!fields) {
      out.issues.push_back(CsvIssue{line_number, error_field, "malformed quoting (a quoted field must end with a quote "
                                                              "followed by a comma or the end of the line)"});
      continue;
    }
    if (fields->size() != out.header.size()) {
      out.issues.push_back(CsvIssue{line_number, static_cast<int>(std::min(fields->size(), out.header.size())) + 1,
                                    fmt::format("{} fields, the header has {}", fields->size(), out.header.size())});
      continue;
    }
    Row row(out.header, std::move(*fields), line_number);
    auto converted = Convert(row);
    if (auto* issue = std::get_if<CsvIssue>(&converted)) {
      out.issues.push_back(std::move(*issue));
      continue;
    }
    out.ndjson += std::get<std::string>(converted);
    out.ndjson += '\n';
    out.lines.push_back(line_number);
  }
  return out;
}

std::string CsvLocation(const CsvConversion& conversion, const ImportIssue& issue) {
  if (issue.entry < 0 || issue.entry >= static_cast<int>(conversion.lines.size())) return "1";
  int line = conversion.lines[issue.entry];
  // "line N: Type.element..." -> the column that fed the element.
  std::string_view location = issue.location;
  if (size_t colon = location.find(": "); colon != std::string_view::npos) location.remove_prefix(colon + 2);
  std::string_view type = location.substr(0, location.find('.'));
  std::string_view element = location.size() > type.size() ? location.substr(type.size() + 1) : std::string_view();
  static const std::pair<std::string_view, std::string_view> kColumns[] = {
      {"identifier", "id"},
      {"subject", "patient"},
      {"performedDateTime", "date"},
      {"effectiveDateTime", "date"},
      {"date", "date"},
      {"valueQuantity", "value"},
      {"reasonCode", "condition"},
      {"category", "kind"},
      {"event", "category"},
      {"seriousness", "serious"},
      {"suspectEntity", "procedure"},
      {"partOf", "procedure"},
  };
  std::string_view column;
  if (element.starts_with("code")) {
    column = type == "Procedure" ? "option" : "instrument";
  } else {
    for (const auto& [prefix, name] : kColumns) {
      if (element.starts_with(prefix)) {
        column = name;
        break;
      }
    }
  }
  if (type == "Procedure" && element.starts_with("extension")) {
    // Which extension: named in the message.
    for (std::string_view name : {"prp_leukocytes", "feedback", "volume_ml", "dextrose_percent"}) {
      std::string dashed(name);
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      if (issue.message.find(dashed) != std::string::npos) column = name;
    }
  }
  for (size_t index = 0; !column.empty() && index < conversion.header.size(); ++index) {
    if (conversion.header[index] == column) return fmt::format("{}:{}", line, index + 1);
  }
  return std::to_string(line);
}

}  // namespace regenpath::registry
