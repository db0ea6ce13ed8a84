#include "registry/episode_facts.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "registry/civil_day.h"

namespace regenpath::registry {

namespace {

// facts-v3: the compact record below (facts-v2 stored every day as 4 bytes
// and every score as 13); a store holding another format rebuilds its
// facts (the fingerprint changes).
constexpr std::string_view kFactsFormat = "facts-v3";

// A patient's scores on one instrument, found by (patient, instrument)
// without building a key string per score.
using ScoreKey = std::pair<std::string_view, std::string_view>;
struct ScoreKeyHash {
  size_t operator()(const ScoreKey& key) const {
    size_t patient = std::hash<std::string_view>()(key.first);
    return patient ^ (std::hash<std::string_view>()(key.second) + 0x9e3779b97f4a7c15ULL + (patient << 6) + (patient >> 2));
  }
};


// The binary record (facts-v3), little-endian:
//   flags byte (kHas* below); the days present among start, repeat,
//   surgery, last contact and ended, each an int32; loss_days (int32) when
//   kHasLossDays; the number of adverse events (varint), one byte each
//   (category | serious << 7); the number of instruments (byte), each: its
//   id (length byte + bytes), baseline (score), last score day (score-day),
//   the number of timepoints (byte) and a score each.
//   A score: tag byte 0 (none), 1 (int32 day, float64 value) or 2 (int16
//   day minus the start day, int16 ten times the value) — the short form
//   only when it gives back the same day and the same double, bit for bit
//   (most scores: integers or tenths near the start). A score-day: the
//   same tags without the value.
// The start day is 0 for these offsets when absent.
constexpr uint8_t kHasStart = 1;
constexpr uint8_t kHasRepeat = 2;
constexpr uint8_t kHasSurgery = 4;
constexpr uint8_t kHasLastContact = 8;
constexpr uint8_t kHasEnded = 16;
constexpr uint8_t kLossSubject = 32;
constexpr uint8_t kLossEvent = 64;
constexpr uint8_t kHasLossDays = 128;

constexpr uint8_t kNoScore = 0;
constexpr uint8_t kFullScore = 1;
constexpr uint8_t kShortScore = 2;

// The short form of a value: ten times it as an int16, if that gives back
// exactly the same double.
std::optional<int16_t> TenthsOf(double value) {
  if (!(value > -3276.8 && value < 3276.8)) return std::nullopt;  // also NaN
  double scaled = std::nearbyint(value * 10);
  double back = scaled / 10;
  if (std::bit_cast<uint64_t>(back) != std::bit_cast<uint64_t>(value)) return std::nullopt;  // also -0.0
  return static_cast<int16_t>(scaled);
}

std::optional<int16_t> OffsetOf(int day, int base) {
  int64_t offset = static_cast<int64_t>(day) - base;
  if (offset < INT16_MIN || offset > INT16_MAX) return std::nullopt;
  return static_cast<int16_t>(offset);
}

class Writer {
 public:
  Writer(std::string& out, int base) : out_(out), base_(base) {}
  void Byte(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void Int(int32_t value) { Raw(&value, sizeof value); }
  void Short(int16_t value) { Raw(&value, sizeof value); }
  void Double(double value) { Raw(&value, sizeof value); }
  void Varint(uint32_t value) {
    while (value >= 0x80) {
      Byte(static_cast<uint8_t>(value | 0x80));
      value >>= 7;
    }
    Byte(static_cast<uint8_t>(value));
  }
  void Score(const std::optional<DayScore>& score) {
    if (!score) return Byte(kNoScore);
    std::optional<int16_t> offset = OffsetOf(score->day, base_);
    std::optional<int16_t> tenths = TenthsOf(score->value);
    if (offset && tenths) {
      Byte(kShortScore);
      Short(*offset);
      Short(*tenths);
    } else {
      Byte(kFullScore);
      Int(score->day);
      Double(score->value);
    }
  }
  void Day(const std::optional<int>& day) {
    if (!day) return Byte(kNoScore);
    if (std::optional<int16_t> offset = OffsetOf(*day, base_)) {
      Byte(kShortScore);
      Short(*offset);
    } else {
      Byte(kFullScore);
      Int(*day);
    }
  }
  void Text(std::string_view text) {
    Byte(static_cast<uint8_t>(std::min<size_t>(text.size(), 255)));
    out_.append(text.substr(0, 255));
  }

 private:
  void Raw(const void* data, size_t size) {
    // The registry runs on little-endian machines (x86-64, arm64); the
    // format is defined as little-endian.
    static_assert(std::endian::native == std::endian::little);
    out_.append(static_cast<const char*>(data), size);
  }
  std::string& out_;
  int base_;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  void set_base(int base) { base_ = base; }
  bool ok() const { return ok_ && at_ == data_.size(); }
  bool good() const { return ok_; }
  uint8_t Byte() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(data_[at_++]);
  }
  int32_t Int() {
    int32_t value = 0;
    Raw(&value, sizeof value);
    return value;
  }
  int16_t Short() {
    int16_t value = 0;
    Raw(&value, sizeof value);
    return value;
  }
  double Double() {
    double value = 0;
    Raw(&value, sizeof value);
    return value;
  }
  uint32_t Varint() {
    uint32_t value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      uint8_t byte = Byte();
      value |= static_cast<uint32_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    ok_ = false;
    return 0;
  }
  std::optional<DayScore> Score() {
    switch (Byte()) {
      case kNoScore:
        return std::nullopt;
      case kShortScore: {
        int day = base_ + Short();
        double value = static_cast<double>(Short()) / 10;
        return DayScore{day, value};
      }
      case kFullScore: {
        int day = Int();
        double value = Double();
        return DayScore{day, value};
      }
      default:
        ok_ = false;
        return std::nullopt;
    }
  }
  std::optional<int> Day() {
    switch (Byte()) {
      case kNoScore:
        return std::nullopt;
      case kShortScore:
        return base_ + Short();
      case kFullScore:
        return Int();
      default:
        ok_ = false;
        return std::nullopt;
    }
  }
  std::string_view Text() {
    size_t size = Byte();
    if (!Need(size)) return {};
    std::string_view text = data_.substr(at_, size);
    at_ += size;
    return text;
  }

