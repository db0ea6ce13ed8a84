#include "screen/compartment.h"

#include <simdjson.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "fhir/model.h"
#include "fhir/parser.h"

namespace regenpath::screen {

std::optional<std::string_view> PatientIdOfReference(std::string_view reference) {
  constexpr std::string_view kUrnUuid = "urn:uuid:";
  if (reference.starts_with(kUrnUuid)) {
    reference.remove_prefix(kUrnUuid.size());
    if (reference.empty()) return std::nullopt;
    return reference;
  }
  // "Patient/<id>", "<base>/Patient/<id>", "…/Patient/<id>/_history/<v>":
  // read as the engine reads them (assess hands the resource to the same
  // patient).
  const std::string_view id = fhir::PatientIdInReference(reference);
  if (id.empty()) return std::nullopt;
  return id;
}

std::string LineAloneMessage(std::string message) {
  if (message.starts_with("1:")) {
    const size_t digits = message.find_first_not_of("0123456789", 2);
    if (digits != std::string::npos && digits > 2 && message.compare(digits, 2, ": ") == 0) {
      return "column " + message.substr(2);
    }
  }
  return message;
}

uint64_t PatientHash(std::string_view patient_id) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : patient_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

namespace {

constexpr size_t kEnd = std::string_view::npos;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t p) {
  while (p < s.size() && IsJsonSpace(s[p])) ++p;
  return p;
}

// The first position from `p` holding one of `chars` (N of them), or
// s.size(): 16 bytes a step with SSE2 (x86-64's baseline), then bytewise.
template <size_t N>
size_t FindAny(std::string_view s, size_t p, const char (&chars)[N]) {
#ifdef __SSE2__
  __m128i wanted[N];
  for (size_t i = 0; i < N; ++i) wanted[i] = _mm_set1_epi8(chars[i]);
  for (; p + 16 <= s.size(); p += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + p));
    __m128i hits = _mm_cmpeq_epi8(chunk, wanted[0]);
    for (size_t i = 1; i < N; ++i) hits = _mm_or_si128(hits, _mm_cmpeq_epi8(chunk, wanted[i]));
    if (const int mask = _mm_movemask_epi8(hits); mask != 0) return p + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  for (; p < s.size(); ++p) {
    for (char c : chars) {
      if (s[p] == c) return p;
    }
  }
  return s.size();
}

constexpr char kStringEnds[] = {'"', '\\'};
constexpr char kStructure[] = {'"', '{', '}', '[', ']'};

// `p` is inside a string: the position after its closing quote, or kEnd.
// `escaped` tells whether the rest of the string holds a backslash (its raw
// text then differs from its value).
size_t StringEndFrom(std::string_view s, size_t p, bool* escaped = nullptr) {
  for (;;) {
    p = FindAny(s, p, kStringEnds);
    if (p >= s.size()) return kEnd;
    if (s[p] == '"') return p + 1;
    if (escaped != nullptr) *escaped = true;
    p += 2;  // the backslash and the character it escapes
  }
}

// `s[p]` is '"': the position after the closing quote, or kEnd.
size_t SkipString(std::string_view s, size_t p, bool* escaped = nullptr) { return StringEndFrom(s, p + 1, escaped); }

#ifdef __SSE2__
// Bits of the 64 bytes at `data` equal to `c`.
inline uint64_t Matches(const __m128i (&chunks)[4], char c) {
  const __m128i wanted = _mm_set1_epi8(c);
  uint64_t bits = 0;
  for (int i = 0; i < 4; ++i) {
    bits |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunks[i], wanted))))
            << (16 * i);
  }
  return bits;
}
#endif

