#include "cli/registry_command.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/exit_codes.h"
#include "registry/civil_day.h"
#include "registry/cohort_export.h"
#include "registry/cohort_report.h"
#include "registry/csv_import.h"
#include "registry/demo_cohort.h"
#include "registry/fhir_import.h"
#include "registry/followup_worklist.h"
#include "registry/instrument_catalog.h"
#include "registry/postgres_registry_store.h"
#include "registry/registry_facts.h"
#include "registry/registry_config.h"
#include "registry/report_format.h"
#include "registry/sqlite_registry_store.h"

namespace regenpath::cli {

namespace {

using registry::RegistryStore;

constexpr const char* kDefaultDatabase = "regenpath-data/registry.sqlite";

std::string TodayUtc() {
  auto days = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::chrono::year_month_day date(days);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                     static_cast<unsigned>(date.day()));
}

std::string NowInstant() {
  auto seconds = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto days = std::chrono::floor<std::chrono::days>(seconds);
  std::chrono::year_month_day date(days);
  std::chrono::hh_mm_ss time(seconds - days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

// Brings the report facts up to date after a write, so the first report
// after a bulk import does not pay for it. The write is committed either
// way: a failure here leaves the stale marks, and the next report retries.
void RefreshAfterWrite(registry::RegistryStore& store, const registry::InstrumentCatalog& catalog, std::ostream& err) {
  auto refreshed = registry::RefreshFacts(store, catalog);
  if (!refreshed) {
    err << "note: the report facts will be refreshed by the next report: " << refreshed.error().message() << "\n";
  }
}

int ExitFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kInvalidInput:
      return kExitInvalidInput;
    default:
      return kExitEvaluationError;
  }
}

bool ReadAll(const std::string& path, std::string& content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  content = buffer.str();
  return true;
}

}  // namespace

