// The registry store contract (registry_store.h), run against every store
// implementation built: today SQLite (a temp file per test).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <filesystem>
#include <functional>
#include <memory>

#include "registry/pseudonymizer.h"
#include "registry/registry_schema.h"
#include "test_support.h"

namespace regenpath::registry {
namespace {

namespace fs = std::filesystem;

using testing::FactoryName;
using testing::StoreFactories;
using testing::StoreFactory;

[[maybe_unused]] ::testing::Environment* const kPostgresEnvironment =
    ::testing::AddGlobalTestEnvironment(new testing::PostgresEnvironment);

WriteContext Ctx() { return WriteContext{"test-subject", "2026-12-05T10:00:00Z"}; }

WriteBatch SampleBatch() {
  WriteBatch batch;
  batch.patients.push_back({"p1", false});
  Episode episode;
  episode.key = "p1|prp-knee|left";
  episode.patient = "p1";
  episode.option_id = "prp-knee";
  episode.therapy = "prp";
  episode.target = "knee";
  episode.side = "left";
  episode.start_date = "2026-01-10";
  batch.episodes.push_back(episode);
  ProcedureRecord procedure;
  procedure.key = "Procedure|urn:x|1";
  procedure.episode_key = episode.key;
  procedure.patient = "p1";
  procedure.date = "2026-01-10";
  procedure.volume_ml = 4.5;
  batch.procedures.push_back(procedure);
  batch.outcomes.push_back(OutcomeRecord{"Observation|urn:x|o1", "p1", "nrs", "2026-01-09", 7});
  batch.outcomes.push_back(OutcomeRecord{"Observation|urn:x|o2", "p1", "nrs", "2026-07-10", 3});
  AdverseEventRecord event;
  event.key = "AdverseEvent|urn:x|a1";
  event.patient = "p1";
  event.episode_key = episode.key;
  event.category = AdverseEventCategory::kPostInjectionFlare;
  event.onset = "2026-01-11";
  batch.adverse_events.push_back(event);
  return batch;
}

class RegistryStoreTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("regenpath-registry-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = GetParam().open(dir_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<RegistryStore> store_;
};

TEST_P(RegistryStoreTest, MigratesOnceAndRecordsIt) {
  EXPECT_EQ(store_->SchemaVersion().value(), 0);
  auto version = store_->Migrate(Ctx());
  ASSERT_TRUE(version.has_value()) << version.error().ToString();
  EXPECT_EQ(*version, static_cast<int>(RegistryMigrations().size()));
  EXPECT_EQ(store_->Migrate(Ctx()).value(), *version);  // idempotent
  auto audit = store_->Audit(10).value();
  ASSERT_EQ(audit.size(), RegistryMigrations().size());
  EXPECT_EQ(audit[0].action, "migrate");
}

TEST_P(RegistryStoreTest, RefusesWritesBeforeMigration) {
  auto written = store_->Write(SampleBatch(), Ctx());
  ASSERT_FALSE(written.has_value());
  EXPECT_NE(written.error().message().find("registry migrate"), std::string::npos);
}

TEST_P(RegistryStoreTest, WritesAreIdempotentAndAudited) {
  ASSERT_TRUE(store_->Migrate(Ctx()).has_value());
  auto first = store_->Write(SampleBatch(), Ctx());
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->created, 5);
  EXPECT_EQ(first->updated, 0);
  auto second = store_->Write(SampleBatch(), Ctx());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->created, 0);
  EXPECT_EQ(second->updated, 5);
  Cohort cohort = store_->LoadCohort("prp-knee").value();
  EXPECT_EQ(cohort.episodes.size(), 1u);
  EXPECT_EQ(cohort.procedures.size(), 1u);
  EXPECT_EQ(cohort.outcomes.size(), 2u);
  ASSERT_EQ(cohort.adverse_events.size(), 1u);
  EXPECT_EQ(cohort.adverse_events[0].category, AdverseEventCategory::kPostInjectionFlare);
  ASSERT_TRUE(cohort.procedures[0].volume_ml.has_value());
  EXPECT_DOUBLE_EQ(*cohort.procedures[0].volume_ml, 4.5);
  EXPECT_FALSE(cohort.procedures[0].platelet_concentration.has_value());
  // One audit row per write, action and entity type (4 types, 5 rows per
  // write), listing the keys written.
  auto audit = store_->Audit(100).value();
  ASSERT_EQ(audit.size(), RegistryMigrations().size() + 8);
  int64_t updated = 0, created = 0;
  std::set<std::string> entities;
  for (size_t index = 0; index < 8; ++index) {
    EXPECT_EQ(audit[index].actor, "test-subject");
    EXPECT_EQ(audit[index].outcome, "success");
    (index < 4 ? updated : created) += audit[index].entity_count;
    EXPECT_EQ(audit[index].action, index < 4 ? "update" : "create");
    if (index < 4) entities.insert(audit[index].entity);
  }
  EXPECT_EQ(updated, 5);
  EXPECT_EQ(created, 5);
  EXPECT_EQ(entities, (std::set<std::string>{R"(["p1|prp-knee|left"])", R"(["Procedure|urn:x|1"])",
                                             R"(["Observation|urn:x|o1","Observation|urn:x|o2"])", R"(["AdverseEvent|urn:x|a1"])"}));
  EXPECT_EQ(audit[8].entity, "[\"" + std::to_string(RegistryMigrations().size()) + "\"]");  // the last migration
  EXPECT_TRUE(store_->LoadCohort("bmc-knee").value().episodes.empty());
  EXPECT_EQ(store_->FindProcedure("Procedure|urn:x|1").value()->patient, "p1");
  EXPECT_FALSE(store_->FindProcedure("Procedure|nope").value().has_value());
}