// Skips the object or array opening at `s[p]` 64 bytes a step while no
// backslash is in sight: the quotes give, by a prefix XOR carried from block
// to block, which bytes are inside strings; the brackets outside them move
// the depth. Returns the position after the closing bracket, or, when it
// cannot go on (a backslash, fewer than 64 bytes left), kEnd with `p`,
// `depth` and `in_string` where the bytewise walk must take over.
size_t SkipContainerByBlocks(std::string_view s, size_t& p, size_t& depth, bool& in_string) {
  in_string = false;
#ifdef __SSE2__
  uint64_t carry = 0;  // all ones when the last block ended inside a string
  while (p + 64 <= s.size()) {
    __m128i chunks[4];
    for (int i = 0; i < 4; ++i) chunks[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + p + 16 * i));
    if (Matches(chunks, '\\') != 0) break;
    uint64_t inside = Matches(chunks, '"');  // bit i: inside a string (or its opening quote)
    inside ^= inside << 1;
    inside ^= inside << 2;
    inside ^= inside << 4;
    inside ^= inside << 8;
    inside ^= inside << 16;
    inside ^= inside << 32;
    inside ^= carry;
    const uint64_t outside = ~inside;
    const uint64_t opens = (Matches(chunks, '{') | Matches(chunks, '[')) & outside;
    const uint64_t closes = (Matches(chunks, '}') | Matches(chunks, ']')) & outside;
    for (uint64_t brackets = opens | closes; brackets != 0; brackets &= brackets - 1) {
      const uint64_t bit = brackets & (~brackets + 1);
      if (opens & bit) {
        ++depth;
      } else if (--depth == 0) {
        return p + static_cast<size_t>(__builtin_ctzll(bit)) + 1;
      }
    }
    carry = (inside >> 63) != 0 ? ~uint64_t{0} : 0;
    p += 64;
  }
  in_string = carry != 0;
#endif
  return kEnd;
}

// A plain string value at `p` (no escapes): its text, and `p` moved past it.
std::optional<std::string_view> PlainString(std::string_view s, size_t& p) {
  if (p >= s.size() || s[p] != '"') return std::nullopt;
  bool escaped = false;
  size_t end = SkipString(s, p, &escaped);
  if (end == kEnd || escaped) return std::nullopt;
  std::string_view text = s.substr(p + 1, end - p - 2);
  p = end;
  return text;
}

// Skips the value at `p` (after spaces); kEnd when the line ends first.
size_t SkipValue(std::string_view s, size_t p) {
  p = SkipSpace(s, p);
  if (p >= s.size()) return kEnd;
  if (s[p] == '"') return SkipString(s, p);
  if (s[p] == '{' || s[p] == '[') {
    size_t depth = 0;
    bool in_string = false;
    if (size_t end = SkipContainerByBlocks(s, p, depth, in_string); end != kEnd) return end;
    if (in_string) {
      p = StringEndFrom(s, p);
      if (p == kEnd) return kEnd;
    }
    for (;;) {
      p = FindAny(s, p, kStructure);
      if (p >= s.size()) return kEnd;
      const char c = s[p];
      if (c == '"') {
        p = SkipString(s, p);
        if (p == kEnd) return kEnd;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (--depth == 0) {
        return p + 1;
      }
      ++p;
    }
  }
  while (p < s.size() && s[p] != ',' && s[p] != '}' && s[p] != ']' && !IsJsonSpace(s[p])) ++p;
  return p;
}

// Reads `"key" :` at `p` (after spaces); the key, and `p` at its value.
std::optional<std::string_view> KeyAt(std::string_view s, size_t& p) {
  p = SkipSpace(s, p);
  std::optional<std::string_view> key = PlainString(s, p);
  if (!key) return std::nullopt;
  p = SkipSpace(s, p);
  if (p >= s.size() || s[p] != ':') return std::nullopt;
  p = SkipSpace(s, p + 1);
  return key;
}

// After a member's value: past a ',' (true) or at the closing '}' (false,
// `closed` set); anything else leaves `closed` false and returns false.
bool NextMember(std::string_view s, size_t& p, bool& closed) {
  p = SkipSpace(s, p);
  closed = false;
  if (p < s.size() && s[p] == ',') {
    ++p;
    return true;
  }
  closed = p < s.size() && s[p] == '}';
  return false;
}

// The reference object at `p` ({"reference": "..."} with other members),
// read as PatientOfElement reads it.
FastPatient FastReference(std::string_view s, size_t p) {
  if (p >= s.size() || s[p] != '{') return {};
  ++p;
  if (size_t at = SkipSpace(s, p); at < s.size() && s[at] == '}') return {FastLook::kNoPatient, {}};
  for (;;) {
    std::optional<std::string_view> key = KeyAt(s, p);
    if (!key || *key == "actor") return {};
    if (*key == "reference") {
      std::optional<std::string_view> reference = PlainString(s, p);
      if (!reference) return {};
      std::optional<std::string_view> id = PatientIdOfReference(*reference);
      if (!id) return {FastLook::kNoPatient, {}};
      return {FastLook::kPatient, *id};
    }
    p = SkipValue(s, p);
    if (p == kEnd) return {};
    bool closed = false;
    if (!NextMember(s, p, closed)) return closed ? FastPatient{FastLook::kNoPatient, {}} : FastPatient{};
  }
}

}  // namespace

