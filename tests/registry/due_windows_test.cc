// due_windows.h: an episode's worklist candidates grouped by window end and
// read back a page at a time from stored windows (a fake fetch stands for
// the store's SQL; the stores themselves are checked against the worklist
// computed from all rows in report_facts_test.cc).
#include "registry/due_windows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "registry/followup_worklist.h"
#include "registry/registry_sql.h"

namespace regenpath::registry {
namespace {

DueRow Candidate(int first, int last, const std::string& instrument, double weeks, bool seen_later,
                 const std::string& episode = "e1", const std::string& option = "prp-knee") {
  return DueRow{first, last, episode, option, instrument, weeks, seen_later, "p-" + episode, "Procedure|x|" + episode};
}

bool Same(const DueRow& a, const DueRow& b) {
  return std::tie(a.window_first, a.window_last, a.episode_key, a.option_id, a.instrument, a.weeks, a.seen_later,
                  a.patient, a.procedure) == std::tie(b.window_first, b.window_last, b.episode_key, b.option_id,
                                                      b.instrument, b.weeks, b.seen_later, b.patient, b.procedure);
}

TEST(DueWindowsTest, GroupsAnEpisodesCandidatesByWindowEnd) {
  // As DueCandidates() gives them: per instrument, then timepoint.
  std::vector<DueRow> episode = {Candidate(100, 110, "nrs", 6, true), Candidate(200, 230, "nrs", 26, false),
                                 Candidate(100, 110, "koos", 6, true), Candidate(195, 230, "koos", 26.5, true)};
  auto windows = DueWindowsOf(episode);
  ASSERT_TRUE(windows.has_value());
  ASSERT_EQ(windows->size(), 2u);
  EXPECT_EQ((*windows)[0].window_last, 110);
  EXPECT_EQ((*windows)[0].window_first, 100);
  EXPECT_FALSE((*windows)[0].any_unseen);  // both seen later
  EXPECT_EQ((*windows)[1].window_last, 230);
  EXPECT_EQ((*windows)[1].window_first, 195);  // the earliest
  EXPECT_TRUE((*windows)[1].any_unseen);
}

// A fake store: the windows of `episodes`, filtered and ordered as the
// store's statement does (registry_sql.h LoadDueWindowsStatement).
class FakeWindows {
 public:
  explicit FakeWindows(const std::vector<std::vector<DueRow>>& episodes) {
    for (const std::vector<DueRow>& episode : episodes) {
      std::vector<DueWindow> windows = DueWindowsOf(episode).value();
      for (const DueWindow& window : windows) {
        const DueRow& keys = episode.front();
        stored_.push_back({window, StoredDueWindow{window.window_last, window.candidates, keys.episode_key,
                                                   keys.option_id, keys.patient, keys.procedure}});
      }
    }
    std::sort(stored_.begin(), stored_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.second.window_last, a.second.episode_key, a.second.option_id) <
             std::tie(b.second.window_last, b.second.episode_key, b.second.option_id);
    });
  }
  FetchDueWindows Fetch() {
    return [this](int today, int last_bound, const std::optional<DueWindowStart>& start,
                  int limit) -> Result<std::vector<StoredDueWindow>> {
      ++fetches_;
      std::vector<StoredDueWindow> out;
      for (const auto& [window, stored] : stored_) {
        if (window.window_last > last_bound || window.window_first > today) continue;
        if (!(window.window_last >= today || window.any_unseen)) continue;
        if (start) {
          auto key = std::tie(stored.window_last, stored.episode_key, stored.option_id);
          auto from = std::tie(start->window_last, start->episode_key, start->option_id);
          if (start->inclusive ? key < from : key <= from) continue;
        }
        out.push_back(stored);
        if (limit > 0 && out.size() == static_cast<size_t>(limit)) break;
      }
      return out;
    };
  }
  int fetches() const { return fetches_; }

 private:
  std::vector<std::pair<DueWindow, StoredDueWindow>> stored_;
  int fetches_ = 0;
};

TEST(DueWindowsTest, PagesGiveTheWorklistOfTheCandidates) {
  // Three episodes; windows whose candidates are mostly not due on day 300
  // (seen later, or not open yet), so pages need several fetches.
  std::vector<std::vector<DueRow>> episodes = {
      {Candidate(100, 110, "nrs", 6, true), Candidate(100, 110, "koos", 6, false), Candidate(280, 310, "nrs", 26, false),
       Candidate(290, 310, "pgic", 26, true), Candidate(305, 310, "koos", 27, false)},
      {Candidate(100, 110, "nrs", 6, true, "e2"), Candidate(120, 130, "nrs", 8, true, "e2"),
       Candidate(140, 150, "nrs", 10, true, "e2"), Candidate(150, 160, "koos", 12, false, "e2")},
      {Candidate(250, 300, "nrs", 20, false, "e0", "bmc-knee"), Candidate(250, 300, "koos", 20, true, "e0", "bmc-knee")}};
  const int today = 300;
  std::vector<DueRow> expected;
  for (const auto& episode : episodes) {
    for (const DueRow& row : episode) {
      if (DueOn(row, today)) expected.push_back(row);
    }
  }
  std::sort(expected.begin(), expected.end(), DueBefore);
  ASSERT_EQ(expected.size(), 6u);
  FakeWindows store(episodes);
  DueQuery whole{today, today + 100, std::nullopt, 0};
  auto all = LoadDueFromWindows(whole, store.Fetch());
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), expected.size());
  for (size_t index = 0; index < expected.size(); ++index) EXPECT_TRUE(Same((*all)[index], expected[index])) << index;
  for (int page_size : {1, 2, 4}) {
    std::vector<DueRow> paged;
    DueQuery query{today, today + 100, std::nullopt, page_size};
    for (int pages = 0; pages < 20; ++pages) {
      auto page = LoadDueFromWindows(query, store.Fetch());
      ASSERT_TRUE(page.has_value());
      paged.insert(paged.end(), page->begin(), page->end());
      if (page->size() < static_cast<size_t>(page_size)) break;
      const DueRow& last = page->back();
      query.after = DueCursor{last.window_last, last.episode_key, last.option_id, last.instrument};
    }
    ASSERT_EQ(paged.size(), expected.size()) << page_size;
    for (size_t index = 0; index < expected.size(); ++index) EXPECT_TRUE(Same(paged[index], expected[index]));
  }
  // Every window the statement gives has a candidate due (its filter is
  // exact per window), but a page after a cursor starts at the cursor's
  // window, whose candidates may all be at or before the cursor: that page
  // reads on past it.
  FakeWindows counted(episodes);
  DueQuery query{today, today + 100, std::nullopt, 1};
  int pages = 0;
  while (true) {
    auto page = LoadDueFromWindows(query, counted.Fetch());
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    ++pages;
    const DueRow& last = page->back();
    query.after = DueCursor{last.window_last, last.episode_key, last.option_id, last.instrument};
  }
  EXPECT_EQ(pages, 6);
  EXPECT_GT(counted.fetches(), pages + 1);
}