TEST_P(RegistryStoreTest, NeverMixesSyntheticAndRealData) {
  ASSERT_TRUE(store_->Migrate(Ctx()).has_value());
  ASSERT_TRUE(store_->Write(SampleBatch(), Ctx()).has_value());
  EXPECT_EQ(store_->Synthetic().value(), std::optional<bool>(false));
  WriteBatch synthetic = SampleBatch();
  synthetic.synthetic = true;
  synthetic.outcomes[0].key = "Observation|new";
  auto written = store_->Write(synthetic, Ctx());
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LoadCohort("").value().outcomes.size(), 2u);
}

// A batch's rows in any order, keys of any length (one the prefix of
// another, some alike for their first 8 bytes after the common prefix),
// and one key twice: each key is stored once, and the later row is the
// update (the SQLite store writes in key order: KeyOrder()).
TEST_P(RegistryStoreTest, ABatchInAnyOrderStoresEachKeyOnceTheLaterRowWinning) {
  ASSERT_TRUE(store_->Migrate(Ctx()).has_value());
  WriteBatch batch = SampleBatch();
  batch.outcomes.clear();
  struct Row {
    std::string key;
    double value;
  };
  const std::vector<Row> rows = {{"Observation|urn:x|o10", 1},          {"Observation|urn:x|o1", 2},
                                 {"Observation|urn:x|o2-aaaaaaaaz", 3}, {"Observation|urn:x|o2-aaaaaaaa", 4},
                                 {"Observation|urn:x|o", 5},            {"Observation|urn:x|o1", 6},
                                 {"Observation|urn:x|o2-aaaaaaaab", 7}, {"Observation|urn:x|\xc3\xa9", 8},
                                 {"Observation|urn:x|O", 9},
                                 // alike for 16 bytes and more after the common prefix
                                 {"Observation|urn:x|o3-0123456789abcdef-b", 10},
                                 {"Observation|urn:x|o3-0123456789abcdef-a", 11},
                                 {"Observation|urn:x|o3-0123456789abcdef", 12},
                                 {"Observation|urn:x|o3-0123456789abcdef-a", 13}};
  for (const auto& [key, value] : rows) batch.outcomes.push_back(OutcomeRecord{key, "p1", "nrs", "2026-02-01", value});
  auto written = store_->Write(batch, Ctx());
  ASSERT_TRUE(written.has_value()) << written.error().ToString();
  EXPECT_EQ(written->created, 3 + 11);  // episode, procedure, event and 11 keys
  EXPECT_EQ(written->updated, 2);       // o1's and o3-...-a's second rows
  std::map<std::string, double> stored;
  Cohort cohort = store_->LoadCohort("").value();
  for (const OutcomeRecord& outcome : cohort.outcomes) {
    EXPECT_TRUE(stored.emplace(outcome.key, outcome.value).second) << outcome.key;
  }
  std::map<std::string, double> expected;
  for (const auto& [key, value] : rows) expected[key] = value;  // the later row wins
  EXPECT_EQ(stored, expected);
  EXPECT_EQ(stored["Observation|urn:x|o1"], 6);
  EXPECT_EQ(stored["Observation|urn:x|o3-0123456789abcdef-a"], 13);
}

TEST_P(RegistryStoreTest, AFailedWriteLeavesNothing) {
  ASSERT_TRUE(store_->Migrate(Ctx()).has_value());
  WriteBatch batch = SampleBatch();
  batch.outcomes[1].patient = "unknown-patient";  // violates the patients foreign key
  ASSERT_FALSE(store_->Write(batch, Ctx()).has_value());
  Cohort cohort = store_->LoadCohort("").value();
  EXPECT_TRUE(cohort.episodes.empty());
  EXPECT_TRUE(cohort.outcomes.empty());
  EXPECT_EQ(store_->Audit(100).value().size(), RegistryMigrations().size());
}

INSTANTIATE_TEST_SUITE_P(Stores, RegistryStoreTest, ::testing::ValuesIn(StoreFactories()), FactoryName);

TEST(PseudonymizerTest, KeyedStableAndNotTheIdentifier) {
  auto site_a = Pseudonymizer::Create(std::string(32, 'a')).value();
  auto site_b = Pseudonymizer::Create(std::string(32, 'b')).value();
  std::string pseudonym = site_a.Pseudonym("urn:mrn", "12345");
  EXPECT_EQ(pseudonym.size(), 64u);
  EXPECT_EQ(pseudonym, site_a.Pseudonym("urn:mrn", "12345"));
  EXPECT_NE(pseudonym, site_b.Pseudonym("urn:mrn", "12345"));
  EXPECT_NE(pseudonym, site_a.Pseudonym("urn:mrn", "12346"));
  EXPECT_EQ(pseudonym.find("12345"), std::string::npos);
  // HMAC-SHA256 of "s|v" under this key, computed with Python's hmac module.
  auto fixed = Pseudonymizer::Create("0123456789abcdef0123456789abcdef").value();
  EXPECT_EQ(fixed.Pseudonym("s", "v"), "1a0e4e858eb35924cc87a7d5d07ff6fe06866675e21aec2defb5dda95e8b0cf3");
  EXPECT_FALSE(Pseudonymizer::Create("short").has_value());
}

}  // namespace
}  // namespace regenpath::registry
