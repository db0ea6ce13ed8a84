#include "fhir/resource_filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fhir/parser.h"

namespace regenpath::fhir {
namespace {

using Needles = std::map<std::string, std::vector<std::string>>;

// A parser that builds what `filter` passes over as skeletons.
std::unique_ptr<Parser> SkeletonParser(const ResourceFilter& filter, size_t max_depth = ParseOptions().max_depth) {
  ParseOptions options;
  options.resource_filter = &filter;
  options.max_depth = max_depth;
  return std::make_unique<Parser>(options);
}

// What Skips must answer: a plain, ASCII case-insensitive search.
bool NaiveContains(std::string text, std::vector<std::string> needles) {
  auto lower = [](std::string& s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  };
  lower(text);
  needles.push_back("\\");
  for (std::string& needle : needles) {
    lower(needle);
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ResourceFilterTest, KeepsAResourceWhoseTextHoldsANeedleOfItsType) {
  ResourceFilter filter(Needles{{"Observation", {"718-7", "foot drop"}}});
  EXPECT_TRUE(filter.Filters("Observation"));
  EXPECT_FALSE(filter.Filters("Condition"));
  EXPECT_TRUE(filter.Skips("Observation", R"({"resourceType":"Observation","code":{"text":"Heart rate"}})"));
  EXPECT_FALSE(filter.Skips("Observation", R"({"resourceType":"Observation","code":{"coding":[{"code":"718-7"}]}})"));
  // Names match whatever their case, anywhere in the text.
  EXPECT_FALSE(filter.Skips("Observation", R"({"note":[{"text":"FOOT Drop, left"}]})"));
  // An escape may spell a needle otherwise: kept.
  EXPECT_FALSE(filter.Skips("Observation", R"({"code":{"text":"\u0066oot drop"}})"));
  EXPECT_FALSE(filter.Skips("Observation", R"({"code":{"text":"a \"quoted\" name"}})"));
  // Types without needles are never passed over.
  EXPECT_FALSE(filter.Skips("Condition", R"({"resourceType":"Condition"})"));
}

TEST(ResourceFilterTest, AnEmptyNeedleKeepsEveryResourceOfItsType) {
  ResourceFilter filter(Needles{{"Observation", {"718-7", ""}}, {"Encounter", {"hospice"}}});
  EXPECT_FALSE(filter.Filters("Observation"));
  EXPECT_FALSE(filter.Skips("Observation", R"({"resourceType":"Observation"})"));
  EXPECT_TRUE(filter.Skips("Encounter", R"({"resourceType":"Encounter"})"));
}

// What Skips answers for `text` held in a buffer of exactly its size (so
// that a read past its end is one the sanitizers catch).
bool SkipsExactly(const ResourceFilter& filter, const std::string& text) {
  std::unique_ptr<char[]> exact(new char[std::max<size_t>(text.size(), 1)]);
  std::memcpy(exact.get(), text.data(), text.size());
  return filter.Skips("Observation", std::string_view(exact.get(), text.size()));
}

// Random texts over `alphabet`, with one of `inserted` (its letters' case
// flipped at random) put into a third of them, must get from Skips exactly
// what a plain search for `needles` (the filter's) says.
void ExpectAPlainSearchsAnswers(const ResourceFilter& filter, const std::vector<std::string>& needles,
                                const std::vector<std::string>& inserted, const std::string& alphabet,
                                size_t longest) {
  std::mt19937 random(12345);
  int found = 0, missed = 0;
  for (int round = 0; round < 20000; ++round) {
    const size_t size = random() % longest;
    std::string text;
    for (size_t i = 0; i < size; ++i) {
      // Mostly bytes that make no needle, so that most texts hold none.
      char c = alphabet[random() % alphabet.size()];
      if (c == 'x' || (c == '\\' && random() % 8 != 0)) c = 'q';
      text.push_back(c);
    }
    if (round % 3 == 0 && size > 0) {
      std::string needle = inserted[random() % inserted.size()];
      for (char& c : needle) {
        if (std::isalpha(static_cast<unsigned char>(c)) && random() % 2 == 0) c = static_cast<char>(c ^ 0x20);
      }
      text.insert(random() % size, needle);
    }
    const bool expected = NaiveContains(text, needles);
    ASSERT_EQ(!SkipsExactly(filter, text), expected) << text;
    (expected ? found : missed)++;
  }
  EXPECT_GT(found, 5000);
  EXPECT_GT(missed, 5000);
}

bool CpuHasAvx2() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// The automaton runs four interleaved runs over quarters of the text; the
// SIMD search 32 positions a step and the tail apart: a needle across any
// boundary, at the very start or end, or in a short text must be found
// exactly as a plain search finds it, by both.
TEST(ResourceFilterTest, AgreesWithAPlainSearchOnRandomTexts) {
  const std::string alphabet = "abcdxyzMRHIP -_0123456789\"{}:,\\";
  // A one-byte needle: only the automaton can search for it.
  const std::vector<std::string> with_short{"777-3", "26515-7", "72166-2", "lumbar spine mri", "Mr Hip", "x", "abcabd"};
  ResourceFilter short_filter(Needles{{"Observation", with_short}});
  EXPECT_FALSE(short_filter.SearchesWithSimd("Observation"));
  ExpectAPlainSearchsAnswers(short_filter, with_short, {with_short.begin(), with_short.end() - 1}, alphabet, 400);
  // Needles of 3 bytes and more, in both searches; the Observation needles
  // of the shipped knowledge base (codes of 5 to 15 bytes) in digit-heavy
  // texts, where the SIMD search's candidates are most often false.
  // (Bytes above 0x7F too: a needle and texts in UTF-8.)
  const std::vector<std::string> three{"777-3",  "26515-7", "72166-2", "lumbar spine mri", "Mr Hip",
                                       "abcabd", "xyz",     "Ab-",     "M\u00fcller"};
  if (!CpuHasAvx2()) std::fprintf(stderr, "note: no AVX2 here: kFastest runs the automaton\n");
  const std::vector<std::string> shipped{
      "block-pain-relief-percent", "33914-3", "62238-1", "98979-8", "718-7", "170935008", "448451000124101",
      "1891000124102", "1951000124104", "305911006", "306205009", "305336008", "183919006", "183920000", "183921001",
      "428371000124100", "385763009", "182964004", "103735009", "Z51.5", "6301-6", "34714-6", "82237-9", "97908-8",
      "72514-3", "38208-5", "777-3", "26515-7", "77865-4", "77866-2", "72166-2"};
  for (ResourceFilter::Search search : {ResourceFilter::Search::kFastest, ResourceFilter::Search::kAutomaton}) {
    SCOPED_TRACE(search == ResourceFilter::Search::kFastest ? "fastest" : "automaton");
    ResourceFilter filter(Needles{{"Observation", three}}, search);
    EXPECT_EQ(filter.SearchesWithSimd("Observation"), search == ResourceFilter::Search::kFastest && CpuHasAvx2());
    ExpectAPlainSearchsAnswers(filter, three, three, alphabet + "\u00fc\u00dc", 400);
    ResourceFilter shipped_filter(Needles{{"Observation", shipped}}, search);
    ExpectAPlainSearchsAnswers(shipped_filter, shipped, shipped, "0123456789-.\"Zz:\\", 300);
  }
}

TEST(ResourceFilterTest, ANeedleAtEveryPositionOfALongTextIsFound) {
  for (ResourceFilter::Search search : {ResourceFilter::Search::kFastest, ResourceFilter::Search::kAutomaton}) {
    ResourceFilter filter(Needles{{"Observation", {"lumbar spine mri", "718-7"}}}, search);
    const std::string base(1000, 'a');
    EXPECT_TRUE(filter.Skips("Observation", base));
    for (size_t at = 0; at <= base.size(); ++at) {
      for (const char* needle : {"Lumbar Spine MRI", "718-7", "\\"}) {
        std::string text = base;
        text.insert(at, needle);
        ASSERT_FALSE(SkipsExactly(filter, text)) << "at " << at << ": " << needle;
        // Cut short by one byte, the needle is not found.
        if (needle[1] != 0) {
          text = base.substr(0, at) + std::string(needle).substr(0, std::strlen(needle) - 1);
          ASSERT_TRUE(SkipsExactly(filter, text)) << "at " << at << ": " << needle;
        }
      }
    }
  }
}

// The parser builds a passed-over resource as a skeleton: type, id and the
// reference to its patient; nothing else, no issue from the rest.
TEST(ResourceFilterTest, TheParserBuildsSkeletonsInBundlesAndNdjson) {
  ResourceFilter filter(Needles{{"Observation", {"718-7"}}});
  std::unique_ptr<Parser> parser = SkeletonParser(filter);
  const std::string skipped =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Heart rate"},)"
      R"("subject":{"reference":"Patient/p1","display":"P"},"effectiveDateTime":"not a date","bogus":1})";
  const std::string kept =
      R"({"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"code":"718-7"}]},)"
      R"("subject":{"reference":"Patient/p1"},"effectiveDateTime":"also not a date"})";
  const std::string bundle = R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" + skipped +
                             R"(},{"resource":)" + kept + "}]}";
  Result<Document> from_bundle = parser->ParseResource(bundle, "bundle.json");
  ASSERT_TRUE(from_bundle.has_value()) << from_bundle.error().message();
  Result<Document> from_ndjson = parser->ParseNdjson(skipped + "\n" + kept + "\n", "records.ndjson");
  ASSERT_TRUE(from_ndjson.has_value()) << from_ndjson.error().message();
  for (const Document* document : {&*from_bundle, &*from_ndjson}) {
    ASSERT_EQ(document->resources().size(), 2u);
    const Node& skeleton = *document->resources()[0];
    EXPECT_EQ(skeleton.type_name(), "Observation");
    EXPECT_FALSE(skeleton.is_complete());
    ASSERT_NE(skeleton.Child("id"), nullptr);
    EXPECT_EQ(skeleton.Child("id")->text(), "o1");
    ASSERT_NE(skeleton.Child("subject"), nullptr);
    ASSERT_NE(skeleton.Child("subject")->Child("reference"), nullptr);
    EXPECT_EQ(skeleton.Child("subject")->Child("reference")->text(), "Patient/p1");
    EXPECT_EQ(skeleton.Child("code"), nullptr);
    EXPECT_EQ(skeleton.Child("status"), nullptr);
    EXPECT_EQ(document->patient_references()[0], "Patient/p1");
    const Node& whole = *document->resources()[1];
    EXPECT_NE(whole.Child("code"), nullptr);
    EXPECT_NE(whole.Child("status"), nullptr);
    // Only the resource built whole has its bad date reported.
    ASSERT_EQ(document->issues().size(), 1u);
    EXPECT_NE(document->issues()[0].message.find("also not a date"), std::string::npos);
  }
}

