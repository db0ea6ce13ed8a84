// The stored report facts (episode_facts.h, registry_facts.h) on both
// stores: a report, the worklist and the clinic's evidence read from the
// stored facts equal the same computed from every row of the store, after a
// first write, after a later write that changes some patients (their facts
// go stale and are refreshed), and after the knowledge base changed.
#include "registry/registry_facts.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <tuple>

#include "registry/cohort_export.h"
#include "registry/cohort_report.h"
#include "registry/demo_cohort.h"
#include "registry/followup_worklist.h"
#include "registry/postgres_registry_store.h"
#include "registry/registry_schema.h"
#include "registry/report_format.h"
#include "postgres/libpq.h"
#include "test_support.h"
#include "test_postgres.h"

namespace regenpath::registry {
namespace {

using testing::Catalog;

constexpr const char* kToday = "2026-12-05";

// Equal, or where the two texts first differ (reports are long).
::testing::AssertionResult SameText(const std::string& actual, const std::string& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  size_t at = 0;
  while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
  size_t from = at > 120 ? at - 120 : 0;
  return ::testing::AssertionFailure() << "first difference at " << at << ":\n  actual   ..." << actual.substr(from, 200)
                                       << "\n  expected ..." << expected.substr(from, 200);
}

class ReportFactsTest : public ::testing::TestWithParam<testing::StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Migrate(testing::TestContext()).has_value());
  }

  // Every report and the worklist, from the stored facts and from all rows.
  void ExpectFactsMatchRows() {
    auto cohort = store_->LoadCohort("");
    ASSERT_TRUE(cohort.has_value()) << cohort.error().ToString();
    auto facts = LoadEpisodeFacts(*store_, Catalog(), "");
    ASSERT_TRUE(facts.has_value()) << facts.error().ToString();
    ASSERT_EQ(facts->size(), cohort->episodes.size());
    for (GroupBy group_by : {GroupBy::kNone, GroupBy::kCondition, GroupBy::kKbVersion, GroupBy::kPrpLeukocytes,
                             GroupBy::kImageGuidance, GroupBy::kFeedback}) {
      auto from_rows = BuildCohortReport(*cohort, Catalog(), "", group_by, kToday);
      auto from_facts = BuildCohortReportFromFacts(*facts, Catalog(), "", group_by, kToday);
      ASSERT_TRUE(from_rows.has_value() && from_facts.has_value());
      EXPECT_TRUE(SameText(CohortReportJson(*from_facts), CohortReportJson(*from_rows))) << GroupByName(group_by);
    }
    auto option_facts = LoadEpisodeFacts(*store_, Catalog(), "prp-knee");
    ASSERT_TRUE(option_facts.has_value());
    EXPECT_TRUE(SameText(
        CohortReportJson(*BuildCohortReportFromFacts(*option_facts, Catalog(), "prp-knee", GroupBy::kNone, kToday)),
        CohortReportJson(*BuildCohortReport(*cohort, Catalog(), "prp-knee", GroupBy::kNone, kToday))));
    EXPECT_TRUE(SameText(WorklistJson(*FollowUpWorklistFromFacts(*facts, Catalog(), kToday), kToday),
                         WorklistJson(*FollowUpWorklist(*cohort, Catalog(), kToday), kToday)));
    // The stored worklist candidates (read through their index), whole and
    // page by page, on days before, during and after the cohort's follow-up.
    for (const char* today : {kToday, "2026-03-01", "2025-06-15", "2028-01-01"}) {
      auto expected = FollowUpWorklist(*cohort, Catalog(), today);
      ASSERT_TRUE(expected.has_value());
      auto whole = LoadWorklist(*store_, Catalog(), today, 0, "");
      ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
      EXPECT_TRUE(whole->next.empty());
      EXPECT_TRUE(SameText(WorklistJson(whole->items, today), WorklistJson(*expected, today))) << today;
      std::vector<DueItem> paged;
      std::string cursor;
      int pages = 0;
      do {
        auto page = LoadWorklist(*store_, Catalog(), today, 7, cursor);
        ASSERT_TRUE(page.has_value()) << page.error().ToString();
        ASSERT_LE(page->items.size(), 7u);
        if (!page->next.empty()) ASSERT_EQ(page->items.size(), 7u);
        paged.insert(paged.end(), page->items.begin(), page->items.end());
        cursor = page->next;
        ASSERT_LT(++pages, 100000);
      } while (!cursor.empty());
      EXPECT_TRUE(SameText(WorklistJson(paged, today), WorklistJson(*expected, today))) << today;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<RegistryStore> store_;
};

TEST_P(ReportFactsTest, StoredFactsGiveTheReportsOfAllRows) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{240, 7, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(store_->Write(*batch, testing::TestContext()).has_value());
  // Every patient written is stale until refreshed.
  auto stale = store_->StalePatients(FactsFingerprint(Catalog()), 100000);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->size(), batch->patients.size());
  ExpectFactsMatchRows();
  EXPECT_TRUE(store_->StalePatients(FactsFingerprint(Catalog()), 10)->empty());

  // A later write: new scores for a few patients, one score moved, one
  // episode's feedback recorded. Only those patients go stale.
  WriteBatch later;
  later.synthetic = true;
  for (size_t index = 0; index < 5; ++index) {
    OutcomeRecord outcome = batch->outcomes[index * 7];
    outcome.key += "|later";
    outcome.value = 0;
    later.outcomes.push_back(outcome);
  }
  OutcomeRecord moved = batch->outcomes[3];
  moved.value = moved.value > 5 ? 1 : 9;
  later.outcomes.push_back(moved);
  Episode episode = batch->episodes[11];
  episode.feedback = "overridden";
  later.episodes.push_back(episode);
  ASSERT_TRUE(store_->Write(later, testing::TestContext()).has_value());
  auto now_stale = store_->StalePatients(FactsFingerprint(Catalog()), 100000);
  ASSERT_TRUE(now_stale.has_value());
  EXPECT_EQ(now_stale->size(), TouchedPatients(later).size());
  ExpectFactsMatchRows();

  // Another knowledge base (another fingerprint): every patient is stale.
  auto all = store_->StalePatients("another-knowledge-base", 100000);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), batch->patients.size());
  ExpectFactsMatchRows();  // back to this knowledge base: rebuilt
}

