// LoadRegistryConfig: keys, paths relative to the file, errors naming the
// file and line, and line ends as YAML 1.2 has them (a lone CR too).
#include "registry/registry_config.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace regenpath::registry::testing {
namespace {

class RegistryConfigTest : public ::testing::Test {
 protected:
  Result<RegistryConfig> Load(const std::string& text) {
    const std::filesystem::path path = dir_.path() / "registry.yaml";
    std::ofstream(path, std::ios::binary) << text;
    return LoadRegistryConfig(path.string());
  }
  TempDir dir_;
};

TEST_F(RegistryConfigTest, ReadsTheKeysPathsRelativeToTheFile) {
  Result<RegistryConfig> config =
      Load("database: registry.sqlite\nsite_secret_file: secret\nmin_episodes: 5\n");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->database, (dir_.path() / "registry.sqlite").string());
  EXPECT_EQ(config->site_secret_file, (dir_.path() / "secret").string());
  EXPECT_EQ(config->min_episodes, 5);
}

// Classic Mac line endings: every line read, not one comment.
TEST_F(RegistryConfigTest, CrLineEndingsAreLineEnds) {
  Result<RegistryConfig> config = Load("# the site's registry\rdatabase: registry.sqlite\rmin_episodes: 7\r");
  ASSERT_TRUE(config.has_value()) << config.error().message();
  EXPECT_EQ(config->min_episodes, 7);
  Result<RegistryConfig> bad = Load("database: r.sqlite\rcolour: red\r");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("registry.yaml:2: unknown key 'colour'"), std::string::npos)
      << bad.error().message();
}

// Bad YAML and a value of the wrong type are named with their line.
TEST_F(RegistryConfigTest, BadYamlAndBadValuesNameTheirLine) {
  Result<RegistryConfig> bad = Load("database: r.sqlite\nmin_episodes: [3\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("registry.yaml:"), std::string::npos) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("yaml-cpp"), std::string::npos) << bad.error().message();
  Result<RegistryConfig> wrong = Load("database: r.sqlite\nmin_episodes: abc\n");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("registry.yaml:2: "), std::string::npos) << wrong.error().message();
}

// A missing file and a directory are named; neither stops the process.
TEST_F(RegistryConfigTest, AMissingFileOrADirectoryIsNamed) {
  Result<RegistryConfig> missing = LoadRegistryConfig((dir_.path() / "absent.yaml").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("absent.yaml: not a readable file"), std::string::npos)
      << missing.error().message();
  std::filesystem::create_directory(dir_.path() / "registry.d");
  Result<RegistryConfig> directory = LoadRegistryConfig((dir_.path() / "registry.d").string());
  ASSERT_FALSE(directory.has_value());
  EXPECT_NE(directory.error().message().find("registry.d: not a readable file"), std::string::npos)
      << directory.error().message();
}

}  // namespace
}  // namespace regenpath::registry::testing
