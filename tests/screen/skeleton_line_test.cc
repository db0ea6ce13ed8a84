// SkeletonLine (screen/compartment.h): the scan gives the assessment a
// short line in place of a resource the engine's ResourceFilter passes over.
// The parser must build from it exactly what it builds from the whole line:
// the same skeleton node and the same issues. Each case below is a whole
// line; the test parses both and compares them node by node.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <simdjson.h>

#include "fhir/parser.h"
#include "fhir/resource_filter.h"
#include "screen/compartment.h"

namespace regenpath::screen {
namespace {

using Needles = std::map<std::string, std::vector<std::string>>;

std::string Describe(const fhir::Node& node, int depth = 0) {
  std::string text = std::string(depth * 2, ' ') + std::string(node.name()) + " [" + std::string(node.type_name()) +
                     "] '" + std::string(node.text()) + "'" + (node.is_complete() ? "" : " (partial)") +
                     (node.is_skeleton() ? " (skeleton)" : "") + "\n";
  for (const fhir::Node& child : node.children()) text += Describe(child, depth + 1);
  return text;
}

std::string Describe(const fhir::Document& document) {
  std::string text;
  for (const fhir::Node* resource : document.resources()) text += Describe(*resource);
  for (const fhir::Issue& issue : document.issues()) text += issue.location + ": " + issue.message + "\n";
  return text;
}

class SkeletonLineTest : public ::testing::Test {
 protected:
  SkeletonLineTest() : filter_(Needles{{"Observation", {"718-7"}}}) {
    fhir::ParseOptions options;
    options.resource_filter = &filter_;
    parser_ = std::make_unique<fhir::Parser>(options);
  }

  // The stub of `line`, or "" when there is none: the line parsed as the
  // router parses it (depth limit SkeletonDepthLimit(), which refuses a line
  // too deep for a stub), then SkeletonLine, which may decline.
  std::string Stub(const std::string& line) {
    simdjson::dom::parser dom;
    if (dom.allocate(line.size(), SkeletonDepthLimit()) != simdjson::SUCCESS) return "allocation failed";
    simdjson::dom::object object;
    if (dom.parse(line).get_object().get(object) != simdjson::SUCCESS) return std::string();
    std::string out;
    return SkeletonLine(object, "Observation", filter_, out) ? out : std::string();
  }

  std::string Parsed(const std::string& line) {
    Result<fhir::Document> document = parser_->ParseNdjson(line + "\n", "x.ndjson");
    if (!document.has_value()) return "refused: " + document.error().message();
    return Describe(*document);
  }