// RefreshFacts() reads rows 500 patients at a time and writes up to `chunk`
// patients per transaction: several transactions, and several reads within
// one, give the facts of all rows.
TEST_P(ReportFactsTest, RefreshInSeveralTransactionsAndReadsGivesTheFactsOfAllRows) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{700, 5, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_GT(batch->patients.size(), 500u);  // more than one read of 500 patients
  ASSERT_TRUE(store_->Write(*batch, testing::TestContext()).has_value());
  auto refreshed = RefreshFacts(*store_, Catalog(), 150);  // 150 patients per transaction
  ASSERT_TRUE(refreshed.has_value()) << refreshed.error().ToString();
  EXPECT_EQ(*refreshed, static_cast<int>(batch->patients.size()));
  EXPECT_TRUE(store_->StalePatients(FactsFingerprint(Catalog()), 10)->empty());
  ExpectFactsMatchRows();
  // Every patient stale again (another knowledge base, then this one): one
  // transaction of all patients, read in two or more rounds.
  ASSERT_TRUE(store_->StalePatients("another-knowledge-base", 1).has_value());
  refreshed = RefreshFacts(*store_, Catalog());
  ASSERT_TRUE(refreshed.has_value()) << refreshed.error().ToString();
  EXPECT_EQ(*refreshed, static_cast<int>(batch->patients.size()));
  ExpectFactsMatchRows();
}

// `batch` with `prefix` before every key and pseudonym: other patients.
WriteBatch Prefixed(WriteBatch batch, const std::string& prefix) {
  for (auto& [pseudonym, synthetic] : batch.patients) pseudonym = prefix + pseudonym;
  for (Episode& episode : batch.episodes) {
    episode.key = prefix + episode.key;
    episode.patient = prefix + episode.patient;
  }
  for (ProcedureRecord& procedure : batch.procedures) {
    procedure.key = prefix + procedure.key;
    procedure.episode_key = prefix + procedure.episode_key;
    procedure.patient = prefix + procedure.patient;
  }
  for (OutcomeRecord& outcome : batch.outcomes) {
    outcome.key = prefix + outcome.key;
    outcome.patient = prefix + outcome.patient;
  }
  for (AdverseEventRecord& event : batch.adverse_events) {
    event.key = prefix + event.key;
    event.patient = prefix + event.patient;
    event.episode_key = prefix + event.episode_key;
  }
  return batch;
}

// A write given WriteContext::facts stores the facts of the patients it
// creates in its own transaction, from the batch: they equal the facts of
// all rows, and every other patient the write touches is marked stale and
// re-read.
TEST_P(ReportFactsTest, AWriteStoresTheFactsOfThePatientsItCreates) {
  WriteContext context = testing::TestContext();
  context.facts = FactsOfNewPatients(Catalog());
  auto stale_count = [&]() { return store_->StalePatients(FactsFingerprint(Catalog()), 100000).value().size(); };
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{240, 7, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(store_->Write(*batch, context).has_value());
  EXPECT_EQ(stale_count(), 0u);
  ExpectFactsMatchRows();

  // New patients, and new rows of two stored patients: a score, and a
  // procedure that names a new patient's episode (it counts in that
  // episode's facts, as a re-read of the new patient gives it).
  auto more = GenerateDemoCohort(Catalog(), DemoOptions{60, 9, kToday});
  ASSERT_TRUE(more.has_value());
  WriteBatch later = Prefixed(*more, "later-");
  OutcomeRecord score = batch->outcomes[0];
  score.key += "|later";
  score.value = 0;
  later.outcomes.push_back(score);
  ProcedureRecord crossing = later.procedures[0];
  crossing.key += "|crossing";
  crossing.patient = batch->patients[1].first;
  crossing.date = later.procedures[1].date;
  later.procedures.push_back(crossing);
  ASSERT_NE(score.patient, crossing.patient);
  ASSERT_TRUE(store_->Write(later, context).has_value());
  EXPECT_EQ(stale_count(), 2u);  // the two stored patients
  ExpectFactsMatchRows();

  // The same batch again: every row is an update, so every patient it
  // touches is marked stale and re-read.
  auto again = store_->Write(later, context);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->created, 0);
  EXPECT_EQ(stale_count(), TouchedPatients(later).size());
  ExpectFactsMatchRows();

  // The stored facts are of another knowledge base: new patients are marked
  // stale too (the next refresh recomputes every patient).
  ASSERT_TRUE(store_->StalePatients("another-knowledge-base", 1).has_value());
  auto third = GenerateDemoCohort(Catalog(), DemoOptions{20, 3, kToday});
  ASSERT_TRUE(third.has_value());
  ASSERT_TRUE(store_->Write(Prefixed(*third, "third-"), context).has_value());
  auto all = store_->StalePatients("another-knowledge-base", 100000);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), batch->patients.size() + later.patients.size() + third->patients.size());
  ExpectFactsMatchRows();
}

