#include "fhir/element_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace regenpath::fhir {
namespace {

// MayKeep is the cheap test before the model is asked which element a JSON
// name is: it must say true whenever Keeps could, for the element name
// being the JSON name itself, a prefix of it (a choice) or unknown (empty),
// and it says true exactly when one of the names starts the JSON name.
TEST(ElementFilterTest, MayKeepIsTrueWheneverKeepsCouldBe) {
  const std::vector<std::vector<std::string>> filters = {
      {"id", "reference", "subject", "patient", "beneficiary"}, {"value"}, {"valueQuantity", "code"}, {}, {""}};
  const std::vector<std::string> json_names = {
      "", "i", "id", "identifier", "_id", "reference", "ref", "subject", "subjectReference", "status", "patient",
      "value", "valueQuantity", "valueString", "val", "code", "coding", "beneficiary", "x", "Subject"};
  for (const std::vector<std::string>& names : filters) {
    ElementFilter filter(names);
    for (const std::string& json : json_names) {
      SCOPED_TRACE(json);
      bool prefixed = false;
      for (const std::string& name : names) prefixed = prefixed || json.starts_with(name);
      EXPECT_EQ(filter.MayKeep(json), prefixed);
      for (size_t cut = 0; cut <= json.size(); ++cut) {
        const std::string element = json.substr(0, cut);  // "" is an element the model does not know
        if (filter.Keeps(element, json)) EXPECT_TRUE(filter.MayKeep(json)) << "element " << element;
      }
    }
  }
}

}  // namespace
}  // namespace regenpath::fhir