  fhir::ResourceFilter filter_;
  std::unique_ptr<fhir::Parser> parser_;
};

TEST_F(SkeletonLineTest, TheStubBuildsWhatTheWholeLineBuilds) {
  const std::vector<std::string> lines = {
      // the usual shape
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Heart rate"},"subject":{"reference":"Patient/p1","display":"P"},"effectiveDateTime":"2020-01-01"})",
      // resourceType last, whitespace, an `_id` part, a subject with unknown members
      R"({ "id" : "o2", "_id": {"extension":[{"url":"http://x","valueString":"y"}]}, "subject" : { "reference" : "Patient/p1", "foo": ["1", true, null, {"x": []}] }, "resourceType" : "Observation" })",
      // kept members with wrong values: issues that must come out the same
      R"({"resourceType":"Observation","id":null,"subject":{"reference":["Patient/p1"]}})",
      R"({"resourceType":"Observation","id":true,"subject":{"reference":{"a":"b"}}})",
      R"({"resourceType":"Observation","id":"o3","subject":{}})",
      R"({"resourceType":"Observation","id":"o4","subject":{"display":"only a display"}})",
      // a kept member given twice
      R"({"resourceType":"Observation","id":"a","id":"b","subject":{"reference":"Patient/p1"},"subject":{"reference":"Patient/p2"}})",
      // unknown top-level members and deep skipped parts (within the limit)
      R"({"resourceType":"Observation","bogus":{"a":{"b":{"c":[[[1]]]}}},"id":"o5","subject":{"reference":"Patient/p1"}})",
      // non-ASCII text
      R"({"resourceType":"Observation","id":"é-1","subject":{"reference":"Patient/ü"},"note":[{"text":"naïve"}]})",
      // members whose names start with a kept name: `identifier` (not kept), `patient` (no element of an
      // Observation, kept by its JSON name) and `subjectX` (unknown, not kept)
      R"({"resourceType":"Observation","identifier":[{"value":"i"}],"patient":{"reference":"Patient/p9"},"subjectX":"s","id":"o6"})",
  };
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    ASSERT_TRUE(filter_.Skips("Observation", line));
    const std::string stub = Stub(line);
    ASSERT_FALSE(stub.empty());
    EXPECT_LT(stub.size(), line.size() + 30);
    EXPECT_EQ(Parsed(stub), Parsed(line)) << "stub: " << stub;
    EXPECT_NE(Parsed(line).find("(skeleton)"), std::string::npos);
  }
}

// The parser keeps a number's text (12.50), which minified JSON may write
// otherwise (12.5): a kept member holding a number is never stubbed.
TEST_F(SkeletonLineTest, NoStubWhenAKeptMemberHoldsANumber) {
  EXPECT_TRUE(Stub(R"({"resourceType":"Observation","id":5,"subject":{"reference":"Patient/p1"}})").empty());
  EXPECT_TRUE(Stub(R"({"resourceType":"Observation","id":"o","subject":{"reference":12.50}})").empty());
  EXPECT_TRUE(Stub(R"({"resourceType":"Observation","id":"o","subject":{"x":[1]}})").empty());
  // Numbers elsewhere do not matter.
  EXPECT_FALSE(Stub(R"({"resourceType":"Observation","id":"o","valueQuantity":{"value":12.50}})").empty());
}

// A kept string that JSON writes with an escape (a quote, a backslash, a
// control character; a line the filter passes over has none, as it holds no
// backslash) gets no stub, wherever it sits in the string (eight bytes are
// looked at a step); bytes of 0x80 and more (UTF-8) need none.
TEST_F(SkeletonLineTest, NoStubWhenAKeptStringNeedsAnEscape) {
  for (size_t at = 0; at <= 20; ++at) {
    for (const std::string escape : {R"(\")", R"(\\)", R"(\u0001)", R"(\n)", R"(\u001f)"}) {
      // Eight bytes after it: every offset falls within a word, not only the tail.
      const std::string id = std::string(at, 'a') + escape + "zzzzzzzz";
      SCOPED_TRACE(id);
      EXPECT_TRUE(
          Stub(R"({"resourceType":"Observation","id":")" + id + R"(","subject":{"reference":"Patient/p1"}})")
              .empty());
      EXPECT_TRUE(
          Stub(R"({"resourceType":"Observation","id":"o","subject":{"reference":"Patient/)" + id + R"("}})")
              .empty());
    }
    // Also the bytes whose low seven bits are a quote's, a backslash's or a
    // control character's: "\xC2\xA2", "\xDC\x9C", "\xC2\x80", "\xC2\x9F".
    for (const std::string plain :
         {"\u0020", "\u007f", "é", "\u00e9", "ü~ ", "\u00a2", "\u071c", "\u0080", "\u009f", "\u00a0"}) {
      const std::string id = std::string(at, 'a') + plain + "zzzzzzzz";
      SCOPED_TRACE(id);
      EXPECT_FALSE(
          Stub(R"({"resourceType":"Observation","id":")" + id + R"(","subject":{"reference":"Patient/p1"}})")
              .empty());
    }
  }
}

TEST_F(SkeletonLineTest, NoStubForALineNestedAsDeepAsHalfTheParsersLimit) {
  const size_t limit = fhir::ParseOptions().max_depth / 2;
  auto nested = [](size_t levels) {
    std::string line = R"({"resourceType":"Observation","id":"o","note":)";
    for (size_t i = 0; i < levels; ++i) line += "[";
    for (size_t i = 0; i < levels; ++i) line += "]";
    return line + "}";
  };
  // The resource is depth 1, `note` depth 2: of `levels` arrays, the
  // innermost (empty) is at depth levels + 1, the deepest non-empty one at
  // depth levels. An empty one does not count (as simdjson counts depth).
  EXPECT_FALSE(Stub(nested(limit - 1)).empty());
  EXPECT_TRUE(Stub(nested(limit)).empty());
  // At that edge the stub still builds what the whole line builds.
  EXPECT_EQ(Parsed(Stub(nested(limit - 1))), Parsed(nested(limit - 1)));
  // A line the parser refuses for its depth is never stubbed.
  EXPECT_EQ(Parsed(nested(300)).rfind("refused", 0), 0u);
  EXPECT_TRUE(Stub(nested(300)).empty());
  // Route decides the depth by its parse (SkeletonDepthLimit): the same
  // lines get a skeleton, and a deep line is still routed, whole.
  ASSERT_EQ(SkeletonDepthLimit(), limit);
  LineRouter router;
  for (bool empty_innermost : {true, false}) {
    for (size_t levels : {limit - 2, limit - 1, limit, limit + 1, size_t{300}}) {
      std::string line = nested(levels);
      if (!empty_innermost) line.insert(line.find(']'), "1");
      // The deepest non-empty array's depth.
      const size_t deepest = empty_innermost ? levels : levels + 1;
      EXPECT_EQ(Stub(line).empty(), deepest >= limit) << levels << (empty_innermost ? " []" : " [1]");
      line.insert(line.size() - 1, R"(,"subject":{"reference":"Patient/p1"})");
      const size_t size = line.size();
      line.append(simdjson::SIMDJSON_PADDING, ' ');
      LineRouting routing = router.Route(std::string_view(line.data(), size), line.size(), &filter_);
      ASSERT_EQ(routing.kind, LineKind::kPatientResource) << levels << ": " << routing.message;
      EXPECT_EQ(routing.patient_id, "p1");
      EXPECT_EQ(routing.skeleton.empty(), deepest >= limit) << levels << (empty_innermost ? " []" : " [1]");
    }
  }
}

TEST_F(SkeletonLineTest, RouteGivesTheStubOnlyForLinesTheFilterPassesOver) {
  LineRouter router;
  std::string passed = R"({"resourceType":"Observation","id":"o1","code":{"text":"Heart rate"},"subject":{"reference":"Patient/p1"}})";
  std::string kept = R"({"resourceType":"Observation","id":"o2","code":{"coding":[{"code":"718-7"}]},"subject":{"reference":"Patient/p1"}})";
  std::string condition = R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}})";
  for (std::string* line : {&passed, &kept, &condition}) line->reserve(line->size() + 64);
  auto route = [&](const std::string& line, const fhir::ResourceFilter* filter) {
    std::string padded = line + std::string(64, ' ');
    return router.Route(std::string_view(padded.data(), line.size()), padded.size(), filter);
  };
  LineRouting routing = route(passed, &filter_);
  EXPECT_EQ(routing.kind, LineKind::kPatientResource);
  EXPECT_EQ(routing.patient_id, "p1");
  EXPECT_EQ(routing.skeleton, R"({"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"}})");
  EXPECT_TRUE(route(passed, nullptr).skeleton.empty());
  EXPECT_TRUE(route(kept, &filter_).skeleton.empty());
  EXPECT_TRUE(route(condition, &filter_).skeleton.empty());
}

