// FHIRPath engine tests beyond the official suite.
//
// Most cases are data: every tests/fhirpath/cases/*.json file holds a list
// of cases run by one driver (EngineCaseTest below). A case file is
//
//   {
//     "description": "what the file covers",
//     "input": "data/patient.json",          // optional default for its cases
//     "now": "2024-02-29T13:45:30.123+01:00", // optional default "now"
//     "cases": [ { ...case... }, ... ]
//   }
//
// and a case is
//
//   "name":        unique within the file (the GoogleTest name is built from it)
//   "expression":  the FHIRPath expression
//   "input":       a FHIR JSON file, relative to the case file; "$shared/..."
//                  means the shared test data folder; absent: no resource
//   "resource":    an expression picking %resource among the input (default:
//                  the input's root)
//   "focus":       an expression whose result is the input collection
//                  (%context); default: {%resource}
//   "now":         now() as a FHIR dateTime (default 2024-02-29T13:45:30.123+01:00)
//   "variables":   {"name": JSON} user variables: scalars, arrays of them, or
//                  FHIR resources (objects)
//   "terminology": [ValueSet files] loaded for memberOf()
//   "compile":     {"context_type": "Patient", "check_ordered_functions": true,
//                   "allow_json_choice_names": true}
//   "max_items":   EvaluationContext::max_items
//   "bug":         a known bug in src/ that makes the case fail: the case is
//                  skipped with this message unless REGENPATH_RUN_KNOWN_BUGS
//                  is set in the environment
// and exactly one expectation:
//   "result":      the JSON form of the result (as `regenpath fhirpath` prints
//                  it), compared as JSON (numbers by value, objects by member
//                  order)
//   "typed":       [["type", "value"], ...] the suite's typed form, compared
//                  exactly (so decimals keep their precision)
//   "error":       "syntax" | "semantic" | "evaluation" | "resource-exhausted"
//                  | "compile" (syntax or semantic) | "any"
// optionally with "message": a substring the error message must contain, and
// "unordered": true to compare results as multisets.
//
// The C++ tests after the driver cover what a data file cannot say: trace
// sinks, clocks, workspaces, threads, timing.
#include <pthread.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "simdjson.h"

#include "common/clock.h"
#include "fhir/element_filter.h"
#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/evaluation_context.h"
#include "fhirpath/operations.h"
#include "fhirpath/output.h"
#include "fhirpath/terminology.h"

