#include "registry/followup_worklist.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/json_string.h"
#include "registry/civil_day.h"
#include "registry/episode_facts.h"
#include "registry/episode_timeline.h"

namespace regenpath::registry {

Result<std::vector<DueItem>> FollowUpWorklist(const Cohort& cohort, const InstrumentCatalog& catalog,
                                              const std::string& today) {
  return FollowUpWorklistFromFacts(ComputeEpisodeFacts(cohort, catalog), catalog, today);
}

Result<std::vector<DueItem>> FollowUpWorklistFromFacts(const std::vector<EpisodeFacts>& facts,
                                                       const InstrumentCatalog& catalog, const std::string& today) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  // Found as numbers, sorted, and only then written out: a cohort of 100,000
  // episodes has hundreds of thousands of items.
  struct Found {
    int window_first;
    int window_last;
    const EpisodeFacts* episode;
    const InstrumentFacts* instrument;
    double weeks;
    bool overdue;
  };
  std::vector<Found> found;
  for (const EpisodeFacts& episode : facts) {
    const knowledge::Option* option = catalog.kb().FindOption(episode.option_id);
    if (option == nullptr || !option->follow_up || !episode.start_day) continue;
    int start = *episode.start_day;
    const std::vector<double>& schedule = option->follow_up->schedule_weeks;
    for (const InstrumentFacts& instrument : episode.instruments) {
      for (size_t point = 0; point < schedule.size(); ++point) {
        TimepointWindow window = WindowOf(start, schedule[point], catalog.timepoint_window_fraction());
        if (window.first > *today_day) break;  // later timepoints are not due yet
        if (episode.ended_day && *episode.ended_day <= window.first) break;
        if (point < instrument.timepoints.size() && instrument.timepoints[point]) continue;
        bool overdue = *today_day > window.last;
        if (overdue && instrument.last_score_day && *instrument.last_score_day > window.last) continue;  // seen later
        found.push_back(Found{window.first, window.last, &episode, &instrument, schedule[point], overdue});
      }
    }
  }
  // By window end, then episode, then instrument (as the text would sort:
  // YYYY-MM-DD sorts as the day number does).
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    if (a.window_last != b.window_last) return a.window_last < b.window_last;
    if (a.episode != b.episode && a.episode->episode_key != b.episode->episode_key) {
      return a.episode->episode_key < b.episode->episode_key;
    }
    return a.instrument->instrument < b.instrument->instrument;
  });
  std::vector<DueItem> items;
  items.reserve(found.size());
  for (const Found& item : found) {
    items.push_back(DueItem{item.episode->patient, item.episode->episode_key, item.episode->first_procedure,
                            item.episode->option_id, item.instrument->instrument, item.weeks,
                            FormatCivilDay(item.window_first), FormatCivilDay(item.window_last),
                            item.overdue ? "overdue" : "due"});
  }
  return items;
}

std::string WorklistJson(const std::vector<DueItem>& items, const std::string& today) {
  std::string out = R"({"today":)";
  AppendJsonString(today, out);
  out += R"(,"items":[)";
  for (size_t index = 0; index < items.size(); ++index) {
    const DueItem& item = items[index];
    if (index > 0) out += ",";
    out += R"({"patient":)";
    AppendJsonString(item.patient, out);
    out += R"(,"procedure":)";
    AppendJsonString(item.procedure, out);
    out += R"(,"option":)";
    AppendJsonString(item.option_id, out);
    out += R"(,"instrument":)";
    AppendJsonString(item.instrument, out);
    out += fmt::format(R"(,"weeks":{},"window_start":"{}","window_end":"{}","status":"{}"}})", item.weeks,
                       item.window_start, item.window_end, item.status);
  }
  out += "]}";
  return out;
}

std::string WorklistText(const std::vector<DueItem>& items, const std::string& today) {
  std::string out = fmt::format("Follow-up worklist, as of {}: {} items\n", today, items.size());
  for (const DueItem& item : items) {
    out += fmt::format("{:<8} {} week {:>3} {:<26} {} {}–{} patient {}\n", item.status, item.option_id, item.weeks,
                       item.instrument, item.procedure, item.window_start, item.window_end, item.patient.substr(0, 12));
  }
  return out;
}

std::string WorklistCsv(const std::vector<DueItem>& items) {
  std::string out = "status,option,instrument,weeks,window_start,window_end,procedure,patient\n";
  for (const DueItem& item : items) {
    std::string procedure = item.procedure;
    if (procedure.find_first_of(",\"") != std::string::npos) {
      std::string quoted = "\"";
      for (char c : procedure) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      procedure = quoted + "\"";
    }
    out += fmt::format("{},{},{},{},{},{},{},{}\n", item.status, item.option_id, item.instrument, item.weeks,
                       item.window_start, item.window_end, procedure, item.patient);
  }
  return out;
}

}  // namespace regenpath::registry
