#include "registry/cohort_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "registry/civil_day.h"
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

// Index of a cohort: scores by patient and instrument, procedures and
// adverse events by episode.
struct CohortIndex {
  // Hash maps: a report of 100,000 episodes looks these up millions of times.
  std::unordered_map<std::string, std::vector<DayScore>> scores;  // ScoreKey(patient, instrument)
  std::unordered_map<std::string, std::vector<const ProcedureRecord*>> procedures;         // episode key
  std::unordered_map<std::string, std::vector<const AdverseEventRecord*>> adverse_events;  // episode key
  std::unordered_map<std::string, int> last_contact;                                       // patient -> day

  static std::string ScoreKey(const std::string& patient, const std::string& instrument) {
    std::string key;
    key.reserve(patient.size() + instrument.size() + 1);
    key.append(patient).push_back('\x1f');
    key.append(instrument);
    return key;
  }

  explicit CohortIndex(const Cohort& cohort) {
    auto contact = [&](const std::string& patient, int day) {
      auto [it, inserted] = last_contact.emplace(patient, day);
      if (!inserted) it->second = std::max(it->second, day);
    };
    for (const OutcomeRecord& outcome : cohort.outcomes) {
      std::optional<int> day = ParseCivilDay(outcome.date);
      if (!day) continue;
      scores[ScoreKey(outcome.patient, outcome.instrument)].push_back(DayScore{*day, outcome.value});
      contact(outcome.patient, *day);
    }
    for (auto& [key, list] : scores) {
      std::stable_sort(list.begin(), list.end(), [](const DayScore& a, const DayScore& b) { return a.day < b.day; });
    }
    for (const ProcedureRecord& procedure : cohort.procedures) {
      procedures[procedure.episode_key].push_back(&procedure);
      if (auto day = ParseCivilDay(procedure.date)) contact(procedure.patient, *day);
    }
    for (auto& [key, list] : procedures) {
      std::stable_sort(list.begin(), list.end(),
                       [](const ProcedureRecord* a, const ProcedureRecord* b) { return a->date < b->date; });
    }
    for (const AdverseEventRecord& event : cohort.adverse_events) {
      adverse_events[event.episode_key].push_back(&event);
      if (auto day = ParseCivilDay(event.onset)) contact(event.patient, *day);
    }
  }

  const std::vector<DayScore>& ScoresOf(const std::string& patient, const std::string& instrument) const {
    static const std::vector<DayScore> kNone;
    auto found = scores.find(ScoreKey(patient, instrument));
    return found == scores.end() ? kNone : found->second;
  }
};

std::string GroupOf(const Episode& episode, const CohortIndex& index, GroupBy group_by) {
  auto first_procedure = [&]() -> const ProcedureRecord* {
    auto found = index.procedures.find(episode.key);
    if (found == index.procedures.end()) return nullptr;
    for (const ProcedureRecord* procedure : found->second) {
      if (procedure->kind == "index") return procedure;
    }
    return nullptr;
  };
  std::string value;
  switch (group_by) {
    case GroupBy::kNone:
      return "all";
    case GroupBy::kCondition:
      value = episode.condition;
      break;
    case GroupBy::kKbVersion:
      value = episode.kb_version;
      break;
    case GroupBy::kFeedback:
      value = episode.feedback;
      break;
    case GroupBy::kPrpLeukocytes:
      if (const ProcedureRecord* procedure = first_procedure()) value = procedure->prp_leukocytes;
      break;
    case GroupBy::kImageGuidance:
      if (const ProcedureRecord* procedure = first_procedure()) value = procedure->image_guidance;
      break;
  }
  return value.empty() ? "(not recorded)" : value;
}

// An episode's start day and its patient's scores on one instrument, looked
// up once for all the timepoints.
struct EpisodeScores {
  int start = 0;
  const std::vector<DayScore>* scores = nullptr;
};