FastPatient FastPatientOf(std::string_view line) {
  size_t p = SkipSpace(line, 0);
  if (p >= line.size() || line[p] != '{') return {};
  ++p;
  std::optional<std::string_view> element;  // known once resourceType is read
  std::optional<std::string_view> early_id;  // a plain "id" met before resourceType
  bool early_id_other = false;               // an "id" met before it that is not one
  for (;;) {
    std::optional<std::string_view> key = KeyAt(line, p);
    if (!key) return {};
    if (!element) {
      if (*key == "resourceType") {
        std::optional<std::string_view> type = PlainString(line, p);
        if (!type || type->empty()) return {};
        element = PatientElement(*type);
        if (!element) return {FastLook::kNoPatient, {}};
        if (*element == "id" && (early_id || early_id_other)) {
          if (early_id_other || early_id->empty()) return {};
          return {FastLook::kPatient, *early_id};
        }
      } else if (*key == "id" && !early_id && !early_id_other) {
        size_t at = p;
        early_id = PlainString(line, at);
        early_id_other = !early_id;
        p = SkipValue(line, p);
      } else if (*key == "subject" || *key == "patient" || *key == "beneficiary" || *key == "participant" ||
                 *key == "actor") {
        return {};  // the element may come before resourceType: QuickPatient reads that
      } else {
        p = SkipValue(line, p);
      }
    } else if (*key == *element) {
      if (*element == "id") {
        std::optional<std::string_view> id = PlainString(line, p);
        if (!id || id->empty()) return {};
        return {FastLook::kPatient, *id};
      }
      return FastReference(line, p);
    } else {
      p = SkipValue(line, p);
    }
    if (p == kEnd) return {};
    bool closed = false;
    if (!NextMember(line, p, closed)) {
      // The object ended without the element (or without a resourceType):
      // a valid line names no patient.
      return closed ? FastPatient{FastLook::kNoPatient, {}} : FastPatient{};
    }
  }
}

struct LineRouter::Impl {
  Impl(const fhir::ParseOptions* options, const std::set<std::string, std::less<>>* shared)
      : record_options(options), shared_types(shared) {
    if (shared != nullptr) {
      for (const std::string& type : *shared) shared_prefixes.push_back(type + "/");
    }
  }
  // Lines are parsed by `shallow` first: one it refuses for its depth alone
  // is parsed again by `parser` (simdjson's default depth limit), and gets
  // no skeleton. (Walking every line's tree for its depth was 1.7 % of a
  // screening's instructions.)
  simdjson::dom::parser shallow;
  simdjson::dom::parser parser;
  simdjson::ondemand::parser quick_parser;
  // For a line the DOM refuses for a number alone: the record parser's
  // options (null: no second opinion), and the parser, made when first needed.
  const fhir::ParseOptions* record_options;
  std::unique_ptr<fhir::Parser> record_parser;
  const std::set<std::string, std::less<>>* shared_types;  // may be null
  std::vector<std::string> shared_prefixes;                // "T/" per shared type

