// NameBundleEntries: the places of a message's resources in an assembled
// Bundle rewritten with the names a reader can find them by.
#include "fhir/entry_names.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace regenpath::fhir {
namespace {

std::optional<std::string> Named(size_t entry) {
  if (entry > 2) return std::nullopt;
  return "line " + std::to_string(entry + 1);
}

TEST(EntryNamesTest, NamesTheEntriesItKnowsAndLeavesTheOthers) {
  EXPECT_EQ(NameBundleEntries("at Bundle.entry[0].resource, Bundle.entry[2].resource (updated x)", Named),
            "at line 1, line 3 (updated x)");
  // What follows the place stays; an entry without ".resource" is named too.
  EXPECT_EQ(NameBundleEntries("Bundle.entry[1].resource.onsetDateTime; Bundle.entry[0]", Named),
            "line 2.onsetDateTime; line 1");
  // One it cannot name stays as written.
  EXPECT_EQ(NameBundleEntries("Bundle.entry[7].resource and Bundle.entry[1].resource", Named),
            "Bundle.entry[7].resource and line 2");
  // Not a place: no digits, no closing bracket, too many digits, at the end.
  for (const std::string text : {"Bundle.entry[].resource", "Bundle.entry[1", "Bundle.entry[x]",
                                 "Bundle.entry[1234567890123]", "Bundle.entry[", "", "no place"}) {
    EXPECT_EQ(NameBundleEntries(text, Named), text) << text;
  }
  EXPECT_EQ(NameBundleEntries("Bundle.entry[0].resourceX", Named), "line 1.resourceX");
}

}  // namespace
}  // namespace regenpath::fhir