// Only the record's own resources are passed over: an NDJSON line, an entry
// of a Bundle document. A contained resource, the entry of a Bundle that is
// itself a line or an entry, and a document that is one resource are built
// whole (the knowledge base's analysis covers only paths to the record's own
// resources).
TEST(ResourceFilterTest, OnlyTheRecordsOwnResourcesBecomeSkeletons) {
  ResourceFilter filter(Needles{{"Observation", {"718-7"}}});
  std::unique_ptr<Parser> parser = SkeletonParser(filter);
  const std::string observation =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Heart rate"}})";
  const std::string report = R"({"resourceType":"DiagnosticReport","id":"r1","status":"final","contained":[)" +
                             observation + R"(],"result":[{"reference":"#o1"}]})";
  auto contained_code = [](const Document& document) -> const Node* {
    const Node* contained = document.resources()[0]->Child("contained");
    return contained == nullptr ? nullptr : contained->Child("code");
  };
  Result<Document> line = parser->ParseNdjson(report + "\n", "x.ndjson");
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(contained_code(*line), nullptr);
  Result<Document> bundle = parser->ParseResource(
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" + report + "}]}", "b.json");
  ASSERT_TRUE(bundle.has_value());
  EXPECT_NE(contained_code(*bundle), nullptr);
  // A Bundle as an NDJSON line: its entries are not the record's.
  Result<Document> nested = parser->ParseNdjson(
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" + observation + "}]}\n", "n.ndjson");
  ASSERT_TRUE(nested.has_value());
  const Node* inner = nested->resources()[0]->Child("entry")->Child("resource");
  ASSERT_NE(inner, nullptr);
  EXPECT_FALSE(inner->is_skeleton());
  EXPECT_NE(inner->Child("code"), nullptr);
  // A document that is one Observation.
  Result<Document> single = parser->ParseResource(observation, "o.json");
  ASSERT_TRUE(single.has_value());
  EXPECT_FALSE(single->root().is_skeleton());
  EXPECT_NE(single->root().Child("code"), nullptr);
  // While the same Observation as a line or an entry is a skeleton.
  Result<Document> own = parser->ParseNdjson(observation + "\n", "o.ndjson");
  ASSERT_TRUE(own.has_value());
  EXPECT_TRUE(own->resources()[0]->is_skeleton());
}

