// The official FHIRPath conformance suite (FHIR R4 and R5 editions), run as
// data: every <test> of shared/testdata/fhirpath/official/tests-fhir-*.json.
//
// Prints "N passed, M failed" per edition. A failure is accepted only when the
// test is listed, with its reason, in tests/fhirpath/official_known_failures_<edition>.txt;
// any other failure fails the ctest test, and so does a listed test that now
// passes (so the list stays honest).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "simdjson.h"

#include "common/clock.h"
#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/output.h"

namespace regenpath::fhirpath {
namespace {

struct ExpectedOutput {
  std::string type;  // empty when the suite does not say
  std::string value;
};

struct SuiteCase {
  std::string group;
  std::string name;
  std::string expression;
  std::string input_file;  // JSON input, or empty
  std::string invalid;     // "syntax", "semantic", "execution", or empty
  bool strict = false;
  bool lenient_polymorphics = false;
  bool check_ordered = false;
  bool predicate = false;
  bool ordered = true;
  std::vector<ExpectedOutput> outputs;
};

std::string SharedDir() { return REGENPATH_SHARED_DIR; }

std::vector<SuiteCase> LoadSuite(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(path);
  std::vector<SuiteCase> cases;
  for (simdjson::dom::element group : root["groups"].get_array()) {
    std::string group_name(std::string_view(group["name"].get_string()));
    for (simdjson::dom::element test : group["tests"].get_array()) {
      SuiteCase item;
      item.group = group_name;
      item.name = std::string(std::string_view(test["name"].get_string()));
      item.expression = std::string(std::string_view(test["expression"].get_string()));
      std::string_view text;
      if (test["inputfile_json"].get_string().get(text) == simdjson::SUCCESS) item.input_file = std::string(text);
      if (test["expression_invalid"].get_string().get(text) == simdjson::SUCCESS) item.invalid = std::string(text);
      if (test["mode"].get_string().get(text) == simdjson::SUCCESS) {
        item.strict = text == "strict";
        item.lenient_polymorphics = text == "lenient/polymorphics";
      }
      if (test["expression_mode"].get_string().get(text) == simdjson::SUCCESS) item.strict |= text == "strict";
      if (test["checkOrderedFunctions"].get_string().get(text) == simdjson::SUCCESS) item.check_ordered = text == "true";
      if (test["predicate"].get_string().get(text) == simdjson::SUCCESS) item.predicate = text == "true";
      if (test["ordered"].get_string().get(text) == simdjson::SUCCESS) item.ordered = text != "false";
      simdjson::dom::array outputs;
      if (test["outputs"].get_array().get(outputs) == simdjson::SUCCESS) {
        for (simdjson::dom::element output : outputs) {
          ExpectedOutput expected;
          if (output["type"].get_string().get(text) == simdjson::SUCCESS) expected.type = std::string(text);
          if (output["value"].get_string().get(text) == simdjson::SUCCESS) expected.value = std::string(text);
          item.outputs.push_back(std::move(expected));
        }
      }
      cases.push_back(std::move(item));
    }
  }
  return cases;
}

// "name: reason" lines; '#' starts a comment.
std::map<std::string, std::string> LoadKnownFailures(const std::string& path) {
  std::map<std::string, std::string> known;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    std::string reason = colon == std::string::npos ? "" : line.substr(colon + 1);
    known[name] = reason;
  }
  return known;
}

class SuiteRunner {
 public:
  explicit SuiteRunner(std::string input_dir) : input_dir_(std::move(input_dir)) {}

