// Helpers shared by the registry tests: a temp directory, a migrated SQLite
// store, the embedded catalog, a fixed pseudonymizer, fixture files.
#ifndef REGENPATH_TESTS_REGISTRY_TEST_SUPPORT_H_
#define REGENPATH_TESTS_REGISTRY_TEST_SUPPORT_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "registry/instrument_catalog.h"
#include "registry/pseudonymizer.h"
#include "registry/sqlite_registry_store.h"

namespace regenpath::registry::testing {

inline std::string DataPath(const std::string& name) {
  return std::string(REGENPATH_SOURCE_DIR) + "/tests/registry/data/" + name;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// A fresh directory removed at destruction.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("regenpath-registry-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline WriteContext TestContext() { return WriteContext{"test-subject", "2026-12-05T10:00:00Z"}; }

inline std::unique_ptr<SqliteRegistryStore> MigratedSqlite(const TempDir& dir) {
  auto store = SqliteRegistryStore::Open((dir.path() / "registry.sqlite").string());
  EXPECT_TRUE(store.has_value());
  EXPECT_TRUE((*store)->Migrate(TestContext()).has_value());
  return std::move(*store);
}

inline const InstrumentCatalog& Catalog() {
  static std::shared_ptr<const InstrumentCatalog> catalog = InstrumentCatalog::Embedded().value();
  return *catalog;
}

inline const Pseudonymizer& TestPseudonymizer() {
  static Pseudonymizer pseudonymizer = Pseudonymizer::Create("test-site-secret-of-at-least-32-bytes").value();
  return pseudonymizer;
}

}  // namespace regenpath::registry::testing

#endif  // REGENPATH_TESTS_REGISTRY_TEST_SUPPORT_H_
