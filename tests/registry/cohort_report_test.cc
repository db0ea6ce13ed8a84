// Reports on a small cohort whose figures are counted by hand in the
// comments (the statistics themselves are checked against R in
// statistics_test.cc).
#include "registry/cohort_report.h"

#include <gtest/gtest.h>

#include <cmath>

#include "registry/clinic_evidence.h"
#include "registry/followup_worklist.h"
#include "registry/report_format.h"
#include "test_support.h"

namespace regenpath::registry {
namespace {

using testing::Catalog;

Episode MakeEpisode(const std::string& patient, const std::string& start) {
  Episode episode;
  episode.key = patient + "|prp-knee|";
  episode.patient = patient;
  episode.option_id = "prp-knee";
  episode.therapy = "prp";
  episode.target = "knee";
  episode.start_date = start;
  return episode;
}

ProcedureRecord MakeProcedure(const std::string& patient, const std::string& date, int series, const std::string& kind = "index") {
  ProcedureRecord procedure;
  procedure.key = "Procedure|" + patient + "|" + date;
  procedure.episode_key = patient + "|prp-knee|";
  procedure.patient = patient;
  procedure.date = date;
  procedure.series_number = series;
  procedure.kind = kind;
  return procedure;
}

// Today 2026-12-05. Week 26 after 2026-01-01 is 2026-07-02, window ± 46 days.
Cohort SmallCohort() {
  Cohort cohort;
  for (const char* patient : {"e1", "e2", "e3", "e4"}) {
    cohort.episodes.push_back(MakeEpisode(patient, "2026-01-01"));
    cohort.procedures.push_back(MakeProcedure(patient, "2026-01-01", 1));
  }
  cohort.episodes.push_back(MakeEpisode("e5", "2026-11-01"));
  cohort.procedures.push_back(MakeProcedure("e5", "2026-11-01", 1));
  cohort.procedures.push_back(MakeProcedure("e2", "2026-06-01", 1));  // a new series: repeat procedure at day 151
  auto score = [&](const std::string& patient, const std::string& instrument, const std::string& date, double value) {
    cohort.outcomes.push_back(OutcomeRecord{"Observation|" + patient + instrument + date, patient, instrument, date, value});
  };
  score("e1", "nrs", "2025-12-20", 8);  // baseline
  score("e1", "nrs", "2026-07-02", 3);  // -5: MCID, >= 30 %, >= 50 %
  score("e1", "pgic", "2026-07-02", 2);  // much improved
  score("e2", "nrs", "2026-01-01", 6);  // baseline on the day
  score("e2", "nrs", "2026-06-20", 5);  // -1: no responder
  score("e3", "nrs", "2025-12-31", 5);  // baseline, never seen again: lost
  score("e4", "nrs", "2026-07-10", 4);  // no baseline
  score("e4", "nrs", "2025-11-01", 9);  // too early to be a baseline (61 days)
  AdverseEventRecord event;
  event.key = "AdverseEvent|1";
  event.patient = "e1";
  event.episode_key = "e1|prp-knee|";
  event.category = AdverseEventCategory::kInfection;
  event.serious = true;
  event.onset = "2026-01-05";
  cohort.adverse_events.push_back(event);
  return cohort;
}

const TimepointOutcome& At(const GroupReport& group, const std::string& instrument, double weeks) {
  for (const InstrumentOutcomes& outcomes : group.instruments) {
    if (outcomes.instrument != instrument) continue;
    for (const TimepointOutcome& point : outcomes.timepoints) {
      if (point.weeks == weeks) return point;
    }
  }
  ADD_FAILURE() << instrument << " " << weeks;
  static TimepointOutcome none;
  return none;
}

TEST(CohortReportTest, CountsDueObservedLostAndResponders) {
  auto report = BuildCohortReport(SmallCohort(), Catalog(), "", GroupBy::kNone, "2026-12-05");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->options.size(), 1u);
  const GroupReport& group = report->options[0].groups.at(0);
  EXPECT_EQ(group.episodes, 5);
  const TimepointOutcome& nrs26 = At(group, "nrs", 26);
  EXPECT_EQ(nrs26.due, 3);  // e1, e2, e3 (e4 has no baseline, e5 not due)
  EXPECT_EQ(nrs26.observed, 3);  // e1, e2, e4
  EXPECT_EQ(nrs26.without_baseline, 1);
  EXPECT_EQ(nrs26.lost, 1);  // e3
  ASSERT_EQ(nrs26.change.n, 2);
  EXPECT_DOUBLE_EQ(*nrs26.change.mean, -3.0);
  EXPECT_NEAR(*nrs26.change.sd, std::sqrt(8.0), 1e-12);
  ASSERT_TRUE(nrs26.mcid.has_value());
  EXPECT_EQ(nrs26.mcid->successes, 1);
  EXPECT_EQ(nrs26.mcid->n, 2);
  EXPECT_EQ(nrs26.immpact30->successes, 1);
  EXPECT_EQ(nrs26.immpact50->successes, 1);
  const TimepointOutcome& pgic26 = At(group, "pgic", 26);
  EXPECT_EQ(pgic26.due, 4);
  EXPECT_EQ(pgic26.observed, 1);
  EXPECT_EQ(pgic26.lost, 3);
  EXPECT_EQ(pgic26.ordinal->successes, 1);
  EXPECT_FALSE(pgic26.mcid.has_value());
  // WOMAC: no MCID in the knowledge base (U): no responder rate.
  EXPECT_FALSE(At(group, "womac", 26).mcid.has_value());
  for (const AdverseEventRate& rate : group.adverse_events) {
    if (rate.category == "infection" || rate.category == "serious" || rate.category == "any") {
      EXPECT_EQ(rate.episodes.successes, 1) << rate.category;
      EXPECT_EQ(rate.episodes.n, 5);
    } else {
      EXPECT_EQ(rate.episodes.successes, 0) << rate.category;
    }
  }
  bool saw_repeat = false;
  for (const SurvivalCurve& curve : group.survival) {
    if (curve.endpoint != "repeat-procedure") continue;
    saw_repeat = true;
    EXPECT_EQ(curve.subjects, 5);
    EXPECT_EQ(curve.events, 1);
    ASSERT_EQ(curve.steps.size(), 1u);
    EXPECT_EQ(curve.steps[0].time, 151);
    // At day 151 at risk: e1 (last contact 2026-07-02), e2, e4 (2026-07-10); e3 censored at 2025-12-31 -> day 0, e5 at 0.
    EXPECT_EQ(curve.steps[0].at_risk, 3);
  }
  EXPECT_TRUE(saw_repeat);
  std::string json = CohortReportJson(*report);
  EXPECT_NE(json.find("\"observational\":true"), std::string::npos);
  EXPECT_NE(CohortReportText(*report).find("observational"), std::string::npos);
  EXPECT_NE(CohortReportCsv(*report).find("prp-knee,all,0,outcome,nrs,26,mcid_responders,2,0.5,"), std::string::npos);
}

TEST(CohortReportTest, GroupsAndRejectsUnknownOptions) {
  Cohort cohort = SmallCohort();
  cohort.episodes[0].kb_version = "0.1.0";
  auto report = BuildCohortReport(cohort, Catalog(), "prp-knee", GroupBy::kKbVersion, "2026-12-05");
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->options[0].groups.size(), 2u);
  EXPECT_EQ(report->options[0].groups[0].group, "(not recorded)");
  EXPECT_EQ(report->options[0].groups[1].group, "0.1.0");
  EXPECT_FALSE(BuildCohortReport(cohort, Catalog(), "prp-elbow-x", GroupBy::kNone, "2026-12-05").has_value());
  EXPECT_FALSE(BuildCohortReport(cohort, Catalog(), "", GroupBy::kNone, "yesterday").has_value());
}