TEST_P(ReportFactsTest, WorklistCursorsAreCheckedAndExact) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{60, 11, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(store_->Write(*batch, testing::TestContext()).has_value());
  auto whole = LoadWorklist(*store_, Catalog(), kToday, 0, "");
  ASSERT_TRUE(whole.has_value());
  ASSERT_GT(whole->items.size(), 3u);
  auto first = LoadWorklist(*store_, Catalog(), kToday, 3, "");
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->items.size(), 3u);
  ASSERT_FALSE(first->next.empty());
  auto cursor = DecodeDueCursor(first->next);
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(cursor->episode_key, first->items[2].episode_key);
  EXPECT_EQ(cursor->option_id, first->items[2].option_id);
  EXPECT_EQ(cursor->instrument, first->items[2].instrument);
  auto second = LoadWorklist(*store_, Catalog(), kToday, 3, first->next);
  ASSERT_TRUE(second.has_value());
  ASSERT_FALSE(second->items.empty());
  EXPECT_EQ(WorklistJson({whole->items[3]}, kToday), WorklistJson({second->items[0]}, kToday));
  // A page's JSON names the next cursor; the last page says null.
  EXPECT_NE(WorklistPageJson(*first, kToday).find(R"("next":")" + first->next + "\""), std::string::npos);
  auto last = LoadWorklist(*store_, Catalog(), kToday, static_cast<int>(whole->items.size()), "");
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->next.empty());
  EXPECT_NE(WorklistPageJson(*last, kToday).find(R"("next":null})"), std::string::npos);
  for (const char* bad : {"zz", "abc", "", "41", "616263"}) {
    if (std::string(bad).empty()) continue;
    auto page = LoadWorklist(*store_, Catalog(), kToday, 3, bad);
    ASSERT_FALSE(page.has_value()) << bad;
    EXPECT_EQ(page.error().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(LoadWorklist(*store_, Catalog(), "2026-13-01", 3, "").has_value());
}

// The reports as the CLI, the server and the clinic's evidence build them
// (LoadCohortReport: facts streamed from the store into the builder, never
// held) equal the reports of all rows, on every grouping, for one option,
// and for a period of start days.
TEST_P(ReportFactsTest, StreamedReportsGiveTheReportsOfAllRows) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{300, 13, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(store_->Write(*batch, testing::TestContext()).has_value());
  auto cohort = store_->LoadCohort("");
  ASSERT_TRUE(cohort.has_value()) << cohort.error().ToString();
  for (GroupBy group_by : {GroupBy::kNone, GroupBy::kCondition, GroupBy::kKbVersion, GroupBy::kPrpLeukocytes,
                           GroupBy::kImageGuidance, GroupBy::kFeedback}) {
    auto streamed = LoadCohortReport(*store_, Catalog(), "", group_by, kToday);
    ASSERT_TRUE(streamed.has_value()) << streamed.error().ToString();
    auto from_rows = BuildCohortReport(*cohort, Catalog(), "", group_by, kToday);
    ASSERT_TRUE(from_rows.has_value());
    EXPECT_TRUE(SameText(CohortReportJson(*streamed), CohortReportJson(*from_rows))) << GroupByName(group_by);
    EXPECT_TRUE(SameText(CohortReportCsv(*streamed), CohortReportCsv(*from_rows))) << GroupByName(group_by);
  }
  auto option = LoadCohortReport(*store_, Catalog(), "prp-knee", GroupBy::kCondition, kToday);
  ASSERT_TRUE(option.has_value());
  ASSERT_EQ(option->options.size(), 1u);
  EXPECT_TRUE(SameText(CohortReportJson(*option),
                       CohortReportJson(*BuildCohortReport(*cohort, Catalog(), "prp-knee", GroupBy::kCondition, kToday))));
  // A period of start days: the same as the facts of the episodes in it.
  auto facts = LoadEpisodeFacts(*store_, Catalog(), "");
  ASSERT_TRUE(facts.has_value());
  std::vector<int> starts;
  for (const EpisodeFacts& episode : *facts) {
    if (episode.start_day) starts.push_back(*episode.start_day);
  }
  ASSERT_GT(starts.size(), 10u);
  std::sort(starts.begin(), starts.end());
  int from = starts[starts.size() / 4];
  int to = starts[starts.size() * 3 / 4];
  std::vector<EpisodeFacts> in_period;
  for (const EpisodeFacts& episode : *facts) {
    if (episode.start_day && *episode.start_day >= from && *episode.start_day <= to) in_period.push_back(episode);
  }
  ASSERT_LT(in_period.size(), facts->size());
  auto period = LoadCohortReport(*store_, Catalog(), "", GroupBy::kNone, kToday, from, to);
  ASSERT_TRUE(period.has_value());
  EXPECT_TRUE(SameText(CohortReportJson(*period),
                       CohortReportJson(*BuildCohortReportFromFacts(in_period, Catalog(), "", GroupBy::kNone, kToday))));
  // Checked before the store is read.
  auto bad_day = LoadCohortReport(*store_, Catalog(), "", GroupBy::kNone, "2026-13-01");
  ASSERT_FALSE(bad_day.has_value());
  EXPECT_EQ(bad_day.error().code(), StatusCode::kInvalidArgument);
  auto bad_option = LoadCohortReport(*store_, Catalog(), "no-such-option", GroupBy::kNone, kToday);
  ASSERT_FALSE(bad_option.has_value());
  EXPECT_EQ(bad_option.error().code(), StatusCode::kInvalidArgument);
  // A visitor's error stops the walk and is returned.
  int seen = 0;
  Status stopped = ForEachEpisodeFacts(*store_, Catalog(), "", [&](const EpisodeFacts&) -> Status {
    return ++seen == 3 ? Internal("stop here") : Status::Ok();
  });
  EXPECT_EQ(stopped.message(), "stop here");
  EXPECT_EQ(seen, 3);
}

// ScanFacts() gives the rows of ForEachFacts(): in any order when asked
// (PostgreSQL streams them with COPY as the heap gives them), without the
// group values when not asked (decoded as empty), one option's alone; a
// visitor's error stops the read, and the store answers the next call.
TEST_P(ReportFactsTest, ScanFactsGivesTheRowsOfForEachFacts) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{300, 29, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(store_->Write(*batch, testing::TestContext()).has_value());
  ASSERT_TRUE(RefreshFacts(*store_, Catalog()).has_value());
  auto copy = [](const FactsRowView& row) {
    return FactsRow{std::string(row.option_id), std::string(row.episode_key), std::string(row.patient), row.synthetic,
                    std::string(row.groups), std::string(row.data)};
  };
  std::vector<FactsRow> ordered;
  ASSERT_TRUE(store_->ForEachFacts("", [&](const FactsRowView& row) -> Status {
    EXPECT_TRUE(row.has_groups);
    ordered.push_back(copy(row));
    return Status::Ok();
  }).ok());
  ASSERT_EQ(ordered.size(), batch->episodes.size());
  auto by_key = [](const FactsRow& a, const FactsRow& b) {
    return std::tie(a.option_id, a.episode_key) < std::tie(b.option_id, b.episode_key);
  };
  for (bool groups : {true, false}) {
    for (const std::string option : {"", "prp-knee"}) {
      FactsScan scan;
      scan.ordered = false;
      scan.groups = groups;
      std::vector<FactsRow> scanned;
      EpisodeFacts decoded;
      ASSERT_TRUE(store_->ScanFacts(option, scan, [&](const FactsRowView& row) -> Status {
        if (!row.has_groups) EXPECT_TRUE(row.groups.empty());
        if (groups) EXPECT_TRUE(row.has_groups);
        RP_RETURN_IF_ERROR(DecodeFacts(row, decoded));
        if (!row.has_groups) EXPECT_TRUE(decoded.condition.empty() && decoded.kb_version.empty());
        scanned.push_back(copy(row));
        if (!row.has_groups) scanned.back().groups = "(not read)";
        return Status::Ok();
      }).ok());
      std::sort(scanned.begin(), scanned.end(), by_key);
      std::vector<FactsRow> expected;
      for (const FactsRow& row : ordered) {
        if (option.empty() || row.option_id == option) expected.push_back(row);
      }
      ASSERT_EQ(scanned.size(), expected.size()) << option << groups;
      ASSERT_FALSE(expected.empty());
      for (size_t index = 0; index < expected.size(); ++index) {
        const FactsRow& a = scanned[index];
        const FactsRow& b = expected[index];
        EXPECT_EQ(a.option_id, b.option_id);
        EXPECT_EQ(a.episode_key, b.episode_key);
        EXPECT_EQ(a.patient, b.patient);
        EXPECT_EQ(a.synthetic, b.synthetic);
        EXPECT_EQ(a.data, b.data);
        if (a.groups != "(not read)") EXPECT_EQ(a.groups, b.groups);
      }
    }
  }
  // A visitor's error stops the read and is returned; the store then
  // answers (on PostgreSQL the COPY was cancelled and drained).
  int seen = 0;
  FactsScan scan;
  scan.ordered = false;
  Status stopped = store_->ScanFacts("", scan, [&](const FactsRowView&) -> Status {
    return ++seen == 3 ? Internal("stop here") : Status::Ok();
  });
  EXPECT_EQ(stopped.message(), "stop here");
  EXPECT_EQ(seen, 3);
  auto cohort = store_->LoadCohort("");
  ASSERT_TRUE(cohort.has_value()) << cohort.error().ToString();
  auto report = LoadCohortReport(*store_, Catalog(), "", GroupBy::kNone, kToday);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(SameText(CohortReportJson(*report),
                       CohortReportJson(*BuildCohortReport(*cohort, Catalog(), "", GroupBy::kNone, kToday))));
}

// Migration 5 on a store at version 4 (the worklist candidates of
// migration 3, one wide row each): it drops them, and the next read of the
// worklist computes them again, the same as before. `exec` runs SQL on a
// second connection to the store's database.
void ExpectMigrationFiveRebuildsTheWorklist(RegistryStore& store, SqlDialect dialect,
                                             const std::function<bool(const std::string&)>& exec) {
  ASSERT_TRUE(store.Migrate(testing::TestContext()).has_value());
  WriteContext context = testing::TestContext();
  context.facts = FactsOfNewPatients(Catalog());
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{200, 41, kToday});
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(store.Write(*batch, context).has_value());
  auto cohort = store.LoadCohort("");
  ASSERT_TRUE(cohort.has_value());
  const std::vector<std::string> days = {kToday, "2026-03-01", "2028-01-01"};
  std::vector<std::string> expected;
  for (const std::string& today : days) {
    expected.push_back(WorklistJson(*FollowUpWorklist(*cohort, Catalog(), today), today));
  }
  // Back to version 4: migration 3's table, holding a row of its own shape
  // (what the facts of version 4 held), and no stale patient.
  ASSERT_EQ(RegistryMigrations()[2].version, 3);
  ASSERT_TRUE(exec("DROP TABLE due_windows"));
  ASSERT_TRUE(exec("DROP TABLE due_episodes"));
  ASSERT_TRUE(exec(MigrationSql(RegistryMigrations()[2], dialect)));
  ASSERT_TRUE(exec("DELETE FROM stale_patients"));
  ASSERT_TRUE(exec("INSERT INTO due_items(window_first, window_last, episode_key, option_id, instrument, weeks, "
                   "seen_later, patient, procedure_key) VALUES (1, 2, 'e', 'prp-knee', 'nrs', 6, 0, 'p', 'x')"));
  ASSERT_TRUE(exec("DELETE FROM schema_migrations WHERE version = 5"));
  ASSERT_EQ(store.SchemaVersion().value(), 4);
  EXPECT_FALSE(store.Write(*batch, context).has_value());  // refused until migrated
  auto migrated = store.Migrate(testing::TestContext());
  ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
  EXPECT_EQ(*migrated, 5);
  EXPECT_EQ(store.StalePatients(FactsFingerprint(Catalog()), 100000)->size(), batch->patients.size());
  for (size_t index = 0; index < days.size(); ++index) {
    auto page = LoadWorklist(store, Catalog(), days[index], 0, "");
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    EXPECT_TRUE(SameText(WorklistJson(page->items, days[index]), expected[index])) << days[index];
    auto first = LoadWorklist(store, Catalog(), days[index], 5, "");
    ASSERT_TRUE(first.has_value());
    if (page->items.size() > 5) {
      auto second = LoadWorklist(store, Catalog(), days[index], 5, first->next);
      ASSERT_TRUE(second.has_value());
      ASSERT_FALSE(second->items.empty());
      EXPECT_EQ(second->items.front().procedure, page->items[5].procedure);
      EXPECT_EQ(second->items.front().instrument, page->items[5].instrument);
    }
  }
}