  // True when `line` may reference a shared resource (see
  // shared_resources.h: a string value "T/id"): it holds "T/" for a shared
  // type T ("Medication/", which "MedicationRequest" is not). (A line with
  // an escape, which may spell one, Medication\/m1 or \u004dedication/m1,
  // is never passed over: a backslash is one of fhir::ResourceFilter's
  // needles.)
  bool MayReferenceShared(std::string_view line) const {
    for (const std::string& prefix : shared_prefixes) {
      if (line.find(prefix) != std::string_view::npos) return true;
    }
    return false;
  }
  bool IsShared(std::string_view type) const {
    return shared_types != nullptr && shared_types->find(type) != shared_types->end();
  }
};

LineRouter::LineRouter(const fhir::ParseOptions* record_options,
                       const std::set<std::string, std::less<>>* shared_types)
    : impl_(std::make_unique<Impl>(record_options, shared_types)) {
  // The depth limit is set by allocating (and kept when a longer line makes
  // the parser allocate again).
  if (impl_->shallow.allocate(size_t{64} << 10, SkeletonDepthLimit()) != simdjson::SUCCESS)
    throw std::bad_alloc();
}
LineRouter::~LineRouter() = default;

namespace {

// The patient a reference element names: {"reference": "..."}; for
// Appointment.participant and the like, the first actor that is a patient.
std::optional<std::string_view> PatientOfElement(simdjson::dom::element element) {
  simdjson::dom::array items;
  if (element.get_array().get(items) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : items) {
      if (std::optional<std::string_view> id = PatientOfElement(item)) return id;
    }
    return std::nullopt;
  }
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  std::string_view reference;
  if (object["reference"].get_string().get(reference) == simdjson::SUCCESS) return PatientIdOfReference(reference);
  // participant.actor / actor
  simdjson::dom::element actor;
  if (object["actor"].get(actor) == simdjson::SUCCESS) return PatientOfElement(actor);
  return std::nullopt;
}

// PatientOfElement for an On-Demand value (the same rule).
std::optional<std::string> QuickPatientOfValue(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return std::nullopt;
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array items;
    if (value.get_array().get(items) != simdjson::SUCCESS) return std::nullopt;
    for (auto item : items) {
      simdjson::ondemand::value element;
      if (item.get(element) != simdjson::SUCCESS) return std::nullopt;
      if (std::optional<std::string> id = QuickPatientOfValue(element)) return id;
    }
    return std::nullopt;
  }
  if (type != simdjson::ondemand::json_type::object) return std::nullopt;
  simdjson::ondemand::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  // The DOM rule reads "reference" first and "actor" only without one.
  std::optional<std::string> from_actor;
  bool has_reference = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key == "reference" && !has_reference) {
      has_reference = true;
      std::string_view reference;
      if (field.value().get_string().get(reference) != simdjson::SUCCESS) return std::nullopt;
      std::optional<std::string_view> id = PatientIdOfReference(reference);
      if (!id) return std::nullopt;
      return std::string(*id);
    }
    if (key == "actor" && !from_actor) {
      simdjson::ondemand::value actor;
      if (field.value().get(actor) != simdjson::SUCCESS) return std::nullopt;
      from_actor = QuickPatientOfValue(actor);
      if (!from_actor) return std::nullopt;  // the DOM rule looks no further either
    }
  }
  return from_actor;
}

}  // namespace

