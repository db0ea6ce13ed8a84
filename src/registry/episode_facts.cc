#include "registry/episode_facts.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "registry/civil_day.h"

namespace regenpath::registry {

namespace {

constexpr std::string_view kFactsFormat = "facts-v1";

std::string ScoreKey(const std::string& patient, const std::string& instrument) {
  std::string key;
  key.reserve(patient.size() + instrument.size() + 1);
  key.append(patient).push_back('\x1f');
  key.append(instrument);
  return key;
}

// The first instrument of the option's schedule with an MCID (loss of response).
const InstrumentScoring* LossInstrument(const knowledge::Option& option, const InstrumentCatalog& catalog) {
  if (!option.follow_up) return nullptr;
  for (const std::string& id : option.follow_up->instruments) {
    const InstrumentScoring* candidate = catalog.ById(id);
    if (candidate != nullptr && (candidate->mcid_points || candidate->mcid_percent)) return candidate;
  }
  return nullptr;
}

// Writers and readers of the numbers line.
void PutInt(std::string& out, std::optional<int> value) {
  out += value ? fmt::format("{} ", *value) : std::string("- ");
}
void PutScore(std::string& out, const std::optional<DayScore>& score) {
  if (score) {
    out += fmt::format("{} {} ", score->day, score->value);
  } else {
    out += "- ";
  }
}

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool ok() const { return ok_; }
  std::string_view Token() {
    while (at_ < text_.size() && text_[at_] == ' ') ++at_;
    size_t start = at_;
    while (at_ < text_.size() && text_[at_] != ' ') ++at_;
    if (start == at_) ok_ = false;
    return text_.substr(start, at_ - start);
  }
  int Int() {
    std::string_view token = Token();
    int value = 0;
    auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size()) ok_ = false;
    return value;
  }
  double Double() {
    std::string_view token = Token();
    double value = 0;
    auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size()) ok_ = false;
    return value;
  }
  std::optional<int> OptionalInt() {
    if (Peek() == "-") {
      Token();
      return std::nullopt;
    }
    return Int();
  }
  std::optional<DayScore> OptionalScore() {
    if (Peek() == "-") {
      Token();
      return std::nullopt;
    }
    int day = Int();
    double value = Double();
    return DayScore{day, value};
  }

 private:
  std::string_view Peek() {
    size_t saved = at_;
    bool saved_ok = ok_;
    std::string_view token = Token();
    at_ = saved;
    ok_ = saved_ok;
    return token;
  }
  std::string_view text_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace

std::vector<EpisodeFacts> ComputeEpisodeFacts(const Cohort& cohort, const InstrumentCatalog& catalog) {
  std::unordered_map<std::string, std::vector<DayScore>> scores;  // ScoreKey(patient, instrument)
  std::unordered_map<std::string, std::vector<const ProcedureRecord*>> procedures;         // episode key
  std::unordered_map<std::string, std::vector<const AdverseEventRecord*>> adverse_events;  // episode key
  std::unordered_map<std::string, int> last_contact;                                       // patient
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
  for (const AdverseEventRecord& event : cohort.adverse_events) {
    adverse_events[event.episode_key].push_back(&event);
    if (auto day = ParseCivilDay(event.onset)) contact(event.patient, *day);
  }
  static const std::vector<DayScore> kNoScores;

  std::vector<const Episode*> ordered;
  ordered.reserve(cohort.episodes.size());
  for (const Episode& episode : cohort.episodes) ordered.push_back(&episode);
  std::sort(ordered.begin(), ordered.end(), [](const Episode* a, const Episode* b) { return a->key < b->key; });

  std::vector<EpisodeFacts> out;
  out.reserve(ordered.size());
  for (const Episode* episode : ordered) {
    EpisodeFacts facts;
    facts.episode_key = episode->key;
    facts.patient = episode->patient;
    facts.option_id = episode->option_id;
    facts.synthetic = episode->synthetic;
    facts.start_day = ParseCivilDay(episode->start_date);
    facts.condition = episode->condition;
    facts.kb_version = episode->kb_version;
    facts.feedback = episode->feedback;
    if (auto found = last_contact.find(episode->patient); found != last_contact.end()) {
      facts.last_contact_day = found->second;
    }
    // Procedures in the order of the store (episode, date, key); the first
    // index procedure by date for the groups.
    std::vector<const ProcedureRecord*> own;
    if (auto found = procedures.find(episode->key); found != procedures.end()) own = found->second;
    for (const ProcedureRecord* procedure : own) {
      if (procedure->kind == "surgery") {
        if (auto day = ParseCivilDay(procedure->date)) facts.ended_day = *day;
      } else if (facts.first_procedure.empty()) {
        facts.first_procedure = procedure->key;
      }
    }
    std::stable_sort(own.begin(), own.end(),
                     [](const ProcedureRecord* a, const ProcedureRecord* b) { return a->date < b->date; });
    for (const ProcedureRecord* procedure : own) {
      if (procedure->kind == "index") {
        facts.prp_leukocytes = procedure->prp_leukocytes;
        facts.image_guidance = procedure->image_guidance;
        break;
      }
    }
    if (facts.start_day) {
      for (const ProcedureRecord* procedure : own) {
        std::optional<int> day = ParseCivilDay(procedure->date);
        if (!day || *day <= *facts.start_day) continue;
        if (!facts.surgery_day && procedure->kind == "surgery") facts.surgery_day = *day;
        if (!facts.repeat_day && procedure->kind == "index" && procedure->series_number == 1) facts.repeat_day = *day;
      }
    }
    if (auto found = adverse_events.find(episode->key); found != adverse_events.end()) {
      for (const AdverseEventRecord* event : found->second) {
        facts.adverse_events.push_back(AdverseEventFacts{event->category, event->serious});
      }
    }
    const knowledge::Option* option = catalog.kb().FindOption(episode->option_id);
    if (option != nullptr && option->follow_up && facts.start_day) {
      int start = *facts.start_day;
      for (const std::string& id : option->follow_up->instruments) {
        const InstrumentScoring* instrument = catalog.ById(id);
        if (instrument == nullptr) continue;
        auto found = scores.find(ScoreKey(episode->patient, id));
        const std::vector<DayScore>& list = found == scores.end() ? kNoScores : found->second;
        InstrumentFacts instrument_facts;
        instrument_facts.instrument = id;
        instrument_facts.baseline = BaselineOf(list, start, catalog.baseline_window_days());
        if (!list.empty()) instrument_facts.last_score_day = list.back().day;
        for (double weeks : option->follow_up->schedule_weeks) {
          instrument_facts.timepoints.push_back(
              ScoreIn(list, WindowOf(start, weeks, catalog.timepoint_window_fraction())));
        }
        facts.instruments.push_back(std::move(instrument_facts));
      }
      // Loss of response: among episodes that reached a responder score, the
      // first later score that is no longer one; censored at the last score.
      if (const InstrumentScoring* instrument = LossInstrument(*option, catalog)) {
        auto found = scores.find(ScoreKey(episode->patient, instrument->id));
        const std::vector<DayScore>& list = found == scores.end() ? kNoScores : found->second;
        std::optional<DayScore> baseline = BaselineOf(list, start, catalog.baseline_window_days());
        if (baseline) {
          bool responded = false;
          std::optional<int> lost_day;
          int last_day = start;
          for (const DayScore& score : list) {
            if (score.day <= start) continue;
            last_day = score.day;
            bool responder = McidResponder(*instrument, baseline->value, score.value).value_or(false);
            if (responder) {
              responded = true;
            } else if (responded) {
              lost_day = score.day;
              break;
            }
          }
          if (responded) {
            facts.loss_subject = true;
            facts.loss_days = (lost_day ? *lost_day : last_day) - start;
            facts.loss_event = lost_day.has_value();
          }
        }
      }
    }
    out.push_back(std::move(facts));
  }
  return out;
}