TEST(RegistryMigrationTest, MigrationFiveRebuildsTheWorklistOnSqlite) {
  testing::TempDir dir;
  auto store = testing::MigratedSqlite(dir);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "registry.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ExpectMigrationFiveRebuildsTheWorklist(*store, SqlDialect::kSqlite, [&](const std::string& sql) {
    char* error = nullptr;
    bool ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << (error ? error : "");
    sqlite3_free(error);
    return ok;
  });
  sqlite3_close(db);
}

TEST(RegistryMigrationTest, MigrationFiveRebuildsTheWorklistOnPostgres) {
  std::string conninfo = testing::TestPostgres::Instance().FreshDatabase();
  ASSERT_FALSE(conninfo.empty()) << testing::TestPostgres::Instance().error();
  auto opened = PostgresRegistryStore::Open(conninfo);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  PGconn* admin = postgres::Pq().PQconnectdb(conninfo.c_str());
  ASSERT_EQ(postgres::Pq().PQstatus(admin), CONNECTION_OK);
  ExpectMigrationFiveRebuildsTheWorklist(**opened, SqlDialect::kPostgres, [&](const std::string& sql) {
    PGresult* result = postgres::Pq().PQexec(admin, sql.c_str());
    ExecStatusType status = postgres::Pq().PQresultStatus(result);
    bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << postgres::Pq().PQresultErrorMessage(result);
    postgres::Pq().PQclear(result);
    return ok;
  });
  postgres::Pq().PQfinish(admin);
}