std::optional<LineRouting> LineRouter::QuickRoute(std::string_view line, size_t capacity) {
  if (capacity < line.size() + simdjson::SIMDJSON_PADDING) return std::nullopt;
  simdjson::ondemand::document document;
  if (impl_->quick_parser.iterate(line.data(), line.size(), capacity).get(document) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::ondemand::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  // One pass over the top-level fields: resourceType, then the element that
  // names the patient (first occurrence of each, as the DOM lookup takes).
  LineRouting routing;
  std::optional<std::string_view> element;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key != "resourceType") continue;
    std::string_view value;
    if (field.value().get_string().get(value) != simdjson::SUCCESS || value.empty()) return std::nullopt;
    routing.resource_type = std::string(value);
    element = PatientElement(value);
    if (!element) {
      routing.kind = LineKind::kOutsideCompartment;
      if (impl_->IsShared(value))
        element = "id";  // read below, as a Patient's
      else
        return routing;
    }
    // The element may come before resourceType: start again from the top.
    break;
  }
  if (!element) return std::nullopt;
  const bool shared = routing.kind == LineKind::kOutsideCompartment;
  if (!shared) routing.kind = LineKind::kNoPatient;
  if (object.reset().error() != simdjson::SUCCESS) return std::nullopt;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    if (key != *element) continue;
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) return std::nullopt;
    std::optional<std::string> patient;
    if (*element == "id") {
      std::string_view own;
      if (value.get_string().get(own) == simdjson::SUCCESS && !own.empty()) patient = std::string(own);
    } else {
      patient = QuickPatientOfValue(value);
    }
    if (shared) {
      if (patient) {
        routing.kind = LineKind::kSharedResource;
        routing.shared_id = std::move(*patient);
      }
      return routing;
    }
    if (patient) {
      routing.kind = LineKind::kPatientResource;
      routing.patient_id = std::move(*patient);
    }
    return routing;
  }
  return routing;
}

std::optional<std::string> LineRouter::QuickPatient(std::string_view line, size_t capacity) {
  std::optional<LineRouting> routing = QuickRoute(line, capacity);
  if (!routing || routing->kind != LineKind::kPatientResource) return std::nullopt;
  return std::move(routing->patient_id);
}

fhir::Parser& LineRouter::RecordParser() {
  if (impl_->record_parser == nullptr)
    impl_->record_parser = std::make_unique<fhir::Parser>(*impl_->record_options);
  return *impl_->record_parser;
}

LineRouting LineRouter::RouteByRecordParser(std::string_view line, size_t capacity,
                                            std::string_view dom_message) {
  if (impl_->record_options == nullptr) {
    LineRouting routing;
    routing.message = std::string(dom_message);
    return routing;
  }
  return RouteJudged(line, capacity, dom_message, RecordParser().ParseNdjson(line, "line"));
}

LineRouting LineRouter::RouteJudged(std::string_view line, size_t capacity, std::string_view dom_message,
                                    const Result<fhir::Document>& parsed) {
  LineRouting routing;
  routing.message = std::string(dom_message);
  std::optional<LineRouting> quick = QuickRoute(line, capacity);
  if (!parsed.has_value()) {
    // "line: line 1: what is wrong": what is wrong, as assess would say it.
    const std::string& message = parsed.error().message();
    const size_t at = message.find("line 1: ");
    routing.message = LineAloneMessage(at == std::string::npos ? message : message.substr(at + 8));
    // A line that names its patient, as far as a look at its first fields
    // tells, goes to that patient too, whole: their record's parse refuses it
    // again, so that the record has the issue, as assess on the patient's
    // own file has.
    // (QuickRoute cannot read a line simdjson's structural pass refuses,
    // invalid UTF-8 or a raw control character in a string: then the raw
    // look shards route lines by.)
    // So does a shared resource (a Medication) to the records that
    // reference it: each one's own file has it, and their parse refuses it.
    if (quick && (quick->kind == LineKind::kPatientResource || quick->kind == LineKind::kSharedResource)) {
      quick->message = std::move(routing.message);
      return std::move(*quick);
    }
    if (!quick) {
      if (const FastPatient fast = FastPatientOf(line); fast.look == FastLook::kPatient) {
        routing.kind = LineKind::kPatientResource;
        routing.patient_id = std::string(fast.patient_id);
      }
    }
    return routing;
  }
  if (!quick) return routing;  // (a line the record parser takes names its type: not reached)
  return std::move(*quick);    // passed on whole: the record parser reads it as assess does
}

