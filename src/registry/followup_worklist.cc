#include "registry/followup_worklist.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/json_string.h"
#include "registry/civil_day.h"
#include "registry/episode_timeline.h"

namespace regenpath::registry {

Result<std::vector<DueItem>> FollowUpWorklist(const Cohort& cohort, const InstrumentCatalog& catalog,
                                              const std::string& today) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  std::map<std::pair<std::string, std::string>, std::vector<DayScore>> scores;
  for (const OutcomeRecord& outcome : cohort.outcomes) {
    if (auto day = ParseCivilDay(outcome.date)) scores[{outcome.patient, outcome.instrument}].push_back({*day, outcome.value});
  }
  for (auto& [key, list] : scores) {
    std::sort(list.begin(), list.end(), [](const DayScore& a, const DayScore& b) { return a.day < b.day; });
  }
  std::map<std::string, std::string> first_procedure;
  std::map<std::string, int> ended;  // episodes ended by surgery: no more follow-up due
  for (const ProcedureRecord& procedure : cohort.procedures) {
    if (procedure.kind == "surgery") {
      if (auto day = ParseCivilDay(procedure.date)) ended[procedure.episode_key] = *day;
      continue;
    }
    auto [it, inserted] = first_procedure.emplace(procedure.episode_key, procedure.key);
    (void)it;
    (void)inserted;
  }
  static const std::vector<DayScore> kNone;
  std::vector<DueItem> items;
  for (const Episode& episode : cohort.episodes) {
    const knowledge::Option* option = catalog.kb().FindOption(episode.option_id);
    std::optional<int> start = ParseCivilDay(episode.start_date);
    if (option == nullptr || !option->follow_up || !start) continue;
    for (const std::string& id : option->follow_up->instruments) {
      auto found = scores.find({episode.patient, id});
      const std::vector<DayScore>& list = found == scores.end() ? kNone : found->second;
      for (double weeks : option->follow_up->schedule_weeks) {
        TimepointWindow window = WindowOf(*start, weeks, catalog.timepoint_window_fraction());
        if (window.first > *today_day) break;  // later timepoints are not due yet
        auto end = ended.find(episode.key);
        if (end != ended.end() && end->second <= window.first) break;
        if (ScoreIn(list, window)) continue;
        std::string status;
        if (*today_day <= window.last) {
          status = "due";
        } else {
          bool seen_later = std::any_of(list.begin(), list.end(), [&](const DayScore& s) { return s.day > window.last; });
          if (seen_later) continue;
          status = "overdue";
        }
        items.push_back(DueItem{episode.patient, episode.key, first_procedure[episode.key], episode.option_id, id, weeks,
                                FormatCivilDay(window.first), FormatCivilDay(window.last), status});
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