// PostgreSQL: the connection lost while the facts are streamed is an error
// (kUnavailable) after the rows already handed over, never a crash or a
// report of part of the rows; and so is every read after it.
TEST(PostgresScanFactsTest, AConnectionLostMidStreamIsAnError) {
  std::string conninfo = testing::TestPostgres::Instance().FreshDatabase();
  ASSERT_FALSE(conninfo.empty()) << testing::TestPostgres::Instance().error();
  auto opened = PostgresRegistryStore::Open(conninfo);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  RegistryStore& store = **opened;
  ASSERT_TRUE(store.Migrate(testing::TestContext()).has_value());
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{100, 31, kToday});
  ASSERT_TRUE(batch.has_value());
  WriteContext context = testing::TestContext();
  context.facts = FactsOfNewPatients(Catalog());
  ASSERT_TRUE(store.Write(*batch, context).has_value());
  // Enough rows (about 8 MB) that the server is still sending when the
  // connection is cut: copies of the facts under other keys.
  PGconn* admin = postgres::Pq().PQconnectdb(conninfo.c_str());
  ASSERT_EQ(postgres::Pq().PQstatus(admin), CONNECTION_OK);
  auto exec = [&](const std::string& sql) {
    PGresult* result = postgres::Pq().PQexec(admin, sql.c_str());
    ExecStatusType status = postgres::Pq().PQresultStatus(result);
    postgres::Pq().PQclear(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  };
  ASSERT_TRUE(exec("INSERT INTO episode_facts (option_id, episode_key, patient, synthetic, groups, data) "
                   "SELECT option_id, episode_key || '|copy' || n, patient, synthetic, groups, data "
                   "FROM episode_facts, generate_series(1, 200) AS n"));
  auto whole = LoadCohortReport(store, Catalog(), "", GroupBy::kNone, kToday);
  ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
  int episodes = 0;
  for (const OptionReport& option : whole->options) episodes += option.groups.at(0).episodes;
  EXPECT_EQ(episodes, 100 * 201);
  int seen = 0;
  FactsScan scan;
  scan.ordered = false;
  Status lost = store.ScanFacts("", scan, [&](const FactsRowView&) -> Status {
    if (++seen == 1) {
      EXPECT_TRUE(exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
    }
    return Status::Ok();
  });
  EXPECT_FALSE(lost.ok());
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  EXPECT_GE(seen, 1);
  EXPECT_LT(seen, 100 * 201);
  auto after = LoadCohortReport(store, Catalog(), "", GroupBy::kNone, kToday);
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), StatusCode::kUnavailable) << after.error().ToString();
  postgres::Pq().PQfinish(admin);
}

