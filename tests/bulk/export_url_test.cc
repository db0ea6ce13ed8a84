// The kick-off URL of an export URL, and the FHIR base (for SMART discovery)
// of system-, Patient- and Group-level export URLs.
#include "bulk/export_url.h"

#include <gtest/gtest.h>

namespace regenpath::bulk {
namespace {

TEST(ExportUrlTest, KickoffUrlPerLevel) {
  const std::vector<std::string> types = {"Condition", "Patient"};
  EXPECT_EQ(KickoffUrl("https://e/fhir", types),
            "https://e/fhir/$export?_outputFormat=application%2Ffhir%2Bndjson&_type=Condition,Patient");
  EXPECT_EQ(
      KickoffUrl("https://e/fhir/Patient/", types),
      "https://e/fhir/Patient/$export?_outputFormat=application%2Ffhir%2Bndjson&_type=Condition,Patient");
  EXPECT_EQ(KickoffUrl("https://e/fhir/Group/g-1", {}),
            "https://e/fhir/Group/g-1/$export?_outputFormat=application%2Ffhir%2Bndjson");
}

TEST(ExportUrlTest, FhirBaseOfEveryLevel) {
  for (const char* url : {"https://e/fhir", "https://e/fhir/", "https://e/fhir/Patient",
                          "https://e/fhir/Patient/", "https://e/fhir/Patient//",
                          "https://e/fhir/Group/pain-clinic", "https://e/fhir/Group/pain-clinic/"}) {
    EXPECT_EQ(FhirBase(url), "https://e/fhir") << url;
  }
  EXPECT_EQ(FhirBase("https://e/Patient"), "https://e");
  // Only a last Patient segment or Group/<id> pair is a level.
  EXPECT_EQ(FhirBase("https://e/Patient/fhir"), "https://e/Patient/fhir");
  EXPECT_EQ(FhirBase("https://e/Group/fhir/r4"), "https://e/Group/fhir/r4");
  EXPECT_EQ(FhirBase("https://e/fhir/Group/"), "https://e/fhir/Group");
  EXPECT_EQ(FhirBase("https://e/fhir/PatientX"), "https://e/fhir/PatientX");
}

}  // namespace
}  // namespace regenpath::bulk
