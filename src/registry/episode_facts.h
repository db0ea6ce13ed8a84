// EpisodeFacts: what the reports, the follow-up worklist and the clinic's
// evidence need to know about one episode, derived from its patient's rows
// (episodes, procedures, scores, adverse events) and the knowledge base's
// follow-up schedule (docs/registry.md, "Report facts"). The stores keep one
// row of facts per episode, refreshed after every write to the patient
// (registry_facts.h), so that a report reads one compact row per episode
// instead of every score: the statistics are computed by the same C++ code
// from the same values either way.
//
// Facts do not depend on the date of the report ("today"): what does (due,
// censoring at today) is decided when the report is built. They depend on
// the knowledge base's schedule, windows and MCIDs: FactsFingerprint()
// changes when those change, and the stores then rebuild every row.
#ifndef REGENPATH_REGISTRY_EPISODE_FACTS_H_
#define REGENPATH_REGISTRY_EPISODE_FACTS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/episode_timeline.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_records.h"

namespace regenpath::registry {

// One instrument of the option's follow-up schedule, for one episode.
struct InstrumentFacts {
  std::string instrument;           // knowledge-base instrument id
  std::optional<DayScore> baseline;  // BaselineOf()
  std::optional<int> last_score_day;  // the patient's latest score on the instrument
  // ScoreIn() of each timepoint of the option's schedule, in schedule order.
  std::vector<std::optional<DayScore>> timepoints;
};

struct AdverseEventFacts {
  AdverseEventCategory category = AdverseEventCategory::kOther;
  bool serious = false;
};

struct EpisodeFacts {
  std::string episode_key;
  std::string patient;
  std::string option_id;
  bool synthetic = false;
  std::optional<int> start_day;  // nullopt: the start date does not parse (counted, not followed)
  // Group values (cohort_report.h, GroupBy); prp_leukocytes and
  // image_guidance from the first index procedure.
  std::string condition;
  std::string kb_version;
  std::string feedback;
  std::string prp_leukocytes;
  std::string image_guidance;
  std::string first_procedure;  // key of the first procedure that is not a surgery
  // Kaplan–Meier: the first repeat index procedure (series number 1) and the
  // first surgery after the start; the patient's last contact (any row).
  std::optional<int> repeat_day;
  std::optional<int> surgery_day;
  std::optional<int> last_contact_day;
  std::optional<int> ended_day;  // the latest surgery (worklist: no follow-up due after it)
  // Loss of response on the option's first instrument with an MCID:
  // subject when the episode had a baseline and reached a responder score.
  bool loss_subject = false;
  int loss_days = 0;
  bool loss_event = false;
  std::vector<InstrumentFacts> instruments;  // the option's follow-up instruments known to the catalog
  std::vector<AdverseEventFacts> adverse_events;
};

// The option's first follow-up instrument (in schedule order) known to the
// catalog with an MCID: the instrument of loss of response, both for the
// facts (loss_subject / loss_days / loss_event) and for the report's curve.
// nullptr when there is none.
const InstrumentScoring* LossInstrument(const knowledge::Option& option, const InstrumentCatalog& catalog);

// The facts of every episode of `cohort` (which must hold all the rows of
// the episodes' patients), ordered by episode key.
std::vector<EpisodeFacts> ComputeEpisodeFacts(const Cohort& cohort, const InstrumentCatalog& catalog);

// The stored form (FactsRow, registry_records.h): the group strings joined by
// \x1f in `groups`; the days, scores, events and instruments in `data`, a
// compact little-endian binary record (reading 100,000 of them is the bulk
// of an all-options report, so it is not text; format facts-v3, described
// in episode_facts.cc: most scores take 5 bytes, the others 13, and every
// value decodes to the same double, bit for bit).
FactsRow ToRow(const EpisodeFacts& facts);
// kInternal when `row.groups` or `row.data` is malformed.
Result<EpisodeFacts> FromRow(FactsRow row);
// FromRow() into `facts`, whose every field is overwritten; its strings and
// vectors keep their capacity, so decoding row after row into the same
// EpisodeFacts allocates nothing once warm. A row without its groups
// (`has_groups` false) leaves the group values and first_procedure empty.
// kInternal as FromRow(); `facts` is then unspecified.
Status DecodeFacts(const FactsRowView& row, EpisodeFacts& facts);

// Changes whenever the knowledge base changes anything the facts depend on
// (schedules, instruments, windows, MCIDs) or the facts' format changes.
std::string FactsFingerprint(const InstrumentCatalog& catalog);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_EPISODE_FACTS_H_
