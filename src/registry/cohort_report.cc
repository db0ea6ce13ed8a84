#include "registry/cohort_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "registry/civil_day.h"
#include "registry/episode_facts.h"
#include "registry/episode_timeline.h"

namespace regenpath::registry {

namespace {

constexpr std::pair<GroupBy, const char*> kGroupNames[] = {
    {GroupBy::kNone, "none"},
    {GroupBy::kCondition, "condition"},
    {GroupBy::kKbVersion, "kb-version"},
    {GroupBy::kPrpLeukocytes, "prp-leukocytes"},
    {GroupBy::kImageGuidance, "image-guidance"},
    {GroupBy::kFeedback, "feedback"},
};

std::string_view GroupOf(const EpisodeFacts& facts, GroupBy group_by) {
  const std::string* value = nullptr;
  switch (group_by) {
    case GroupBy::kNone:
      return "all";
    case GroupBy::kCondition:
      value = &facts.condition;
      break;
    case GroupBy::kKbVersion:
      value = &facts.kb_version;
      break;
    case GroupBy::kFeedback:
      value = &facts.feedback;
      break;
    case GroupBy::kPrpLeukocytes:
      value = &facts.prp_leukocytes;
      break;
    case GroupBy::kImageGuidance:
      value = &facts.image_guidance;
      break;
  }
  return value == nullptr || value->empty() ? std::string_view("(not recorded)") : std::string_view(*value);
}

// The positions 0..n-1 ordered by `less` (a strict weak order on
// positions), ties in position order. Linear when the items are nearly in
// order (as a sequential scan of the stores' facts gives them): one pass
// keeps the ascending run and sets aside the items that break it, which
// alone are sorted, then merged back. Worst case O(n log n).
template <typename Less>
std::vector<uint32_t> NearlySortedOrder(uint32_t n, const Less& less) {
  std::vector<uint32_t> run;
  std::vector<uint32_t> stragglers;
  run.reserve(n);
  for (uint32_t index = 0; index < n; ++index) {
    if (run.empty() || !less(index, run.back())) {
      run.push_back(index);
    } else {
      stragglers.push_back(index);
    }
  }
  if (stragglers.empty()) return run;
  std::stable_sort(stragglers.begin(), stragglers.end(), less);
  // A straggler is less than the run's last item when it came, so every run
  // item equal to it came before it: taking the run's first keeps ties in
  // position order.
  std::vector<uint32_t> out(n);
  std::merge(run.begin(), run.end(), stragglers.begin(), stragglers.end(), out.begin(), less);
  return out;
}

// Strings appended one after another into one buffer (no allocation per
// string), seen as views.
class StringList {
 public:
  void Add(std::string_view text) {
    buffer_.append(text);
    ends_.push_back(buffer_.size());
  }
  uint32_t size() const { return static_cast<uint32_t>(ends_.size()); }
  bool empty() const { return ends_.empty(); }
  std::string_view operator[](uint32_t index) const {
    size_t begin = index > 0 ? ends_[index - 1] : 0;
    return std::string_view(buffer_).substr(begin, ends_[index] - begin);
  }
  std::string_view back() const { return (*this)[size() - 1]; }

 private:
  std::string buffer_;
  std::vector<size_t> ends_;
};

// The number of distinct patients among those added. Exact, and cheap when
// the patients come in ascending order with each patient's episodes
// together (episode-key order: a key begins with its patient): then only
// the changes are counted; otherwise the patients kept in one buffer are
// ordered at the end (NearlySortedOrder: linear when nearly in order).
class DistinctPatients {
 public:
  void Add(std::string_view patient) {
    if (!patients_.empty()) {
      std::string_view last = patients_.back();
      if (patient == last) return;
      if (patient < last) ascending_ = false;
    }
    patients_.Add(patient);
  }
  int Count() const {
    if (ascending_) return static_cast<int>(patients_.size());
    std::vector<uint32_t> order =
        NearlySortedOrder(patients_.size(), [this](uint32_t a, uint32_t b) { return patients_[a] < patients_[b]; });
    int distinct = 0;
    for (size_t index = 0; index < order.size(); ++index) {
      if (index == 0 || patients_[order[index]] != patients_[order[index - 1]]) ++distinct;
    }
    return distinct;
  }

