// Which patient a Bulk Data resource belongs to, read from one NDJSON line.
//
// The rule is FHIR R4's Patient CompartmentDefinition, for the resource types
// a patient record holds: a Patient is its own (Patient.id); the other types
// name their patient in one element (subject, patient or beneficiary). A
// reference names a patient when it is "Patient/<id>" (relative, absolute or
// with /_history/<v>) or "urn:uuid:<id>". Types outside the table (Practitioner,
// Organization, Location, Medication, ...) belong to no patient.
//
// Pure functions; thread-safe.
#ifndef REGENPATH_SCREEN_COMPARTMENT_H_
#define REGENPATH_SCREEN_COMPARTMENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "fhir/parser.h"
#include "fhir/patient_compartment.h"
#include "fhir/resource_filter.h"

namespace regenpath::screen {

using fhir::PatientElement;  // (fhir/patient_compartment.h)

// The patient id a Reference.reference names, or nullopt when it names no
// patient ("Group/1", "#contained", "").
std::optional<std::string_view> PatientIdOfReference(std::string_view reference);

// The record parser's message for an NDJSON line parsed alone, where it
// points into the line ("1:96: malformed JSON", line 1 always): said with
// the column only ("column 96: malformed JSON"), since the line is named
// apart (its file and line). Any other message as it is.
std::string LineAloneMessage(std::string message);

enum class LineKind {
  kPatientResource,     // belongs to `patient_id`
  kOutsideCompartment,  // a resource type that belongs to no patient
  kSharedResource,      // outside the compartment, of a type patients' records reference (`shared_id` given)
  kNoPatient,           // a patient-compartment type whose resource names no patient
  kMalformed,           // not a JSON object with a resourceType
};

struct LineRouting {
  LineKind kind = LineKind::kMalformed;
  std::string resource_type;
  std::string patient_id;  // for kPatientResource
  // For kMalformed: what is wrong. For kPatientResource, when not empty:
  // the line is malformed (the record parser refuses it) but names its
  // patient as far as a look at its first fields tells (it goes whole to
  // their record, whose parse refuses it again; and it is the run's issue
  // too). For kSharedResource, when not empty: the line is malformed but a
  // look at its fields reads its type and id; it goes whole to the records
  // that reference it, whose parse refuses it again, and is the run's issue
  // too. Empty for a line the record parser takes.
  std::string message;
  std::string shared_id;   // for kSharedResource: its id
  // For kPatientResource, when Route was given a resource filter that passes
  // the line over: the line to parse in its place (SkeletonLine); else empty.
  std::string skeleton;
};

// The skeleton line of a resource (`object`, of type `type`) that `filter`
// passes over: its resourceType and, in their order, the members the
// filter's skeleton keeps (their `_name` parts included), each value as
// minified JSON with its strings as they are. fhir::Parser builds it into
// the same skeleton node, with the same issues, as it builds from the whole
// line, provided the whole line has no backslash (which
// ResourceFilter::Skips ensures: its strings come out byte for byte) and no
// non-empty object or array nested as deep as half the parser's depth limit
// (so that the parser cannot refuse the whole line for its depth: a line it
// refuses has non-empty containers at every depth below its limit; `object`
// must come from a DOM parser whose max_depth is SkeletonDepthLimit(), which
// refuses such lines), and provided no member it keeps holds a number
// (minified JSON may write it otherwise, and the parser keeps a number's
// text). False, and `out` untouched, when a kept member holds such a number
// (or a string that would need an escape, which such a line cannot hold).
bool SkeletonLine(const simdjson::dom::object& object, std::string_view type, const fhir::ResourceFilter& filter,
                  std::string& out);

// Half the parser's depth limit: a line with a non-empty object or array at
// this depth or deeper (the resource being depth 1) is never given a
// skeleton. A simdjson DOM parser with this max_depth refuses exactly such
// lines (DEPTH_ERROR; an empty object or array is a value to its count).
size_t SkeletonDepthLimit();

// Routes one NDJSON line (without the newline), its content as the line
// readers give it (fhir::NdjsonLineContent: no byte-order mark or space
// before it). The whole line is checked to
// be JSON (so a malformed line is found here, with its file:line, whatever
// part of it is wrong). `line` must be followed by simdjson's padding: pass
// `capacity`, the bytes readable from line.data() (at least line.size() + 64).
// Not thread-safe per `router`: one LineRouter per thread.
class LineRouter {
 public:
  // With `record_options` (the options each patient's record is parsed with,
  // engine::Engine::RecordParseOptions; must outlive the router), a line the
  // DOM refuses for a number alone (beyond 64-bit integers and doubles, which
  // a FHIR decimal may be) is judged by that parser instead, as `assess`
  // would judge it, and passed on whole when it takes it; so is a line
  // deeper than SkeletonDepthLimit(), which that parser's depth limit
  // (ParseOptions::max_depth, below the DOM's) may make malformed. Without,
  // a line the DOM refuses is malformed. A resource of one of `shared_types` (outside the
  // patient compartment; engine::Engine::shared_resource_types) that has an
  // id is kSharedResource. Both must outlive the router.
  explicit LineRouter(const fhir::ParseOptions* record_options = nullptr,
                      const std::set<std::string, std::less<>>* shared_types = nullptr);
  ~LineRouter();
  LineRouter(const LineRouter&) = delete;
  LineRouter& operator=(const LineRouter&) = delete;

