#include "registry/registry_facts.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "registry/civil_day.h"

namespace regenpath::registry {

namespace {

void AppendFacts(const Cohort& cohort, const InstrumentCatalog& catalog, std::vector<FactsRow>& rows,
                 std::vector<DueRow>& due) {
  rows.reserve(rows.size() + cohort.episodes.size());
  for (const EpisodeFacts& facts : ComputeEpisodeFacts(cohort, catalog)) {
    for (DueRow& row : DueCandidates(facts, catalog)) due.push_back(std::move(row));
    rows.push_back(ToRow(facts));
  }
}

}  // namespace

std::shared_ptr<const FactsComputer> FactsOfNewPatients(const InstrumentCatalog& catalog) {
  auto computer = std::make_shared<FactsComputer>();
  computer->fingerprint = FactsFingerprint(catalog);
  computer->compute = [&catalog](const Cohort& cohort, std::vector<FactsRow>& rows, std::vector<DueRow>& due) {
    AppendFacts(cohort, catalog, rows, due);
  };
  return computer;
}

Result<int> RefreshFacts(RegistryStore& store, const InstrumentCatalog& catalog, int chunk) {
  const std::string fingerprint = FactsFingerprint(catalog);
  // Rows are read and computed 500 patients at a time (bounded memory for
  // the raw rows); the facts of up to `chunk` patients are written in one
  // transaction, so a bulk refresh commits a few times instead of once per
  // 500 patients (each commit rewrites the touched pages of the indexes).
  constexpr size_t kReadChunk = 500;
  int refreshed = 0;
  // Each round clears the marks it read unless a write came in since; a
  // patient written to during the round comes back in a later one.
  while (true) {
    RP_ASSIGN_OR_RETURN(std::vector<StalePatient> stale, store.StalePatients(fingerprint, std::clamp(chunk, 1, 10000)));
    if (stale.empty()) break;
    std::vector<FactsRow> rows;
    std::vector<DueRow> due;
    for (size_t begin = 0; begin < stale.size(); begin += kReadChunk) {
      size_t end = std::min(stale.size(), begin + kReadChunk);
      std::vector<std::string> patients;
      patients.reserve(end - begin);
      for (size_t index = begin; index < end; ++index) patients.push_back(stale[index].patient);
      RP_ASSIGN_OR_RETURN(Cohort cohort, store.LoadPatients(patients));
      AppendFacts(cohort, catalog, rows, due);
    }
    RP_RETURN_IF_ERROR(store.ReplaceFacts(stale, rows, due));
    refreshed += static_cast<int>(stale.size());
  }
  return refreshed;
}

Result<std::vector<EpisodeFacts>> LoadEpisodeFacts(RegistryStore& store, const InstrumentCatalog& catalog,
                                                   const std::string& option_id) {
  RP_RETURN_IF_ERROR(RefreshFacts(store, catalog));
  RP_ASSIGN_OR_RETURN(std::vector<FactsRow> rows, store.LoadFacts(option_id));
  std::vector<EpisodeFacts> facts;
  facts.reserve(rows.size());
  for (FactsRow& row : rows) {
    RP_ASSIGN_OR_RETURN(EpisodeFacts parsed, FromRow(std::move(row)));
    facts.push_back(std::move(parsed));
  }
  // By option, then episode key (the stores usually give this order already).
  auto before = [](const EpisodeFacts& a, const EpisodeFacts& b) {
    return std::tie(a.option_id, a.episode_key) < std::tie(b.option_id, b.episode_key);
  };
  if (!std::is_sorted(facts.begin(), facts.end(), before)) std::sort(facts.begin(), facts.end(), before);
  return facts;
}

Status ForEachEpisodeFacts(RegistryStore& store, const InstrumentCatalog& catalog, const std::string& option_id,
                           const std::function<Status(const EpisodeFacts&)>& visit, const FactsScan& scan) {
  RP_RETURN_IF_ERROR(RefreshFacts(store, catalog));
  EpisodeFacts facts;  // reused: its strings and vectors keep their capacity
  return store.ScanFacts(option_id, scan, [&](const FactsRowView& row) -> Status {
    RP_RETURN_IF_ERROR(DecodeFacts(row, facts));
    return visit(facts);
  });
}

Result<CohortReport> LoadCohortReport(RegistryStore& store, const InstrumentCatalog& catalog,
                                      const std::string& option_id, GroupBy group_by, const std::string& today,
                                      std::optional<int> from, std::optional<int> to) {
  RP_ASSIGN_OR_RETURN(CohortReportBuilder builder, CohortReportBuilder::Create(catalog, option_id, group_by, today));
  bool period = from.has_value() || to.has_value();
  // The builder takes the episodes in any order (cohort_report.h), so the
  // store hands its rows over as they come; the group values only when the
  // report is grouped.
  FactsScan scan;
  scan.ordered = false;
  scan.groups = group_by != GroupBy::kNone;
  RP_RETURN_IF_ERROR(ForEachEpisodeFacts(
      store, catalog, option_id,
      [&](const EpisodeFacts& facts) -> Status {
        if (period && (!facts.start_day || (from && *facts.start_day < *from) || (to && *facts.start_day > *to))) {
          return Status::Ok();
        }
        builder.Add(facts);
        return Status::Ok();
      },
      scan));
  return builder.Finish();
}

Result<WorklistPage> LoadWorklist(RegistryStore& store, const InstrumentCatalog& catalog, const std::string& today,
                                  int page_size, const std::string& cursor) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  if (page_size < 0) return Fail(InvalidArgument("the page size must be positive"));
  DueQuery query;
  query.today = *today_day;
  query.last_bound = *today_day + WidestWindow(catalog);
  if (!cursor.empty()) {
    RP_ASSIGN_OR_RETURN(DueCursor after, DecodeDueCursor(cursor));
    query.after = std::move(after);
  }
  // One row more than the page: whether there is a next page.
  query.limit = page_size > 0 ? page_size + 1 : 0;
  RP_RETURN_IF_ERROR(RefreshFacts(store, catalog));
  RP_ASSIGN_OR_RETURN(std::vector<DueRow> rows, store.LoadDue(query));
  WorklistPage page;
  if (page_size > 0 && rows.size() > static_cast<size_t>(page_size)) {
    rows.resize(page_size);
    page.next = EncodeDueCursor(rows.back());
  }
  page.items.reserve(rows.size());
  for (const DueRow& row : rows) page.items.push_back(ToDueItem(row, *today_day));
  return page;
}

}  // namespace regenpath::registry
