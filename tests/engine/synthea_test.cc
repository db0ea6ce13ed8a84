// The built-in knowledge base on the 14 Synthea patients of
// shared/testdata/synthea/r4-bundles-pain-subset: every record is assessed
// without failure, the output validates against assessment.schema.json, and
// parsing with the engine's element filter gives the same assessment.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <fstream>

#include "report/assessment_json.h"
#include "engine/engine.h"
#include "fhir/parser.h"

namespace regenpath::engine {
namespace {

std::vector<std::string> SyntheaFiles() {
  const std::string directory = std::string(REGENPATH_SHARED_DIR) + "/testdata/synthea/r4-bundles-pain-subset";
  std::vector<std::string> files;
  if (DIR* dir = opendir(directory.c_str())) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name.ends_with(".json")) files.push_back(directory + "/" + name);
    }
    closedir(dir);
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(SyntheaTest, EveryBundleAssessesWithASchemaValidResult) {
  Result<Engine> engine = Engine::Create(knowledge::KnowledgeBase::Embedded());
  ASSERT_TRUE(engine.has_value()) << engine.error().message();
  std::vector<std::string> files = SyntheaFiles();
  ASSERT_EQ(files.size(), 14u);
  const DateTime now = *DateTime::ParseDateTime("2026-11-24");
  fhir::Parser full_parser;
  fhir::ParseOptions options;
  const fhir::ElementFilter* filter = engine->element_filter();
  options.filter_for_root = [filter](std::string_view) { return filter; };
  fhir::Parser filtered_parser(options);
  std::string paths;
  std::map<std::string, int> stages;
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    Result<fhir::Document> record = full_parser.ParseFile(files[i]);
    ASSERT_TRUE(record.has_value()) << record.error().message();
    Assessment assessment = *engine->Assess(*record, now);
    for (const AssessmentIssue& issue : assessment.issues) {
      // Data issues are allowed; failures of the knowledge base's own
      // definitions on real records are not.
      EXPECT_EQ(issue.message.find("could not be evaluated"), std::string::npos) << issue.message;
    }
    ++stages[assessment.stage.id];
    std::string json = report::AssessmentToJson(assessment);
    Result<fhir::Document> partial = filtered_parser.ParseFile(files[i]);
    ASSERT_TRUE(partial.has_value());
    Assessment filtered = *engine->Assess(*partial, now);
    filtered.issues = assessment.issues;  // skipped elements are not validated: issues may differ
    EXPECT_EQ(report::AssessmentToJson(filtered), json) << "the element filter changed the assessment";
    std::string path = ::testing::TempDir() + "/synthea-" + std::to_string(i) + ".json";
    std::ofstream(path) << json;
    paths += " " + path;
  }
  std::string command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR + "/tools/validate_json_schema.py " +
                        REGENPATH_SHARED_DIR + "/spec/assessment.schema.json" + paths;
  EXPECT_EQ(std::system(command.c_str()), 0);
  for (const auto& [stage, count] : stages) std::cout << "  " << stage << ": " << count << "\n";
}

}  // namespace
}  // namespace regenpath::engine
