#include "registry/instrument_catalog.h"

#include <gtest/gtest.h>

namespace regenpath::registry {
namespace {

TEST(InstrumentCatalogTest, EmbeddedCatalogMatchesTheKnowledgeBase) {
  auto kb = knowledge::KnowledgeBase::Embedded();
  ASSERT_TRUE(kb->usable()) << (kb->problems().empty() ? "" : kb->problems()[0].ToString());
  auto catalog = InstrumentCatalog::Embedded();
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  // Every knowledge-base instrument has its scoring, and the reverse.
  for (const knowledge::Instrument& instrument : kb->instruments()) {
    EXPECT_NE((*catalog)->ById(instrument.id), nullptr) << instrument.id << " has no scoring";
  }
  EXPECT_EQ((*catalog)->instruments().size(), kb->instruments().size());
  const InstrumentScoring* nrs = (*catalog)->ByCoding("http://loinc.org", "72514-3");
  ASSERT_NE(nrs, nullptr);
  EXPECT_EQ(nrs->id, "nrs");
  EXPECT_EQ((*catalog)->ByCoding("http://loinc.org", "38208-5"), nrs);
  EXPECT_EQ((*catalog)->ByCoding(std::string(kInstrumentSystem), "pgic")->responder_max, 2.0);
  EXPECT_EQ((*catalog)->ByQuestionnaire("http://regenpath.org/fhir/Questionnaire/peg|1.0")->id, "peg");
  EXPECT_EQ((*catalog)->ByCoding("http://snomed.info/sct", "72514-3"), nullptr);
  EXPECT_DOUBLE_EQ((*catalog)->timepoint_window_fraction(), 0.25);
  EXPECT_EQ((*catalog)->baseline_window_days(), 30);
  EXPECT_GT((*catalog)->min_episodes(), 0);
}

TEST(InstrumentCatalogTest, RejectsAnInstrumentTheKnowledgeBaseLacks) {
  auto catalog = InstrumentCatalog::Load(knowledge::KnowledgeBase::Embedded(),
                                         "instruments:\n  - {id: sf-36, direction: higher-is-better, min: 0, max: 100}\n");
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message().find("'sf-36' is not an instrument"), std::string::npos);
  auto bad_direction = InstrumentCatalog::Load(knowledge::KnowledgeBase::Embedded(),
                                               "instruments:\n  - {id: nrs, direction: up, min: 0, max: 10}\n");
  ASSERT_FALSE(bad_direction.has_value());
  EXPECT_NE(bad_direction.error().message().find(":2:"), std::string::npos);
}

}  // namespace
}  // namespace regenpath::registry
