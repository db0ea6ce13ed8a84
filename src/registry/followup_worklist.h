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

// Items sorted by window end, then episode. kInvalidArgument for a bad date.
Result<std::vector<DueItem>> FollowUpWorklist(const Cohort& cohort, const InstrumentCatalog& catalog,
                                              const std::string& today);
// The same from stored facts (registry_facts.h).
Result<std::vector<DueItem>> FollowUpWorklistFromFacts(const std::vector<EpisodeFacts>& facts,
                                                       const InstrumentCatalog& catalog, const std::string& today);

std::string WorklistJson(const std::vector<DueItem>& items, const std::string& today);
std::string WorklistText(const std::vector<DueItem>& items, const std::string& today);
std::string WorklistCsv(const std::vector<DueItem>& items);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_FOLLOWUP_WORKLIST_H_
