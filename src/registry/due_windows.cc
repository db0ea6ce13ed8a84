#include "registry/due_windows.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <numeric>
#include <string_view>
#include <tuple>
#include <unordered_set>

#include "registry/followup_worklist.h"

namespace regenpath::registry {

namespace {

// A window's candidates: instrument, weeks, window_first and seen_later
// (0/1), separated by kField; candidates separated by kCandidate. Neither
// byte occurs in a knowledge-base instrument id.
constexpr char kField = '\x1f';
constexpr char kCandidate = '\x1e';

void AppendCandidate(const DueRow& row, std::string& out) {
  if (!out.empty()) out += kCandidate;
  fmt::format_to(std::back_inserter(out), "{}{}{}{}{}{}{}", row.instrument, kField, row.weeks, kField,
                 row.window_first, kField, row.seen_later ? 1 : 0);
}

// Appends the candidates of `window` to `out` (the episode's keys from it).
Status DecodeCandidates(const StoredDueWindow& window, std::vector<DueRow>& out) {
  auto bad = [&]() { return Internal("a stored worklist window does not decode (due_windows.candidates)"); };
  std::string_view rest = window.candidates;
  while (!rest.empty()) {
    size_t end = rest.find(kCandidate);
    std::string_view candidate = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    std::string_view fields[4];
    for (int index = 0; index < 4; ++index) {
      size_t at = index < 3 ? candidate.find(kField) : candidate.size();
      if (at == std::string_view::npos) return bad();
      fields[index] = candidate.substr(0, at);
      candidate = index < 3 ? candidate.substr(at + 1) : std::string_view();
    }
    DueRow row;
    row.window_last = window.window_last;
    row.instrument = std::string(fields[0]);
    const char* weeks_end = fields[1].data() + fields[1].size();
    auto [weeks_at, weeks_error] = std::from_chars(fields[1].data(), weeks_end, row.weeks);
    const char* first_end = fields[2].data() + fields[2].size();
    auto [first_at, first_error] = std::from_chars(fields[2].data(), first_end, row.window_first);
    if (weeks_error != std::errc() || weeks_at != weeks_end || first_error != std::errc() || first_at != first_end ||
        (fields[3] != "0" && fields[3] != "1") || row.instrument.empty()) {
      return bad();
    }
    row.seen_later = fields[3] == "1";
    row.episode_key = window.episode_key;
    row.option_id = window.option_id;
    row.patient = window.patient;
    row.procedure = window.procedure;
    out.push_back(std::move(row));
  }
  return Status::Ok();
}

}  // namespace

bool SameDueEpisode(const DueRow& a, const DueRow& b) {
  return a.episode_key == b.episode_key && a.option_id == b.option_id && a.patient == b.patient &&
         a.procedure == b.procedure;
}

Result<std::vector<DueWindow>> DueWindowsOf(std::span<const DueRow> episode) {
  std::vector<uint32_t> order(episode.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::tie(episode[a].window_last, episode[a].instrument) <
           std::tie(episode[b].window_last, episode[b].instrument);
  });
  std::vector<DueWindow> windows;
  for (uint32_t index : order) {
    const DueRow& row = episode[index];
    if (row.instrument.empty() || row.instrument.find_first_of("\x1e\x1f") != std::string::npos) {
      return Fail(InvalidArgument(fmt::format("instrument id '{}' cannot be stored in the worklist (empty, or holding "
                                              "U+001E or U+001F)", row.instrument)));
    }
    if (windows.empty() || windows.back().window_last != row.window_last) {
      windows.push_back(DueWindow{row.window_last, row.window_first, false, {}});
    }
    DueWindow& window = windows.back();
    window.window_first = std::min(window.window_first, row.window_first);
    window.any_unseen = window.any_unseen || !row.seen_later;
    AppendCandidate(row, window.candidates);
  }
  if (static_cast<int64_t>(windows.size()) > kDueWindowsPerEpisode) {
    return Fail(Internal(fmt::format("episode {} ({}) has {} worklist windows (at most {})", episode.front().episode_key,
                                     episode.front().option_id, windows.size(), kDueWindowsPerEpisode)));
  }
  return windows;
}

Status ForEachDueEpisode(std::span<const DueRow> due,
                         const std::function<Status(const DueRow& keys, const std::vector<DueWindow>& windows)>& visit) {
  std::unordered_set<std::string> seen;  // episode key U+001F option
  for (size_t begin = 0, end = 0; begin < due.size(); begin = end) {
    const DueRow& first = due[begin];
    for (end = begin + 1; end < due.size() && SameDueEpisode(due[end], first); ++end) {
    }
    if (!seen.insert(first.episode_key + '\x1f' + first.option_id).second) {
      return Internal(fmt::format("the worklist candidates of episode {} ({}) are not together", first.episode_key,
                                  first.option_id));
    }
    RP_ASSIGN_OR_RETURN(std::vector<DueWindow> windows, DueWindowsOf(due.subspan(begin, end - begin)));
    RP_RETURN_IF_ERROR(visit(first, windows));
  }
  return Status::Ok();
}

Result<std::vector<DueRow>> LoadDueFromWindows(const DueQuery& query, const FetchDueWindows& fetch) {
  std::vector<DueRow> out;
  std::optional<DueWindowStart> start;
  if (query.after) {
    start = DueWindowStart{query.after->window_last, query.after->episode_key, query.after->option_id, true};
  }
  auto after_cursor = [&](const DueRow& row) {
    if (!query.after) return true;
    const DueCursor& cursor = *query.after;
    return std::tie(row.window_last, row.episode_key, row.option_id, row.instrument) >
           std::tie(cursor.window_last, cursor.episode_key, cursor.option_id, cursor.instrument);
  };
  const size_t limit = query.limit > 0 ? static_cast<size_t>(query.limit) : 0;
  std::vector<DueRow> candidates;
  while (true) {
    RP_ASSIGN_OR_RETURN(std::vector<StoredDueWindow> windows,
                        fetch(query.today, query.last_bound, start, static_cast<int>(limit)));
    for (const StoredDueWindow& window : windows) {
      candidates.clear();
      RP_RETURN_IF_ERROR(DecodeCandidates(window, candidates));
      for (DueRow& row : candidates) {
        if (!DueOn(row, query.today) || !after_cursor(row)) continue;
        out.push_back(std::move(row));
        if (limit > 0 && out.size() == limit) return out;
      }
    }
    // Fewer windows than asked for: there are no more.
    if (limit == 0 || windows.size() < limit) return out;
    const StoredDueWindow& last = windows.back();
    start = DueWindowStart{last.window_last, last.episode_key, last.option_id, false};
  }
}

}  // namespace regenpath::registry