// Patients are counted exactly whatever the order of the episodes (the
// stores give each patient's episodes together, in ascending order; a
// vector may not).
TEST(CohortReportBuilderTest, CountsDistinctPatientsInAnyOrder) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{200, 17, kToday});
  ASSERT_TRUE(batch.has_value());
  Cohort cohort{batch->episodes, batch->procedures, batch->outcomes, batch->adverse_events};
  std::vector<EpisodeFacts> facts = ComputeEpisodeFacts(cohort, Catalog());
  std::vector<EpisodeFacts> reversed(facts.rbegin(), facts.rend());
  for (GroupBy group_by : {GroupBy::kNone, GroupBy::kCondition}) {
    auto ordered = BuildCohortReportFromFacts(facts, Catalog(), "", group_by, kToday);
    auto backwards = BuildCohortReportFromFacts(reversed, Catalog(), "", group_by, kToday);
    ASSERT_TRUE(ordered.has_value() && backwards.has_value());
    ASSERT_EQ(ordered->options.size(), backwards->options.size());
    for (size_t option = 0; option < ordered->options.size(); ++option) {
      const OptionReport& a = ordered->options[option];
      const OptionReport& b = backwards->options[option];
      ASSERT_EQ(a.groups.size(), b.groups.size());
      for (size_t group = 0; group < a.groups.size(); ++group) {
        std::set<std::string> patients;
        for (const EpisodeFacts& episode : facts) {
          if (episode.option_id != a.option_id) continue;
          if (group_by == GroupBy::kCondition &&
              (episode.condition.empty() ? "(not recorded)" : episode.condition) != a.groups[group].group) {
            continue;
          }
          patients.insert(episode.patient);
        }
        EXPECT_EQ(a.groups[group].patients, static_cast<int>(patients.size())) << a.option_id;
        EXPECT_EQ(b.groups[group].patients, static_cast<int>(patients.size())) << a.option_id;
        EXPECT_EQ(a.groups[group].episodes, b.groups[group].episodes);
      }
    }
  }
}

// Every mean change of two reports, to the last bit (the JSON rounds them,
// so a sum in another order could print the same).
void ExpectSameChanges(const CohortReport& actual, const CohortReport& expected, const std::string& label) {
  ASSERT_EQ(actual.options.size(), expected.options.size()) << label;
  int compared = 0;
  for (size_t option = 0; option < actual.options.size(); ++option) {
    const OptionReport& a = actual.options[option];
    const OptionReport& b = expected.options[option];
    ASSERT_EQ(a.groups.size(), b.groups.size()) << label;
    for (size_t group = 0; group < a.groups.size(); ++group) {
      ASSERT_EQ(a.groups[group].instruments.size(), b.groups[group].instruments.size()) << label;
      for (size_t instrument = 0; instrument < a.groups[group].instruments.size(); ++instrument) {
        const auto& x = a.groups[group].instruments[instrument].timepoints;
        const auto& y = b.groups[group].instruments[instrument].timepoints;
        ASSERT_EQ(x.size(), y.size()) << label;
        for (size_t point = 0; point < x.size(); ++point) {
          const MeanInterval& c = x[point].change;
          const MeanInterval& d = y[point].change;
          EXPECT_EQ(c.n, d.n) << label;
          // Bitwise: EXPECT_EQ on doubles is exact.
          EXPECT_EQ(c.mean, d.mean) << label << " " << a.option_id << " " << point;
          EXPECT_EQ(c.sd, d.sd) << label << " " << a.option_id << " " << point;
          EXPECT_EQ(c.lower, d.lower) << label;
          EXPECT_EQ(c.upper, d.upper) << label;
          compared += c.n > 1 ? 1 : 0;
        }
      }
    }
  }
  EXPECT_GT(compared, 10) << label;
}

// The builder gives the report of the episodes in (option, episode key)
// order whatever the order they come in (PostgreSQL hands its rows over as
// the heap gives them): reversed, shuffled, nearly sorted (a few episodes
// out of place), rotated (a scan that starts mid-table), options
// interleaved. Exact to the bit, and the same JSON and CSV.
TEST(CohortReportBuilderTest, AnyOrderGivesTheReportOfKeyOrder) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{600, 23, kToday});
  ASSERT_TRUE(batch.has_value());
  Cohort cohort{batch->episodes, batch->procedures, batch->outcomes, batch->adverse_events};
  std::vector<EpisodeFacts> facts = ComputeEpisodeFacts(cohort, Catalog());  // by episode key
  std::stable_sort(facts.begin(), facts.end(), [](const EpisodeFacts& a, const EpisodeFacts& b) {
    return a.option_id < b.option_id;
  });  // by option, then episode key: the order of the stores' ForEachFacts()
  std::vector<std::pair<std::string, std::vector<EpisodeFacts>>> orders;
  orders.emplace_back("reversed", std::vector<EpisodeFacts>(facts.rbegin(), facts.rend()));
  std::vector<EpisodeFacts> shuffled = facts;
  std::mt19937 random(20261206);
  std::shuffle(shuffled.begin(), shuffled.end(), random);
  orders.emplace_back("shuffled", shuffled);
  std::vector<EpisodeFacts> nearly = ComputeEpisodeFacts(cohort, Catalog());  // options interleaved
  for (size_t index = 7; index + 40 < nearly.size(); index += 53) std::swap(nearly[index], nearly[index + 40]);
  orders.emplace_back("nearly sorted, options interleaved", nearly);
  std::vector<EpisodeFacts> rotated = ComputeEpisodeFacts(cohort, Catalog());
  std::rotate(rotated.begin(), rotated.begin() + static_cast<long>(rotated.size() / 3), rotated.end());
  orders.emplace_back("rotated", rotated);
  for (GroupBy group_by : {GroupBy::kNone, GroupBy::kCondition, GroupBy::kKbVersion, GroupBy::kPrpLeukocytes,
                           GroupBy::kImageGuidance, GroupBy::kFeedback}) {
    auto expected = BuildCohortReportFromFacts(facts, Catalog(), "", group_by, kToday);
    ASSERT_TRUE(expected.has_value());
    for (const auto& [name, order] : orders) {
      std::string label = std::string(GroupByName(group_by)) + ", " + name;
      auto actual = BuildCohortReportFromFacts(order, Catalog(), "", group_by, kToday);
      ASSERT_TRUE(actual.has_value());
      ExpectSameChanges(*actual, *expected, label);
      EXPECT_TRUE(SameText(CohortReportJson(*actual), CohortReportJson(*expected))) << label;
      EXPECT_TRUE(SameText(CohortReportCsv(*actual), CohortReportCsv(*expected))) << label;
    }
  }
}