 private:
  bool Need(size_t size) {
    if (!ok_ || at_ + size > data_.size()) {
      ok_ = false;
      return false;
    }
    return true;
  }
  void Raw(void* value, size_t size) {
    if (!Need(size)) return;
    std::memcpy(value, data_.data() + at_, size);
    at_ += size;
  }
  std::string_view data_;
  size_t at_ = 0;
  bool ok_ = true;
  int base_ = 0;
};

constexpr char kGroupSeparator = '\x1f';

}  // namespace

const InstrumentScoring* LossInstrument(const knowledge::Option& option, const InstrumentCatalog& catalog) {
  if (!option.follow_up) return nullptr;
  for (const std::string& id : option.follow_up->instruments) {
    const InstrumentScoring* candidate = catalog.ById(id);
    if (candidate != nullptr && (candidate->mcid_points || candidate->mcid_percent)) return candidate;
  }
  return nullptr;
}

std::vector<EpisodeFacts> ComputeEpisodeFacts(const Cohort& cohort, const InstrumentCatalog& catalog) {
  std::unordered_map<ScoreKey, std::vector<DayScore>, ScoreKeyHash> scores;  // views into `cohort`
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
  FactsRow row;
  row.option_id = facts.option_id;
  row.episode_key = facts.episode_key;
  row.patient = facts.patient;
  row.synthetic = facts.synthetic;
  for (const std::string* value : {&facts.condition, &facts.kb_version, &facts.feedback, &facts.prp_leukocytes,
                                   &facts.image_guidance, &facts.first_procedure}) {
    if (value != &facts.condition) row.groups.push_back(kGroupSeparator);
    // A separator inside a value (never in knowledge-base ids or FHIR codes)
    // becomes a space rather than shifting the columns.
    for (char c : *value) row.groups.push_back(c == kGroupSeparator ? ' ' : c);
  }
  uint8_t flags = (facts.start_day ? kHasStart : 0) | (facts.repeat_day ? kHasRepeat : 0) |
                  (facts.surgery_day ? kHasSurgery : 0) | (facts.last_contact_day ? kHasLastContact : 0) |
                  (facts.ended_day ? kHasEnded : 0) | (facts.loss_subject ? kLossSubject : 0) |
                  (facts.loss_event ? kLossEvent : 0) | (facts.loss_days != 0 ? kHasLossDays : 0);
  Writer out(row.data, facts.start_day.value_or(0));
  out.Byte(flags);
  for (const std::optional<int>* day :
       {&facts.start_day, &facts.repeat_day, &facts.surgery_day, &facts.last_contact_day, &facts.ended_day}) {
    if (*day) out.Int(**day);
  }
  if (facts.loss_days != 0) out.Int(facts.loss_days);
  out.Varint(static_cast<uint32_t>(facts.adverse_events.size()));
  for (const AdverseEventFacts& event : facts.adverse_events) {
    out.Byte(static_cast<uint8_t>(static_cast<uint8_t>(event.category) | (event.serious ? 0x80 : 0)));
  }
  out.Byte(static_cast<uint8_t>(facts.instruments.size()));
  for (const InstrumentFacts& instrument : facts.instruments) {
    out.Text(instrument.instrument);
    out.Score(instrument.baseline);
    out.Day(instrument.last_score_day);
    out.Byte(static_cast<uint8_t>(instrument.timepoints.size()));
    for (const std::optional<DayScore>& score : instrument.timepoints) out.Score(score);
  }
  return row;
}

Result<EpisodeFacts> FromRow(FactsRow row) {
  EpisodeFacts facts;
  RP_RETURN_IF_ERROR(DecodeFacts(FactsRowView{row.option_id, row.episode_key, row.patient, row.synthetic, row.groups,
                                              row.data},
                                 facts));
  return facts;
}

Status DecodeFacts(const FactsRowView& row, EpisodeFacts& facts) {
  // Every field is assigned (strings and vectors keep their capacity).
  facts.episode_key.assign(row.episode_key);
  facts.patient.assign(row.patient);
  facts.option_id.assign(row.option_id);
  facts.synthetic = row.synthetic;
  std::string* values[] = {&facts.condition, &facts.kb_version, &facts.feedback, &facts.prp_leukocytes,
                           &facts.image_guidance, &facts.first_procedure};
  if (!row.has_groups) {
    for (std::string* value : values) value->clear();
  }
  size_t start = 0;
  for (size_t index = 0; row.has_groups && index < std::size(values); ++index) {
    size_t end = row.groups.find(kGroupSeparator, start);
    bool last = index + 1 == std::size(values);
    if ((end == std::string_view::npos) != last) {
      return Internal(fmt::format("registry: the stored groups of episode {} are malformed", facts.episode_key));
    }
    if (end == std::string_view::npos) end = row.groups.size();
    values[index]->assign(row.groups.substr(start, end - start));
    start = end + 1;
  }
  Reader in(row.data);
  uint8_t flags = in.Byte();
  auto day_if = [&](uint8_t flag) -> std::optional<int> {
    if ((flags & flag) == 0) return std::nullopt;
    return in.Int();
  };
  facts.start_day = day_if(kHasStart);
  facts.repeat_day = day_if(kHasRepeat);
  facts.surgery_day = day_if(kHasSurgery);
  facts.last_contact_day = day_if(kHasLastContact);
  facts.ended_day = day_if(kHasEnded);
  facts.loss_subject = (flags & kLossSubject) != 0;
  facts.loss_event = (flags & kLossEvent) != 0;
  facts.loss_days = (flags & kHasLossDays) != 0 ? in.Int() : 0;
  in.set_base(facts.start_day.value_or(0));
  uint32_t events = in.Varint();
  if (events > 100000) {
    return Internal(fmt::format("registry: the stored facts of episode {} are malformed", facts.episode_key));
  }
  facts.adverse_events.clear();
  for (uint32_t index = 0; in.good() && index < events; ++index) {
    uint8_t byte = in.Byte();
    int category = byte & 0x7f;
    bool serious = (byte & 0x80) != 0;
    if (category > static_cast<int>(AdverseEventCategory::kOther)) category = static_cast<int>(AdverseEventCategory::kOther);
    facts.adverse_events.push_back(AdverseEventFacts{static_cast<AdverseEventCategory>(category), serious});
  }
  int instruments = in.Byte();
  // Resized, not cleared: the elements' strings and vectors are reused.
  facts.instruments.resize(in.good() ? instruments : 0);
  for (int index = 0; in.good() && index < instruments; ++index) {
    InstrumentFacts& instrument = facts.instruments[index];
    instrument.instrument.assign(in.Text());
    instrument.baseline = in.Score();
    instrument.last_score_day = in.Day();
    int points = in.Byte();
    instrument.timepoints.clear();
    for (int point = 0; in.good() && point < points; ++point) instrument.timepoints.push_back(in.Score());
  }
  if (!in.ok()) return Internal(fmt::format("registry: the stored facts of episode {} are malformed", facts.episode_key));
  return Status::Ok();
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
