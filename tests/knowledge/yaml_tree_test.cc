// YamlTree: parsing keeps lines; the encoding used for the built-in
// knowledge base round-trips and rejects anything it did not produce.
#include <gtest/gtest.h>

#include "knowledge/embedded_files.h"
#include "knowledge/yaml_tree.h"

namespace regenpath::knowledge {
namespace {

constexpr std::string_view kYaml = R"(title: "a: b"
items:
  - 1
  - [x, "y z"]
  - {k: v, n: ~}
empty:
multi: |
  line one
  line two
)";

TEST(YamlTreeTest, ParsesWithLines) {
  Result<YamlTree> tree = ParseYaml(kYaml);
  ASSERT_TRUE(tree.has_value()) << tree.error().message();
  ASSERT_TRUE(tree->IsMap());
  EXPECT_EQ((*tree)["title"].Scalar(), "a: b");
  EXPECT_EQ((*tree)["title"].GetMark().line, 0);
  const YamlTree& items = (*tree)["items"];
  ASSERT_TRUE(items.IsSequence());
  EXPECT_EQ(items.size(), 3u);
  EXPECT_EQ(items.GetMark().line, 2);
  double number = 0;
  EXPECT_TRUE(items.begin()->AsDouble(number));
  EXPECT_EQ(number, 1);
  EXPECT_TRUE((*tree)["empty"]);  // present...
  EXPECT_TRUE((*tree)["empty"].IsNull());  // ...but null
  EXPECT_FALSE((*tree)["absent"]);
  EXPECT_EQ((*tree)["multi"].Scalar(), "line one\nline two\n");
}

TEST(YamlTreeTest, SyntaxErrorsNameTheLine) {
  int line = 0;
  Result<YamlTree> tree = ParseYaml("a: 1\nb: [2\n", &line);
  ASSERT_FALSE(tree.has_value());
  EXPECT_GE(line, 2);
}

TEST(YamlTreeTest, EncodingRoundTrips) {
  Result<YamlTree> tree = ParseYaml(kYaml);
  ASSERT_TRUE(tree.has_value());
  std::string encoded = EncodeYamlTree(*tree);
  Result<YamlTree> decoded = DecodeYamlTree(encoded);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(EncodeYamlTree(*decoded), encoded);
  EXPECT_EQ((*decoded)["items"].GetMark().line, 2);
  EXPECT_EQ((*decoded)["multi"].Scalar(), "line one\nline two\n");
}

TEST(YamlTreeTest, DecodingRejectsWhatItDidNotProduce) {
  Result<YamlTree> tree = ParseYaml(kYaml);
  ASSERT_TRUE(tree.has_value());
  std::string encoded = EncodeYamlTree(*tree);
  for (size_t cut = 0; cut < encoded.size(); cut += 7) {
    EXPECT_FALSE(DecodeYamlTree(encoded.substr(0, cut)).has_value()) << cut;
  }
  for (std::string_view bad : {"", "x", "s0:99:abc", "q0:-1:", "m0:1:~0;", "~0;~0;", "s0:3:abc extra",
                               "q0:99999999999999999999:"}) {
    EXPECT_FALSE(DecodeYamlTree(bad).has_value()) << bad;
  }
  EXPECT_FALSE(DecodeYamlTree(std::string(10'000, 'q') ).has_value());
}

TEST(YamlTreeTest, EveryEmbeddedFileDecodes) {
  std::vector<EmbeddedTree> files = EmbeddedKnowledgeTrees();
  ASSERT_FALSE(files.empty());
  for (const EmbeddedTree& file : files) {
    EXPECT_FALSE(file.encoded.starts_with("!raw")) << file.name << " was not YAML at build time";
    EXPECT_TRUE(DecodeYamlTree(file.encoded).has_value()) << file.name;
  }
}

}  // namespace
}  // namespace regenpath::knowledge