// With shared types (Medication), a line the filter passes over but that
// holds "Medication/" (it may reference one, which the record must then
// get) goes on whole; "MedicationStatement" or "Medication" alone is no
// reference, and the line still gets its stub.
TEST_F(SkeletonLineTest, ALineThatMayReferenceASharedResourceGetsNoStub) {
  const std::set<std::string, std::less<>> shared = {"Medication"};
  LineRouter router(nullptr, &shared);
  auto route = [&](const std::string& line) {
    std::string padded = line + std::string(64, ' ');
    return router.Route(std::string_view(padded.data(), line.size()), padded.size(), &filter_);
  };
  const std::string focus =
      R"({"resourceType":"Observation","id":"o1","code":{"text":"Heart rate"},"subject":{"reference":"Patient/p1"},)"
      R"("focus":[{"reference":"Medication/m1"}]})";
  EXPECT_TRUE(route(focus).skeleton.empty());
  const std::string named =
      R"({"resourceType":"Observation","id":"o2","code":{"text":"Medication review"},"subject":{"reference":"Patient/p1"},)"
      R"("derivedFrom":[{"reference":"MedicationStatement/s1"}]})";
  EXPECT_EQ(route(named).skeleton,
            R"({"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/p1"}})");
}

// The short line is decided on again: a needle that only joining the kept
// members makes (here one with punctuation in it) sends the whole line.
TEST_F(SkeletonLineTest, AShortLineTheFilterWouldKeepIsNotUsed) {
  fhir::ResourceFilter odd(Needles{{"Observation", {"\",\"id"}}});
  LineRouter router;
  const std::string line = R"({"resourceType":"Observation", "id":"o1","subject":{"reference":"Patient/p1"}})";
  ASSERT_TRUE(odd.Skips("Observation", line));
  std::string padded = line + std::string(64, ' ');
  LineRouting routing = router.Route(std::string_view(padded.data(), line.size()), padded.size(), &odd);
  EXPECT_EQ(routing.kind, LineKind::kPatientResource);
  EXPECT_TRUE(routing.skeleton.empty());
}

