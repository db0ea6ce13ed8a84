// How the stores keep the follow-up worklist's candidates (DueRow,
// registry_records.h): an episode's keys once (`due_episodes`), and one row
// per episode and window end (`due_windows`) holding the candidates that end
// that day, encoded as text. At 100,000 episodes that is 441,000 rows for
// 1,050,000 candidates, and the worklist's index on the window end has as
// many entries (bench/README.md, run J). Pure functions, shared by both
// stores: the grouping and its encoding, and the read of a worklist page
// from stored windows.
#ifndef REGENPATH_REGISTRY_DUE_WINDOWS_H_
#define REGENPATH_REGISTRY_DUE_WINDOWS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/registry_records.h"

namespace regenpath::registry {

// A stored window's id: its episode's id * kDueWindowsPerEpisode + the
// window's ordinal among the episode's (the literal 65536 of the SQL,
// registry_sql.h), so an episode's windows are one range of ids.
inline constexpr int64_t kDueWindowsPerEpisode = 65536;

// The candidates of one episode that end on one day.
struct DueWindow {
  int window_last = 0;
  int window_first = 0;  // the earliest of its candidates'
  bool any_unseen = false;  // some candidate has no later score (seen_later false)
  std::string candidates;  // EncodeDueCandidates()
};

// Whether two candidates belong to the same episode (the same episode and
// option keys, patient and first procedure).
bool SameDueEpisode(const DueRow& a, const DueRow& b);

// One episode's candidates (all SameDueEpisode) grouped by window end, in
// ascending order, each window's candidates in the worklist's order
// (instrument). kInvalidArgument for an empty instrument id or one holding
// a separator byte (U+001E, U+001F); kInternal when an episode has more
// than kDueWindowsPerEpisode windows.
Result<std::vector<DueWindow>> DueWindowsOf(std::span<const DueRow> episode);

// Calls `visit` with each episode's keys (its first candidate) and windows,
// in the order of `due`, whose candidates must come one episode after the
// other (as DueCandidates() gives them, episode by episode): kInternal when
// an episode's candidates come back after another's (it would be stored as
// two episodes, and a page boundary between them would skip candidates).
Status ForEachDueEpisode(std::span<const DueRow> due,
                         const std::function<Status(const DueRow& keys, const std::vector<DueWindow>& windows)>& visit);

// A stored window with its episode's keys, as LoadDue's statement reads it.
struct StoredDueWindow {
  int window_last = 0;
  std::string candidates;
  std::string episode_key;
  std::string option_id;
  std::string patient;
  std::string procedure;
};

// Where a read of stored windows starts: after (or, `inclusive`, at) this
// key of the worklist's order without the instrument.
struct DueWindowStart {
  int window_last = 0;
  std::string episode_key;
  std::string option_id;
  bool inclusive = false;
};

// Reads stored windows: those with window_last <= last_bound, window_first
// <= today and (window_last >= today or open), from `start`, in the order
// (window_last, episode_key, option_id), at most `limit` (0: all).
using FetchDueWindows = std::function<Result<std::vector<StoredDueWindow>>(
    int today, int last_bound, const std::optional<DueWindowStart>& start, int limit)>;

// RegistryStore::LoadDue() from stored windows: the candidates due on
// query.today after query.after, in the worklist's order, at most
// query.limit; reads windows `limit` at a time until it has them.
// kInternal for a window whose candidates do not decode.
Result<std::vector<DueRow>> LoadDueFromWindows(const DueQuery& query, const FetchDueWindows& fetch);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_DUE_WINDOWS_H_
