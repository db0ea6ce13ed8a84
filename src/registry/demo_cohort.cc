#include "registry/demo_cohort.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "registry/civil_day.h"

namespace regenpath::registry {

namespace {

// Options the demo spreads its episodes over (those with a follow-up schedule).
constexpr const char* kDemoOptions[] = {"prp-knee", "bmc-knee", "prolotherapy-knee", "prp-lumbar-disc",
                                        "prp-lateral-epicondyle", "prp-sacroiliac-joint"};

}  // namespace

Result<WriteBatch> GenerateDemoCohort(const InstrumentCatalog& catalog, const DemoOptions& options) {
  std::optional<int> today = ParseCivilDay(options.today);
  if (!today) return Fail(InvalidArgument(fmt::format("'{}' is not a date (YYYY-MM-DD)", options.today)));
  if (options.episodes < 0) return Fail(InvalidArgument("the number of demo episodes must not be negative"));
  std::vector<const knowledge::Option*> choices;
  for (const char* id : kDemoOptions) {
    const knowledge::Option* option = catalog.kb().FindOption(id);
    if (option != nullptr && option->follow_up) choices.push_back(option);
  }
  if (choices.empty()) return Fail(InvalidArgument("the knowledge base has none of the demo options"));
  std::mt19937_64 random(options.seed);
  auto uniform = [&](double low, double high) { return low + (high - low) * (static_cast<double>(random() >> 11) * 0x1.0p-53); };
  auto chance = [&](double p) { return uniform(0, 1) < p; };
  auto normal = [&](double mean, double sd) {
    // Box–Muller from the engine's bits: the same numbers on every platform.
    double u1 = std::max(uniform(0, 1), 1e-300);
    double u2 = uniform(0, 1);
    return mean + sd * std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  };
  const char* sides[] = {"left", "right", ""};
  const char* guidance[] = {"ultrasound", "fluoroscopy", "landmark"};

  WriteBatch batch;
  batch.synthetic = true;
  batch.patients.reserve(options.episodes);
  batch.episodes.reserve(options.episodes);
  for (int index = 0; index < options.episodes; ++index) {
    const knowledge::Option& option = *choices[random() % choices.size()];
    std::string patient = fmt::format("demo-{:06}", index);
    batch.patients.push_back({patient, true});
    int start = *today - 1 - static_cast<int>(random() % 730);
    Episode episode;
    episode.patient = patient;
    episode.option_id = option.id;
    episode.therapy = option.therapy;
    episode.target = option.target;
    episode.side = option.target == "knee" || option.target == "hip" ? sides[random() % 2] : "";
    episode.key = fmt::format("{}|{}|{}", patient, option.id, episode.side);
    episode.start_date = FormatCivilDay(start);
    episode.kb_version = chance(0.5) ? "0.1.0" : "0.2.0";
    episode.feedback = chance(0.7) ? "accepted" : "overridden";
    if (episode.feedback == "overridden") episode.override_reason = "patient preference";
    episode.synthetic = true;
    batch.episodes.push_back(episode);
    // A series of 1-3 injections a week or two apart.
    int series = 1 + static_cast<int>(random() % 3);
    for (int shot = 0; shot < series; ++shot) {
      ProcedureRecord procedure;
      int day = start + shot * (7 + static_cast<int>(random() % 8));
      if (day >= *today) break;
      procedure.key = fmt::format("Procedure|urn:regenpath:demo|{}-{}", index, shot + 1);
      procedure.episode_key = episode.key;
      procedure.patient = patient;
      procedure.date = FormatCivilDay(day);
      procedure.image_guidance = guidance[random() % 3];
      if (option.therapy == "prp") {
        procedure.prp_leukocytes = chance(0.6) ? "poor" : "rich";
        procedure.volume_ml = std::round(uniform(3, 8) * 10) / 10;
        procedure.platelet_concentration = std::round(uniform(600, 1500));
      } else if (option.therapy == "bmc") {
        procedure.bmc_nucleated_cells = std::round(uniform(2e8, 2e9));
      } else if (option.therapy == "prolotherapy") {
        procedure.dextrose_percent = chance(0.5) ? 12.5 : 25;
      }
      procedure.series_number = shot + 1;
      batch.procedures.push_back(std::move(procedure));
    }
    // Some episodes repeat the series later, a few end in surgery.
    if (chance(0.1)) {
      int day = start + 180 + static_cast<int>(random() % 180);
      if (day < *today) {
        batch.procedures.push_back(ProcedureRecord{fmt::format("Procedure|urn:regenpath:demo|{}-repeat", index), episode.key,
                                                   patient, FormatCivilDay(day), "index", "ultrasound", "", std::nullopt,
                                                   std::nullopt, std::nullopt, std::nullopt, 1});
      }
    }
    if (chance(0.03)) {
      int day = start + 200 + static_cast<int>(random() % 300);
      if (day < *today) {
        batch.procedures.push_back(ProcedureRecord{fmt::format("Procedure|urn:regenpath:demo|{}-surgery", index),
                                                   episode.key, patient, FormatCivilDay(day), "surgery", "", "",
                                                   std::nullopt, std::nullopt, std::nullopt, std::nullopt, 1});
      }
    }
    // Scores: a baseline, then each timepoint of the schedule while the
    // patient keeps coming (each visit kept with probability 0.85).
    double response = std::clamp(normal(0.35, 0.3), -0.2, 1.0);  // fraction of the possible improvement
    bool attending = true;
    std::vector<double> weeks = option.follow_up->schedule_weeks;
    for (const std::string& id : option.follow_up->instruments) {
      const InstrumentScoring* instrument = catalog.ById(id);
      if (instrument == nullptr) continue;
      double range = instrument->max - instrument->min;
      bool ordinal = instrument->responder_max.has_value();
      double worst = instrument->direction == Direction::kLowerIsBetter ? instrument->max : instrument->min;
      double best = instrument->direction == Direction::kLowerIsBetter ? instrument->min : instrument->max;
      double baseline = std::clamp(worst + (best - worst) * uniform(0.15, 0.5), instrument->min, instrument->max);
      if (range <= 10) baseline = std::round(baseline);
      if (!ordinal) {
        batch.outcomes.push_back(OutcomeRecord{fmt::format("Observation|urn:regenpath:demo|{}-{}-0", index, id), patient, id,
                                               FormatCivilDay(start - static_cast<int>(random() % 10)), baseline});
      }
      attending = true;
      for (size_t point = 0; point < weeks.size(); ++point) {
        if (!chance(0.85)) attending = false;
        if (!attending) break;
        int day = start + static_cast<int>(std::lround(7 * weeks[point])) + static_cast<int>(random() % 7) - 3;
        if (day >= *today) break;
        double ramp = std::min(1.0, weeks[point] / 8);
        double value;
        if (ordinal) {
          double improvement = response * ramp;
          value = std::clamp(std::round(4 - improvement * 4 + normal(0, 1)), instrument->min, instrument->max);
        } else {
          value = baseline + (best - baseline) * response * ramp + normal(0, range * 0.06);
          value = std::clamp(value, instrument->min, instrument->max);
          value = range <= 10 ? std::round(value) : std::round(value * 10) / 10;
        }
        batch.outcomes.push_back(OutcomeRecord{fmt::format("Observation|urn:regenpath:demo|{}-{}-{}", index, id, point + 1),
                                               patient, id, FormatCivilDay(day), value});
      }
    }
    // Adverse events, mostly post-injection flares.
    struct Risk {
      AdverseEventCategory category;
      double p;
    };
    for (const Risk& risk : {Risk{AdverseEventCategory::kPostInjectionFlare, 0.06}, Risk{AdverseEventCategory::kVasovagal, 0.01},
                             Risk{AdverseEventCategory::kBleeding, 0.01}, Risk{AdverseEventCategory::kInfection, 0.003},
                             Risk{AdverseEventCategory::kSensoryDisturbance, 0.01}}) {
      if (!chance(risk.p) || start + 1 >= *today) continue;
      AdverseEventRecord event;
      event.key = fmt::format("AdverseEvent|urn:regenpath:demo|{}-{}", index, AdverseEventCategoryCode(risk.category));
      event.patient = patient;
      event.episode_key = episode.key;
      event.category = risk.category;
      event.serious = risk.category == AdverseEventCategory::kInfection;
      event.onset = FormatCivilDay(start + 1);
      event.resolved = "resolved";
      event.relatedness = "related";
      batch.adverse_events.push_back(std::move(event));
    }
  }
  return batch;
}

}  // namespace regenpath::registry