FactsRow ToRow(const EpisodeFacts& facts) {
  FactsRow row{facts.episode_key, facts.patient,        facts.option_id,      facts.synthetic,
               facts.condition,   facts.kb_version,     facts.feedback,       facts.prp_leukocytes,
               facts.image_guidance, facts.first_procedure, {}};
  std::string& out = row.numbers;
  out.reserve(64 + 48 * facts.instruments.size() * 6);
  PutInt(out, facts.start_day);
  PutInt(out, facts.repeat_day);
  PutInt(out, facts.surgery_day);
  PutInt(out, facts.last_contact_day);
  PutInt(out, facts.ended_day);
  out += fmt::format("{} {} {} {} ", facts.loss_subject ? 1 : 0, facts.loss_days, facts.loss_event ? 1 : 0,
                     facts.adverse_events.size());
  for (const AdverseEventFacts& event : facts.adverse_events) {
    out += fmt::format("{} {} ", static_cast<int>(event.category), event.serious ? 1 : 0);
  }
  out += fmt::format("{} ", facts.instruments.size());
  for (const InstrumentFacts& instrument : facts.instruments) {
    out += instrument.instrument;
    out += ' ';
    PutScore(out, instrument.baseline);
    PutInt(out, instrument.last_score_day);
    out += fmt::format("{} ", instrument.timepoints.size());
    for (const std::optional<DayScore>& score : instrument.timepoints) PutScore(out, score);
  }
  if (!out.empty()) out.pop_back();
  return row;
}

Result<EpisodeFacts> FromRow(FactsRow row) {
  EpisodeFacts facts;
  facts.episode_key = std::move(row.episode_key);
  facts.patient = std::move(row.patient);
  facts.option_id = std::move(row.option_id);
  facts.synthetic = row.synthetic;
  facts.condition = std::move(row.condition);
  facts.kb_version = std::move(row.kb_version);
  facts.feedback = std::move(row.feedback);
  facts.prp_leukocytes = std::move(row.prp_leukocytes);
  facts.image_guidance = std::move(row.image_guidance);
  facts.first_procedure = std::move(row.first_procedure);
  Reader in(row.numbers);
  facts.start_day = in.OptionalInt();
  facts.repeat_day = in.OptionalInt();
  facts.surgery_day = in.OptionalInt();
  facts.last_contact_day = in.OptionalInt();
  facts.ended_day = in.OptionalInt();
  facts.loss_subject = in.Int() != 0;
  facts.loss_days = in.Int();
  facts.loss_event = in.Int() != 0;
  int events = in.Int();
  for (int index = 0; in.ok() && index < events; ++index) {
    int category = in.Int();
    bool serious = in.Int() != 0;
    if (category < 0 || category > static_cast<int>(AdverseEventCategory::kOther)) category = 5;
    facts.adverse_events.push_back(AdverseEventFacts{static_cast<AdverseEventCategory>(category), serious});
  }
  int instruments = in.Int();
  for (int index = 0; in.ok() && index < instruments; ++index) {
    InstrumentFacts instrument;
    instrument.instrument = std::string(in.Token());
    instrument.baseline = in.OptionalScore();
    instrument.last_score_day = in.OptionalInt();
    int points = in.Int();
    for (int point = 0; in.ok() && point < points; ++point) instrument.timepoints.push_back(in.OptionalScore());
    facts.instruments.push_back(std::move(instrument));
  }
  if (!in.ok()) return Fail(Internal(fmt::format("registry: the stored facts of episode {} are malformed", facts.episode_key)));
  return facts;
}

std::string FactsFingerprint(const InstrumentCatalog& catalog) {
  std::string text = fmt::format("{}|{}|{}|", kFactsFormat, catalog.timepoint_window_fraction(),
                                 catalog.baseline_window_days());
  for (const InstrumentScoring& instrument : catalog.instruments()) {
    text += fmt::format("{}:{}:{}:{};", instrument.id, instrument.direction == Direction::kLowerIsBetter ? "lower" : "higher",
                        instrument.mcid_points ? fmt::format("{}", *instrument.mcid_points) : "-",
                        instrument.mcid_percent ? fmt::format("{}", *instrument.mcid_percent) : "-");
  }
  for (const knowledge::Option& option : catalog.kb().options()) {
    if (!option.follow_up) continue;
    text += option.id + ":";
    for (const std::string& id : option.follow_up->instruments) text += id + ",";
    for (double weeks : option.follow_up->schedule_weeks) text += fmt::format("{},", weeks);
    text += ";";
  }
  // FNV-1a, 64 bits: stable across builds and platforms.
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("{}-{:016x}", kFactsFormat, hash);
}

}  // namespace regenpath::registry