// ResourceFilter::NeedlesSpanTokens: with needles free of JSON punctuation,
// a short line made of a passed-over line's members is passed over too
// (Route then does not search it again). Random lines whose members, keys
// and strings are made of the needles' letters (either case), spaces, a
// non-ASCII letter and the literals, with repeated keys now and then.
struct StubCounts {
  size_t stubs = 0;           // lines passed over that got a stub
  size_t needle_in_stub = 0;  // ... whose stub holds a needle all the same
  size_t routed = 0;          // ... routed to their patient by LineRouter::Route
  std::string first_counterexample;
};

StubCounts CountStubsHoldingANeedle(const fhir::ResourceFilter& filter, int rounds) {
  std::mt19937 random(2026);
  auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
  const std::vector<std::string> letters = {"a", "b", "c", "e", "n", "l", "t", "r", "u", "s",
                                            " ", "A", "B", "C", "E", "N", "T", "R", "U", "\xc3\xa9"};
  auto word = [&]() {
    std::string text;
    for (size_t i = 0, n = 1 + pick(5); i < n; ++i) text += letters[pick(letters.size())];
    return text;
  };
  // A value: a string, a literal, or an object or array of them.
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    switch (depth > 2 ? pick(3) : pick(5)) {
      case 0:
        return "\"" + word() + "\"";
      case 1:
        return std::vector<std::string>{"true", "false", "null"}[pick(3)];
      case 2:
        return "\"" + word() + word() + "\"";
      case 3: {
        std::string text = "{";
        for (size_t i = 0, n = 1 + pick(3); i < n; ++i)
          text += (i ? ", \"" : "\"") + word() + "\": " + value(depth + 1);
        return text + "}";
      }
      default: {
        std::string text = "[";
        for (size_t i = 0, n = 1 + pick(3); i < n; ++i) text += (i ? " , " : "") + value(depth + 1);
        return text + "]";
      }
    }
  };
  // Members the skeleton keeps (id, subject, ...) and others, in any order.
  const std::vector<std::string> keys = {"id",   "subject",   "_id", "patient", "note",
                                         "code", "reference", "tr",  "ue"};
  StubCounts counts;
  simdjson::dom::parser dom;
  if (dom.allocate(4096, SkeletonDepthLimit()) != simdjson::SUCCESS) return counts;
  LineRouter router;
  for (int round = 0; round < rounds; ++round) {
    std::string line = R"({"resourceType": "Observation")";
    for (size_t i = 0, n = 1 + pick(5); i < n; ++i) {
      const std::string& key = keys[pick(keys.size())];
      // Half the subjects name a patient, so that Route routes the line.
      line +=
          ", \"" + key + "\" : " +
          (key == "subject" && pick(2) == 0 ? R"({"reference": "Patient/p1", "display": ")" + word() + "\"}"
                                            : value(0));
    }
    line += "}";
    if (!filter.Skips("Observation", line)) continue;
    simdjson::dom::object object;
    if (dom.parse(line).get_object().get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line;
      continue;
    }
    std::string stub;
    if (!SkeletonLine(object, "Observation", filter, stub)) continue;
    ++counts.stubs;
    const bool held = !filter.Skips("Observation", stub);
    if (held && counts.needle_in_stub++ == 0) counts.first_counterexample = line + "\n" + stub;
    // Route gives the stub exactly when the parser would pass it over too
    // (for a line naming its patient: it routes no other).
    std::string padded = line + std::string(64, ' ');
    LineRouting routing = router.Route(std::string_view(padded.data(), line.size()), padded.size(), &filter);
    if (routing.kind != LineKind::kPatientResource) continue;
    ++counts.routed;
    EXPECT_EQ(routing.skeleton, held ? std::string() : stub) << line;
  }
  return counts;
}