 private:
  StringList patients_;
  bool ascending_ = true;
};

// What a timepoint's outcome needs (docs/registry.md, "Reports"): the
// paired changes (the mean and SD sum them in episode-key order) with the
// position among the option's episodes of the episode each came from (its
// place in the order they were added), and the counts.
struct TimepointTally {
  int due = 0;
  int observed = 0;
  int lost = 0;
  int without_baseline = 0;
  std::vector<double> changes;
  std::vector<uint32_t> added;  // per change: the position of its episode among the option's, as added
  int mcid = 0;
  int immpact30 = 0;
  int immpact50 = 0;
  int ordinal = 0;
};

// One follow-up instrument of the option: its scoring and a tally per
// timepoint of the schedule.
struct InstrumentTally {
  const InstrumentScoring* scoring = nullptr;
  std::vector<TimepointTally> points;
};

constexpr int kAdverseCategories = static_cast<int>(AdverseEventCategory::kOther) + 1;
constexpr int kAdverseRates = kAdverseCategories + 2;  // the six categories, then "serious" and "any"

// Everything a group of an option's report needs.
struct GroupTally {
  int episodes = 0;
  DistinctPatients patients;
  std::vector<InstrumentTally> instruments;
  int adverse_events[kAdverseRates] = {};
  int with_adverse_event[kAdverseRates] = {};
  // Kaplan–Meier subjects (the estimate does not depend on their order).
  std::vector<SurvivalSubject> repeat;
  std::vector<SurvivalSubject> surgery;
  std::vector<SurvivalSubject> loss;
  int repeat_events = 0;
  int surgery_events = 0;
  int loss_events = 0;
};

// One episode at one timepoint of one instrument (the rules of
// docs/registry.md, "Reports").
// `window_last`: the last day of the timepoint's window (WindowOf()).
// `added`: the episode's position among the option's episodes, as added.
void CountTimepoint(TimepointTally& tally, const InstrumentScoring& instrument, const std::optional<DayScore>& baseline,
                    const std::optional<DayScore>& score, int window_last, int today, uint32_t added) {
  if (!score && window_last >= today) return;  // not due yet
  if (instrument.responder_max) {
    ++tally.due;
    if (!score) {
      ++tally.lost;
      return;
    }
    ++tally.observed;
    if (score->value <= *instrument.responder_max) ++tally.ordinal;
    return;
  }
  if (!baseline) {
    // No baseline: change cannot be computed; counted, never imputed.
    if (score) {
      ++tally.observed;
      ++tally.without_baseline;
    }
    return;
  }
  ++tally.due;
  if (!score) {
    ++tally.lost;
    return;
  }
  ++tally.observed;
  tally.changes.push_back(score->value - baseline->value);
  tally.added.push_back(added);
  if (McidResponder(instrument, baseline->value, score->value).value_or(false)) ++tally.mcid;
  if (PercentReduction(instrument, baseline->value, score->value, 30)) ++tally.immpact30;
  if (PercentReduction(instrument, baseline->value, score->value, 50)) ++tally.immpact50;
}

TimepointOutcome TimepointOf(const TimepointTally& tally, const InstrumentScoring& instrument, double weeks) {
  TimepointOutcome out;
  out.weeks = weeks;
  out.due = tally.due;
  out.observed = tally.observed;
  out.lost = tally.lost;
  out.without_baseline = tally.without_baseline;
  out.change = MeanWithInterval(tally.changes);
  int paired = static_cast<int>(tally.changes.size());
  if (instrument.responder_max) {
    out.ordinal = WilsonProportion(tally.ordinal, out.observed);
  } else {
    if (instrument.mcid_points || instrument.mcid_percent) out.mcid = WilsonProportion(tally.mcid, paired);
    if (instrument.immpact) {
      out.immpact30 = WilsonProportion(tally.immpact30, paired);
      out.immpact50 = WilsonProportion(tally.immpact50, paired);
    }
  }
  return out;
}

SurvivalCurve CurveOf(const char* endpoint, std::string instrument, const std::vector<SurvivalSubject>& subjects,
                      int events) {
  SurvivalCurve curve;
  curve.endpoint = endpoint;
  curve.instrument = std::move(instrument);
  curve.subjects = static_cast<int>(subjects.size());
  curve.events = events;
  curve.steps = KaplanMeier(subjects);
  return curve;
}

}  // namespace

const char* GroupByName(GroupBy group_by) {
  for (const auto& [value, name] : kGroupNames) {
    if (value == group_by) return name;
  }
  return "none";
}

std::optional<GroupBy> ParseGroupBy(const std::string& name) {
  for (const auto& [value, group_name] : kGroupNames) {
    if (name == group_name) return value;
  }
  return std::nullopt;
}

// The builder's tallies: per option (its knowledge-base entry, schedule and
// instruments), per group of that option.
struct CohortReportBuilder::State {
  struct OptionTally {
    const knowledge::Option* option = nullptr;  // nullptr: not in the knowledge base (ignored)
    const InstrumentScoring* loss_instrument = nullptr;
    const std::vector<double>* schedule = nullptr;  // the follow-up schedule's weeks (empty without one)
    // Per timepoint, the last day of its window minus the start day
    // (WindowOf() is the start day plus offsets that do not depend on it).
    std::vector<int> window_last;
    std::vector<const InstrumentScoring*> instruments;  // the follow-up instruments known to the catalog
    bool synthetic = false;
    std::map<std::string, GroupTally, std::less<>> groups;
    // The episode keys in the order they were added, and whether that was
    // ascending: if not, Finish() puts each timepoint's changes in key order.
    StringList keys;
    bool keys_ascending = true;
    // The group of this option's previous episode (a map key: stable).
    GroupTally* last_group = nullptr;
    std::string_view last_group_name;
  };