namespace regenpath::fhirpath {
namespace {

namespace fs = std::filesystem;

// Skips a test that exposes a known bug in src/ (described in the skip
// message) unless REGENPATH_RUN_KNOWN_BUGS is set in the environment.
#define SKIP_KNOWN_BUG(description) \
  if (std::getenv("REGENPATH_RUN_KNOWN_BUGS") == nullptr) GTEST_SKIP() << "bug: " << description

using ::testing::HasSubstr;

std::string SharedDir() { return REGENPATH_SHARED_DIR; }
std::string CasesDir() { return std::string(REGENPATH_SOURCE_DIR) + "/tests/fhirpath/cases"; }

constexpr std::string_view kDefaultNow = "2024-02-29T13:45:30.123+01:00";

// memberOf() runs against the engine's own InMemoryTerminology.
using TestTerminology = InMemoryTerminology;

// ---------------------------------------------------------------------------
// The case files

struct EngineCase {
  std::string file;        // case file stem
  std::string name;
  std::string test_name;   // GoogleTest-safe
  std::string case_dir;    // directory of the case file
  std::string expression;
  std::string input;
  std::string resource;
  std::string focus;
  std::string now;
  std::string variables_json;  // the "variables" object, raw
  std::vector<std::string> terminology;
  CompileOptions compile;
  std::optional<size_t> max_items;
  std::optional<std::string> result_json;                       // "result", minified
  std::optional<std::vector<std::pair<std::string, std::string>>> typed;
  std::string error;
  std::string message;
  bool unordered = false;
  std::string bug;           // a known bug in src/: the case is skipped
  std::string load_problem;  // the case file itself is malformed
};

void PrintTo(const EngineCase& test, std::ostream* os) { *os << test.file << ": " << test.name; }

std::string Sanitize(std::string_view text) {
  std::string name;
  bool upper = true;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  return name.empty() ? "Case" : name;
}

std::string ResolvePath(const std::string& path, const std::string& case_dir) {
  if (path.starts_with("$shared/")) return SharedDir() + "/" + path.substr(8);
  return case_dir + "/" + path;
}

std::string Minify(simdjson::dom::element element) { return simdjson::minify(element); }

// The raw JSON text of each case's "variables" object ("" when absent), in
// case order, shifted by one: element i belongs to case i (1-based).
std::vector<std::string> RawVariables(const std::string& path) {
  std::vector<std::string> raw = {""};
  simdjson::padded_string json;
  if (simdjson::padded_string::load(path).get(json) != simdjson::SUCCESS) return raw;
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  if (parser.iterate(json).get(document) != simdjson::SUCCESS) return raw;
  simdjson::ondemand::array cases;
  if (document["cases"].get_array().get(cases) != simdjson::SUCCESS) return raw;
  for (auto item : cases) {
    simdjson::ondemand::object object;
    std::string_view text;
    std::string variables;
    if (item.get_object().get(object) == simdjson::SUCCESS) {
      simdjson::ondemand::object value;
      if (object.find_field_unordered("variables").get_object().get(value) == simdjson::SUCCESS &&
          value.raw_json().get(text) == simdjson::SUCCESS) {
        variables = std::string(text);
      }
    }
    raw.push_back(std::move(variables));
  }
  return raw;
}

std::vector<EngineCase> LoadCases() {
  std::vector<EngineCase> cases;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(CasesDir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::set<std::string> used_names;
  for (const fs::path& path : files) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    const std::string stem = Sanitize(path.stem().string());
    if (parser.load(path.string()).get(root) != simdjson::SUCCESS) {
      EngineCase broken;
      broken.file = stem;
      broken.test_name = stem + "_FileDoesNotParse";
      broken.load_problem = path.string() + " is not valid JSON";
      cases.push_back(broken);
      continue;
    }
    std::string_view text;
    std::string default_input;
    std::string default_now(kDefaultNow);
    if (root["input"].get_string().get(text) == simdjson::SUCCESS) default_input = std::string(text);
    if (root["now"].get_string().get(text) == simdjson::SUCCESS) default_now = std::string(text);
    simdjson::dom::array list;
    if (root["cases"].get_array().get(list) != simdjson::SUCCESS) continue;
    const std::vector<std::string> raw_variables = RawVariables(path.string());
    size_t case_index = 0;
    for (simdjson::dom::element item : list) {
      ++case_index;
      EngineCase test;
      test.file = stem;
      test.case_dir = path.parent_path().string();
      test.input = default_input;
      test.now = default_now;
      if (item["name"].get_string().get(text) == simdjson::SUCCESS) test.name = std::string(text);
      if (item["expression"].get_string().get(text) == simdjson::SUCCESS) test.expression = std::string(text);
      if (item["input"].get_string().get(text) == simdjson::SUCCESS) test.input = std::string(text);
      if (item["resource"].get_string().get(text) == simdjson::SUCCESS) test.resource = std::string(text);
      if (item["focus"].get_string().get(text) == simdjson::SUCCESS) test.focus = std::string(text);
      if (item["now"].get_string().get(text) == simdjson::SUCCESS) test.now = std::string(text);
      if (item["error"].get_string().get(text) == simdjson::SUCCESS) test.error = std::string(text);
      if (item["message"].get_string().get(text) == simdjson::SUCCESS) test.message = std::string(text);
      if (item["bug"].get_string().get(text) == simdjson::SUCCESS) test.bug = std::string(text);
      bool flag = false;
      if (item["unordered"].get_bool().get(flag) == simdjson::SUCCESS) test.unordered = flag;
      int64_t number = 0;
      if (item["max_items"].get_int64().get(number) == simdjson::SUCCESS) test.max_items = static_cast<size_t>(number);
      simdjson::dom::object object;
      if (item["variables"].get_object().get(object) == simdjson::SUCCESS) {
        // The raw text, so that numbers keep their digits (1.50).
        test.variables_json = raw_variables.size() > case_index ? raw_variables[case_index] : "";
        if (test.variables_json.empty()) test.load_problem = "cannot read the raw \"variables\" text";
      }
      simdjson::dom::array array;
      if (item["terminology"].get_array().get(array) == simdjson::SUCCESS) {
        for (simdjson::dom::element file : array) test.terminology.emplace_back(std::string_view(file.get_string()));
      }
      if (item["compile"].get_object().get(object) == simdjson::SUCCESS) {
        if (object["context_type"].get_string().get(text) == simdjson::SUCCESS) {
          test.compile.context_type = std::string(text);
        }
        if (object["check_ordered_functions"].get_bool().get(flag) == simdjson::SUCCESS) {
          test.compile.check_ordered_functions = flag;
        }
        if (object["allow_json_choice_names"].get_bool().get(flag) == simdjson::SUCCESS) {
          test.compile.allow_json_choice_names = flag;
        }
      }
      simdjson::dom::element expected;
      if (item["result"].get(expected) == simdjson::SUCCESS) test.result_json = Minify(expected);
      if (item["typed"].get_array().get(array) == simdjson::SUCCESS) {
        std::vector<std::pair<std::string, std::string>> typed;
        for (simdjson::dom::element pair : array) {
          simdjson::dom::array parts;
          std::string_view type;
          std::string_view value;
          if (pair.get_array().get(parts) != simdjson::SUCCESS || parts.size() != 2 ||
              parts.at(0).get_string().get(type) != simdjson::SUCCESS ||
              parts.at(1).get_string().get(value) != simdjson::SUCCESS) {
            test.load_problem = "\"typed\" must be a list of [type, value] string pairs";
            break;
          }
          typed.emplace_back(std::string(type), std::string(value));
        }
        test.typed = std::move(typed);
      }
      const int expectations = (test.result_json ? 1 : 0) + (test.typed ? 1 : 0) + (test.error.empty() ? 0 : 1);
      if (test.name.empty() || test.expression.empty()) test.load_problem = "a case needs a name and an expression";
      if (expectations != 1) test.load_problem = "a case needs exactly one of result, typed, error";
      std::string base = stem + "_" + Sanitize(test.name);
      std::string unique = base;
      for (int suffix = 2; used_names.contains(unique); ++suffix) unique = base + "_" + std::to_string(suffix);
      used_names.insert(unique);
      test.test_name = unique;
      cases.push_back(std::move(test));
    }
  }
  return cases;
}

// Parsed input files, shared by the cases that name them (documents are
// immutable, so sharing is safe).
class Documents {
 public:
  static Documents& Get() {
    static Documents* documents = new Documents();
    return *documents;
  }

