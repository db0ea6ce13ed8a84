// ResourceFilter: which resources of a record a reader can pass over, built
// only as skeletons.
//
// A reader (the engine's knowledge base) that reaches resources of a type
// only through conditions that need a code or name of a few value sets
// (fhirpath/resource_gates.h) cannot be affected by a resource of that type
// whose JSON contains none of those codes and names. The parser builds such
// a resource as a skeleton: its resourceType, id and the references that
// say whose it is (kPatientReferenceElements), so that it still counts,
// resolves and belongs to its patient, with its other elements neither
// built nor checked against the model (their issues are not reported);
// Node::is_skeleton() marks it, and FHIRPath's ofType() leaves it out (every
// path the reader takes to it ends at a gate it cannot pass).
//
// The test is a plain search of the resource's JSON text, ASCII
// case-insensitive, for any of the type's needles: a code anywhere in the
// text, in any element, counts, so the test can only keep too much, never
// too little. A backslash anywhere (a JSON escape, which may spell a code
// differently) keeps the resource whole.
//
// Two searches give that answer: on x86-64 with AVX2, when every needle has
// at least 3 bytes (none below 0x20), a SIMD prefilter over the needles'
// first bytes (Teddy: nibble tables, 8 buckets) checks 32 positions a step
// and compares only its candidates; otherwise an Aho-Corasick automaton.
//
// Immutable after construction; thread-safe.
#ifndef REGENPATH_FHIR_RESOURCE_FILTER_H_
#define REGENPATH_FHIR_RESOURCE_FILTER_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/element_filter.h"

namespace regenpath::fhir {

class ResourceFilter {
 public:
  // Which search Skips uses: kFastest picks the SIMD one where it can run
  // (above); kAutomaton always uses the automaton (for tests that compare).
  enum class Search { kFastest, kAutomaton };

  // Per resource type, the texts one of which a resource's JSON must
  // contain to be built whole. A type with an empty needle (which every
  // text contains) is never passed over.
  explicit ResourceFilter(const std::map<std::string, std::vector<std::string>>& needles_by_type,
                          Search search = Search::kFastest);

  // True iff the resource of `type` whose JSON text is `json` may be built
  // as a skeleton.
  bool Skips(std::string_view type, std::string_view json) const;

  // True iff some resources of `type` may be passed over.
  bool Filters(std::string_view type) const;

  // True iff Skips runs the SIMD search for `type` (false for a type not
  // filtered).
  bool SearchesWithSimd(std::string_view type) const;

  // What a skeleton keeps.
  const ElementFilter& skeleton() const { return skeleton_; }

  // True iff a needle of a filtered type holds a byte that JSON puts between
  // tokens (" , : { } [ ]). Only such a needle can occur in a text made by
  // joining some of a resource's members, minified, with their keys and
  // strings as they are, when the resource's own text lacks it: any other
  // needle found in the joined text lies within one of its tokens (a key, a
  // string's content, true, false or null), which the resource's text holds
  // byte for byte (screen::LineRouter::Route relies on it for the lines
  // screen::SkeletonLine writes).
  bool NeedlesSpanTokens() const { return needles_span_tokens_; }

  // The types and needles, hashed (16 hex digits): two filters with the
  // same fingerprint pass over the same resources; "" for a filter that
  // passes nothing over.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  // A DFA over ASCII-lowercased bytes that enters `hit`, and stays there,
  // at the end of the first needle found (Aho-Corasick, transitions
  // precomputed per class of bytes).
  struct Automaton {
    std::array<uint8_t, 256> byte_class{};
    size_t classes = 1;
    size_t max_needle = 1;
    // state * classes + class -> next state * classes.
    std::vector<uint32_t> next;
    uint32_t hit = 0;
  };
  static bool Build(const std::vector<std::string>& needles, Automaton& out);
  static bool Contains(const Automaton& automaton, std::string_view text);

  // The SIMD search's tables: for offset k < width of a candidate start and
  // a byte's low (high) nibble, the buckets holding a needle whose byte k
  // (either case) has that nibble; each table twice, once per 128-bit lane.
  struct Teddy {
    size_t width = 0;  // 0: not built (the automaton searches)
    std::array<std::array<uint8_t, 32>, 4> low{}, high{};
    std::array<std::vector<std::string>, 8> buckets;  // lower-cased needles
  };
  static bool Build(const std::vector<std::string>& needles, Teddy& out);
  static bool Contains(const Teddy& teddy, std::string_view text);

  struct TypeSearch {
    Automaton automaton;
    Teddy teddy;
  };
  std::map<std::string, TypeSearch, std::less<>> by_type_;
  ElementFilter skeleton_;
  std::string fingerprint_;
  bool needles_span_tokens_ = false;
};

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_RESOURCE_FILTER_H_