namespace {

// True iff JSON would write `text` with an escape (a quote, a backslash or
// a control character). Eight bytes a step: (x - n) & ~x & 0x80.. is not
// zero iff some byte of x is below n (n <= 0x80; a byte of 0x80 or more
// never counts), so a quote or backslash is a byte of x ^ it below 1.
bool NeedsEscape(std::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const auto below = [](uint64_t word, uint64_t n) { return (word - kOnes * n) & ~word & kHigh; };
  size_t at = 0;
  for (; at + 8 <= text.size(); at += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + at, 8);
    if (below(word ^ (kOnes * '"'), 1) | below(word ^ (kOnes * '\\'), 1) | below(word, 0x20)) return true;
  }
  for (; at < text.size(); ++at) {
    const char byte = text[at];
    if (byte == '"' || byte == '\\' || static_cast<unsigned char>(byte) < 0x20) return true;
  }
  return false;
}

// Appends `element` to `out` as minified JSON, its strings as they are.
// False (with `out` part written) when it is or holds a number (whose text
// minified JSON may not keep: 12.50 comes out 12.5, and the parser keeps a
// number's text), or a string that would need an escape: never on a line
// the resource filter passes over (it holds no backslash, and the DOM
// parser refuses raw control characters), but checked all the same.
bool AppendPlainJson(const simdjson::dom::element& element, std::string& out) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      out += '{';
      bool first = true;
      for (simdjson::dom::key_value_pair field : simdjson::dom::object(element)) {
        if (!first) out += ',';
        first = false;
        if (NeedsEscape(field.key)) return false;
        out += '"';
        out += field.key;
        out += "\":";
        if (!AppendPlainJson(field.value, out)) return false;
      }
      out += '}';
      return true;
    }
    case simdjson::dom::element_type::ARRAY: {
      out += '[';
      bool first = true;
      for (simdjson::dom::element item : simdjson::dom::array(element)) {
        if (!first) out += ',';
        first = false;
        if (!AppendPlainJson(item, out)) return false;
      }
      out += ']';
      return true;
    }
    case simdjson::dom::element_type::STRING: {
      const std::string_view text = element.get_string().value_unsafe();
      if (NeedsEscape(text)) return false;
      out += '"';
      out += text;
      out += '"';
      return true;
    }
    case simdjson::dom::element_type::BOOL:
      out += element.get_bool().value_unsafe() ? "true" : "false";
      return true;
    case simdjson::dom::element_type::NULL_VALUE:
      out += "null";
      return true;
    default:  // a number
      return false;
  }
}

}  // namespace

size_t SkeletonDepthLimit() { return fhir::ParseOptions().max_depth / 2; }

bool SkeletonLine(const simdjson::dom::object& object, std::string_view type,
                  const fhir::ResourceFilter& filter, std::string& out) {
  // Whether the skeleton keeps a member, by type and key: the same few keys
  // come on every line, so a short list, searched in order, without
  // building a key. (Per thread; the answer depends on nothing else, the
  // skeleton's elements being the same for every filter. Bounded: odd data
  // with ever new keys empties it now and then.)
  struct Kept {
    std::string type, key;
    bool keeps = false;
  };
  thread_local std::vector<Kept> kept;
  std::string line;
  line.reserve(192);  // a usual skeleton (type, id, patient reference) in one allocation
  line += R"({"resourceType":")";
  line += type;
  line += '"';
  for (simdjson::dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    if (key == "resourceType") continue;
    const std::string_view json_name = key.size() > 1 && key.front() == '_' ? key.substr(1) : key;
    // Most members: no kept name starts theirs, so none is kept.
    if (!filter.skeleton().MayKeep(json_name)) continue;
    auto found = std::find_if(kept.begin(), kept.end(),
                              [&](const Kept& entry) { return entry.key == key && entry.type == type; });
    if (found == kept.end()) {
      // As the parser decides which members a skeleton keeps (parser.cc, BuildFields).
      const fhir::TypeInfo* info = fhir::Model::R4().FindResourceType(type);
      fhir::JsonPropertyMatch match;
      if (info != nullptr) match = fhir::Model::ResolveJsonProperty(*info, json_name);
      // (Checked per member: a line of many keys starting with a kept name
      // would otherwise make the list, and each search of it, as long.)
      if (kept.size() >= 64) kept.clear();
      kept.push_back({std::string(type), std::string(key),
                      filter.skeleton().Keeps(
                          match.element != nullptr ? match.element->name : std::string_view(), json_name)});
      found = kept.end() - 1;
    }
    if (!found->keeps) continue;
    line += ",\"";
    line += key;
    line += "\":";
    if (!AppendPlainJson(field.value, line)) return false;
  }
  line += '}';
  out = std::move(line);
  return true;
}