  Result<const fhir::Document*> Load(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = documents_.find(path);
    if (found != documents_.end()) return found->second.get();
    fhir::Parser parser;
    Result<fhir::Document> document = parser.ParseFile(path);
    if (!document.has_value()) return Fail(document.error());
    auto owned = std::make_unique<fhir::Document>(std::move(*document));
    const fhir::Document* pointer = owned.get();
    documents_.emplace(path, std::move(owned));
    return pointer;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<fhir::Document>> documents_;
};

// Builds user variables from a {"name": JSON} object: objects are parsed as
// FHIR resources, everything else through a wrapper resource whose untyped
// members become System values (as `regenpath fhirpath --env` does).
class Variables {
 public:
  Status Load(const std::string& json) {
    // On-Demand, for the raw text of each member (numbers keep their digits).
    simdjson::padded_string padded(json);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    if (parser.iterate(padded).get(document) != simdjson::SUCCESS ||
        document.get_object().get(object) != simdjson::SUCCESS) {
      return InvalidArgument("bad variables");
    }
    for (auto field : object) {
      std::string_view key;
      simdjson::ondemand::value value;
      simdjson::ondemand::json_type type;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(value) != simdjson::SUCCESS ||
          value.type().get(type) != simdjson::SUCCESS) {
        return InvalidArgument("bad variables");
      }
      std::string name(key);
      std::string_view raw;
      simdjson::error_code error = simdjson::SUCCESS;
      if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object member;
        error = value.get_object().get(member);
        if (!error) error = member.raw_json().get(raw);
      } else if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array member;
        error = value.get_array().get(member);
        if (!error) error = member.raw_json().get(raw);
      } else {
        raw = value.raw_json_token();
      }
      if (error) return InvalidArgument("bad variables");
      RP_RETURN_IF_ERROR(Add(name, std::string(raw), type == simdjson::ondemand::json_type::object));
    }
    return Status();
  }

  Status Add(const std::string& name, const std::string& member, bool is_object) {
    std::vector<Value>& values = variables_[name];
    fhir::ParseOptions options;
    options.report_unknown_elements = false;
    fhir::Parser fhir_parser(options);
    if (is_object) {
      Result<fhir::Document> document = fhir_parser.ParseResource(member, name);
      if (!document.has_value()) return document.error();
      documents_.push_back(std::make_unique<fhir::Document>(std::move(*document)));
      values.push_back(Value::Node(&documents_.back()->root()));
      return Status();
    }
    Result<fhir::Document> document =
        fhir_parser.ParseResource("{\"resourceType\":\"Basic\",\"x\":" + member + "}", name);
    if (!document.has_value()) return document.error();
    documents_.push_back(std::make_unique<fhir::Document>(std::move(*document)));
    for (const fhir::Node& item : documents_.back()->root().Children("x")) {
      std::optional<Value> system = ToSystem(Value::Node(&item));
      if (system) values.push_back(*system);
    }
    return Status();
  }

  const std::map<std::string, std::vector<Value>, std::less<>>* map() const { return &variables_; }

 private:
  std::vector<std::unique_ptr<fhir::Document>> documents_;
  std::map<std::string, std::vector<Value>, std::less<>> variables_;
};

bool ErrorKindMatches(const std::string& kind, const Status& status, bool at_compile) {
  const std::string& message = status.message();
  if (kind == "any") return true;
  if (kind == "compile") return at_compile;
  if (kind == "syntax") return at_compile && message.starts_with("syntax error");
  if (kind == "semantic") return at_compile && message.starts_with("semantic error");
  if (kind == "evaluation") return !at_compile && status.code() == StatusCode::kEvaluationError;
  if (kind == "resource-exhausted") return !at_compile && status.code() == StatusCode::kResourceExhausted;
  return false;
}