  const InstrumentCatalog* catalog = nullptr;
  std::string option_id;
  GroupBy group_by = GroupBy::kNone;
  int today = 0;
  std::map<std::string, OptionTally, std::less<>> options;
  // The option of the previous episode.
  OptionTally* last_option = nullptr;
  std::string_view last_option_id;

  OptionTally& OptionOf(std::string_view id) {
    if (last_option != nullptr && id == last_option_id) return *last_option;
    auto found = options.find(id);
    if (found == options.end()) {
      found = options.emplace(std::string(id), OptionTally{}).first;
      OptionTally& tally = found->second;
      tally.option = catalog->kb().FindOption(found->first);
      static const std::vector<double> kNoSchedule;
      tally.schedule = &kNoSchedule;
      if (tally.option != nullptr && tally.option->follow_up) {
        tally.schedule = &tally.option->follow_up->schedule_weeks;
        for (double weeks : *tally.schedule) {
          tally.window_last.push_back(WindowOf(0, weeks, catalog->timepoint_window_fraction()).last);
        }
        for (const std::string& instrument : tally.option->follow_up->instruments) {
          if (const InstrumentScoring* scoring = catalog->ById(instrument)) tally.instruments.push_back(scoring);
        }
        tally.loss_instrument = LossInstrument(*tally.option, *catalog);
      }
    }
    last_option = &found->second;
    last_option_id = found->first;  // the map's key: stable
    return found->second;
  }

