// Benchmarks of the FHIR JSON parser and the FHIRPath engine on the bench
// workload: the expressions of bench/workload.tsv over the Synthea bundles of
// shared/testdata/synthea/r4-bundles-pain-subset.
//
// Google Benchmark mode (the default):
//
//   build/bench/fhir_bench [--workload=FILE] [--data_dir=DIR] [--benchmark_...]
//
//   BM_ParseBundle/<file>        parse one whole bundle already in memory
//                                (bytes/s);
//   BM_ParseBundle/all           parse all of them, one after the other;
//   BM_ParseFiltered/<expr>      parse all of them keeping only the elements
//                                the expression reads, as `regenpath
//                                fhirpath` does (bytes/s of input);
//   BM_Compile/<expression>      compile and type-check against Bundle;
//   BM_EvaluateWorkload/<expr>   evaluate on every whole pre-parsed bundle,
//                                one Workspace reused (items/s = bundles/s).
//
// Eval-only mode, the counterpart of bench/fhirpathjs_runner.js --eval-only
// (used by bench/compare_fhirpathjs.sh):
//
//   build/bench/fhir_bench --eval_only [--quiet] EXPRESSION FILE...
//
// Does what `regenpath fhirpath EXPRESSION FILE...` does (compile once, parse
// each file keeping the elements the expression reads, check once per root
// type, evaluate, print one JSON array per line) and prints "eval_ns <total>"
// on stderr: the nanoseconds spent in Evaluate() alone, summed over the
// files. Exit codes as the CLI's.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/date_time.h"
#include "common/status.h"
#include "fhir/element_filter.h"
#include "fhir/parser.h"
#include "fhirpath/compiled_expression.h"
#include "fhirpath/output.h"

