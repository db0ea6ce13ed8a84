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
  std::vector<DueItem> items;
  for (const EpisodeFacts& episode : facts) {
    const knowledge::Option* option = catalog.kb().FindOption(episode.option_id);
    if (option == nullptr || !option->follow_up || !episode.start_day) continue;
    int start = *episode.start_day;
    for (const InstrumentFacts& instrument : episode.instruments) {
      const std::vector<double>& schedule = option->follow_up->schedule_weeks;
      for (size_t point = 0; point < schedule.size(); ++point) {
        double weeks = schedule[point];
        TimepointWindow window = WindowOf(start, weeks, catalog.timepoint_window_fraction());
        if (window.first > *today_day) break;  // later timepoints are not due yet
        if (episode.ended_day && *episode.ended_day <= window.first) break;
        if (point < instrument.timepoints.size() && instrument.timepoints[point]) continue;
        std::string status;
        if (*today_day <= window.last) {
          status = "due";
        } else {
          bool seen_later = instrument.last_score_day && *instrument.last_score_day > window.last;
          if (seen_later) continue;
          status = "overdue";
        }
        items.push_back(DueItem{episode.patient, episode.episode_key, episode.first_procedure, episode.option_id,
                                instrument.instrument, weeks, FormatCivilDay(window.first),
                                FormatCivilDay(window.last), status});
      }
    }
  }
  std::sort(items.begin(), items.end(), [](const DueItem& a, const DueItem& b) {
    return std::tie(a.window_end, a.episode_key, a.instrument) < std::tie(b.window_end, b.episode_key, b.instrument);
  });
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
