#include "cli/fhirpath_command.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <ostream>

#include "cli/exit_codes.h"
#include "common/clock.h"
#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/operations.h"
#include "fhirpath/output.h"
#include "screen/compartment.h"
#include "screen/line_reader.h"

namespace regenpath::cli {

namespace {

using fhirpath::Collection;
using fhirpath::Value;

// Parses "--now" as a date or dateTime.
Result<DateTime> ParseNow(const std::string& text) {
  std::optional<DateTime> value = DateTime::ParseDateTime(text);
  if (!value) return Fail(InvalidArgument(fmt::format("--now: '{}' is not a date or dateTime", text)));
  if (value->precision() <= DateTimePrecision::kDay) {
    // A date alone means the start of that day, in UTC.
    value = DateTime::FromFields(DateTimeKind::kDateTime, DateTimePrecision::kMillisecond, value->year(),
                                 value->month(), value->day(), 0, 0, 0, 0, 0);
  }
  return *value;
}

// Values of --env NAME=JSON variables. JSON scalars and arrays of them become
// System values; objects must be FHIR resources.
class Environment {
 public:
  Status Add(const std::string& assignment, fhir::Parser& parser) {
    size_t equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      return InvalidArgument(fmt::format("--env '{}': expected NAME=JSON", assignment));
    }
    std::string name = assignment.substr(0, equals);
    std::string json = assignment.substr(equals + 1);
    std::vector<Value>& values = variables_[name];
    // Wrap the value in a Parameters-like holder so the FHIR parser reads it.
    std::string_view trimmed = json;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
    if (!trimmed.empty() && trimmed.front() == '{') {
      Result<fhir::Document> document = parser.ParseResource(json, "--env " + name);
      if (!document.has_value()) return document.error();
      documents_.push_back(std::make_unique<fhir::Document>(std::move(*document)));
      values.push_back(Value::Node(&documents_.back()->root()));
      return Status();
    }
    std::string wrapped = "{\"resourceType\":\"Basic\",\"x\":" + json + "}";
    fhir::ParseOptions options;
    options.report_unknown_elements = false;
    fhir::Parser scalar_parser(options);
    Result<fhir::Document> document = scalar_parser.ParseResource(wrapped, "--env " + name);
    if (!document.has_value()) {
      return InvalidArgument(fmt::format("--env {}: the value is not valid JSON", name));
    }
    documents_.push_back(std::make_unique<fhir::Document>(std::move(*document)));
    for (const fhir::Node& item : documents_.back()->root().Children("x")) {
      if (item.is_object()) return InvalidArgument(fmt::format("--env {}: objects must be FHIR resources", name));
      std::optional<Value> value = fhirpath::ToSystem(Value::Node(&item));
      if (value) values.push_back(*value);
    }
    return Status();
  }

  const std::map<std::string, std::vector<Value>, std::less<>>& variables() const { return variables_; }

 private:
  std::vector<std::unique_ptr<fhir::Document>> documents_;
  std::map<std::string, std::vector<Value>, std::less<>> variables_;
};

}  // namespace