TEST(EpisodeFactsTest, StoredFormRoundTrips) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{60, 3, kToday});
  ASSERT_TRUE(batch.has_value());
  Cohort cohort{batch->episodes, batch->procedures, batch->outcomes, batch->adverse_events};
  std::vector<EpisodeFacts> facts = ComputeEpisodeFacts(cohort, Catalog());
  ASSERT_EQ(facts.size(), batch->episodes.size());
  std::vector<EpisodeFacts> parsed;
  for (const EpisodeFacts& episode : facts) {
    FactsRow row = ToRow(episode);
    auto back = FromRow(row);
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    EXPECT_EQ(ToRow(*back).data, row.data);
    EXPECT_EQ(ToRow(*back).groups, row.groups);
    parsed.push_back(*back);
  }
  EXPECT_TRUE(SameText(CohortReportJson(*BuildCohortReportFromFacts(parsed, Catalog(), "", GroupBy::kNone, kToday)),
                       CohortReportJson(*BuildCohortReportFromFacts(facts, Catalog(), "", GroupBy::kNone, kToday))));
  FactsRow broken = ToRow(facts[0]);
  broken.data.pop_back();
  EXPECT_FALSE(FromRow(broken).has_value());
  FactsRow extra = ToRow(facts[0]);
  extra.data.push_back('\0');
  EXPECT_FALSE(FromRow(extra).has_value());
  FactsRow groups = ToRow(facts[0]);
  groups.groups = "only\x1ftwo";
  EXPECT_FALSE(FromRow(groups).has_value());
}

// Decoding row after row into one EpisodeFacts (what reports do) leaves
// nothing of the previous row behind: each decodes to its own facts.
// The rows of `batch` whose patient is among patients [begin, end) of it.
WriteBatch PatientsOf(const WriteBatch& batch, size_t begin, size_t end) {
  std::set<std::string> patients;
  WriteBatch part;
  part.synthetic = batch.synthetic;
  for (size_t index = begin; index < std::min(end, batch.patients.size()); ++index) {
    part.patients.push_back(batch.patients[index]);
    patients.insert(batch.patients[index].first);
  }
  auto in = [&](const std::string& patient) { return patients.count(patient) > 0; };
  for (const Episode& episode : batch.episodes) if (in(episode.patient)) part.episodes.push_back(episode);
  for (const ProcedureRecord& row : batch.procedures) if (in(row.patient)) part.procedures.push_back(row);
  for (const OutcomeRecord& row : batch.outcomes) if (in(row.patient)) part.outcomes.push_back(row);
  for (const AdverseEventRecord& row : batch.adverse_events) if (in(row.patient)) part.adverse_events.push_back(row);
  return part;
}

// The indexes of a SQLite registry (name and SQL), and whether its
// integrity check passes.
std::vector<std::string> SqliteIndexes(const std::filesystem::path& file, bool& intact) {
  sqlite3* db = nullptr;
  std::vector<std::string> indexes;
  intact = false;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* read = nullptr;
    sqlite3_prepare_v2(db, "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index' ORDER BY name", -1,
                       &read, nullptr);
    while (sqlite3_step(read) == SQLITE_ROW) {
      indexes.push_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(read, 0))) + ": " +
                        reinterpret_cast<const char*>(sqlite3_column_text(read, 1)));
    }
    sqlite3_finalize(read);
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &read, nullptr);
    intact = sqlite3_step(read) == SQLITE_ROW &&
             std::string(reinterpret_cast<const char*>(sqlite3_column_text(read, 0))) == "ok";
    sqlite3_finalize(read);
  }
  sqlite3_close(db);
  return indexes;
}

