// The Assessment is the only seam (style.md; docs/knowledge-base.md):
//  - renderers (src/report/, the CDS Hooks cards) include neither the
//    knowledge base nor the evaluator;
//  - the pathway's vocabulary (stage ids, criterion role ids) appears in no
//    source file as a string literal: it lives in knowledge/pathway.yaml.
// These are checks of the source tree, run like every other test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "knowledge/knowledge_base.h"

namespace regenpath::engine {
namespace {

const std::string kSource = REGENPATH_SOURCE_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Every .h and .cc file under `directory`, recursively.
void SourcesUnder(const std::string& directory, std::vector<std::string>& out) {
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = directory + "/" + name;
    if (entry->d_type == DT_DIR) {
      SourcesUnder(path, out);
    } else if (name.ends_with(".cc") || name.ends_with(".h")) {
      out.push_back(path);
    }
  }
  closedir(dir);
}

std::vector<std::string> Renderers() {
  std::vector<std::string> files;
  SourcesUnder(kSource + "/src/report", files);
  for (const char* name : {"card_common", "patient_view_cards", "order_review_cards"}) {
    files.push_back(kSource + "/src/cdshooks/" + name + ".h");
    files.push_back(kSource + "/src/cdshooks/" + name + ".cc");
  }
  return files;
}

TEST(SeamTest, RenderersIncludeOnlyTheAssessment) {
  const std::vector<std::string> files = Renderers();
  ASSERT_GE(files.size(), 10u);
  const std::regex forbidden(R"re(#include\s+"(knowledge/[^"]*|engine/(?!assessment\.h)[^"]*|fhirpath/[^"]*)")re");
  for (const std::string& file : files) {
    std::string text = ReadFile(file);
    ASSERT_FALSE(text.empty()) << file;
    std::smatch match;
    EXPECT_FALSE(std::regex_search(text, match, forbidden))
        << file << " includes " << match.str(1) << ": renderers read only engine/assessment.h";
  }
}

TEST(SeamTest, ThePathwayVocabularyIsNotInTheCode) {
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Embedded();
  ASSERT_TRUE(kb->usable());
  std::vector<std::string> words;
  for (const knowledge::Stage& stage : kb->stages()) words.push_back(stage.id);
  for (const knowledge::CriterionRole& role : kb->criterion_roles()) words.push_back(role.id);
  ASSERT_GE(words.size(), 6u);
  std::vector<std::string> files;
  SourcesUnder(kSource + "/src", files);
  ASSERT_GE(files.size(), 50u);
  for (const std::string& file : files) {
    const std::string text = ReadFile(file);
    for (const std::string& word : words) {
      const std::string literal = "\"" + word + "\"";
      for (size_t at = text.find(literal); at != std::string::npos; at = text.find(literal, at + 1)) {
        // A JSON member named like a role (the schema's condition "chronic") is not the role.
        if (at > 0 && text[at - 1] == '[' && text.compare(at + literal.size(), 1, "]") == 0) continue;
        ADD_FAILURE() << file << " spells the pathway's " << literal << " in code: it belongs in knowledge/pathway.yaml";
      }
    }
  }
}

}  // namespace
}  // namespace regenpath::engine