LineRouting LineRouter::Route(std::string_view line, size_t capacity, const fhir::ResourceFilter* skeletons) {
  LineRouting routing;
  const auto* bytes = reinterpret_cast<const uint8_t*>(line.data());
  const bool copy = capacity < line.size() + simdjson::SIMDJSON_PADDING;
  simdjson::dom::element root;
  simdjson::error_code error = impl_->shallow.parse(bytes, line.size(), copy).get(root);
  const bool shallow = error != simdjson::DEPTH_ERROR;
  if (!shallow) {
    // Deeper than a skeleton may be (rare). The record parser's depth limit
    // (assess's) is not the DOM's: a line it refuses is malformed, as any
    // line it refuses is; one it takes is read by the DOM.
    if (impl_->record_options != nullptr) {
      Result<fhir::Document> judged = RecordParser().ParseNdjson(line, "line");
      if (!judged.has_value()) return RouteJudged(line, capacity, {}, judged);
    }
    error = impl_->parser.parse(bytes, line.size(), copy).get(root);
  }
  if (error) {
    // The record parser (assess's) judges a line the DOM refuses. The DOM
    // refuses numbers beyond 64-bit integers and doubles, which FHIR
    // decimals may be (2^64, 1e400) and the record parser reads as written;
    // and the record parser may take a line whose fault lies in an element
    // it passes over, or refuse it naming its patient (RouteByRecordParser).
    return RouteByRecordParser(line, capacity, simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    routing.message = "the line is not a JSON object";
    return routing;
  }
  std::string_view type;
  if (object["resourceType"].get_string().get(type) != simdjson::SUCCESS || type.empty()) {
    routing.message = "the JSON object has no resourceType";
    return routing;
  }
  routing.resource_type = std::string(type);
  std::optional<std::string_view> element = PatientElement(type);
  if (!element) {
    routing.kind = LineKind::kOutsideCompartment;
    std::string_view id;
    if (impl_->IsShared(type) && object["id"].get_string().get(id) == simdjson::SUCCESS && !id.empty()) {
      routing.kind = LineKind::kSharedResource;
      routing.shared_id = std::string(id);
    }
    return routing;
  }
  std::optional<std::string_view> id;
  if (*element == "id") {
    std::string_view own;
    if (object["id"].get_string().get(own) == simdjson::SUCCESS && !own.empty()) id = own;
  } else {
    simdjson::dom::element value;
    if (object[*element].get(value) == simdjson::SUCCESS) id = PatientOfElement(value);
  }
  if (!id) {
    routing.kind = LineKind::kNoPatient;
    return routing;
  }
  routing.kind = LineKind::kPatientResource;
  routing.patient_id = std::string(*id);
  // A line too deep for `shallow` gets no skeleton (SkeletonLine takes
  // only what `shallow` parsed); nor does one that may reference a shared
  // resource: the record gets the shared lines its lines reference (the
  // reference would be gone from the skeleton), and the record parser makes
  // the same skeleton of it as `assess` does.
  if (skeletons != nullptr && shallow && skeletons->Skips(type, line) && !impl_->MayReferenceShared(line)) {
    // The parser decides again on the short line: it must pass it over too.
    // Joining members can make a needle only when one holds punctuation
    // (ResourceFilter::NeedlesSpanTokens); only then is it searched again.
    if (SkeletonLine(object, type, *skeletons, routing.skeleton) && skeletons->NeedlesSpanTokens() &&
        !skeletons->Skips(type, routing.skeleton)) {
      routing.skeleton.clear();
    }
  }
  return routing;
}

}  // namespace regenpath::screen