TimepointOutcome Timepoint(const std::vector<EpisodeScores>& episodes, const InstrumentScoring& instrument,
                           const InstrumentCatalog& catalog, double weeks, int today) {
  TimepointOutcome out;
  out.weeks = weeks;
  std::vector<double> changes;
  int mcid = 0, immpact30 = 0, immpact50 = 0, ordinal = 0;
  bool ordinal_instrument = instrument.responder_max.has_value();
  for (const EpisodeScores& episode : episodes) {
    std::optional<int> start = episode.start;
    const std::vector<DayScore>& scores = *episode.scores;
    TimepointWindow window = WindowOf(*start, weeks, catalog.timepoint_window_fraction());
    std::optional<DayScore> score = ScoreIn(scores, window);
    if (!score && window.last >= today) continue;  // not due yet
    if (ordinal_instrument) {
      ++out.due;
      if (!score) {
        ++out.lost;
        continue;
      }
      ++out.observed;
      if (score->value <= *instrument.responder_max) ++ordinal;
      continue;
    }
    std::optional<DayScore> baseline = BaselineOf(scores, *start, catalog.baseline_window_days());
    if (!baseline) {
      // No baseline: change cannot be computed; counted, never imputed.
      if (score) {
        ++out.observed;
        ++out.without_baseline;
      }
      continue;
    }
    ++out.due;
    if (!score) {
      ++out.lost;
      continue;
    }
    ++out.observed;
    changes.push_back(score->value - baseline->value);
    if (McidResponder(instrument, baseline->value, score->value).value_or(false)) ++mcid;
    if (PercentReduction(instrument, baseline->value, score->value, 30)) ++immpact30;
    if (PercentReduction(instrument, baseline->value, score->value, 50)) ++immpact50;
  }
  out.change = MeanWithInterval(changes);
  int paired = static_cast<int>(changes.size());
  if (ordinal_instrument) {
    out.ordinal = WilsonProportion(ordinal, out.observed);
  } else {
    if (instrument.mcid_points || instrument.mcid_percent) out.mcid = WilsonProportion(mcid, paired);
    if (instrument.immpact) {
      out.immpact30 = WilsonProportion(immpact30, paired);
      out.immpact50 = WilsonProportion(immpact50, paired);
    }
  }
  return out;
}

// The end of follow-up of an episode: the patient's last contact, not after today.
int LastContact(const Episode& episode, const CohortIndex& index, int start, int today) {
  auto found = index.last_contact.find(episode.patient);
  int last = found == index.last_contact.end() ? start : found->second;
  return std::clamp(last, start, today);
}

std::vector<SurvivalCurve> Survival(const std::vector<const Episode*>& episodes, const CohortIndex& index,
                                    const InstrumentCatalog& catalog, const knowledge::Option& option, int today) {
  std::vector<SurvivalCurve> curves;
  for (const char* endpoint : {"repeat-procedure", "surgery"}) {
    SurvivalCurve curve;
    curve.endpoint = endpoint;
    std::vector<SurvivalSubject> subjects;
    for (const Episode* episode : episodes) {
      std::optional<int> start = ParseCivilDay(episode->start_date);
      if (!start) continue;
      std::optional<int> event_day;
      auto found = index.procedures.find(episode->key);
      if (found != index.procedures.end()) {
        for (const ProcedureRecord* procedure : found->second) {
          std::optional<int> day = ParseCivilDay(procedure->date);
          if (!day || *day <= *start) continue;
          bool is_event = std::string(endpoint) == "surgery"
                              ? procedure->kind == "surgery"
                              : procedure->kind == "index" && procedure->series_number == 1;
          if (is_event) {
            event_day = *day;
            break;
          }
        }
      }
      int end = event_day ? *event_day : LastContact(*episode, index, *start, today);
      subjects.push_back(SurvivalSubject{static_cast<double>(end - *start), event_day.has_value()});
      curve.events += event_day ? 1 : 0;
    }
    curve.subjects = static_cast<int>(subjects.size());
    curve.steps = KaplanMeier(subjects);
    curves.push_back(std::move(curve));
  }
  // Loss of response: among episodes that reached a responder score on the
  // option's first instrument with an MCID, the first later score that is no
  // longer one; censored at the last score.
  const InstrumentScoring* instrument = nullptr;
  if (option.follow_up) {
    for (const std::string& id : option.follow_up->instruments) {
      const InstrumentScoring* candidate = catalog.ById(id);
      if (candidate != nullptr && (candidate->mcid_points || candidate->mcid_percent)) {
        instrument = candidate;
        break;
      }
    }
  }
  if (instrument != nullptr) {
    SurvivalCurve curve;
    curve.endpoint = "loss-of-response";
    curve.instrument = instrument->id;
    std::vector<SurvivalSubject> subjects;
    for (const Episode* episode : episodes) {
      std::optional<int> start = ParseCivilDay(episode->start_date);
      if (!start) continue;
      const std::vector<DayScore>& scores = index.ScoresOf(episode->patient, instrument->id);
      std::optional<DayScore> baseline = BaselineOf(scores, *start, catalog.baseline_window_days());
      if (!baseline) continue;
      bool responded = false;
      std::optional<int> lost_day;
      int last_day = *start;
      for (const DayScore& score : scores) {
        if (score.day <= *start) continue;
        last_day = score.day;
        bool responder = McidResponder(*instrument, baseline->value, score.value).value_or(false);
        if (responder) {
          responded = true;
        } else if (responded) {
          lost_day = score.day;
          break;
        }
      }
      if (!responded) continue;
      int end = lost_day ? *lost_day : last_day;
      subjects.push_back(SurvivalSubject{static_cast<double>(end - *start), lost_day.has_value()});
      curve.events += lost_day ? 1 : 0;
    }
    curve.subjects = static_cast<int>(subjects.size());
    curve.steps = KaplanMeier(subjects);
    curves.push_back(std::move(curve));
  }
  return curves;
}