std::vector<std::string> SplitTopLevelJsonArray(const std::string& minified) {
  // Splits "[a,b,c]" (minified JSON) into its items' texts.
  std::vector<std::string> items;
  if (minified.size() < 2) return items;
  int depth = 0;
  bool in_string = false;
  std::string current;
  for (size_t at = 1; at + 1 < minified.size(); ++at) {
    char c = minified[at];
    if (in_string) {
      current += c;
      if (c == '\\') {
        current += minified[++at];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      items.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  if (!current.empty()) items.push_back(current);
  return items;
}

class EngineCaseTest : public ::testing::TestWithParam<EngineCase> {};

TEST_P(EngineCaseTest, Runs) {
  const EngineCase& test = GetParam();
  ASSERT_TRUE(test.load_problem.empty()) << test.load_problem;
  if (!test.bug.empty()) SKIP_KNOWN_BUG(test.bug);
  SCOPED_TRACE("expression: " + test.expression);

  const fhir::Document* document = nullptr;
  if (!test.input.empty()) {
    Result<const fhir::Document*> loaded = Documents::Get().Load(ResolvePath(test.input, test.case_dir));
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    document = *loaded;
  }
  std::optional<DateTime> now = DateTime::ParseDateTime(test.now);
  ASSERT_TRUE(now.has_value()) << "bad now: " << test.now;

  Variables variables;
  if (!test.variables_json.empty()) {
    Status status = variables.Load(test.variables_json);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  TestTerminology terminology;
  std::vector<std::unique_ptr<fhir::Document>> value_sets;
  for (const std::string& file : test.terminology) {
    Result<const fhir::Document*> loaded = Documents::Get().Load(ResolvePath(file, test.case_dir));
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    for (const fhir::Node* resource : (*loaded)->resources()) {
      Status status = terminology.AddValueSet(*resource);
      ASSERT_TRUE(status.ok()) << file << ": " << status.message();
    }
  }

  Workspace setup_workspace;
  EvaluationContext base;
  base.document = document;
  base.resource = document != nullptr ? &document->root() : nullptr;
  base.now = *now;
  // The resource and focus selectors run on the whole input.
  Collection resource_items;
  if (!test.resource.empty()) {
    Result<CompiledExpression> selector = CompiledExpression::Compile(test.resource);
    ASSERT_TRUE(selector.has_value()) << selector.error().message();
    Result<Collection> selected = selector->Evaluate(base, setup_workspace);
    ASSERT_TRUE(selected.has_value()) << selected.error().message();
    ASSERT_EQ(selected->size(), 1u) << "\"resource\" must select one node";
    ASSERT_TRUE(selected->front().is_node());
    resource_items = *selected;
  }
  Collection focus_items;
  if (!test.focus.empty()) {
    Result<CompiledExpression> selector = CompiledExpression::Compile(test.focus);
    ASSERT_TRUE(selector.has_value()) << selector.error().message();
    EvaluationContext focus_context = base;
    if (!resource_items.empty()) focus_context.resource = resource_items.front().node();
    Result<Collection> selected = selector->Evaluate(focus_context, setup_workspace);
    ASSERT_TRUE(selected.has_value()) << selected.error().message();
    ASSERT_FALSE(selected->empty()) << "\"focus\" selects nothing";
    focus_items = *selected;
  }

  Result<CompiledExpression> compiled = CompiledExpression::Compile(test.expression, test.compile);
  if (!compiled.has_value()) {
    ASSERT_FALSE(test.error.empty()) << "compile error: " << compiled.error().message();
    EXPECT_EQ(compiled.error().code(), StatusCode::kInvalidArgument) << compiled.error().message();
    EXPECT_TRUE(ErrorKindMatches(test.error, compiled.error(), /*at_compile=*/true))
        << "expected a " << test.error << " error, got at compile time: " << compiled.error().message();
    EXPECT_THAT(compiled.error().message(), HasSubstr(test.message));
    return;
  }
  EvaluationContext context = base;
  if (!resource_items.empty()) context.resource = resource_items.front().node();
  context.focus = focus_items;
  context.variables = test.variables_json.empty() ? nullptr : variables.map();
  context.terminology = test.terminology.empty() ? nullptr : &terminology;
  if (test.max_items) context.max_items = *test.max_items;
  Workspace workspace;
  Result<Collection> result = compiled->Evaluate(context, workspace);
  if (!result.has_value()) {
    ASSERT_FALSE(test.error.empty()) << "evaluation error: " << result.error().message();
    EXPECT_TRUE(ErrorKindMatches(test.error, result.error(), /*at_compile=*/false))
        << "expected a " << test.error << " error, got: " << StatusCodeName(result.error().code()) << " "
        << result.error().message();
    EXPECT_THAT(result.error().message(), HasSubstr(test.message));
    return;
  }
  ASSERT_TRUE(test.error.empty()) << "expected a " << test.error << " error, got " << CollectionToTypedJson(*result);

  // CompiledExpression::ElementsRead's contract: the same evaluation on a
  // document parsed with the expression's element filter gives the same
  // result (the CLI's fast path). Checked when the case reads its input whole.
  if (document != nullptr && test.resource.empty() && test.focus.empty()) {
    std::optional<std::vector<std::string>> names =
        compiled->ElementsRead(std::string(document->root().type_name()));
    if (names) {
      fhir::ElementFilter filter(*names);
      fhir::ParseOptions parse_options;
      parse_options.filter_for_root = [&](std::string_view) { return &filter; };
      fhir::Parser filtered_parser(parse_options);
      Result<fhir::Document> partial = filtered_parser.ParseFile(ResolvePath(test.input, test.case_dir));
      ASSERT_TRUE(partial.has_value()) << "filtered parse: " << partial.error().message();
      EvaluationContext partial_context = context;
      partial_context.document = &*partial;
      partial_context.resource = &partial->root();
      Workspace partial_workspace;
      Result<Collection> partial_result = compiled->Evaluate(partial_context, partial_workspace);
      ASSERT_TRUE(partial_result.has_value()) << "on the filtered parse: " << partial_result.error().message();
      EXPECT_EQ(CollectionToTypedJson(*partial_result), CollectionToTypedJson(*result))
          << "the element-filtered parse (reading " << filter.names().size() << " names) differs";
    }
  }

  if (test.typed) {
    std::vector<std::pair<std::string, std::string>> got;
    for (const Value& value : *result) {
      TypedValue typed = ToTyped(value);
      got.emplace_back(typed.type, typed.value);
    }
    std::vector<std::pair<std::string, std::string>> expected = *test.typed;
    if (test.unordered) {
      std::sort(got.begin(), got.end());
      std::sort(expected.begin(), expected.end());
    }
    EXPECT_EQ(got, expected) << "typed: " << CollectionToTypedJson(*result);
    return;
  }
  const std::string actual_text = CollectionToJson(*result);
  simdjson::dom::parser parser;
  simdjson::dom::element actual;
  ASSERT_EQ(parser.parse(actual_text).get(actual), simdjson::SUCCESS) << "output is not JSON: " << actual_text;
  std::vector<std::string> got = SplitTopLevelJsonArray(Minify(actual));
  std::vector<std::string> expected = SplitTopLevelJsonArray(*test.result_json);
  if (test.unordered) {
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
  }
  EXPECT_EQ(got, expected) << "result: " << actual_text << "\ntyped: " << CollectionToTypedJson(*result);
}

INSTANTIATE_TEST_SUITE_P(Cases, EngineCaseTest, ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<EngineCase>& info) { return info.param.test_name; });

TEST(EngineCaseFilesTest, ThereAreCases) {
  std::vector<EngineCase> cases = LoadCases();
  EXPECT_GT(cases.size(), 200u);
  std::map<std::string, int> per_file;
  for (const EngineCase& test : cases) ++per_file[test.file];
  for (const auto& [file, count] : per_file) std::cout << file << ": " << count << " cases\n";
}

// ---------------------------------------------------------------------------
// What the data files cannot say

DateTime FixedNow() { return *DateTime::ParseDateTime(kDefaultNow); }

const fhir::Document& LoadShared(const std::string& relative) {
  Result<const fhir::Document*> document = Documents::Get().Load(SharedDir() + "/testdata/" + relative);
  if (!document.has_value()) {
    ADD_FAILURE() << document.error().message();
    std::abort();
  }
  return **document;
}

const fhir::Document& LoadCaseData(const std::string& relative) {
  Result<const fhir::Document*> document = Documents::Get().Load(CasesDir() + "/" + relative);
  if (!document.has_value()) {
    ADD_FAILURE() << document.error().message();
    std::abort();
  }
  return **document;
}

CompiledExpression MustCompile(std::string_view expression, const CompileOptions& options = {}) {
  Result<CompiledExpression> compiled = CompiledExpression::Compile(expression, options);
  if (!compiled.has_value()) {
    ADD_FAILURE() << expression << ": " << compiled.error().message();
    return *CompiledExpression::Compile("{}");
  }
  return std::move(*compiled);
}

EvaluationContext ContextFor(const fhir::Document& document) {
  EvaluationContext context;
  context.document = &document;
  context.resource = &document.root();
  context.now = FixedNow();
  return context;
}

class RecordingTraceSink : public TraceSink {
 public:
  void Trace(std::string_view name, std::span<const Value> values) override {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.emplace_back(std::string(name), CollectionToJson(values));
  }
  std::vector<std::pair<std::string, std::string>> calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> calls_;
};

TEST(EngineTest, TraceSinkReceivesValues) {
  const fhir::Document& patient = LoadCaseData("data/patient.json");
  RecordingTraceSink sink;
  EvaluationContext context = ContextFor(patient);
  context.trace = &sink;
  Workspace workspace;
  Result<Collection> result =
      MustCompile("Patient.name.trace('names', family).given.trace('given').count()").Evaluate(context, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), "[3]");
  std::vector<std::pair<std::string, std::string>> calls = sink.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first, "names");
  EXPECT_EQ(calls[0].second, R"(["Chalmers","Windsor"])");
  EXPECT_EQ(calls[1].first, "given");
  EXPECT_EQ(calls[1].second, R"(["Peter","James","Jim"])");
}

TEST(EngineTest, TraceWithoutASinkIsHarmless) {
  EvaluationContext context;
  context.now = FixedNow();
  Workspace workspace;
  Result<Collection> result = MustCompile("(1 | 2).trace('x').aggregate($this + $total, 0)").Evaluate(context, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), "[3]");
}