  // Reorders every timepoint's changes of `option` (whose episodes were not
  // added in key order) as if they had been: by the key of their episode
  // (ties in the order added). The mean and SD then sum them in the same
  // order as for episodes added in key order, to the last bit.
  static void PutChangesInKeyOrder(OptionTally& option) {
    const StringList& keys = option.keys;
    std::vector<uint32_t> by_key = NearlySortedOrder(keys.size(), [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
    std::vector<uint32_t> rank(by_key.size());
    for (uint32_t index = 0; index < by_key.size(); ++index) rank[by_key[index]] = index;
    std::vector<double> values;
    for (auto& [name, group] : option.groups) {
      for (InstrumentTally& instrument : group.instruments) {
        for (TimepointTally& point : instrument.points) {
          const std::vector<uint32_t>& added = point.added;
          std::vector<uint32_t> order = NearlySortedOrder(
              static_cast<uint32_t>(added.size()), [&](uint32_t a, uint32_t b) { return rank[added[a]] < rank[added[b]]; });
          values.clear();
          values.reserve(order.size());
          for (uint32_t index : order) values.push_back(point.changes[index]);
          point.changes.swap(values);
        }
      }
    }
  }

  GroupTally& GroupOfOption(OptionTally& option, std::string_view name) {
    if (option.last_group != nullptr && name == option.last_group_name) return *option.last_group;
    auto found = option.groups.find(name);
    if (found == option.groups.end()) {
      found = option.groups.emplace(std::string(name), GroupTally{}).first;
      GroupTally& group = found->second;
      const std::vector<double>& schedule = *option.schedule;
      group.instruments.resize(option.instruments.size());
      for (size_t index = 0; index < option.instruments.size(); ++index) {
        group.instruments[index].scoring = option.instruments[index];
        group.instruments[index].points.resize(schedule.size());
      }
    }
    option.last_group = &found->second;
    option.last_group_name = found->first;
    return found->second;
  }
};

CohortReportBuilder::CohortReportBuilder(std::unique_ptr<State> state) : state_(std::move(state)) {}
CohortReportBuilder::CohortReportBuilder(CohortReportBuilder&&) noexcept = default;
CohortReportBuilder& CohortReportBuilder::operator=(CohortReportBuilder&&) noexcept = default;
CohortReportBuilder::~CohortReportBuilder() = default;

Result<CohortReportBuilder> CohortReportBuilder::Create(const InstrumentCatalog& catalog, const std::string& option_id,
                                                        GroupBy group_by, const std::string& today) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  if (!option_id.empty() && catalog.kb().FindOption(option_id) == nullptr) {
    return Fail(InvalidArgument(fmt::format("'{}' is not an option of the knowledge base", option_id)));
  }
  auto state = std::make_unique<State>();
  state->catalog = &catalog;
  state->option_id = option_id;
  state->group_by = group_by;
  state->today = *today_day;
  return CohortReportBuilder(std::move(state));
}

void CohortReportBuilder::Add(const EpisodeFacts& facts) {
  State& state = *state_;
  if (!state.option_id.empty() && facts.option_id != state.option_id) return;
  State::OptionTally& option = state.OptionOf(facts.option_id);
  if (option.option == nullptr) return;  // an option since removed from the knowledge base
  option.synthetic = option.synthetic || facts.synthetic;
  // The episode's position among the option's, as added (the changes it
  // gives are summed in key order whatever the order of addition).
  uint32_t added = option.keys.size();
  if (!option.keys.empty() && facts.episode_key < option.keys.back()) option.keys_ascending = false;
  option.keys.Add(facts.episode_key);
  GroupTally& group = state.GroupOfOption(option, GroupOf(facts, state.group_by));
  ++group.episodes;
  group.patients.Add(facts.patient);
  if (facts.start_day) {
    // Each follow-up instrument's timepoints (the episode's first facts of
    // that instrument).
    int start = *facts.start_day;
    size_t points = option.window_last.size();
    for (size_t index = 0; index < group.instruments.size(); ++index) {
      InstrumentTally& instrument = group.instruments[index];
      // The facts list the option's instruments in the same order (the
      // schedule's, known to the catalog): the same place first.
      const InstrumentFacts* own = nullptr;
      if (index < facts.instruments.size() && facts.instruments[index].instrument == instrument.scoring->id) {
        own = &facts.instruments[index];
      } else {
        for (const InstrumentFacts& candidate : facts.instruments) {
          if (candidate.instrument == instrument.scoring->id) {
            own = &candidate;
            break;
          }
        }
      }
      if (own == nullptr) continue;
      static const std::optional<DayScore> kNoScore;
      for (size_t point = 0; point < points; ++point) {
        const std::optional<DayScore>& score = point < own->timepoints.size() ? own->timepoints[point] : kNoScore;
        CountTimepoint(instrument.points[point], *instrument.scoring, own->baseline, score,
                       start + option.window_last[point], state.today, added);
      }
    }
  }
  // Adverse events: episodes with at least one event of the category.
  if (!facts.adverse_events.empty()) {
    int counts[kAdverseRates] = {};
    for (const AdverseEventFacts& event : facts.adverse_events) {
      ++counts[static_cast<int>(event.category)];
      if (event.serious) ++counts[kAdverseCategories];
      ++counts[kAdverseCategories + 1];
    }
    for (int index = 0; index < kAdverseRates; ++index) {
      group.adverse_events[index] += counts[index];
      group.with_adverse_event[index] += counts[index] > 0 ? 1 : 0;
    }
  }
  // Kaplan–Meier: repeat procedure and surgery from the start; the end of
  // follow-up is the patient's last contact, not after today.
  if (facts.start_day) {
    int start = *facts.start_day;
    int censored_end = std::clamp(facts.last_contact_day.value_or(start), start, state.today);
    int repeat_end = facts.repeat_day ? *facts.repeat_day : censored_end;
    int surgery_end = facts.surgery_day ? *facts.surgery_day : censored_end;
    group.repeat.push_back(SurvivalSubject{static_cast<double>(repeat_end - start), facts.repeat_day.has_value()});
    group.surgery.push_back(SurvivalSubject{static_cast<double>(surgery_end - start), facts.surgery_day.has_value()});
    group.repeat_events += facts.repeat_day ? 1 : 0;
    group.surgery_events += facts.surgery_day ? 1 : 0;
  }
  if (option.loss_instrument != nullptr && facts.loss_subject) {
    group.loss.push_back(SurvivalSubject{static_cast<double>(facts.loss_days), facts.loss_event});
    group.loss_events += facts.loss_event ? 1 : 0;
  }
}

CohortReport CohortReportBuilder::Finish() {
  State& state = *state_;
  CohortReport report;
  report.today = FormatCivilDay(state.today);
  report.group_by = GroupByName(state.group_by);
  for (auto& [id, option] : state.options) {
    if (option.option == nullptr) continue;
    if (!option.keys_ascending) State::PutChangesInKeyOrder(option);
    OptionReport option_report;
    option_report.option_id = id;
    option_report.display = option.option->display;
    option_report.therapy = option.option->therapy;
    option_report.target = option.option->target;
    option_report.synthetic = option.synthetic;
    for (const auto& [name, group] : option.groups) {
      GroupReport group_report;
      group_report.group = name;
      group_report.episodes = group.episodes;
      group_report.patients = group.patients.Count();
      const std::vector<double>& schedule = *option.schedule;
      for (const InstrumentTally& instrument : group.instruments) {
        InstrumentOutcomes outcomes;
        outcomes.instrument = instrument.scoring->id;
        outcomes.display = instrument.scoring->display;
        outcomes.direction = instrument.scoring->direction;
        outcomes.confidence = instrument.scoring->confidence;
        for (size_t point = 0; point < schedule.size(); ++point) {
          outcomes.timepoints.push_back(TimepointOf(instrument.points[point], *instrument.scoring, schedule[point]));
        }
        group_report.instruments.push_back(std::move(outcomes));
      }
      group_report.adverse_events.resize(kAdverseRates);
      for (int index = 0; index < kAdverseRates; ++index) {
        AdverseEventRate& rate = group_report.adverse_events[index];
        rate.category = index < kAdverseCategories ? AdverseEventCategoryCode(static_cast<AdverseEventCategory>(index))
                        : index == kAdverseCategories ? "serious"
                                                      : "any";
        rate.events = group.adverse_events[index];
        rate.episodes = WilsonProportion(group.with_adverse_event[index], group.episodes);
      }
      group_report.survival.push_back(CurveOf("repeat-procedure", "", group.repeat, group.repeat_events));
      group_report.survival.push_back(CurveOf("surgery", "", group.surgery, group.surgery_events));
      if (option.loss_instrument != nullptr) {
        group_report.survival.push_back(
            CurveOf("loss-of-response", option.loss_instrument->id, group.loss, group.loss_events));
      }
      option_report.groups.push_back(std::move(group_report));
    }
    report.options.push_back(std::move(option_report));
  }
  return report;
}

Result<CohortReport> BuildCohortReport(const Cohort& cohort, const InstrumentCatalog& catalog,
                                       const std::string& option_id, GroupBy group_by, const std::string& today) {
  return BuildCohortReportFromFacts(ComputeEpisodeFacts(cohort, catalog), catalog, option_id, group_by, today);
}

Result<CohortReport> BuildCohortReportFromFacts(const std::vector<EpisodeFacts>& facts, const InstrumentCatalog& catalog,
                                                const std::string& option_id, GroupBy group_by,
                                                const std::string& today) {
  RP_ASSIGN_OR_RETURN(CohortReportBuilder builder, CohortReportBuilder::Create(catalog, option_id, group_by, today));
  for (const EpisodeFacts& episode : facts) builder.Add(episode);
  return builder.Finish();
}

}  // namespace regenpath::registry