// A bulk write (1,000 episodes: enough rows in every table for the SQLite
// store to drop its secondary indexes and rebuild them before the commit,
// sqlite_registry_store.cc DeferIndexes) stores what the same rows written
// 50 patients at a time (too few to defer anything) store: the same rows, facts, worklist and
// indexes; the same write again creates nothing; a failed bulk write changes
// nothing, indexes included.
TEST_P(ReportFactsTest, ABulkWriteStoresWhatSmallWritesStore) {
  const bool sqlite = GetParam().name == "sqlite";
  constexpr size_t kSmallWrite = 50;
  WriteContext context = testing::TestContext();
  context.facts = FactsOfNewPatients(Catalog());
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{1000, 23, kToday});
  ASSERT_TRUE(batch.has_value());
  auto bulk = store_->Write(*batch, context);
  ASSERT_TRUE(bulk.has_value()) << bulk.error().ToString();

  testing::TempDir small_dir;
  auto small = GetParam().open(small_dir.path());
  ASSERT_NE(small, nullptr);
  ASSERT_TRUE(small->Migrate(testing::TestContext()).has_value());
  for (size_t begin = 0; begin < batch->patients.size(); begin += kSmallWrite) {
    WriteBatch part = PatientsOf(*batch, begin, begin + kSmallWrite);
    ASSERT_LT(part.outcomes.size(), 1000u);
    ASSERT_TRUE(small->Write(part, context).has_value());
  }

  auto expect_same = [&]() {
    auto cohort = store_->LoadCohort("");
    auto small_cohort = small->LoadCohort("");
    ASSERT_TRUE(cohort.has_value() && small_cohort.has_value());
    ASSERT_EQ(cohort->outcomes.size(), batch->outcomes.size());
    EXPECT_TRUE(SameText(CohortNdjson(*cohort), CohortNdjson(*small_cohort)));
    auto facts = store_->LoadFacts("");
    auto small_facts = small->LoadFacts("");
    ASSERT_TRUE(facts.has_value() && small_facts.has_value());
    ASSERT_EQ(facts->size(), small_facts->size());
    for (auto* rows : {&*facts, &*small_facts}) {
      std::sort(rows->begin(), rows->end(),
                [](const FactsRow& a, const FactsRow& b) { return a.episode_key < b.episode_key; });
    }
    for (size_t index = 0; index < facts->size(); ++index) {
      EXPECT_EQ((*facts)[index].episode_key, (*small_facts)[index].episode_key);
      EXPECT_EQ((*facts)[index].data, (*small_facts)[index].data) << (*facts)[index].episode_key;
    }
    auto whole = LoadWorklist(*store_, Catalog(), kToday, 0, "");
    auto small_whole = LoadWorklist(*small, Catalog(), kToday, 0, "");
    ASSERT_TRUE(whole.has_value() && small_whole.has_value());
    EXPECT_GT(whole->items.size(), 1000u);
    EXPECT_TRUE(SameText(WorklistJson(whole->items, kToday), WorklistJson(small_whole->items, kToday)));
    std::string cursor, small_cursor;
    for (int page = 0; page < 3; ++page) {
      auto one = LoadWorklist(*store_, Catalog(), kToday, 100, cursor);
      auto other = LoadWorklist(*small, Catalog(), kToday, 100, small_cursor);
      ASSERT_TRUE(one.has_value() && other.has_value());
      EXPECT_TRUE(SameText(WorklistPageJson(*one, kToday), WorklistPageJson(*other, kToday)));
      cursor = one->next;
      small_cursor = other->next;
    }
    EXPECT_TRUE(store_->StalePatients(FactsFingerprint(Catalog()), 10).value().empty());
    if (sqlite) {
      bool intact = false, small_intact = false;
      auto indexes = SqliteIndexes(dir_.path() / "registry.sqlite", intact);
      EXPECT_EQ(indexes, SqliteIndexes(small_dir.path() / "registry.sqlite", small_intact));
      EXPECT_EQ(indexes.size(), 15u);  // 7 of primary keys, 8 secondary
      EXPECT_TRUE(intact && small_intact);
    }
  };
  expect_same();

  // Again: every row an update, no duplicate.
  auto again = store_->Write(*batch, context);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->created, 0);
  EXPECT_EQ(again->updated, bulk->created);
  ASSERT_TRUE(RefreshFacts(*store_, Catalog()).has_value());
  expect_same();

  // A bulk write that fails on its last row leaves the store as it was.
  WriteBatch failing = Prefixed(*batch, "failing-");
  failing.outcomes.back().patient = "unknown-patient";  // violates the patients foreign key
  ASSERT_FALSE(store_->Write(failing, context).has_value());
  expect_same();
}

TEST(EpisodeFactsTest, DecodingIntoReusedFactsGivesEachRow) {
  auto batch = GenerateDemoCohort(Catalog(), DemoOptions{80, 19, kToday});
  ASSERT_TRUE(batch.has_value());
  Cohort cohort{batch->episodes, batch->procedures, batch->outcomes, batch->adverse_events};
  std::vector<EpisodeFacts> facts = ComputeEpisodeFacts(cohort, Catalog());
  // Largest first, then smallest: fewer instruments, events and timepoints
  // than the row before.
  std::sort(facts.begin(), facts.end(), [](const EpisodeFacts& a, const EpisodeFacts& b) {
    return ToRow(a).data.size() > ToRow(b).data.size();
  });
  std::vector<FactsRow> rows;
  for (size_t index = 0; index < facts.size(); ++index) {
    rows.push_back(ToRow(facts[index % 2 == 0 ? index / 2 : facts.size() - 1 - index / 2]));
  }
  EpisodeFacts scratch;
  for (const FactsRow& row : rows) {
    ASSERT_TRUE(DecodeFacts(FactsRowView{row.option_id, row.episode_key, row.patient, row.synthetic, row.groups, row.data},
                            scratch)
                    .ok());
    FactsRow again = ToRow(scratch);
    EXPECT_EQ(again.data, row.data) << row.episode_key;
    EXPECT_EQ(again.groups, row.groups) << row.episode_key;
    EXPECT_EQ(again.episode_key, row.episode_key);
    EXPECT_EQ(again.patient, row.patient);
    EXPECT_EQ(again.option_id, row.option_id);
  }
  ASSERT_GT(rows.front().data.size(), rows.back().data.size());
}

INSTANTIATE_TEST_SUITE_P(Stores, ReportFactsTest, ::testing::ValuesIn(testing::StoreFactories()), testing::FactoryName);

}  // namespace
}  // namespace regenpath::registry
