#include "screen/run_facts.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "common/json_string.h"

namespace regenpath::screen {

namespace {

void AppendCounts(std::string& out, const std::map<std::string, uint64_t>& counts) {
  out += '{';
  bool first = true;
  for (const auto& [key, count] : counts) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(key, out);
    out += fmt::format(":{}", count);
  }
  out += '}';
}

uint64_t UintOr(simdjson::simdjson_result<simdjson::dom::element> value) {
  uint64_t number = 0;
  if (value.get_uint64().get(number) != simdjson::SUCCESS) return 0;
  return number;
}

uint64_t UintOr(simdjson::dom::element value) {
  uint64_t number = 0;
  if (value.get_uint64().get(number) != simdjson::SUCCESS) return 0;
  return number;
}

}  // namespace

std::string RunFacts::ToJson() const {
  std::string out = "{\n  \"schema\": \"regenpath.screen-run/1\",\n  \"now\": ";
  AppendJsonString(now, out);
  out += ",\n  \"knowledge_base\": {\"name\": ";
  AppendJsonString(kb_name, out);
  out += ", \"version\": ";
  AppendJsonString(kb_version, out);
  out += "},\n  \"inputs\": [";
  for (size_t i = 0; i < inputs.size(); ++i) {
    out += i == 0 ? "\n    {\"path\": " : ",\n    {\"path\": ";
    AppendJsonString(inputs[i].first, out);
    out += fmt::format(", \"bytes\": {}}}", inputs[i].second);
  }
  out += inputs.empty() ? "],\n  \"skipped_files\": [" : "\n  ],\n  \"skipped_files\": [";
  for (size_t i = 0; i < skipped_files.size(); ++i) {
    if (i > 0) out += ", ";
    AppendJsonString(skipped_files[i], out);
  }
  out += fmt::format("],\n  \"lines\": {},\n  \"patient_resources\": {},\n  \"malformed_lines\": {},\n", lines,
                     patient_resources, malformed_lines);
  out += "  \"outside_compartment\": ";
  AppendCounts(out, outside_compartment);
  out += ",\n  \"no_patient\": ";
  AppendCounts(out, no_patient);
  out += "\n}\n";
  return out;
}

Result<RunFacts> RunFacts::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) return Fail(InvalidInput("run.json is not JSON"));
  RunFacts facts;
  auto text = [&](simdjson::dom::element value) -> std::string {
    std::string_view s;
    return value.get_string().get(s) == simdjson::SUCCESS ? std::string(s) : std::string();
  };
  std::string_view schema;
  if (root["schema"].get_string().get(schema) || schema != "regenpath.screen-run/1") {
    return Fail(InvalidInput("run.json is not a regenpath screening run (schema regenpath.screen-run/1)"));
  }
  facts.now = text(root["now"]);
  facts.kb_name = text(root["knowledge_base"]["name"]);
  facts.kb_version = text(root["knowledge_base"]["version"]);
  simdjson::dom::array items;
  if (root["inputs"].get_array().get(items) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : items) {
      uint64_t bytes = 0;
      bytes = UintOr(item["bytes"]);
      facts.inputs.emplace_back(text(item["path"]), bytes);
    }
  }
  if (root["skipped_files"].get_array().get(items) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : items) facts.skipped_files.push_back(text(item));
  }
  facts.lines = UintOr(root["lines"]);
  facts.patient_resources = UintOr(root["patient_resources"]);
  facts.malformed_lines = UintOr(root["malformed_lines"]);
  for (auto [key, target] : {std::pair{"outside_compartment", &facts.outside_compartment},
                             std::pair{"no_patient", &facts.no_patient}}) {
    simdjson::dom::object counts;
    if (root[key].get_object().get(counts)) continue;
    for (auto field : counts) {
      uint64_t count = 0;
      count = UintOr(field.value);
      (*target)[std::string(field.key)] = count;
    }
  }
  return facts;
}

}  // namespace regenpath::screen