// Weeks and days come back exactly as they went in (fmt's shortest form,
// std::from_chars).
TEST(DueWindowsTest, CandidatesComeBackExactly) {
  std::vector<DueRow> episode = {Candidate(-3, 5, "nrs", 0.1, false), Candidate(-7, 5, "koos-jr", 1.0 / 3, true),
                                 Candidate(2, 5, "promis-pf", 26.5, false), Candidate(4, 5, "pgic", 1e-7, true)};
  auto windows = DueWindowsOf(episode);
  ASSERT_TRUE(windows.has_value());
  ASSERT_EQ(windows->size(), 1u);
  std::vector<StoredDueWindow> stored = {StoredDueWindow{5, windows->front().candidates, "e1", "prp-knee", "p-e1",
                                                         "Procedure|x|e1"}};
  auto rows = LoadDueFromWindows(DueQuery{5, 100, std::nullopt, 0},
                                 [&](int, int, const std::optional<DueWindowStart>&, int) {
                                   return Result<std::vector<StoredDueWindow>>(stored);
                                 });
  ASSERT_TRUE(rows.has_value());
  std::vector<DueRow> expected = episode;
  std::sort(expected.begin(), expected.end(), DueBefore);
  ASSERT_EQ(rows->size(), expected.size());
  for (size_t index = 0; index < expected.size(); ++index) EXPECT_TRUE(Same((*rows)[index], expected[index])) << index;
}

// A store keeps each episode's candidates together: candidates of an episode
// after another's are refused, as is an instrument id the encoding cannot
// hold.
TEST(DueWindowsTest, RefusesWhatItCannotStore) {
  std::vector<DueRow> apart = {Candidate(1, 5, "nrs", 1, false), Candidate(1, 5, "nrs", 1, false, "e2"),
                               Candidate(9, 20, "nrs", 2, false)};
  int visits = 0;
  Status status = ForEachDueEpisode(apart, [&](const DueRow&, const std::vector<DueWindow>&) {
    ++visits;
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(visits, 2);  // e1, e2, then e1 again: refused
  std::vector<DueRow> together = {apart[0], apart[2], apart[1]};
  EXPECT_TRUE(ForEachDueEpisode(together, [&](const DueRow&, const std::vector<DueWindow>&) {
                return Status::Ok();
              }).ok());
  for (const char* instrument : {"", "n\x1frs", "n\x1ers"}) {
    std::vector<DueRow> bad = {Candidate(1, 5, instrument, 1, false)};
    auto windows = DueWindowsOf(bad);
    ASSERT_FALSE(windows.has_value());
    EXPECT_EQ(windows.error().code(), StatusCode::kInvalidArgument);
  }
}

// The SQL spells kDueWindowsPerEpisode as a literal: the two must agree.
TEST(DueWindowsTest, TheStatementsUseTheWindowsPerEpisode) {
  const std::string literal = std::to_string(kDueWindowsPerEpisode);
  EXPECT_NE(sql::LoadDueWindowsStatement(true, true, true).find("w.id / " + literal), std::string::npos);
  EXPECT_NE(std::string(sql::kInsertDueWindowPostgres).find("* " + literal + " + $1"), std::string::npos);
  const std::string remove = sql::kDeletePatientsDue;
  EXPECT_NE(remove.find("e.id * " + literal + " AND"), std::string::npos);
  EXPECT_NE(remove.find("(e.id + 1) * " + literal + " WHERE"), std::string::npos);
}

TEST(DueWindowsTest, AWindowThatDoesNotDecodeIsAnError) {
  for (const char* candidates : {"nrs", "nrs\x1f" "6\x1f" "100", "nrs\x1fsix\x1f" "100\x1f" "0", "nrs\x1f" "6\x1f" "100\x1f" "2",
                                 "\x1f" "6\x1f" "100\x1f" "0"}) {
    auto rows = LoadDueFromWindows(DueQuery{300, 400, std::nullopt, 0},
                                   [&](int, int, const std::optional<DueWindowStart>&, int) {
                                     return Result<std::vector<StoredDueWindow>>(std::vector<StoredDueWindow>{
                                         StoredDueWindow{310, candidates, "e", "prp-knee", "p", "Procedure|x|1"}});
                                   });
    ASSERT_FALSE(rows.has_value()) << candidates;
    EXPECT_EQ(rows.error().code(), StatusCode::kInternal);
  }
}

}  // namespace
}  // namespace regenpath::registry