TEST(ResourceFilterTest, TheFingerprintTellsFiltersApart) {
  ResourceFilter a(Needles{{"Observation", {"718-7"}}});
  ResourceFilter b(Needles{{"Observation", {"718-7", "777-3"}}});
  ResourceFilter c(Needles{{"Observation", {"718-7"}}});
  ResourceFilter none(Needles{});
  EXPECT_EQ(a.fingerprint().size(), 16u);
  EXPECT_NE(a.fingerprint(), b.fingerprint());
  EXPECT_EQ(a.fingerprint(), c.fingerprint());
  EXPECT_EQ(none.fingerprint(), "");
}

// Passed over or not, malformed JSON is refused the same.
TEST(ResourceFilterTest, ASkeletonsSkippedPartsAreStillCheckedJson) {
  ResourceFilter filter(Needles{{"Observation", {"718-7"}}});
  std::unique_ptr<Parser> parser = SkeletonParser(filter, 8);
  std::string deep = R"({"resourceType":"Observation","id":"o1","note":)";
  for (int i = 0; i < 10; ++i) deep += R"({"a":)";
  deep += "1";
  for (int i = 0; i < 10; ++i) deep += "}";
  deep += "}";
  Result<Document> document = parser->ParseNdjson(deep + "\n", "deep.ndjson");
  EXPECT_FALSE(document.has_value());
}

}  // namespace
}  // namespace regenpath::fhir
