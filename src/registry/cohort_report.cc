#include "registry/cohort_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

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

std::string GroupOf(const EpisodeFacts& facts, GroupBy group_by) {
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
  return value == nullptr || value->empty() ? "(not recorded)" : *value;
}

// An episode's start day and its facts on one instrument.
struct EpisodeScores {
  int start = 0;
  const InstrumentFacts* facts = nullptr;
};

TimepointOutcome Timepoint(const std::vector<EpisodeScores>& episodes, const InstrumentScoring& instrument,
                           const InstrumentCatalog& catalog, size_t point, double weeks, int today) {
  TimepointOutcome out;
  out.weeks = weeks;
  std::vector<double> changes;
  int mcid = 0, immpact30 = 0, immpact50 = 0, ordinal = 0;
  bool ordinal_instrument = instrument.responder_max.has_value();
  for (const EpisodeScores& episode : episodes) {
    TimepointWindow window = WindowOf(episode.start, weeks, catalog.timepoint_window_fraction());
    std::optional<DayScore> score;
    if (point < episode.facts->timepoints.size()) score = episode.facts->timepoints[point];
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
    const std::optional<DayScore>& baseline = episode.facts->baseline;
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

std::vector<SurvivalCurve> Survival(const std::vector<const EpisodeFacts*>& episodes, const InstrumentCatalog& catalog,
                                    const knowledge::Option& option, int today) {
  std::vector<SurvivalCurve> curves;
  for (bool surgery : {false, true}) {
    SurvivalCurve curve;
    curve.endpoint = surgery ? "surgery" : "repeat-procedure";
    std::vector<SurvivalSubject> subjects;
    subjects.reserve(episodes.size());
    for (const EpisodeFacts* facts : episodes) {
      if (!facts->start_day) continue;
      int start = *facts->start_day;
      std::optional<int> event_day = surgery ? facts->surgery_day : facts->repeat_day;
      // The end of follow-up: the patient's last contact, not after today.
      int end = event_day ? *event_day : std::clamp(facts->last_contact_day.value_or(start), start, today);
      subjects.push_back(SurvivalSubject{static_cast<double>(end - start), event_day.has_value()});
      curve.events += event_day ? 1 : 0;
    }
    curve.subjects = static_cast<int>(subjects.size());
    curve.steps = KaplanMeier(subjects);
    curves.push_back(std::move(curve));
  }
  // Loss of response on the option's first instrument with an MCID
  // (computed per episode in episode_facts.cc).
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
    for (const EpisodeFacts* facts : episodes) {
      if (!facts->loss_subject) continue;
      subjects.push_back(SurvivalSubject{static_cast<double>(facts->loss_days), facts->loss_event});
      curve.events += facts->loss_event ? 1 : 0;
    }
    curve.subjects = static_cast<int>(subjects.size());
    curve.steps = KaplanMeier(subjects);
    curves.push_back(std::move(curve));
  }
  return curves;
}

GroupReport Group(const std::string& name, const std::vector<const EpisodeFacts*>& episodes,
                  const InstrumentCatalog& catalog, const knowledge::Option& option, int today) {
  GroupReport report;
  report.group = name;
  report.episodes = static_cast<int>(episodes.size());
  std::unordered_set<std::string_view> patients;
  patients.reserve(episodes.size());
  for (const EpisodeFacts* facts : episodes) patients.insert(facts->patient);
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
      for (const EpisodeFacts* facts : episodes) {
        if (!facts->start_day) continue;
        for (const InstrumentFacts& instrument_facts : facts->instruments) {
          if (instrument_facts.instrument == id) {
            views.push_back(EpisodeScores{*facts->start_day, &instrument_facts});
            break;
          }
        }
      }
      const std::vector<double>& schedule = option.follow_up->schedule_weeks;
      for (size_t point = 0; point < schedule.size(); ++point) {
        outcomes.timepoints.push_back(Timepoint(views, *instrument, catalog, point, schedule[point], today));
      }
      report.instruments.push_back(std::move(outcomes));
    }
  }
  // Adverse events: episodes with at least one event of the category
  // (the six categories, then "serious" and "any").
  constexpr int kCategories = static_cast<int>(AdverseEventCategory::kOther) + 1;
  std::vector<AdverseEventRate> rates(kCategories + 2);
  std::vector<int> with_event(kCategories + 2, 0);
  for (int index = 0; index < kCategories; ++index) {
    rates[index].category = AdverseEventCategoryCode(static_cast<AdverseEventCategory>(index));
  }
  rates[kCategories].category = "serious";
  rates[kCategories + 1].category = "any";
  for (const EpisodeFacts* facts : episodes) {
    if (facts->adverse_events.empty()) continue;
    std::vector<int> counts(kCategories + 2, 0);
    for (const AdverseEventFacts& event : facts->adverse_events) {
      ++counts[static_cast<int>(event.category)];
      if (event.serious) ++counts[kCategories];
      ++counts[kCategories + 1];
    }
    for (int index = 0; index < kCategories + 2; ++index) {
      rates[index].events += counts[index];
      with_event[index] += counts[index] > 0 ? 1 : 0;
    }
  }
  for (int index = 0; index < kCategories + 2; ++index) {
    rates[index].episodes = WilsonProportion(with_event[index], report.episodes);
  }
  report.adverse_events = std::move(rates);
  report.survival = Survival(episodes, catalog, option, today);
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
  return BuildCohortReportFromFacts(ComputeEpisodeFacts(cohort, catalog), catalog, option_id, group_by, today);
}

Result<CohortReport> BuildCohortReportFromFacts(const std::vector<EpisodeFacts>& facts, const InstrumentCatalog& catalog,
                                                const std::string& option_id, GroupBy group_by,
                                                const std::string& today) {
  std::optional<int> today_day = ParseCivilDay(today);
  if (!today_day) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", today)));
  if (!option_id.empty() && catalog.kb().FindOption(option_id) == nullptr) {
    return Fail(InvalidArgument(fmt::format("'{}' is not an option of the knowledge base", option_id)));
  }
  std::map<std::string, std::vector<const EpisodeFacts*>> by_option;
  for (const EpisodeFacts& episode : facts) {
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
    option_report.synthetic =
        std::any_of(episodes.begin(), episodes.end(), [](const EpisodeFacts* e) { return e->synthetic; });
    std::map<std::string, std::vector<const EpisodeFacts*>> groups;
    for (const EpisodeFacts* episode : episodes) groups[GroupOf(*episode, group_by)].push_back(episode);
    for (const auto& [name, members] : groups) {
      option_report.groups.push_back(Group(name, members, catalog, *option, *today_day));
    }
    report.options.push_back(std::move(option_report));
  }
  return report;
}

}  // namespace regenpath::registry
