// Helpers shared by the registry tests: a temp directory, a migrated SQLite
// store, the embedded catalog, a fixed pseudonymizer, fixture files.
#ifndef REGENPATH_TESTS_REGISTRY_TEST_SUPPORT_H_
#define REGENPATH_TESTS_REGISTRY_TEST_SUPPORT_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>

#include "registry/instrument_catalog.h"
#include "registry/postgres_registry_store.h"
#include "registry/pseudonymizer.h"
#include "registry/sqlite_registry_store.h"
#include "test_postgres.h"

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

// Every store implementation; the store tests and the import tests run
// against each (TEST_P ... ::testing::ValuesIn(StoreFactories())).
struct StoreFactory {
  std::string name;
  // An empty, not yet migrated store (files under `dir`).
  std::function<std::unique_ptr<RegistryStore>(const std::filesystem::path& dir)> open;
};

inline std::vector<StoreFactory> StoreFactories() {
  return {{"sqlite",
           [](const std::filesystem::path& dir) -> std::unique_ptr<RegistryStore> {
             auto store = SqliteRegistryStore::Open((dir / "registry.sqlite").string());
             EXPECT_TRUE(store.has_value()) << store.error().ToString();
             return store ? std::move(*store) : nullptr;
           }},
          {"postgres", [](const std::filesystem::path&) -> std::unique_ptr<RegistryStore> {
             std::string conninfo = TestPostgres::Instance().FreshDatabase();
             if (conninfo.empty()) {
               ADD_FAILURE() << "PostgreSQL could not be started for the registry tests: "
                             << TestPostgres::Instance().error();
               return nullptr;
             }
             auto store = PostgresRegistryStore::Open(conninfo);
             EXPECT_TRUE(store.has_value()) << store.error().ToString();
             return store ? std::move(*store) : nullptr;
           }}};
}

// How gtest prints the parameter (its name, not its bytes).
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string FactoryName(const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; }

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
