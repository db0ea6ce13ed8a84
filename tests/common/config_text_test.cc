// ReadConfigText: a configuration file's text with YAML's line ends, and
// one wording for every way it cannot be read.
#include "common/config_text.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace regenpath {
namespace {

TEST(ConfigTextTest, ReadsTheTextWithLoneCrsAsLineEnds) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("regenpath-config-text-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.yaml", std::ios::binary) << "port: 1\rhost: x\r\n";
  Result<std::string> text = ReadConfigText((dir / "a.yaml").string());
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(*text, "port: 1\nhost: x\r\n");

  for (const std::filesystem::path& unreadable : {dir / "absent.yaml", dir}) {
    Result<std::string> missing = ReadConfigText(unreadable.string());
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code(), StatusCode::kInvalidInput);
    EXPECT_EQ(missing.error().message(), unreadable.string() + ": not a readable file");
  }
  Result<std::string> large = ReadConfigText((dir / "a.yaml").string(), 4);
  ASSERT_FALSE(large.has_value());
  EXPECT_EQ(large.error().message(), (dir / "a.yaml").string() + ": larger than 4 bytes");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace regenpath