  // Returns "" when the case passes, else a description of the difference.
  std::string Run(const SuiteCase& test) {
    const fhir::Document* document = nullptr;
    if (!test.input_file.empty()) {
      Result<const fhir::Document*> loaded = Load(test.input_file);
      if (!loaded.has_value()) return "cannot load input: " + loaded.error().message();
      document = *loaded;
    }
    // Like the reference engines, check every expression against the type of
    // its input; "strict" mode adds the ordered-function check.
    CompileOptions options;
    if (document != nullptr) options.context_type = std::string(document->root().type_name());
    options.check_ordered_functions = test.check_ordered || test.strict;
    options.allow_json_choice_names = test.lenient_polymorphics;
    Result<CompiledExpression> compiled = CompiledExpression::Compile(test.expression, options);
    if (!compiled.has_value()) {
      if (!test.invalid.empty()) return "";
      return "compile error: " + compiled.error().message();
    }
    EvaluationContext context;
    context.document = document;
    context.resource = document != nullptr ? &document->root() : nullptr;
    context.now = SystemClock().Now();
    workspace_.Reset();
    Result<Collection> result = compiled->Evaluate(context, workspace_);
    if (!result.has_value()) {
      if (!test.invalid.empty()) return "";
      return "evaluation error: " + result.error().message();
    }
    if (!test.invalid.empty()) return "expected a " + test.invalid + " error, got " + CollectionToTypedJson(*result);
    // The same evaluation on a document parsed with the expression's element
    // filter must give the same answer (the fast path of the CLI).
    if (document != nullptr) {
      std::string typed = CollectionToTypedJson(*result);
      std::optional<std::vector<std::string>> names =
          compiled->ElementsRead(std::string(document->root().type_name()));
      if (names) {
        ++filtered_runs_;
        fhir::ElementFilter filter(*names);
        fhir::ParseOptions parse_options;
        parse_options.filter_for_root = [&](std::string_view) { return &filter; };
        fhir::Parser filtered_parser(parse_options);
        Result<fhir::Document> partial = filtered_parser.ParseFile(input_dir_ + "/" + test.input_file);
        if (!partial.has_value()) return "filtered parse failed: " + partial.error().message();
        EvaluationContext partial_context = context;
        partial_context.document = &*partial;
        partial_context.resource = &partial->root();
        Workspace partial_workspace;
        Result<Collection> partial_result = compiled->Evaluate(partial_context, partial_workspace);
        std::string partial_typed =
            partial_result.has_value() ? CollectionToTypedJson(*partial_result) : partial_result.error().message();
        if (partial_typed != typed) return "the filtered parse gives " + partial_typed + " instead of " + typed;
      }
    }
    Collection actual = *result;
    if (test.predicate) actual = {Value::Boolean(!result->empty())};
    std::vector<ExpectedOutput> got;
    for (const Value& value : actual) {
      TypedValue typed = ToTyped(value);
      got.push_back({typed.type, typed.value});
    }
    std::vector<ExpectedOutput> expected = test.outputs;
    if (!test.ordered) {
      auto by_value = [](const ExpectedOutput& a, const ExpectedOutput& b) { return a.value < b.value; };
      std::sort(got.begin(), got.end(), by_value);
      std::sort(expected.begin(), expected.end(), by_value);
    }
    bool same = got.size() == expected.size();
    for (size_t i = 0; same && i < got.size(); ++i) {
      if (got[i].value != expected[i].value) same = false;
      if (!expected[i].type.empty() && got[i].type != expected[i].type) same = false;
    }
    if (same) return "";
    return "expected " + Describe(expected) + ", got " + Describe(got);
  }

 private:
  static std::string Describe(const std::vector<ExpectedOutput>& outputs) {
    std::string text = "[";
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (i > 0) text += ", ";
      text += (outputs[i].type.empty() ? "?" : outputs[i].type) + " " + outputs[i].value;
    }
    return text + "]";
  }

  Result<const fhir::Document*> Load(const std::string& name) {
    auto found = documents_.find(name);
    if (found != documents_.end()) return found->second.get();
    Result<fhir::Document> document = parser_.ParseFile(input_dir_ + "/" + name);
    if (!document.has_value()) return Fail(document.error());
    auto owned = std::make_unique<fhir::Document>(std::move(*document));
    const fhir::Document* pointer = owned.get();
    documents_.emplace(name, std::move(owned));
    return pointer;
  }

  std::string input_dir_;
  fhir::Parser parser_;

 public:
  int filtered_runs_ = 0;

 private:
  Workspace workspace_;
  std::map<std::string, std::unique_ptr<fhir::Document>> documents_;
};

void RunEdition(const std::string& edition) {
  const std::string base = SharedDir() + "/testdata/fhirpath/official";
  std::vector<SuiteCase> cases = LoadSuite(base + "/tests-fhir-" + edition + ".converted.json");
  std::map<std::string, std::string> known = LoadKnownFailures(
      std::string(REGENPATH_SOURCE_DIR) + "/tests/fhirpath/official_known_failures_" + edition + ".txt");
  SuiteRunner runner(base + "/input-" + edition + "-json");
  int passed = 0;
  int failed = 0;
  std::set<std::string> failed_names;
  for (const SuiteCase& test : cases) {
    std::string problem = runner.Run(test);
    if (problem.empty()) {
      ++passed;
      continue;
    }
    ++failed;
    const std::string key = test.group + "/" + test.name;
    failed_names.insert(key);
    if (known.count(key) == 0) {
      ADD_FAILURE() << key << ": `" << test.expression << "`: " << problem;
    } else {
      std::cout << "  known failure " << key << ": " << problem << "\n";
    }
  }
  for (const auto& [name, reason] : known) {
    if (failed_names.count(name) == 0) {
      ADD_FAILURE() << name << " is listed as a known failure but passes (or no longer exists): remove it";
    }
  }
  std::cout << "FHIRPath official suite (" << edition << "): " << passed << " passed, " << failed << " failed ("
            << runner.filtered_runs_ << " also checked on element-filtered parses)\n";
  ::testing::Test::RecordProperty("passed", passed);
  ::testing::Test::RecordProperty("failed", failed);
}

TEST(OfficialSuite, R4) { RunEdition("r4"); }

TEST(OfficialSuite, R5) { RunEdition("r5"); }

}  // namespace
}  // namespace regenpath::fhirpath
