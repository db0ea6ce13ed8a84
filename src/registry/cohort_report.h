// CohortReport: what the registry answers per option (therapy x target),
// optionally split by a group (condition, knowledge-base version, product
// detail): at each follow-up timepoint of the option's schedule, n, loss to
// follow-up, mean change with its 95 % CI, responder rates (MCID, IMMPACT
// 30 % / 50 %, ordinal such as PGIC) with Wilson CIs; adverse-event rates;
// Kaplan–Meier time to repeat procedure, surgery and loss of response.
// docs/registry.md, "Reports", states every rule. Pure function of its
// inputs; thread-safe.
#ifndef REGENPATH_REGISTRY_COHORT_REPORT_H_
#define REGENPATH_REGISTRY_COHORT_REPORT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/episode_facts.h"
#include "registry/instrument_catalog.h"
#include "registry/registry_records.h"
#include "registry/statistics.h"

namespace regenpath::registry {

// Splits of a report (closed vocabulary).
enum class GroupBy { kNone, kCondition, kKbVersion, kPrpLeukocytes, kImageGuidance, kFeedback };
// "none", "condition", "kb-version", "prp-leukocytes", "image-guidance", "feedback".
const char* GroupByName(GroupBy group_by);
std::optional<GroupBy> ParseGroupBy(const std::string& name);

struct TimepointOutcome {
  double weeks = 0;
  int due = 0;               // episodes whose window has closed, or that have a score in it
  int observed = 0;          // with a score in the window
  int lost = 0;              // due without a score: loss to follow-up, never imputed
  int without_baseline = 0;  // observed without a baseline: no change computed
  MeanInterval change;       // follow-up minus baseline, paired
  std::optional<Proportion> mcid;       // improvement >= MCID (points or percent)
  std::optional<Proportion> immpact30;  // >= 30 % reduction (IMMPACT moderate)
  std::optional<Proportion> immpact50;  // >= 50 % reduction (IMMPACT substantial)
  std::optional<Proportion> ordinal;    // score <= responder_max (PGIC "much / very much improved")
};

struct InstrumentOutcomes {
  std::string instrument;
  std::string display;
  Direction direction = Direction::kLowerIsBetter;
  std::string confidence;
  std::vector<TimepointOutcome> timepoints;
};

struct AdverseEventRate {
  std::string category;  // an AdverseEventCategoryCode, "any" or "serious"
  int events = 0;        // events recorded
  Proportion episodes;   // episodes with at least one / all episodes
};

struct SurvivalCurve {
  std::string endpoint;  // repeat-procedure | surgery | loss-of-response
  std::string instrument;  // loss-of-response: the instrument used
  int subjects = 0;
  int events = 0;
  std::vector<SurvivalStep> steps;  // time in days from the first procedure
};

struct GroupReport {
  std::string group;  // the group's value ("all" without grouping; "(none)" when not recorded)
  int episodes = 0;
  int patients = 0;
  std::vector<InstrumentOutcomes> instruments;
  std::vector<AdverseEventRate> adverse_events;
  std::vector<SurvivalCurve> survival;
};

struct OptionReport {
  std::string option_id;
  std::string display;
  std::string therapy;
  std::string target;
  bool synthetic = false;
  std::vector<GroupReport> groups;
};

struct CohortReport {
  std::string today;
  std::string group_by;
  bool observational = true;  // always: registry data, not a trial
  std::vector<OptionReport> options;
};

// Builds a CohortReport from episodes' facts given one at a time, so that a
// report over a whole store never holds the episodes themselves: per option
// and group it keeps only what the statistics need (per instrument and
// timepoint the paired changes, each with its episode's position, and
// counts; survival subjects; adverse-event counts; the patients for the
// distinct count; the option's episode keys). The episodes may come in any
// order: the report is the one of the same episodes added in (option,
// episode key) order, byte for byte (the changes, whose mean and SD are
// floating sums, are put in key order by Finish() when they came otherwise;
// everything else does not depend on the order). So a store may hand its
// rows over as the database sends them. BuildCohortReportFromFacts() is
// this builder over a vector. Not thread-safe (one builder per report).
class CohortReportBuilder {
 public:
  // kInvalidArgument for a bad `today` (YYYY-MM-DD) or an `option_id` (when
  // not empty) the knowledge base lacks. `catalog` must outlive the builder.
  static Result<CohortReportBuilder> Create(const InstrumentCatalog& catalog, const std::string& option_id,
                                            GroupBy group_by, const std::string& today);
  CohortReportBuilder(CohortReportBuilder&&) noexcept;
  CohortReportBuilder& operator=(CohortReportBuilder&&) noexcept;
  ~CohortReportBuilder();

  // Counts one episode; facts of another option than `option_id` (when not
  // empty) or of an option the knowledge base lacks are ignored. Nothing of
  // `facts` is kept by reference: the caller may reuse it. Cheapest when the
  // episodes of each option come in key order (nothing to reorder).
  void Add(const EpisodeFacts& facts);
  // The report of every episode added (options by id, groups by name).
  CohortReport Finish();

 private:
  struct State;
  explicit CohortReportBuilder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Reports every option present in `cohort` (or only `option_id` when not
// empty), as of `today` ("YYYY-MM-DD"). kInvalidArgument for a bad date or
// an option the knowledge base lacks.
// Computes the episodes' facts (episode_facts.h) from `cohort`, which must
// hold every row of the episodes' patients, then reports them.
Result<CohortReport> BuildCohortReport(const Cohort& cohort, const InstrumentCatalog& catalog,
                                       const std::string& option_id, GroupBy group_by, const std::string& today);
// The same from stored facts (registry_facts.h): what the CLI, the server and
// the clinic's evidence use. Facts of options other than `option_id` (when
// not empty) are ignored.
Result<CohortReport> BuildCohortReportFromFacts(const std::vector<EpisodeFacts>& facts, const InstrumentCatalog& catalog,
                                                const std::string& option_id, GroupBy group_by,
                                                const std::string& today);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_COHORT_REPORT_H_
