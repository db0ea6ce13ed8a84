// Assessments per second with the built-in knowledge base on the 14 Synthea
// bundles of shared/testdata/synthea/r4-bundles-pain-subset (in-process).
//   BM_Assess            : engine only, records parsed beforehand
//   BM_ParseAndAssess    : read from memory, parse (with the engine's element
//                          filter when it has one) and assess
// The whole-process figure comes from bench/assess_throughput.sh.
#include <benchmark/benchmark.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/engine.h"
#include "fhir/parser.h"

namespace {

using regenpath::DateTime;
using regenpath::engine::Engine;

struct Fixture {
  std::unique_ptr<Engine> engine;
  std::vector<std::string> texts;
  std::vector<std::unique_ptr<regenpath::fhir::Document>> records;
  DateTime now = *DateTime::ParseDateTime("2026-11-24");
};

Fixture& Data() {
  static Fixture* fixture = [] {
    auto* data = new Fixture();
    auto engine = Engine::Create(regenpath::knowledge::KnowledgeBase::Embedded());
    if (!engine.has_value()) {
      fprintf(stderr, "%s\n", engine.error().message().c_str());
      std::exit(1);
    }
    data->engine = std::make_unique<Engine>(std::move(*engine));
    // ASSESS_BENCH_DIR: another directory of records (e.g. tests/scenarios, whose patients are all alive).
    const char* chosen = std::getenv("ASSESS_BENCH_DIR");
    const std::string directory =
        chosen != nullptr ? chosen : std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset";
    std::vector<std::string> names;
    if (DIR* dir = opendir(directory.c_str())) {
      while (dirent* entry = readdir(dir)) {
        std::string name = entry->d_name;
        if (name.ends_with(".json") && !name.ends_with(".expect.json")) names.push_back(directory + "/" + name);
      }
      closedir(dir);
    }
    std::sort(names.begin(), names.end());
    regenpath::fhir::Parser parser;
    for (const std::string& name : names) {
      std::ifstream file(name);
      std::stringstream text;
      text << file.rdbuf();
      data->texts.push_back(text.str());
      auto record = parser.ParseResource(data->texts.back(), name);
      data->records.push_back(std::make_unique<regenpath::fhir::Document>(std::move(*record)));
    }
    return data;
  }();
  return *fixture;
}

void BM_Assess(benchmark::State& state) {
  Fixture& data = Data();
  size_t count = 0;
  for (auto _ : state) {
    for (const auto& record : data.records) {
      auto assessment = data.engine->Assess(*record, data.now);
      benchmark::DoNotOptimize(assessment->stage.priority);
      ++count;
    }
  }
  state.counters["assessments/s"] = benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Assess)->Unit(benchmark::kMillisecond);

void BM_ParseAndAssess(benchmark::State& state) {
  Fixture& data = Data();
  regenpath::fhir::ParseOptions options;
  const regenpath::fhir::ElementFilter* filter = data.engine->element_filter();
  options.filter_for_root = [filter](std::string_view) { return filter; };
  // check_skipped=1: the default (what the filter skips is still checked to
  // be well-formed JSON); 0: the plain skip, for text validated beforehand.
  options.check_skipped_json = state.range(0) != 0;
  regenpath::fhir::Parser parser(options);
  size_t count = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& text : data.texts) {
      auto record = parser.ParseResource(text, "bundle");
      auto assessment = data.engine->Assess(*record, data.now);
      benchmark::DoNotOptimize(assessment->stage.priority);
      ++count;
      bytes += text.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["assessments/s"] = benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseAndAssess)->ArgName("check_skipped")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
