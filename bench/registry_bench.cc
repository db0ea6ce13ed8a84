// The outcomes registry at scale (issue 10): a seeded synthetic cohort of
// --episodes episodes (default 100,000, about a million score rows) written
// through the registry's store, next to a bare SQLite bulk insert of the same
// rows measured in the same run; then every report, timed. On SQLite (a temp
// file) and, with --postgres "conninfo", on PostgreSQL too.
//
//   build/bench/registry_bench [--episodes N] [--postgres "host=/tmp/pg dbname=x"] [--report-runs 5] [--ingest-only]
//   build/bench/registry_bench --reports-only DATABASE   (the reports alone, on a registry already written)
//   ... --only TEXT   (only the reports whose label contains TEXT, e.g. "all options")
//
// Prints one line per measurement; see bench/README.md, "Registry".
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "registry/clinic_evidence.h"
#include "registry/cohort_export.h"
#include "registry/cohort_report.h"
#include "registry/demo_cohort.h"
#include "registry/fhir_import.h"
#include "registry/followup_worklist.h"
#include "registry/instrument_catalog.h"
#include "registry/open_store.h"
#include "registry/postgres_registry_store.h"
#include "registry/registry_facts.h"
#include "registry/report_format.h"
#include "registry/sqlite_registry_store.h"