int RunFhirpath(const FhirpathOptions& options, std::ostream& out, std::ostream& err) {
  DateTime now = SystemClock().Now();
  if (options.now) {
    Result<DateTime> parsed = ParseNow(*options.now);
    if (!parsed.has_value()) {
      err << "regenpath fhirpath: " << parsed.error().message() << "\n";
      return kExitUsage;
    }
    now = *parsed;
  }
  Result<fhirpath::CompiledExpression> expression = fhirpath::CompiledExpression::Compile(options.expression);
  if (!expression.has_value()) {
    err << "regenpath fhirpath: " << expression.error().message() << "\n";
    return kExitInvalidInput;
  }
  fhir::Parser parser;
  Environment environment;
  for (const std::string& assignment : options.env) {
    Status status = environment.Add(assignment, parser);
    if (!status.ok()) {
      err << "regenpath fhirpath: " << status.message() << "\n";
      return kExitInvalidInput;
    }
  }
  std::vector<std::string> files = options.files;
  if (files.empty()) files.push_back("-");
  // Parse only the elements the expression can read (per root resource type).
  std::map<std::string, std::unique_ptr<fhir::ElementFilter>, std::less<>> filters;
  fhir::ParseOptions parse_options;
  parse_options.filter_for_root = [&](std::string_view root_type) -> const fhir::ElementFilter* {
    auto found = filters.find(root_type);
    if (found == filters.end()) {
      std::optional<std::vector<std::string>> names = expression->ElementsRead(std::string(root_type));
      std::unique_ptr<fhir::ElementFilter> filter;
      if (names) filter = std::make_unique<fhir::ElementFilter>(std::move(*names));
      found = filters.emplace(std::string(root_type), std::move(filter)).first;
    }
    return found->second.get();
  };
  fhir::Parser document_parser(parse_options);
  fhirpath::Workspace workspace;
  std::map<std::string, fhirpath::CompiledExpression> checked_by_type;
  // Evaluates the expression on one document and prints its line; returns
  // an exit code, or -1 to go on.
  auto evaluate = [&](const fhir::Document& document, const std::string& label) -> int {
    const fhirpath::CompiledExpression* compiled = &*expression;
    if (!options.lenient) {
      // Checked once per resource type, not per file.
      std::string type(document.root().type_name());
      auto found = checked_by_type.find(type);
      if (found == checked_by_type.end()) {
        fhirpath::CompileOptions compile_options;
        compile_options.context_type = type;
        compile_options.check_ordered_functions = options.strict;
        Result<fhirpath::CompiledExpression> checked =
            fhirpath::CompiledExpression::Compile(options.expression, compile_options);
        if (!checked.has_value()) {
          err << "regenpath fhirpath: " << label << ": " << checked.error().message() << "\n";
          return kExitInvalidInput;
        }
        found = checked_by_type.emplace(type, std::move(*checked)).first;
      }
      compiled = &found->second;
    }
    fhirpath::EvaluationContext context;
    context.document = &document;
    context.resource = &document.root();
    context.now = now;
    context.variables = &environment.variables();
    workspace.Reset();
    Result<Collection> result = compiled->Evaluate(context, workspace);
    if (!result.has_value()) {
      err << "regenpath fhirpath: " << label << ": " << result.error().message() << "\n";
      return kExitEvaluationError;
    }
    out << (options.typed ? fhirpath::CollectionToTypedJson(*result) : fhirpath::CollectionToJson(*result)) << "\n";
    return -1;
  };
  bool skipped_lines = false;
  for (const std::string& file : files) {
    const std::string label = file == "-" ? "<stdin>" : file;
    const bool ndjson_name = file.ends_with(".ndjson") || file.ends_with(".ndjson.gz");
    // Plain or gzip-compressed (a Bulk Data export's .ndjson.gz), told by
    // its content as screen tells it; a pipe or stdin will do.
    Result<std::string> text = screen::ReadWholeText(file, fhir::ParseOptions().max_bytes);
    if (!text.has_value()) {
      err << "regenpath fhirpath: " << text.error().message() << "\n";
      return kExitInvalidInput;
    }
    if (!ndjson_name && !document_parser.IsNdjson(*text)) {
      Result<fhir::Document> document = document_parser.ParseAuto(*text, label);
      if (!document.has_value()) {
        err << "regenpath fhirpath: " << document.error().message() << "\n";
        return kExitInvalidInput;
      }
      if (int code = evaluate(*document, label); code >= 0) return code;
      continue;
    }
    // NDJSON: each line is a resource of its own, with a line of output; a
    // line that is not one is reported (file:line) and skipped, whichever
    // line it is, with an empty line of output, so that output line k is
    // still the result of the k-th non-blank input line.
    bool any_resource = false;
    std::string_view rest = *text;
    for (size_t line_number = 1; !rest.empty() || line_number == 1; ++line_number) {
      size_t end = rest.find('\n');
      // (As the parser reads NDJSON lines: a byte-order mark before one is
      // not part of it.)
      const std::string_view line = fhir::NdjsonLineContent(rest.substr(0, end));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
      if (line.empty()) {
        if (rest.empty()) break;
        continue;
      }
      const std::string line_label = fmt::format("{}:{}", label, line_number);
      Result<fhir::Document> document = document_parser.ParseResource(line, line_label);
      if (!document.has_value()) {
        // "FILE:LINE: column C: what is wrong", as screen names a line (the
        // parser's own "1:C" is the place within the line alone).
        std::string message = document.error().message();
        if (message.starts_with(line_label + ":")) {
          std::string_view rest = std::string_view(message).substr(line_label.size() + 1);
          if (rest.starts_with(' ')) rest.remove_prefix(1);
          message = line_label + ": " + screen::LineAloneMessage(std::string(rest));
        }
        err << "regenpath fhirpath: " << message << " (line skipped)\n";
        out << "\n";
        skipped_lines = true;
        continue;
      }
      any_resource = true;
      if (int code = evaluate(*document, line_label); code >= 0) return code;
    }
    if (!any_resource) {
      err << "regenpath fhirpath: " << label << ": no resource in the input\n";
      return kExitInvalidInput;
    }
  }
  out.flush();
  // Every good line was evaluated; the exit code still says some were not.
  if (skipped_lines) return kExitInvalidInput;
  return kExitOk;
}

}  // namespace regenpath::cli