GroupReport Group(const std::string& name, const std::vector<const Episode*>& episodes, const CohortIndex& index,
                  const InstrumentCatalog& catalog, const knowledge::Option& option, int today) {
  GroupReport report;
  report.group = name;
  report.episodes = static_cast<int>(episodes.size());
  std::set<std::string> patients;
  for (const Episode* episode : episodes) patients.insert(episode->patient);
  report.patients = static_cast<int>(patients.size());
  if (option.follow_up) {
    for (const std::string& id : option.follow_up->instruments) {
      const InstrumentScoring* instrument = catalog.ById(id);
      if (instrument == nullptr) continue;
      InstrumentOutcomes outcomes;
      outcomes.instrument = instrument->id;
      outcomes.display = instrument->display;
      outcomes.direction = instrument->direction;
      outcomes.confidence = instrument->confidence;
      std::vector<EpisodeScores> views;
      views.reserve(episodes.size());
      for (const Episode* episode : episodes) {
        std::optional<int> start = ParseCivilDay(episode->start_date);
        if (start) views.push_back(EpisodeScores{*start, &index.ScoresOf(episode->patient, instrument->id)});
      }
      for (double weeks : option.follow_up->schedule_weeks) {
        outcomes.timepoints.push_back(Timepoint(views, *instrument, catalog, weeks, today));
      }
      report.instruments.push_back(std::move(outcomes));
    }
  }
  // Adverse events: episodes with at least one event of the category.
  std::vector<std::string> categories;
  for (AdverseEventCategory category :
       {AdverseEventCategory::kInfection, AdverseEventCategory::kBleeding, AdverseEventCategory::kSensoryDisturbance,
        AdverseEventCategory::kPostInjectionFlare, AdverseEventCategory::kVasovagal, AdverseEventCategory::kOther}) {
    categories.push_back(AdverseEventCategoryCode(category));
  }
  categories.push_back("serious");
  categories.push_back("any");
  for (const std::string& category : categories) {
    AdverseEventRate rate;
    rate.category = category;
    int with_event = 0;
    for (const Episode* episode : episodes) {
      auto found = index.adverse_events.find(episode->key);
      if (found == index.adverse_events.end()) continue;
      int count = 0;
      for (const AdverseEventRecord* event : found->second) {
        bool counts = category == "any" || (category == "serious" ? event->serious
                                                                  : AdverseEventCategoryCode(event->category) == category);
        count += counts ? 1 : 0;
      }
      rate.events += count;
      with_event += count > 0 ? 1 : 0;
    }
    rate.episodes = WilsonProportion(with_event, report.episodes);
    report.adverse_events.push_back(rate);
  }
  report.survival = Survival(episodes, index, catalog, option, today);
  return report;
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

Result<CohortReport> BuildCohortReport(const Cohort& cohort, const InstrumentCatalog& catalog,
                                       const std::string& option_id, GroupBy group_by, const std::string& today) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  if (!option_id.empty() && catalog.kb().FindOption(option_id) == nullptr) {
    return Fail(InvalidArgument(fmt::format("'{}' is not an option of the knowledge base", option_id)));
  }
  CohortIndex index(cohort);
  std::map<std::string, std::vector<const Episode*>> by_option;
  for (const Episode& episode : cohort.episodes) {
    if (option_id.empty() || episode.option_id == option_id) by_option[episode.option_id].push_back(&episode);
  }
  CohortReport report;
  report.today = FormatCivilDay(*today_day);
  report.group_by = GroupByName(group_by);
  for (const auto& [id, episodes] : by_option) {
    const knowledge::Option* option = catalog.kb().FindOption(id);
    if (option == nullptr) continue;  // an option since removed from the knowledge base
    OptionReport option_report;
    option_report.option_id = id;
    option_report.display = option->display;
    option_report.therapy = option->therapy;
    option_report.target = option->target;
    option_report.synthetic = std::any_of(episodes.begin(), episodes.end(), [](const Episode* e) { return e->synthetic; });
    std::map<std::string, std::vector<const Episode*>> groups;
    for (const Episode* episode : episodes) groups[GroupOf(*episode, index, group_by)].push_back(episode);
    for (const auto& [name, members] : groups) {
      option_report.groups.push_back(Group(name, members, index, catalog, *option, *today_day));
    }
    report.options.push_back(std::move(option_report));
  }
  return report;
}

}  // namespace regenpath::registry
