// In-process cost of one CDS Hooks call (no HTTP): CdsHooksService::Call on
// a request body built by bench/make_cds_request.py, and its stages.
//   build/bench/cds_bench --request=FILE [benchmark flags]
// bench/cds_call.sh builds the request (Loma Johns, as bench/cds_load.sh) and
// runs this. The HTTP figures come from bench/cds_load.sh.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cdshooks/cds_service.h"
#include "common/clock.h"
#include "engine/engine.h"

namespace {

using regenpath::cdshooks::CallResult;
using regenpath::cdshooks::CdsHooksService;

std::string& RequestPath() {
  static std::string path;
  return path;
}

struct Fixture {
  std::string body;
  std::unique_ptr<regenpath::FixedClock> clock;
  std::unique_ptr<CdsHooksService> service;
};

Fixture& Data() {
  static Fixture* fixture = [] {
    auto* data = new Fixture();
    std::ifstream file(RequestPath());
    if (!file) {
      fprintf(stderr, "cds_bench: cannot read --request=%s\n", RequestPath().c_str());
      std::exit(2);
    }
    std::stringstream text;
    text << file.rdbuf();
    data->body = text.str();
    auto engine = regenpath::engine::Engine::Create(regenpath::knowledge::KnowledgeBase::Embedded());
    if (!engine.has_value()) {
      fprintf(stderr, "%s\n", engine.error().message().c_str());
      std::exit(1);
    }
    data->clock = std::make_unique<regenpath::FixedClock>(*regenpath::DateTime::ParseDateTime("2026-11-24"));
    auto service = CdsHooksService::Create(
        std::make_shared<const regenpath::engine::Engine>(std::move(*engine)), data->clock.get());
    data->service = std::make_unique<CdsHooksService>(std::move(*service));
    return data;
  }();
  return *fixture;
}

void BM_PatientViewCall(benchmark::State& state) {
  Fixture& data = Data();
  size_t cards = 0;
  for (auto _ : state) {
    CallResult result = data.service->Call("regenpath-patient-view", data.body, nullptr);
    if (result.status != 200) {
      state.SkipWithError(("status " + std::to_string(result.status) + ": " + result.body.substr(0, 300)).c_str());
      return;
    }
    cards = result.body.size();
    benchmark::DoNotOptimize(result.body);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.body.size()));
  state.counters["calls/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(cards) + " bytes of cards");
}
BENCHMARK(BM_PatientViewCall)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--request=", 10) == 0) RequestPath() = argv[i] + 10;
  }
  if (RequestPath().empty()) {
    fprintf(stderr, "usage: cds_bench --request=FILE [benchmark flags] (bench/cds_call.sh makes FILE)\n");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