int RunRegistry(const RegistryOptions& options, std::ostream& out, std::ostream& err) {
  registry::RegistryConfig config;
  if (options.config_file) {
    auto loaded = registry::LoadRegistryConfig(*options.config_file);
    if (!loaded) {
      err << "regenpath registry: " << loaded.error().message() << "\n";
      return kExitInvalidInput;
    }
    config = *loaded;
  }
  if (options.database) config.database = *options.database;
  if (options.site_secret_file) config.site_secret_file = *options.site_secret_file;
  if (config.database.empty()) config.database = kDefaultDatabase;
  std::string today = options.now.value_or(TodayUtc());
  if (!registry::ParseCivilDay(today)) {
    err << fmt::format("regenpath registry: --now '{}' is not a date (YYYY-MM-DD)\n", today);
    return kExitUsage;
  }
  const char* user = std::getenv("USER");
  registry::WriteContext context{options.actor.empty() ? fmt::format("cli:{}", user ? user : "unknown") : options.actor,
                                 NowInstant()};

  auto catalog = registry::InstrumentCatalog::Embedded();
  if (!catalog) {
    err << "regenpath registry: " << catalog.error().message() << "\n";
    return kExitInvalidInput;
  }
  // An import or the demo stores the facts of the patients it creates in its
  // own transaction (the refresh after it then has only the others to do).
  context.facts = registry::FactsOfNewPatients(**catalog);
  // A PostgreSQL connection string (URI or key=value), else a SQLite file.
  bool postgres = config.database.starts_with("postgresql://") || config.database.starts_with("postgres://") ||
                  config.database.find("dbname=") != std::string::npos || config.database.find("host=") != std::string::npos;
  std::unique_ptr<RegistryStore> opened_store;
  if (postgres) {
    auto opened = registry::PostgresRegistryStore::Open(config.database);
    if (!opened) {
      err << "regenpath registry: " << opened.error().message() << "\n";
      return kExitEvaluationError;
    }
    opened_store = std::move(*opened);
  } else {
    std::filesystem::path parent = std::filesystem::path(config.database).parent_path();
    std::error_code ignored;
    if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
    auto opened = registry::SqliteRegistryStore::Open(config.database);
    if (!opened) {
      err << "regenpath registry: " << opened.error().message() << "\n";
      return kExitEvaluationError;
    }
    opened_store = std::move(*opened);
  }
  RegistryStore& store = *opened_store;
  // Never print a connection string (it may hold a password).
  const std::string database_name = postgres ? std::string("the PostgreSQL registry") : config.database;

  if (options.action == "migrate") {
    auto version = store.Migrate(context);
    if (!version) {
      err << "regenpath registry: " << version.error().message() << "\n";
      return kExitEvaluationError;
    }
    out << fmt::format("{}: schema version {}\n", database_name, *version);
    return kExitOk;
  }

  if (options.action == "demo") {
    auto version = store.Migrate(context);
    if (!version) {
      err << "regenpath registry: " << version.error().message() << "\n";
      return kExitEvaluationError;
    }
    auto batch = registry::GenerateDemoCohort(**catalog, registry::DemoOptions{options.episodes, options.seed, today});
    if (!batch) {
      err << "regenpath registry: " << batch.error().message() << "\n";
      return ExitFor(batch.error());
    }
    auto written = store.Write(*batch, context);
    if (!written) {
      err << "regenpath registry: " << written.error().message() << "\n";
      return kExitEvaluationError;
    }
    RefreshAfterWrite(store, **catalog, err);
    out << fmt::format("{}: synthetic demo cohort (seed {}): {} episodes, {} procedures, {} scores, {} adverse events "
                       "({} created, {} updated) — SYNTHETIC, not real patients\n",
                       database_name, options.seed, batch->episodes.size(), batch->procedures.size(),
                       batch->outcomes.size(), batch->adverse_events.size(), written->created, written->updated);
    return kExitOk;
  }

  if (options.action == "import") {
    if (config.site_secret_file.empty()) {
      err << "regenpath registry import: no site secret: set site_secret_file in --config or pass --site-secret-file "
             "(patients are stored as keyed hashes of their identifier)\n";
      return kExitUsage;
    }
    auto pseudonymizer = registry::Pseudonymizer::FromFile(config.site_secret_file);
    if (!pseudonymizer) {
      err << "regenpath registry: " << pseudonymizer.error().message() << "\n";
      return kExitUsage;
    }
    registry::FhirImporter importer(store, **catalog, *pseudonymizer, today);
    int exit_code = kExitOk;
    for (const std::string& file : options.files) {
      std::string content;
      if (!ReadAll(file, content)) {
        err << fmt::format("{}: cannot read the file\n", file);
        exit_code = kExitInvalidInput;
        continue;
      }
      if (file.ends_with(".csv")) {
        // The registry's CSV (docs/registry.md, "CSV import"): rows become
        // FHIR resources, imported as NDJSON; every issue names file:line:column.
        auto conversion = registry::ConvertCsv(content);
        if (!conversion) {
          err << fmt::format("{}:{}\n", file, conversion.error().message());
          exit_code = kExitInvalidInput;
          continue;
        }
        for (const registry::CsvIssue& issue : conversion->issues) {
          err << (issue.column > 0 ? fmt::format("{}:{}:{}: {}\n", file, issue.line, issue.column, issue.message)
                                   : fmt::format("{}:{}: {}\n", file, issue.line, issue.message));
        }
        int accepted = 0, created = 0, updated = 0, rejected = static_cast<int>(conversion->issues.size());
        if (!conversion->ndjson.empty()) {
          auto result = importer.Import(conversion->ndjson, registry::InputFormat::kNdjson, file, context);
          if (!result) {
            err << result.error().message() << "\n";
            int code = ExitFor(result.error());
            if (code == kExitUsage) code = kExitInvalidInput;
            if (code > exit_code || exit_code == kExitOk) exit_code = code;
            continue;
          }
          for (const registry::ImportIssue& issue : result->issues) {
            err << fmt::format("{}:{}: {}\n", file, registry::CsvLocation(*conversion, issue), issue.message);
          }
          accepted = result->accepted();
          created = result->summary.created;
          updated = result->summary.updated;
          rejected += result->rejected();
        }
        if (rejected > 0 && exit_code == kExitOk) exit_code = kExitInvalidInput;
        out << fmt::format("{}: {} rows: {} accepted ({} created, {} updated), {} rejected\n", file, conversion->rows,
                           accepted, created, updated, rejected);
        continue;
      }
      bool ndjson = file.ends_with(".ndjson") || file.ends_with(".jsonl");
      auto result = importer.Import(content, ndjson ? registry::InputFormat::kNdjson : registry::InputFormat::kJson, file,
                                    context);
      if (!result) {
        err << result.error().message() << "\n";
        int code = ExitFor(result.error());
        if (code == kExitUsage) code = kExitInvalidInput;
        if (code > exit_code || exit_code == kExitOk) exit_code = code;
        continue;
      }
      for (const registry::ImportIssue& issue : result->issues) {
        err << fmt::format("{}: {}: {}\n", file, issue.location, issue.message);
      }
      if (!result->issues.empty() && exit_code == kExitOk) exit_code = kExitInvalidInput;
      out << fmt::format("{}: {} accepted ({} created, {} updated), {} rejected{}\n", file, result->accepted(),
                         result->summary.created, result->summary.updated, result->rejected(),
                         result->bundle_type == "transaction" && !result->issues.empty()
                             ? " — transaction Bundle: nothing stored"
                             : "");
    }
    RefreshAfterWrite(store, **catalog, err);
    return exit_code;
  }

  std::string format = options.format.value_or(options.action == "export" ? "ndjson" : "text");
  if (options.action == "report" || options.action == "due") {
    if (format != "text" && format != "json" && format != "csv") {
      err << fmt::format("regenpath registry {}: --format must be text, json or csv\n", options.action);
      return kExitUsage;
    }
  }
  // Reports and the worklist read the stored report facts (refreshed first);
  // the export reads every row.
  std::optional<registry::Cohort> cohort;
  if (options.action != "report" && options.action != "due") {
    auto loaded = store.LoadCohort("");
    if (!loaded) {
      err << "regenpath registry: " << loaded.error().message() << "\n";
      return kExitEvaluationError;
    }
    cohort = std::move(*loaded);
  }
  auto synthetic = store.Synthetic();
  if (synthetic && synthetic->value_or(false) && format == "text") {
    err << "note: this database holds a SYNTHETIC demo cohort, not real patients\n";
  }

  if (options.action == "report") {
    std::optional<registry::GroupBy> group_by = registry::ParseGroupBy(options.group_by);
    if (!group_by) {
      err << fmt::format("regenpath registry report: --group-by '{}': none, condition, kb-version, prp-leukocytes, "
                         "image-guidance or feedback\n",
                         options.group_by);
      return kExitUsage;
    }
    auto report = registry::LoadCohortReport(store, **catalog, options.option, *group_by, today);
    if (!report) {
      if (report.error().code() == StatusCode::kInvalidArgument) {
        err << "regenpath registry report: " << report.error().message() << "\n";
        return ExitFor(report.error());
      }
      err << "regenpath registry: " << report.error().message() << "\n";
      return kExitEvaluationError;
    }
    out << (format == "json"  ? registry::CohortReportJson(*report) + "\n"
            : format == "csv" ? registry::CohortReportCsv(*report)
                              : registry::CohortReportText(*report));
    return kExitOk;
  }
  if (options.action == "due") {
    // From the stored worklist candidates, through their index: a page costs
    // its own rows (registry_facts.h).
    auto page = registry::LoadWorklist(store, **catalog, today, options.page_size, options.cursor);
    if (!page) {
      err << "regenpath registry due: " << page.error().message() << "\n";
      return ExitFor(page.error());
    }
    bool paged = options.page_size > 0 || !options.cursor.empty();
    if (format == "json") {
      out << (paged ? registry::WorklistPageJson(*page, today) : registry::WorklistJson(page->items, today)) << "\n";
    } else {
      out << (format == "csv" ? registry::WorklistCsv(page->items) : registry::WorklistText(page->items, today));
      // The cursor of the next page goes beside the table (stderr), never inside it.
      if (!page->next.empty()) err << "next page: --cursor " << page->next << "\n";
    }
    return kExitOk;
  }
  if (options.action == "export") {
    if (format == "ndjson") {
      out << registry::CohortNdjson(*cohort);
    } else if (format == "bundle") {
      out << registry::CohortBundle(*cohort);
    } else if (format == "csv") {
      out << registry::CohortCsv(*cohort);
    } else {
      err << "regenpath registry export: --format must be ndjson, bundle or csv\n";
      return kExitUsage;
    }
    return kExitOk;
  }
  err << fmt::format("regenpath registry: unknown action '{}'\n", options.action);
  return kExitUsage;
}

}  // namespace regenpath::cli