namespace {

using namespace regenpath;
using namespace regenpath::registry;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

size_t Rows(const WriteBatch& batch) {
  return batch.patients.size() + batch.episodes.size() + batch.procedures.size() + batch.outcomes.size() +
         batch.adverse_events.size();
}

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// CPU seconds of the last BareSqliteInsert() (this process's).
double bare_cpu_seconds = 0;

// The same rows as plain INSERTs into tables with the same columns and keys,
// in one transaction, on a connection with the store's own settings (the
// same pragmas: page size, WAL, synchronous=FULL, page cache; no SQLite
// mutex): the floor any SQLite store with that configuration can reach.
double BareSqliteInsert(const std::string& path, const WriteBatch& batch) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  for (const char* pragma : regenpath::registry::SqliteRegistryStore::kConnectionPragmas) {
    sqlite3_exec(db, pragma, nullptr, nullptr, nullptr);
  }
  sqlite3_exec(db,
               "CREATE TABLE patients (pseudonym TEXT PRIMARY KEY, synthetic INTEGER);"
               "CREATE TABLE episodes (key TEXT PRIMARY KEY, patient TEXT, option_id TEXT, therapy TEXT, target TEXT,"
               " condition TEXT, side TEXT, start_date TEXT, assessment_stage TEXT, option_status TEXT, kb_version TEXT,"
               " feedback TEXT, override_reason TEXT, synthetic INTEGER);"
               "CREATE TABLE procedures (key TEXT PRIMARY KEY, episode_key TEXT, patient TEXT, date TEXT, kind TEXT,"
               " image_guidance TEXT, prp_leukocytes TEXT, volume_ml REAL, platelet_concentration REAL,"
               " bmc_nucleated_cells REAL, dextrose_percent REAL, series_number INTEGER);"
               "CREATE TABLE outcomes (key TEXT PRIMARY KEY, patient TEXT, instrument TEXT, date TEXT, value REAL);"
               "CREATE TABLE adverse_events (key TEXT PRIMARY KEY, patient TEXT, episode_key TEXT, category TEXT,"
               " serious INTEGER, onset TEXT, resolved TEXT, relatedness TEXT);",
               nullptr, nullptr, nullptr);
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  auto text = [](sqlite3_stmt* s, int i, const std::string& v) { sqlite3_bind_text(s, i, v.data(), (int)v.size(), SQLITE_STATIC); };
  auto real = [](sqlite3_stmt* s, int i, const std::optional<double>& v) {
    if (v) sqlite3_bind_double(s, i, *v); else sqlite3_bind_null(s, i);
  };
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO patients VALUES (?,?)", -1, &s, nullptr);
  for (const auto& [p, synthetic] : batch.patients) {
    text(s, 1, p);
    sqlite3_bind_int(s, 2, synthetic);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "INSERT INTO episodes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s, nullptr);
  for (const Episode& e : batch.episodes) {
    int i = 1;
    for (const std::string* v : {&e.key, &e.patient, &e.option_id, &e.therapy, &e.target, &e.condition, &e.side,
                                 &e.start_date, &e.assessment_stage, &e.option_status, &e.kb_version, &e.feedback,
                                 &e.override_reason}) {
      text(s, i++, *v);
    }
    sqlite3_bind_int(s, i, e.synthetic);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "INSERT INTO procedures VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s, nullptr);
  for (const ProcedureRecord& p : batch.procedures) {
    text(s, 1, p.key);
    text(s, 2, p.episode_key);
    text(s, 3, p.patient);
    text(s, 4, p.date);
    text(s, 5, p.kind);
    text(s, 6, p.image_guidance);
    text(s, 7, p.prp_leukocytes);
    real(s, 8, p.volume_ml);
    real(s, 9, p.platelet_concentration);
    real(s, 10, p.bmc_nucleated_cells);
    real(s, 11, p.dextrose_percent);
    sqlite3_bind_int(s, 12, p.series_number);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "INSERT INTO outcomes VALUES (?,?,?,?,?)", -1, &s, nullptr);
  for (const OutcomeRecord& o : batch.outcomes) {
    text(s, 1, o.key);
    text(s, 2, o.patient);
    text(s, 3, o.instrument);
    text(s, 4, o.date);
    sqlite3_bind_double(s, 5, o.value);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "INSERT INTO adverse_events VALUES (?,?,?,?,?,?,?,?)", -1, &s, nullptr);
  for (const AdverseEventRecord& a : batch.adverse_events) {
    std::string category = AdverseEventCategoryCode(a.category);
    text(s, 1, a.key);
    text(s, 2, a.patient);
    text(s, 3, a.episode_key);
    text(s, 4, category);
    sqlite3_bind_int(s, 5, a.serious);
    text(s, 6, a.onset);
    text(s, 7, a.resolved);
    text(s, 8, a.relatedness);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  double seconds = Seconds(start);
  bare_cpu_seconds = CpuSeconds() - cpu_start;
  sqlite3_close(db);
  return seconds;
}

// Median and max wall time of `runs` calls of `work`, and the median CPU
// time this process spent on them (the machine is shared: wall time counts
// the waits for a core; CPU time does not, nor the PostgreSQL server's), in
// milliseconds.
struct Timing {
  double median = 0;
  double max = 0;
  double cpu_median = 0;
};
template <typename Work>
Timing Time(int runs, Work&& work) {
  std::vector<double> times, cpu;
  for (int run = 0; run < runs; ++run) {
    auto start = Clock::now();
    double cpu_start = CpuSeconds();
    work();
    cpu.push_back((CpuSeconds() - cpu_start) * 1000);
    times.push_back(Seconds(start) * 1000);
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu.begin(), cpu.end());
  return {times[times.size() / 2], times.back(), cpu[cpu.size() / 2]};
}

int RunReports(const std::string& name, RegistryStore& store, const InstrumentCatalog& catalog,
               const std::string& today, int report_runs, const std::vector<std::string>& options);
// --ingest-only: the write and the refresh, no reports (to repeat the
// ingest figure on a busy machine).
bool ingest_only = false;
// --only TEXT: only the reports whose label contains TEXT (to profile one).
std::string only_reports;

int RunStore(const std::string& name, RegistryStore& store, const WriteBatch& batch, const InstrumentCatalog& catalog,
             const std::string& today, int report_runs, double bare_seconds) {
  WriteContext context{"bench", today + "T00:00:00Z"};
  auto migrated = store.Migrate(context);
  if (!migrated) {
    fmt::print(stderr, "{}: {}\n", name, migrated.error().ToString());
    return 1;
  }
  // As `registry import` and `registry demo` write: the facts of the
  // patients a write creates are stored by the write itself.
  WriteContext write_context = context;
  write_context.facts = FactsOfNewPatients(catalog);
  auto start = Clock::now();
  double cpu_start = CpuSeconds();
  auto written = store.Write(batch, write_context);
  double seconds = Seconds(start);
  double write_cpu = CpuSeconds() - cpu_start;
  if (!written) {
    fmt::print(stderr, "{}: {}\n", name, written.error().ToString());
    return 1;
  }
  size_t rows = Rows(batch);
  fmt::print("{:<10} store write      {:>9} rows in {:7.2f} s = {:>9.0f} rows/s, cpu {:.2f} s", name, rows, seconds,
             rows / seconds, write_cpu);
  if (bare_seconds > 0) fmt::print("  ({:.2f}x the bare SQLite insert)", seconds / bare_seconds);
  fmt::print("\n");
  // The report facts of the patients written (what `registry import` does
  // after writing): part of the cost of ingest.
  start = Clock::now();
  cpu_start = CpuSeconds();
  auto refreshed = RefreshFacts(store, catalog);
  double refresh_seconds = Seconds(start);
  double refresh_cpu = CpuSeconds() - cpu_start;
  if (!refreshed) {
    fmt::print(stderr, "{}: {}\n", name, refreshed.error().ToString());
    return 1;
  }
  fmt::print("{:<10} facts refresh    {:>9} patients in {:7.2f} s, cpu {:.2f} s\n", name, *refreshed, refresh_seconds,
             refresh_cpu);
  double ingest = seconds + refresh_seconds;
  fmt::print("{:<10} ingest (write + facts) {:>9} rows in {:7.2f} s = {:>9.0f} rows/s", name, rows, ingest, rows / ingest);
  if (bare_seconds > 0) {
    fmt::print("  ({:.2f}x the bare SQLite insert", ingest / bare_seconds);
    // The PostgreSQL server's CPU is not this process's: no CPU ratio there.
    if (name == "sqlite") fmt::print("; cpu {:.2f}x", (write_cpu + refresh_cpu) / bare_cpu_seconds);
    fmt::print(")");
  }
  fmt::print("\n");
  if (ingest_only) return 0;

  std::vector<std::string> options;
  for (const Episode& episode : batch.episodes) {
    if (std::find(options.begin(), options.end(), episode.option_id) == options.end()) options.push_back(episode.option_id);
  }
  std::sort(options.begin(), options.end());
  return RunReports(name, store, catalog, today, report_runs, options);
}

// Every report of `options` (sorted option ids) on `store`, timed.
int RunReports(const std::string& name, RegistryStore& store, const InstrumentCatalog& catalog,
               const std::string& today, int report_runs, const std::vector<std::string>& options) {
  auto report = [&](const std::string& label, auto&& work) {
    if (!only_reports.empty() && label.find(only_reports) == std::string::npos) return;
    Timing timing = Time(report_runs, work);
    fmt::print("{:<10} {:<40} median {:8.1f} ms, max {:8.1f} ms, cpu {:8.1f} ms{}\n", name, label, timing.median,
               timing.max, timing.cpu_median, timing.median < 200 ? "" : "  (> 200 ms)");
  };
  for (const std::string& option : options) {
    report("report " + option, [&]() {
      auto built = LoadCohortReport(store, catalog, option, GroupBy::kNone, today);
      if (!built) std::abort();
      std::string json = CohortReportJson(*built);
      if (json.empty()) std::abort();
    });
  }
  report("report all options (json)", [&]() {
    auto built = LoadCohortReport(store, catalog, "", GroupBy::kNone, today);
    if (!built || CohortReportJson(*built).empty()) std::abort();
  });
  // What writing the report costs apart (report_format.h), from a built report.
  auto built = LoadCohortReport(store, catalog, "", GroupBy::kNone, today);
  if (!built) std::abort();
  report("  of which: JSON of the all-options report", [&]() {
    if (CohortReportJson(*built).empty()) std::abort();
  });
  report("report all by kb-version (csv)", [&]() {
    auto built = LoadCohortReport(store, catalog, "", GroupBy::kKbVersion, today);
    if (!built || CohortReportCsv(*built).empty()) std::abort();
  });
  // The worklist from the stored candidates (index on window end): every
  // item, the first page of 100, and the page after 1,000 items.
  size_t due_items = 0;
  report("due, every item (json)", [&]() {
    auto page = LoadWorklist(store, catalog, today, 0, "");
    if (!page) std::abort();
    due_items = page->items.size();
    if (WorklistJson(page->items, today).empty()) std::abort();
  });
  if (due_items > 0) fmt::print("{:<10} (the worklist of {} has {} items)\n", name, today, due_items);
  report("due, first page of 100 (json)", [&]() {
    auto page = LoadWorklist(store, catalog, today, 100, "");
    if (!page || WorklistPageJson(*page, today).empty()) std::abort();
  });
  std::string cursor;
  const std::string after_label = "due, page of 100 after 1,000 (json)";
  bool after_wanted = only_reports.empty() || after_label.find(only_reports) != std::string::npos;
  for (int page = 0; page < 10 && after_wanted; ++page) cursor = LoadWorklist(store, catalog, today, 100, cursor)->next;
  report(after_label, [&]() {
    auto page = LoadWorklist(store, catalog, today, 100, cursor);
    if (!page || WorklistPageJson(*page, today).empty()) std::abort();
  });
  report("due from all facts (before: no index)", [&]() {
    auto facts = LoadEpisodeFacts(store, catalog, "");
    auto items = FollowUpWorklistFromFacts(*facts, catalog, today);
    if (WorklistJson(*items, today).empty()) std::abort();
  });
  report("clinic evidence " + options[0], [&]() {
    auto evidence = ClinicEvidenceFor(store, catalog, options[0], 0, today);
    if (!evidence) std::abort();
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as soon as it is measured
  int episodes = 100000;
  int report_runs = 5;
  std::string postgres;
  std::string reports_only;
  for (int index = 1; index < argc; ++index) {
    std::string arg = argv[index];
    if (arg == "--episodes" && index + 1 < argc) episodes = std::atoi(argv[++index]);
    else if (arg == "--postgres" && index + 1 < argc) postgres = argv[++index];
    else if (arg == "--report-runs" && index + 1 < argc) report_runs = std::atoi(argv[++index]);
    else if (arg == "--reports-only" && index + 1 < argc) reports_only = argv[++index];
    else if (arg == "--ingest-only") ingest_only = true;
    else if (arg == "--only" && index + 1 < argc) only_reports = argv[++index];
    else {
      fmt::print(stderr,
                 "usage: registry_bench [--episodes N] [--postgres CONNINFO] [--report-runs N] [--ingest-only] "
                 "[--reports-only DATABASE] [--only TEXT]\n");
      return 2;
    }
  }
  auto catalog = InstrumentCatalog::Embedded();
  if (!catalog) return 1;
  const std::string today = "2026-12-05";
  if (!reports_only.empty()) {
    // The reports alone, on a registry already written (a SQLite file or a
    // PostgreSQL connection string, as `registry --database` takes).
    auto store = OpenRegistryStore(reports_only);
    if (!store) {
      fmt::print(stderr, "{}: {}\n", reports_only, store.error().ToString());
      return 1;
    }
    auto all = LoadCohortReport(**store, **catalog, "", GroupBy::kNone, today);
    if (!all) {
      fmt::print(stderr, "{}: {}\n", reports_only, all.error().ToString());
      return 1;
    }
    std::vector<std::string> options;
    for (const OptionReport& option : all->options) options.push_back(option.option_id);
    return RunReports(IsPostgresDatabase(reports_only) ? "postgres" : "sqlite", **store, **catalog, today, report_runs,
                      options);
  }
  auto start = Clock::now();
  auto batch = GenerateDemoCohort(**catalog, DemoOptions{episodes, 20261205, today});
  fmt::print("cohort: {} episodes, {} procedures, {} score rows, {} adverse events ({} rows) generated in {:.1f} s\n",
             batch->episodes.size(), batch->procedures.size(), batch->outcomes.size(), batch->adverse_events.size(),
             Rows(*batch), Seconds(start));

  std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("regenpath-registry-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  double bare = BareSqliteInsert((dir / "bare.sqlite").string(), *batch);
  fmt::print("{:<10} bare insert      {:>9} rows in {:7.2f} s = {:>9.0f} rows/s, cpu {:.2f} s\n", "sqlite", Rows(*batch),
             bare, Rows(*batch) / bare, bare_cpu_seconds);
  int status = 0;
  {
    auto store = SqliteRegistryStore::Open((dir / "registry.sqlite").string());
    if (!store) return 1;
    status |= RunStore("sqlite", **store, *batch, **catalog, today, report_runs, bare);
  }
  // End-to-end FHIR import (parse, check, pseudonymize, write) of a tenth of the cohort as NDJSON.
  if (!ingest_only) {
    WriteBatch tenth;
    tenth.synthetic = false;
    Cohort cohort;
    size_t count = batch->episodes.size() / 10;
    std::set<std::string> patients;
    for (size_t index = 0; index < count; ++index) {
      cohort.episodes.push_back(batch->episodes[index]);
      patients.insert(batch->episodes[index].patient);
    }
    for (const auto& procedure : batch->procedures) if (patients.count(procedure.patient)) cohort.procedures.push_back(procedure);
    for (const auto& outcome : batch->outcomes) if (patients.count(outcome.patient)) cohort.outcomes.push_back(outcome);
    for (auto& episode : cohort.episodes) episode.synthetic = false;
    std::string ndjson = CohortNdjson(cohort);
    auto store = SqliteRegistryStore::Open((dir / "import.sqlite").string());
    (*store)->Migrate({"bench", today});
    auto pseudonymizer = Pseudonymizer::Create("registry-bench-site-secret-0123456789abcdef").value();
    FhirImporter importer(**store, **catalog, pseudonymizer, today);
    auto begin = Clock::now();
    auto result = importer.Import(ndjson, InputFormat::kNdjson, "bench.ndjson", {"bench", today});
    double seconds = Seconds(begin);
    if (!result) {
      fmt::print(stderr, "import: {}\n", result.error().ToString());
      status = 1;
    } else {
      fmt::print("{:<10} FHIR NDJSON import {:>7} resources ({:.1f} MB) in {:7.2f} s = {:>9.0f} resources/s, {} rejected\n",
                 "sqlite", result->entries.size(), ndjson.size() / 1e6, seconds, result->entries.size() / seconds,
                 result->rejected());
    }
  }
  if (!postgres.empty()) {
    auto store = PostgresRegistryStore::Open(postgres);
    if (!store) {
      fmt::print(stderr, "postgres: {}\n", store.error().ToString());
      status = 1;
    } else {
      status |= RunStore("postgres", **store, *batch, **catalog, today, report_runs, bare);
    }
  }
  std::filesystem::remove_all(dir);
  return status;
}