  // With `skeletons`, a patient resource it passes over is given as a
  // skeleton line (LineRouting::skeleton), unless it names one of the
  // shared types (it may reference a shared resource, which the record
  // must then get).
  LineRouting Route(std::string_view line, size_t capacity, const fhir::ResourceFilter* skeletons = nullptr);

  // A cheap look at a line for shard routing: the patient it names, found
  // with simdjson On-Demand (structural indexing and the few fields read,
  // no full parse), or nullopt when the line is not a patient-compartment
  // resource naming a patient as far as those fields tell. Does NOT check
  // the rest of the line: a line it routes may still be malformed, which
  // Route then finds. For a valid JSON line without duplicate keys, a
  // patient it returns is the one Route returns.
  std::optional<std::string> QuickPatient(std::string_view line, size_t capacity);

 private:
  // Route's reading of a line as QuickPatient reads it (its type and
  // patient, the rest unchecked): nullopt when those fields cannot be read.
  std::optional<LineRouting> QuickRoute(std::string_view line, size_t capacity);
  // Route for a line the DOM refused with `dom_message`: the record
  // parser's judgement of it (taken: routed whole; refused: malformed, with
  // the record parser's message, "column N:" for its place (LineAloneMessage),
  // and routed whole as well when it names its patient or is a shared
  // resource with an id as far as QuickRoute reads, or, for a line
  // simdjson's structural pass refuses, names its patient to FastPatientOf).
  LineRouting RouteByRecordParser(std::string_view line, size_t capacity, std::string_view dom_message);
  // RouteByRecordParser once the record parser has judged `line` alone
  // (`parsed`; record options required).
  LineRouting RouteJudged(std::string_view line, size_t capacity, std::string_view dom_message,
                          const Result<fhir::Document>& parsed);
  // The record parser, made when first needed (record options required).
  fhir::Parser& RecordParser();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a raw look at a line's first fields tells about its patient, for
// shard routing: no JSON parse, no structural index of the whole line, so
// far cheaper than LineRouter::QuickPatient on the lines of other shards.
enum class FastLook {
  kPatient,    // the line names `patient_id` (as Route would say, for valid JSON)
  kNoPatient,  // a valid line would have no patient: outside the compartment,
               // or its element names none (Route decides, in every shard)
  kUnknown,    // a shape it does not read (escapes, arrays, actor, the
               // element before resourceType...): ask QuickPatient
};
struct FastPatient {
  FastLook look = FastLook::kUnknown;
  std::string_view patient_id;  // a view into the line, for kPatient
};
// Reads the top-level fields of `line` in order up to the element that names
// the patient (the first resourceType and the first occurrence of that
// element, as Route's lookups take) and stops there: the rest of the line is
// not looked at, so a line it routes may still be malformed (Route finds it
// in that patient's shard). For a valid JSON line, kPatient gives the id
// Route gives, and kNoPatient means Route gives none.
FastPatient FastPatientOf(std::string_view line);

// FNV-1a, 64 bits: the stable hash of a patient id for shards and spill
// partitions (the same on every machine and run).
uint64_t PatientHash(std::string_view patient_id);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_COMPARTMENT_H_
