// The resource gates of expressions (fhirpath/resource_gates.h), as data:
// tests/fhirpath/gates/resource_gates.json lists expressions over a Bundle
// and, for each, the types read whole, the gated types with their value
// sets, whether every type is read whole, the types reached through
// resolve().ofType(T), and whether a resolve() may reach any type.
#include "fhirpath/resource_gates.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "simdjson.h"

#include "fhirpath/compiled_expression.h"

namespace regenpath::fhirpath {
namespace {

TEST(ResourceGatesTest, CasesFromData) {
  simdjson::dom::parser parser;
  simdjson::dom::element cases = parser.load(REGENPATH_SOURCE_DIR "/tests/fhirpath/gates/resource_gates.json");
  CompileOptions options;
  options.context_type = "Bundle";
  size_t count = 0;
  for (simdjson::dom::element entry : cases.get_array()) {
    const std::string name{std::string_view(entry["name"])};
    const std::string expression{std::string_view(entry["expression"])};
    SCOPED_TRACE(name + ": " + expression);
    Result<CompiledExpression> compiled = CompiledExpression::Compile(expression, options);
    ASSERT_TRUE(compiled.has_value()) << compiled.error().message();
    ResourceGates gates = compiled->GatesOnResources();
    bool all_whole = false;
    if (auto flag = entry["all_whole"]; flag.error() == simdjson::SUCCESS) all_whole = bool(flag);
    std::set<std::string> whole;
    if (auto list = entry["whole"]; list.error() == simdjson::SUCCESS) {
      for (simdjson::dom::element type : list.get_array()) whole.emplace(std::string_view(type));
    }
    std::map<std::string, std::set<std::string>> gated;
    if (auto map = entry["gated"]; map.error() == simdjson::SUCCESS) {
      for (simdjson::dom::key_value_pair field : map.get_object()) {
        for (simdjson::dom::element value_set : field.value.get_array()) {
          gated[std::string(field.key)].emplace(std::string_view(value_set));
        }
      }
    }
    std::set<std::string> resolved;
    if (auto list = entry["resolved"]; list.error() == simdjson::SUCCESS) {
      for (simdjson::dom::element type : list.get_array()) resolved.emplace(std::string_view(type));
    }
    bool resolves_untyped = false;
    if (auto flag = entry["resolves_untyped"]; flag.error() == simdjson::SUCCESS)
      resolves_untyped = bool(flag);
    EXPECT_EQ(gates.all_whole, all_whole);
    EXPECT_EQ(gates.whole, whole);
    EXPECT_EQ(gates.gated, gated);
    EXPECT_EQ(gates.resolved, resolved);
    EXPECT_EQ(gates.resolves_untyped, resolves_untyped);
    ++count;
  }
  EXPECT_GE(count, 20u);
}

TEST(ResourceGatesTest, MergeKeepsWholeTypesWholeAndAddsValueSets) {
  ResourceGates a, b;
  a.gated["Observation"] = {"x"};
  b.gated["Observation"] = {"y"};
  b.gated["Encounter"] = {"z"};
  a.Merge(b);
  EXPECT_EQ(a.gated["Observation"], (std::set<std::string>{"x", "y"}));
  EXPECT_TRUE(a.IsGated("Observation"));
  ResourceGates c;
  c.whole.insert("Encounter");
  a.Merge(c);
  EXPECT_FALSE(a.IsGated("Encounter"));
  EXPECT_TRUE(a.IsGated("Observation"));
  EXPECT_FALSE(a.IsGated("Condition"));
  ResourceGates d;
  d.all_whole = true;
  a.Merge(d);
  EXPECT_FALSE(a.IsGated("Observation"));
}

}  // namespace
}  // namespace regenpath::fhirpath