TEST(EngineTest, NowAndTodayComeFromTheContext) {
  FixedClock clock(*DateTime::ParseDateTime("2020-12-31T23:59:59.500-05:00"));
  EvaluationContext context;
  context.now = clock.Now();
  Workspace workspace;
  CompiledExpression expression = MustCompile("now() | today() | timeOfDay() | (today() + 1 day)");
  for (int repeat = 0; repeat < 3; ++repeat) {
    workspace.Reset();
    Result<Collection> result = expression.Evaluate(context, workspace);
    ASSERT_TRUE(result.has_value()) << result.error().message();
    EXPECT_EQ(CollectionToTypedJson(*result),
              R"([{"type":"dateTime","value":"@2020-12-31T23:59:59.500-05:00"},)"
              R"({"type":"date","value":"@2020-12-31"},)"
              R"({"type":"time","value":"@T23:59:59.500"},)"
              R"({"type":"date","value":"@2021-01-01"}])");
  }
  // Another clock, another answer from the same compiled expression.
  context.now = FixedClock(*DateTime::ParseDateTime("2024-02-29T08:00:00.000Z")).Now();
  Result<Collection> leap = MustCompile("today() + 1 year").Evaluate(context, workspace);
  ASSERT_TRUE(leap.has_value()) << leap.error().message();
  EXPECT_EQ(CollectionToTypedJson(*leap), R"([{"type":"date","value":"@2025-02-28"}])");
}

