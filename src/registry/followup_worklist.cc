#include "registry/followup_worklist.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

#include "common/csv_field.h"
#include "common/json_string.h"
#include "common/terminal_text.h"
#include "registry/civil_day.h"
#include "registry/episode_facts.h"
#include "registry/episode_timeline.h"

namespace regenpath::registry {

Result<std::vector<DueItem>> FollowUpWorklist(const Cohort& cohort, const InstrumentCatalog& catalog,
                                              const std::string& today) {
  return FollowUpWorklistFromFacts(ComputeEpisodeFacts(cohort, catalog), catalog, today);
}

std::vector<DueRow> DueCandidates(const EpisodeFacts& episode, const InstrumentCatalog& catalog) {
  std::vector<DueRow> out;
  const knowledge::Option* option = catalog.kb().FindOption(episode.option_id);
  if (option == nullptr || !option->follow_up || !episode.start_day) return out;
  int start = *episode.start_day;
  const std::vector<double>& schedule = option->follow_up->schedule_weeks;
  for (const InstrumentFacts& instrument : episode.instruments) {
    for (size_t point = 0; point < schedule.size(); ++point) {
      if (point > 0 && schedule[point] == schedule[point - 1]) continue;  // one item per timepoint
      TimepointWindow window = WindowOf(start, schedule[point], catalog.timepoint_window_fraction());
      if (episode.ended_day && *episode.ended_day <= window.first) continue;  // no follow-up after the surgery
      if (point < instrument.timepoints.size() && instrument.timepoints[point]) continue;  // scored
      bool seen_later = instrument.last_score_day && *instrument.last_score_day > window.last;
      out.push_back(DueRow{window.first, window.last, episode.episode_key, episode.option_id, instrument.instrument,
                           schedule[point], seen_later, episode.patient, episode.first_procedure});
    }
  }
  return out;
}

bool DueOn(const DueRow& row, int today) {
  if (row.window_first > today) return false;  // not open yet
  bool overdue = today > row.window_last;
  return !(overdue && row.seen_later);  // overdue, but the patient was seen later
}

int WidestWindow(const InstrumentCatalog& catalog) {
  int widest = 0;
  for (const knowledge::Option& option : catalog.kb().options()) {
    if (!option.follow_up) continue;
    for (double weeks : option.follow_up->schedule_weeks) {
      TimepointWindow window = WindowOf(0, weeks, catalog.timepoint_window_fraction());
      widest = std::max(widest, window.last - window.first);
    }
  }
  return widest;
}

bool DueBefore(const DueRow& a, const DueRow& b) {
  return std::tie(a.window_last, a.episode_key, a.option_id, a.instrument) <
         std::tie(b.window_last, b.episode_key, b.option_id, b.instrument);
}

DueItem ToDueItem(const DueRow& row, int today) {
  return DueItem{row.patient,
                 row.episode_key,
                 row.procedure,
                 row.option_id,
                 row.instrument,
                 row.weeks,
                 FormatCivilDay(row.window_first),
                 FormatCivilDay(row.window_last),
                 today > row.window_last ? "overdue" : "due"};
}

Result<std::vector<DueItem>> FollowUpWorklistFromFacts(const std::vector<EpisodeFacts>& facts,
                                                       const InstrumentCatalog& catalog, const std::string& today) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  // Found as numbers, sorted, and only then written out: a cohort of 100,000
  // episodes has hundreds of thousands of items.
  std::vector<DueRow> found;
  for (const EpisodeFacts& episode : facts) {
    for (DueRow& row : DueCandidates(episode, catalog)) {
      if (DueOn(row, *today_day)) found.push_back(std::move(row));
    }
  }
  std::sort(found.begin(), found.end(), DueBefore);
  std::vector<DueItem> items;
  items.reserve(found.size());
  for (const DueRow& row : found) items.push_back(ToDueItem(row, *today_day));
  return items;
}

namespace {

constexpr char kCursorSeparator = '\x1f';

}  // namespace

std::string EncodeDueCursor(const DueRow& row) {
  std::string plain = fmt::format("{}{}{}{}{}{}{}", row.window_last, kCursorSeparator, row.option_id, kCursorSeparator,
                                  row.instrument, kCursorSeparator, row.episode_key);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * plain.size());
  for (unsigned char c : plain) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<DueCursor> DecodeDueCursor(const std::string& text) {
  auto bad = [&]() { return Fail(InvalidArgument("not a worklist cursor (use the 'next' of a previous page)")); };
  if (text.empty() || text.size() % 2 != 0 || text.size() > 4096) return bad();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string plain;
  plain.reserve(text.size() / 2);
  for (size_t at = 0; at < text.size(); at += 2) {
    int high = nibble(text[at]);
    int low = nibble(text[at + 1]);
    if (high < 0 || low < 0) return bad();
    plain += static_cast<char>(high * 16 + low);
  }
  size_t first = plain.find(kCursorSeparator);
  size_t second = first == std::string::npos ? first : plain.find(kCursorSeparator, first + 1);
  size_t third = second == std::string::npos ? second : plain.find(kCursorSeparator, second + 1);
  if (third == std::string::npos || first == 0) return bad();
  DueCursor cursor;
  const char* begin = plain.data();
  auto [end, error] = std::from_chars(begin, begin + first, cursor.window_last);
  if (error != std::errc() || end != begin + first) return bad();
  cursor.option_id = plain.substr(first + 1, second - first - 1);
  cursor.instrument = plain.substr(second + 1, third - second - 1);
  cursor.episode_key = plain.substr(third + 1);
  return cursor;
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

std::string WorklistPageJson(const WorklistPage& page, const std::string& today) {
  std::string out = WorklistJson(page.items, today);
  out.pop_back();  // the closing brace
  out += R"(,"next":)";
  if (page.next.empty()) {
    out += "null";
  } else {
    AppendJsonString(page.next, out);
  }
  out += "}";
  return out;
}

std::string WorklistText(const std::vector<DueItem>& items, const std::string& today) {
  std::string out = fmt::format("Follow-up worklist, as of {}: {} items\n", today, items.size());
  for (const DueItem& item : items) {
    out += fmt::format("{:<8} {} week {:>3} {:<26} {} {}–{} patient {}\n", item.status, item.option_id, item.weeks,
                       item.instrument, item.procedure, item.window_start, item.window_end, item.patient.substr(0, 12));
  }
  return TerminalSafe(std::move(out));
}

std::string WorklistCsv(const std::vector<DueItem>& items) {
  std::string out = "status,option,instrument,weeks,window_start,window_end,procedure,patient\n";
  for (const DueItem& item : items) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", CsvField(item.status), CsvField(item.option_id),
                       CsvField(item.instrument), item.weeks, item.window_start, item.window_end,
                       CsvField(item.procedure), CsvField(item.patient));
  }
  return out;
}

}  // namespace regenpath::registry