TEST(SkeletonLineNeedlesTest, AStubHoldsNoNeedleItsLineLacksWhenNoNeedleHoldsPunctuation) {
  EXPECT_TRUE(fhir::ResourceFilter(Needles{{"Observation", {"abc", "a,b"}}}).NeedlesSpanTokens());
  EXPECT_TRUE(fhir::ResourceFilter(Needles{{"Observation", {"pain: low"}}}).NeedlesSpanTokens());
  EXPECT_TRUE(fhir::ResourceFilter(Needles{{"Observation", {"\",\"id"}}}).NeedlesSpanTokens());
  const std::vector<std::string> plain = {"abc", "C a", "true", "bull", "e n", "\xc3\xa9 r"};
  // The SIMD search and the automaton (which a needle under 3 bytes selects).
  for (const auto search :
       {fhir::ResourceFilter::Search::kFastest, fhir::ResourceFilter::Search::kAutomaton}) {
    for (const std::vector<std::string>& needles : {plain, std::vector<std::string>{"ab", "e n", "nul"}}) {
      fhir::ResourceFilter filter(Needles{{"Observation", needles}}, search);
      ASSERT_FALSE(filter.NeedlesSpanTokens());
      const StubCounts counts = CountStubsHoldingANeedle(filter, 20000);
      EXPECT_GT(counts.stubs, 1000u);
      EXPECT_GT(counts.routed, 500u);
      EXPECT_EQ(counts.needle_in_stub, 0u) << counts.first_counterexample;
    }
  }
  // What the check guards against: with a needle of punctuation, joining
  // members makes it (the lines above have spaces around ':' and ',').
  fhir::ResourceFilter punctuated(Needles{{"Observation", {"abc", "\":\""}}});
  ASSERT_TRUE(punctuated.NeedlesSpanTokens());
  const StubCounts counts = CountStubsHoldingANeedle(punctuated, 20000);
  EXPECT_GT(counts.needle_in_stub, 0u) << "the generator never joins members into a needle";
  EXPECT_GT(counts.routed, 500u);
}

}  // namespace
}  // namespace regenpath::screen