TEST(EngineTest, MaxItemsStopsARunawayRepeat) {
  EvaluationContext context;
  context.now = FixedNow();
  context.max_items = 1000;
  Workspace workspace;
  auto started = std::chrono::steady_clock::now();
  Result<Collection> result = MustCompile("1.repeat($this + 1)").Evaluate(context, workspace);
  ASSERT_FALSE(result.has_value()) << CollectionToJson(*result).substr(0, 200);
  EXPECT_TRUE(result.error().code() == StatusCode::kResourceExhausted ||
              result.error().code() == StatusCode::kEvaluationError)
      << result.error().ToString();
  EXPECT_THAT(result.error().message(), HasSubstr("repeat"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(EngineTest, MaxItemsStopsAGrowingCollection) {
  EvaluationContext context;
  context.now = FixedNow();
  context.max_items = 100;
  Workspace workspace;
  // 2^8 items by repeated self-combination.
  std::string expression = "(1 | 2)";
  for (int step = 0; step < 7; ++step) expression = "(" + expression + ").combine(" + expression + ")";
  Result<Collection> result = MustCompile(expression).Evaluate(context, workspace);
  ASSERT_FALSE(result.has_value()) << "got " << result->size() << " items";
  EXPECT_EQ(result.error().code(), StatusCode::kResourceExhausted) << result.error().ToString();
  // Within the bound the same expression works.
  context.max_items = 1000;
  Result<Collection> fits = MustCompile(expression + ".count()").Evaluate(context, workspace);
  ASSERT_TRUE(fits.has_value()) << fits.error().message();
  EXPECT_EQ(CollectionToJson(*fits), "[256]");
}

TEST(EngineTest, CatastrophicRegexFinishesFast) {
  std::map<std::string, std::vector<Value>, std::less<>> variables;
  const std::string long_text = std::string(100'000, 'a') + "!";
  variables["long"] = {Value::String(long_text)};
  EvaluationContext context;
  context.now = FixedNow();
  context.variables = &variables;
  Workspace workspace;
  auto started = std::chrono::steady_clock::now();
  Result<Collection> result =
      MustCompile("%long.matches('(a+)+$') | %long.matches('^(a|aa)+$') | %long.matches('(a*)*b')")
          .Evaluate(context, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), "[false]");
  Result<Collection> replaced = MustCompile("%long.replaceMatches('(a+)+!', 'x')").Evaluate(context, workspace);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().message();
  EXPECT_EQ(CollectionToJson(*replaced), R"(["x"])");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(EngineTest, UserVariablesOfEveryKind) {
  const fhir::Document& patient = LoadCaseData("data/patient.json");
  std::map<std::string, std::vector<Value>, std::less<>> variables;
  variables["n"] = {Value::Integer(41)};
  variables["list"] = {Value::String("a"), Value::String("b")};
  variables["empty"] = {};
  variables["who"] = {Value::Node(&patient.root())};
  variables["when"] = {Value::Temporal(*DateTime::ParseDate("2020-01-01"))};
  EvaluationContext context;
  context.now = FixedNow();
  context.variables = &variables;
  Workspace workspace;
  Result<Collection> result =
      MustCompile("(%n + 1) | %list.count() | %empty.count() | %who.name.first().family | (%when + 1 month)")
          .Evaluate(context, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), R"([42,2,0,"Chalmers","2020-02-01"])");
  // An unknown variable is an error, not empty.
  EXPECT_FALSE(MustCompile("%nope").Evaluate(context, workspace).has_value());
}

TEST(EngineTest, NoResourceAtAll) {
  EvaluationContext context;
  context.now = FixedNow();
  Workspace workspace;
  Result<Collection> result =
      MustCompile("(1 + 1) | %resource.count() | %context.count() | %rootResource.count() | name.count()")
          .Evaluate(context, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), "[2,0]");
}

TEST(EngineTest, FocusIsTheContext) {
  const fhir::Document& patient = LoadCaseData("data/patient.json");
  std::vector<Value> focus = {Value::Integer(1), Value::Integer(2), Value::Integer(3)};
  EvaluationContext context = ContextFor(patient);
  context.focus = focus;
  Workspace workspace;
  Result<Collection> result =
      MustCompile("aggregate($this + $total, 0) | %context.count() | %resource.id").Evaluate(context, workspace);
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(CollectionToJson(*result), R"([6,3,"example"])");
}

TEST(EngineTest, ResultsLiveInTheWorkspaceUntilReset) {
  EvaluationContext context;
  context.now = FixedNow();
  Workspace workspace;
  CompiledExpression expression = MustCompile("('abc' + 'def').upper() | ('g' & 'h')");
  Result<Collection> first = expression.Evaluate(context, workspace);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  Result<Collection> second = expression.Evaluate(context, workspace);
  ASSERT_TRUE(second.has_value());
  // Both results are still readable before Reset().
  EXPECT_EQ(CollectionToJson(*first), CollectionToJson(*second));
  EXPECT_EQ(CollectionToJson(*first), R"(["ABCDEF","gh"])");
  workspace.Reset();
  Result<Collection> third = expression.Evaluate(context, workspace);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(CollectionToJson(*third), R"(["ABCDEF","gh"])");
}

TEST(EngineTest, CopiesShareTheCompiledExpression) {
  CompiledExpression original = MustCompile("1 + 2");
  CompiledExpression copy = original;
  EXPECT_EQ(copy.text(), "1 + 2");
  EXPECT_EQ(&copy.text(), &original.text());
  EvaluationContext context;
  context.now = FixedNow();
  Workspace workspace;
  EXPECT_EQ(CollectionToJson(*copy.Evaluate(context, workspace)), "[3]");
}

TEST(EngineTest, ConcurrentEvaluationGivesIdenticalResults) {
  const fhir::Document& bundle =
      LoadShared("synthea/r4-bundles-pain-subset/Fletcher_Hyatt_fe0562b5-f517-4951-8366-32fdab088930.json");
  const std::vector<std::string> texts = {
      "Bundle.entry.resource.ofType(Observation).where(value is Quantity).value.value.aggregate($this + $total, 0)",
      "Bundle.entry.resource.ofType(Observation).subject.resolve().ofType(Patient).name.family.distinct()",
      "Bundle.entry.resource.ofType(Condition).code.coding.code.distinct().count()",
      "Bundle.entry.resource.ofType(Encounter).period.start.where($this > @2015-01-01).count()",
      "Bundle.entry.resource.ofType(Patient).name.given.first().upper() & '-' & today().toString()",
      "Bundle.entry.resource.ofType(Observation).code.coding.where(code.matches('^[0-9]+-[0-9]$')).count()",
      "Bundle.entry.resource.select(type().name).distinct().count()",
      "Bundle.entry.resource.ofType(Observation).first().defineVariable('o').select(%o.id & %resource.id)",
  };
  std::vector<CompiledExpression> expressions;
  for (const std::string& text : texts) expressions.push_back(MustCompile(text));
  const EvaluationContext context = ContextFor(bundle);

  std::vector<std::string> baseline;
  {
    Workspace workspace;
    for (const CompiledExpression& expression : expressions) {
      Result<Collection> result = expression.Evaluate(context, workspace);
      ASSERT_TRUE(result.has_value()) << expression.text() << ": " << result.error().message();
      baseline.push_back(CollectionToTypedJson(*result));
    }
  }
  for (const std::string& text : baseline) EXPECT_NE(text, "[]");

  constexpr int kThreads = 4;
  constexpr int kRounds = 10;
  std::atomic<int> mismatches{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread_index = 0; thread_index < kThreads; ++thread_index) {
    threads.emplace_back([&, thread_index]() {
      Workspace workspace;
      for (int round = 0; round < kRounds; ++round) {
        for (size_t offset = 0; offset < expressions.size(); ++offset) {
          // Each thread walks the list from another starting point.
          size_t index = (offset + static_cast<size_t>(thread_index)) % expressions.size();
          workspace.Reset();
          Result<Collection> result = expressions[index].Evaluate(context, workspace);
          if (!result.has_value()) {
            ++failures;
          } else if (CollectionToTypedJson(*result) != baseline[index]) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(EngineTest, CompileErrorsNameLineAndColumn) {
  Result<CompiledExpression> compiled = CompiledExpression::Compile("Patient.name\n  .where(given = 'x'\n");
  ASSERT_FALSE(compiled.has_value());
  EXPECT_EQ(compiled.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(compiled.error().message(), ::testing::StartsWith("syntax error at line "));
  EXPECT_THAT(compiled.error().message(), ::testing::ContainsRegex("line [23], column [0-9]+"));
  EXPECT_EQ(compiled.error().message().find('\n'), std::string::npos);
}

TEST(EngineTest, SemanticErrorsNameLineAndColumn) {
  CompileOptions options;
  options.context_type = "Patient";
  Result<CompiledExpression> compiled = CompiledExpression::Compile("name\n  .given1", options);
  ASSERT_FALSE(compiled.has_value());
  EXPECT_THAT(compiled.error().message(), ::testing::StartsWith("semantic error at line 2, column 4"));
  EXPECT_THAT(compiled.error().message(), HasSubstr("given1"));
}

TEST(EngineTest, UnknownContextTypeIsACompileError) {
  CompileOptions options;
  options.context_type = "Spaceship";
  Result<CompiledExpression> compiled = CompiledExpression::Compile("name", options);
  ASSERT_FALSE(compiled.has_value());
  EXPECT_THAT(compiled.error().message(), HasSubstr("Spaceship"));
}

// The stack the robustness tests run on: 1 MiB, an eighth of the usual
// default; under AddressSanitizer, whose redzones make every frame several
// times larger, the usual 8 MiB.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kSmallStackBytes = size_t{8} << 20;
#else
constexpr size_t kSmallStackBytes = size_t{1} << 20;
#endif

// Runs `work` on a thread whose stack is kSmallStackBytes and waits for it.
template <typename Work>
void RunOnSmallStack(Work work) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kSmallStackBytes);
  pthread_t thread;
  auto trampoline = [](void* argument) -> void* {
    (*static_cast<Work*>(argument))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attributes, trampoline, &work), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attributes);
}

// Compiles and evaluates `expression` in a child process (so that a crash
// fails only this test); the child exits 0 iff it neither crashed nor gave
// an unexpected answer (a clean error is fine).
// The work runs on a thread of its own stack size (kSmallStackBytes), so a
// result does not depend on the `ulimit -s` of the machine.
void ExpectNoCrashInChild(const std::string& expression, const CompileOptions& options) {
  EXPECT_EXIT(
      {
        RunOnSmallStack([&] {
          Result<CompiledExpression> compiled = CompiledExpression::Compile(expression, options);
          if (compiled.has_value()) {
            EvaluationContext context;
            context.now = FixedNow();
            Workspace workspace;
            (void)compiled->Evaluate(context, workspace);
            (void)compiled->ElementsRead("Patient");
          }
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(EngineRobustnessTest, LongOperatorChainsDoNotOverflowTheStack) {
  std::string sum = "1";
  for (int index = 0; index < 50'000; ++index) sum += " + 1";
  std::string path = "Patient";
  for (int index = 0; index < 50'000; ++index) path += ".name";
  CompileOptions checked;
  checked.context_type = "Patient";
  for (const std::string& expression : {sum, path}) {
    ExpectNoCrashInChild(expression, {});
    ExpectNoCrashInChild(expression, checked);
  }
}

TEST(EngineRobustnessTest, DeepParenthesesAreRejectedCleanly) {
  std::string nested = std::string(100'000, '(') + "1" + std::string(100'000, ')');
  ExpectNoCrashInChild(nested, {});
  RunOnSmallStack([&] {
    Result<CompiledExpression> compiled = CompiledExpression::Compile(nested);
    if (!compiled.has_value()) {
      EXPECT_THAT(compiled.error().message(), ::testing::StartsWith("syntax error at line 1, column "));
    }
  });
}

TEST(EngineRobustnessTest, ModeratelyLongChainsWork) {
  std::string sum = "1";
  for (int index = 0; index < 200; ++index) sum += " + 1";
  RunOnSmallStack([&] {
    EvaluationContext context;
    context.now = FixedNow();
    Workspace workspace;
    Result<Collection> result = MustCompile(sum).Evaluate(context, workspace);
    ASSERT_TRUE(result.has_value()) << result.error().message();
    EXPECT_EQ(CollectionToJson(*result), "[201]");
  });
}

}  // namespace
}  // namespace regenpath::fhirpath