namespace regenpath::bench {
namespace {

// "Now" for every evaluation; the workload does not call now(), but the
// context requires one. It is the workload's assessment date.
constexpr std::string_view kNow = "2020-09-01T00:00:00Z";

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitInvalidInput = 3;
constexpr int kExitEvaluationError = 4;

struct WorkloadEntry {
  std::string name;
  std::string expression;
};

struct InputFile {
  std::string name;  // short label: the file name up to the second '_'
  std::string text;
};

// Everything the benchmarks read; filled once in main() before they run.
struct BenchData {
  std::vector<WorkloadEntry> workload;
  std::vector<InputFile> files;
  std::vector<fhir::Document> documents;  // files[i] parsed
  DateTime now;
};

BenchData& Data() {
  static BenchData data;
  return data;
}

// Reads NAME<TAB>EXPRESSION lines, skipping blank lines and '#' comments.
Result<std::vector<WorkloadEntry>> ReadWorkload(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(NotFound("cannot read the workload file " + path));
  std::vector<WorkloadEntry> entries;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab + 1 == line.size()) {
      return Fail(InvalidInput(path + ":" + std::to_string(line_number) + ": expected NAME<TAB>EXPRESSION"));
    }
    entries.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  if (entries.empty()) return Fail(InvalidInput(path + ": no expression"));
  return entries;
}

// The *.json files of `dir`, sorted by name, read into memory.
Result<std::vector<InputFile>> ReadDataDir(const std::string& dir) {
  std::error_code error;
  std::vector<std::string> paths;
  // The error_code forms, so that a bad directory is a Status, not an exception.
  for (std::filesystem::directory_iterator entry(dir, error), end; !error && entry != end; entry.increment(error)) {
    if (entry->path().extension() == ".json") paths.push_back(entry->path().string());
  }
  if (error) return Fail(NotFound("cannot list " + dir + ": " + error.message()));
  if (paths.empty()) return Fail(NotFound("no *.json file in " + dir));
  std::sort(paths.begin(), paths.end());
  std::vector<InputFile> files;
  for (const std::string& path : paths) {
    RP_ASSIGN_OR_RETURN(std::string text, fhir::ReadFileToString(path));
    std::string name = std::filesystem::path(path).stem().string();
    size_t first = name.find('_');
    size_t second = first == std::string::npos ? first : name.find('_', first + 1);
    if (second != std::string::npos) name.resize(second);
    files.push_back({std::move(name), std::move(text)});
  }
  return files;
}

void BM_ParseBundle(benchmark::State& state, const InputFile* file) {
  fhir::Parser parser;
  for (auto _ : state) {
    Result<fhir::Document> document = parser.ParseAuto(file->text, file->name);
    if (!document.has_value()) {
      state.SkipWithError(document.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(document->root());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(file->text.size()));
}

// Parses every bundle once per iteration; reports bytes and bundles.
void ParseEveryBundle(benchmark::State& state, fhir::Parser& parser) {
  int64_t bytes = 0;
  for (const InputFile& file : Data().files) bytes += static_cast<int64_t>(file.text.size());
  for (auto _ : state) {
    for (const InputFile& file : Data().files) {
      Result<fhir::Document> document = parser.ParseAuto(file.text, file.name);
      if (!document.has_value()) {
        state.SkipWithError(document.error().message().c_str());
        return;
      }
      benchmark::DoNotOptimize(document->root());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(Data().files.size()));
}

void BM_ParseAllBundles(benchmark::State& state) {
  fhir::Parser parser;
  ParseEveryBundle(state, parser);
}

// The filter `regenpath fhirpath` parses with for `expression` on a Bundle;
// null when the expression may read anything.
std::unique_ptr<fhir::ElementFilter> BundleFilter(const fhirpath::CompiledExpression& expression) {
  std::optional<std::vector<std::string>> names = expression.ElementsRead("Bundle");
  if (!names) return nullptr;
  return std::make_unique<fhir::ElementFilter>(std::move(*names));
}

void BM_ParseFiltered(benchmark::State& state, const WorkloadEntry* entry) {
  Result<fhirpath::CompiledExpression> compiled = fhirpath::CompiledExpression::Compile(entry->expression);
  if (!compiled.has_value()) {
    state.SkipWithError(compiled.error().message().c_str());
    return;
  }
  std::unique_ptr<fhir::ElementFilter> filter = BundleFilter(*compiled);
  fhir::ParseOptions options;
  options.filter_for_root = [&filter](std::string_view) -> const fhir::ElementFilter* { return filter.get(); };
  fhir::Parser parser(options);
  ParseEveryBundle(state, parser);
  state.SetLabel(filter ? std::to_string(filter->names().size()) + " element names kept" : "no filter");
}

fhirpath::CompileOptions BundleCompileOptions() {
  // As `regenpath fhirpath` does for a Bundle input.
  fhirpath::CompileOptions options;
  options.context_type = "Bundle";
  return options;
}

void BM_Compile(benchmark::State& state, const WorkloadEntry* entry) {
  const fhirpath::CompileOptions options = BundleCompileOptions();
  for (auto _ : state) {
    Result<fhirpath::CompiledExpression> compiled = fhirpath::CompiledExpression::Compile(entry->expression, options);
    if (!compiled.has_value()) {
      state.SkipWithError(compiled.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(compiled->text());
  }
}

void BM_EvaluateWorkload(benchmark::State& state, const WorkloadEntry* entry) {
  Result<fhirpath::CompiledExpression> compiled =
      fhirpath::CompiledExpression::Compile(entry->expression, BundleCompileOptions());
  if (!compiled.has_value()) {
    state.SkipWithError(compiled.error().message().c_str());
    return;
  }
  const std::vector<fhir::Document>& documents = Data().documents;
  fhirpath::Workspace workspace;
  for (auto _ : state) {
    for (const fhir::Document& document : documents) {
      fhirpath::EvaluationContext context;
      context.document = &document;
      context.resource = &document.root();
      context.now = Data().now;
      workspace.Reset();
      Result<fhirpath::Collection> result = compiled->Evaluate(context, workspace);
      if (!result.has_value()) {
        state.SkipWithError(result.error().message().c_str());
        return;
      }
      benchmark::DoNotOptimize(result->data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(documents.size()));
}

// --eval_only EXPRESSION FILE...: see the file comment.
int RunEvalOnly(const std::vector<std::string>& args) {
  bool quiet = false;
  size_t index = 0;
  if (index < args.size() && args[index] == "--quiet") {
    quiet = true;
    ++index;
  }
  if (args.size() - index < 2) {
    std::cerr << "usage: fhir_bench --eval_only [--quiet] EXPRESSION FILE...\n";
    return kExitUsage;
  }
  const std::string& expression = args[index];
  Result<fhirpath::CompiledExpression> unchecked = fhirpath::CompiledExpression::Compile(expression);
  if (!unchecked.has_value()) {
    std::cerr << "fhir_bench: " << unchecked.error().message() << "\n";
    return kExitInvalidInput;
  }
  // As the CLI: parse only the elements the expression reads, per root type.
  std::map<std::string, std::unique_ptr<fhir::ElementFilter>, std::less<>> filters;
  fhir::ParseOptions parse_options;
  parse_options.filter_for_root = [&](std::string_view root_type) -> const fhir::ElementFilter* {
    auto found = filters.find(root_type);
    if (found == filters.end()) {
      std::optional<std::vector<std::string>> names = unchecked->ElementsRead(std::string(root_type));
      std::unique_ptr<fhir::ElementFilter> filter;
      if (names) filter = std::make_unique<fhir::ElementFilter>(std::move(*names));
      found = filters.emplace(std::string(root_type), std::move(filter)).first;
    }
    return found->second.get();
  };
  fhir::Parser parser(parse_options);
  fhirpath::Workspace workspace;
  std::map<std::string, fhirpath::CompiledExpression, std::less<>> checked_by_type;
  std::string output;
  int64_t eval_ns = 0;
  for (size_t file_index = index + 1; file_index < args.size(); ++file_index) {
    const std::string& file = args[file_index];
    Result<fhir::Document> document = parser.ParseFile(file);
    if (!document.has_value()) {
      std::cerr << "fhir_bench: " << document.error().message() << "\n";
      return kExitInvalidInput;
    }
    std::string type(document->root().type_name());
    auto found = checked_by_type.find(type);
    if (found == checked_by_type.end()) {
      fhirpath::CompileOptions options;
      options.context_type = type;
      Result<fhirpath::CompiledExpression> checked = fhirpath::CompiledExpression::Compile(expression, options);
      if (!checked.has_value()) {
        std::cerr << "fhir_bench: " << file << ": " << checked.error().message() << "\n";
        return kExitInvalidInput;
      }
      found = checked_by_type.emplace(type, std::move(*checked)).first;
    }
    fhirpath::EvaluationContext context;
    context.document = &*document;
    context.resource = &document->root();
    context.now = Data().now;
    workspace.Reset();
    auto start = std::chrono::steady_clock::now();
    Result<fhirpath::Collection> result = found->second.Evaluate(context, workspace);
    eval_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    if (!result.has_value()) {
      std::cerr << "fhir_bench: " << file << ": " << result.error().message() << "\n";
      return kExitEvaluationError;
    }
    if (!quiet) {
      output += fhirpath::CollectionToJson(*result);
      output += '\n';
    }
  }
  std::fwrite(output.data(), 1, output.size(), stdout);
  std::fflush(stdout);
  std::cerr << "eval_ns " << eval_ns << "\n";
  return kExitOk;
}

// Takes "--NAME=VALUE" out of argv; returns VALUE if it was there.
std::optional<std::string> TakeFlag(int& argc, char** argv, std::string_view name) {
  std::string prefix = "--" + std::string(name) + "=";
  for (int arg_index = 1; arg_index < argc; ++arg_index) {
    std::string_view arg = argv[arg_index];
    if (arg.substr(0, prefix.size()) != prefix) continue;
    std::string value(arg.substr(prefix.size()));
    for (int later = arg_index; later + 1 < argc; ++later) argv[later] = argv[later + 1];
    --argc;
    return value;
  }
  return std::nullopt;
}

int Main(int argc, char** argv) {
  BenchData& data = Data();
  data.now = *DateTime::ParseDateTime(kNow);
  if (argc >= 2 && std::strcmp(argv[1], "--eval_only") == 0) {
    return RunEvalOnly(std::vector<std::string>(argv + 2, argv + argc));
  }

  std::string workload_path =
      TakeFlag(argc, argv, "workload").value_or(std::string(REGENPATH_SOURCE_DIR) + "/bench/workload.tsv");
  std::string data_dir = TakeFlag(argc, argv, "data_dir")
                             .value_or(std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset");
  Result<std::vector<WorkloadEntry>> workload = ReadWorkload(workload_path);
  if (!workload.has_value()) {
    std::cerr << "fhir_bench: " << workload.error().message() << "\n";
    return kExitInvalidInput;
  }
  Result<std::vector<InputFile>> files = ReadDataDir(data_dir);
  if (!files.has_value()) {
    std::cerr << "fhir_bench: " << files.error().message() << "\n";
    return kExitInvalidInput;
  }
  data.workload = std::move(*workload);
  data.files = std::move(*files);
  fhir::Parser parser;
  for (const InputFile& file : data.files) {
    Result<fhir::Document> document = parser.ParseAuto(file.text, file.name);
    if (!document.has_value()) {
      std::cerr << "fhir_bench: " << document.error().message() << "\n";
      return kExitInvalidInput;
    }
    data.documents.push_back(std::move(*document));
  }

  for (const InputFile& file : data.files) {
    benchmark::RegisterBenchmark(("BM_ParseBundle/" + file.name).c_str(), BM_ParseBundle, &file);
  }
  benchmark::RegisterBenchmark("BM_ParseBundle/all", BM_ParseAllBundles);
  for (const WorkloadEntry& entry : data.workload) {
    benchmark::RegisterBenchmark(("BM_ParseFiltered/" + entry.name).c_str(), BM_ParseFiltered, &entry);
  }
  for (const WorkloadEntry& entry : data.workload) {
    benchmark::RegisterBenchmark(("BM_Compile/" + entry.name).c_str(), BM_Compile, &entry);
  }
  for (const WorkloadEntry& entry : data.workload) {
    benchmark::RegisterBenchmark(("BM_EvaluateWorkload/" + entry.name).c_str(), BM_EvaluateWorkload, &entry);
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return kExitUsage;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return kExitOk;
}

}  // namespace
}  // namespace regenpath::bench

int main(int argc, char** argv) { return regenpath::bench::Main(argc, argv); }
