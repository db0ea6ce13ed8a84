// The follow-up worklist: which episode is due or overdue for which
// instrument at which timepoint of its option's schedule (windows:
// episode_timeline.h). An item names the episode by the patient's pseudonym
// and the key of its first procedure (the clinic's own procedure identifier,
// which it can look up); never by a person's identifier. Pure function.
#ifndef REGENPATH_REGISTRY_FOLLOWUP_WORKLIST_H_
#define REGENPATH_REGISTRY_FOLLOWUP_WORKLIST_H_

#include <string>
#include <vector>

#include "common/status.h"
#include "registry/episode_facts.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_records.h"

namespace regenpath::registry {

struct DueItem {
  std::string patient;      // pseudonym
  std::string episode_key;
  std::string procedure;    // key of the episode's first procedure
  std::string option_id;
  std::string instrument;
  double weeks = 0;
  std::string window_start;  // YYYY-MM-DD
  std::string window_end;
  std::string status;        // due (window open) | overdue (window closed, no later score)
};

// The worklist's candidates of one episode, which do not depend on the day
// of the worklist: each timepoint of the option's schedule, for each
// follow-up instrument, with no score in its window and whose window opens
// before the episode ended (its latest surgery). The stores keep them by
// episode and window end (due_windows.h), refreshed with the report facts
// (registry_facts.h).
std::vector<DueRow> DueCandidates(const EpisodeFacts& episode, const InstrumentCatalog& catalog);
// Whether a candidate is on the worklist of day `today`: its window has
// opened, and it is not overdue with a later score on the instrument.
bool DueOn(const DueRow& row, int today);
// The widest window (last - first, days) of any timepoint of the knowledge
// base's schedules: a candidate due on `today` ends by today + this.
int WidestWindow(const InstrumentCatalog& catalog);
// The worklist's order: window end, episode key, option, instrument.
bool DueBefore(const DueRow& a, const DueRow& b);
DueItem ToDueItem(const DueRow& row, int today);

// Items in the worklist's order. kInvalidArgument for a bad date.
Result<std::vector<DueItem>> FollowUpWorklist(const Cohort& cohort, const InstrumentCatalog& catalog,
                                              const std::string& today);
// The same from stored facts (registry_facts.h).
Result<std::vector<DueItem>> FollowUpWorklistFromFacts(const std::vector<EpisodeFacts>& facts,
                                                       const InstrumentCatalog& catalog, const std::string& today);

// A page of the worklist and where the next one starts (empty: the last).
struct WorklistPage {
  std::vector<DueItem> items;
  std::string next;  // an opaque cursor (EncodeDueCursor)
};
// The cursor of a page that starts after `row` (hex text: safe in a URL; it
// holds the episode key, i.e. the clinic's procedure key, never a patient
// identifier).
std::string EncodeDueCursor(const DueRow& row);
// kInvalidArgument when `text` is not a cursor EncodeDueCursor() made.
Result<DueCursor> DecodeDueCursor(const std::string& text);

std::string WorklistJson(const std::vector<DueItem>& items, const std::string& today);
// As WorklistJson, with "next": the next page's cursor, or null.
std::string WorklistPageJson(const WorklistPage& page, const std::string& today);
// Text for a terminal (common/terminal_text.h).
std::string WorklistText(const std::vector<DueItem>& items, const std::string& today);
// Text fields through common/csv_field.h (RFC 4180, formula guard).
std::string WorklistCsv(const std::vector<DueItem>& items);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_FOLLOWUP_WORKLIST_H_