TEST(FollowUpWorklistTest, DueAndOverdueFromTheSchedule) {
  auto items = FollowUpWorklist(SmallCohort(), Catalog(), "2026-12-05");
  ASSERT_TRUE(items.has_value());
  int due = 0, overdue = 0;
  for (const DueItem& item : *items) {
    if (item.patient != "e5") continue;
    // Week 1 (2026-11-06..10) closed without a score; week 4 (2026-11-22..12-06) open.
    if (item.weeks == 1) {
      EXPECT_EQ(item.status, "overdue");
      ++overdue;
    } else {
      EXPECT_EQ(item.weeks, 4);
      EXPECT_EQ(item.status, "due");
      EXPECT_EQ(item.window_end, "2026-12-06");
      ++due;
    }
    EXPECT_EQ(item.procedure, "Procedure|e5|2026-11-01");
  }
  EXPECT_EQ(due, 4);  // nrs, womac, koos, pgic
  EXPECT_EQ(overdue, 4);
  // e1 was seen at week 26: its earlier missed timepoints are not actionable.
  for (const DueItem& item : *items) {
    if (item.patient == "e1" && item.instrument == "nrs") {
      EXPECT_GT(item.weeks, 26) << item.weeks;
    }
  }
}

class ClinicEvidenceTest : public ::testing::TestWithParam<testing::StoreFactory> {};

TEST_P(ClinicEvidenceTest, ShownOnlyFromMinimumEpisodes) {
  testing::TempDir dir;
  auto store = GetParam().open(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(testing::TestContext()).has_value());
  Cohort cohort = SmallCohort();
  WriteBatch batch;
  for (const Episode& episode : cohort.episodes) batch.patients.push_back({episode.patient, false});
  batch.episodes = cohort.episodes;
  batch.procedures = cohort.procedures;
  batch.outcomes = cohort.outcomes;
  batch.adverse_events = cohort.adverse_events;
  ASSERT_TRUE(store->Write(batch, testing::TestContext()).has_value());
  auto shown = ClinicEvidenceFor(*store, Catalog(), "prp-knee", 5, "2026-12-05");
  ASSERT_TRUE(shown.has_value()) << shown.error().ToString();
  EXPECT_TRUE(shown->shown);
  EXPECT_TRUE(shown->observational);
  EXPECT_EQ(shown->instrument, "nrs");
  EXPECT_EQ(shown->weeks, 26);
  EXPECT_EQ(shown->responders.successes, 1);
  EXPECT_EQ(shown->responders.n, 2);
  EXPECT_NE(shown->summary.find("this clinic: 5 episodes"), std::string::npos) << shown->summary;
  EXPECT_NE(shown->summary.find("observational"), std::string::npos);
  auto hidden = ClinicEvidenceFor(*store, Catalog(), "prp-knee", 6, "2026-12-05");
  ASSERT_TRUE(hidden.has_value());
  EXPECT_FALSE(hidden->shown);
  EXPECT_TRUE(hidden->summary.empty());
  EXPECT_EQ(ClinicEvidenceFor(*store, Catalog(), "bmc-knee", 1, "2026-12-05")->episodes, 0);
  EXPECT_FALSE(ClinicEvidenceFor(*store, Catalog(), "no-such-option", 1, "2026-12-05").has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, ClinicEvidenceTest, ::testing::ValuesIn(testing::StoreFactories()), testing::FactoryName);

}  // namespace
}  // namespace regenpath::registry
