#include "security/jti_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace regenpath::security {
namespace {

TEST(JtiCacheTest, RefusesAnIdUntilItExpires) {
  JtiCache cache(10);
  EXPECT_TRUE(cache.Remember("a", 2000, 1000).ok());
  Status replay = cache.Remember("a", 2000, 1500);
  EXPECT_EQ(replay.code(), StatusCode::kInvalidInput);
  EXPECT_NE(replay.message().find("already used"), std::string::npos);
  EXPECT_TRUE(cache.Remember("b", 2000, 1500).ok());
  // At the expiry instant the entry is gone and the id may be used again.
  EXPECT_TRUE(cache.Remember("a", 3000, 2000).ok());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(JtiCacheTest, AnAlreadyExpiredIdIsNotKept) {
  JtiCache cache(10);
  EXPECT_TRUE(cache.Remember("a", 1000, 1000).ok());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(JtiCacheTest, FullOfLiveEntriesRefusesInsteadOfForgetting) {
  JtiCache cache(2);
  EXPECT_TRUE(cache.Remember("a", 5000, 1000).ok());
  EXPECT_TRUE(cache.Remember("b", 6000, 1000).ok());
  EXPECT_EQ(cache.Remember("c", 6000, 1000).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(cache.Remember("a", 9000, 1000).code(), StatusCode::kInvalidInput);
  // Once "a" expires there is room again.
  EXPECT_TRUE(cache.Remember("c", 7000, 5000).ok());
  EXPECT_EQ(cache.size(), 2u);
}

// Ids are remembered by digest: long ids, ids that differ in their last
// byte only, and many ids are told apart; entries expire in order whatever
// order they came in.
TEST(JtiCacheTest, ManyIdsByDigestExpireInOrder) {
  JtiCache cache(100'000);
  const std::string prefix(1000, 'x');
  for (int i = 0; i < 50'000; ++i) {
    ASSERT_TRUE(cache.Remember(prefix + std::to_string(i), 10'000 + (i % 7) * 1000, 1000).ok()) << i;
  }
  EXPECT_EQ(cache.size(), 50'000u);
  EXPECT_EQ(cache.Remember(prefix + "49999", 20'000, 1000).code(), StatusCode::kInvalidInput);
  EXPECT_EQ(cache.Remember(prefix + "0", 20'000, 1000).code(), StatusCode::kInvalidInput);
  EXPECT_TRUE(cache.Remember(prefix + "50000", 20'000, 1000).ok());
  // At 12,000 the ids with i % 7 in {0, 1, 2} (expiring at 10,000-12,000) are gone.
  EXPECT_TRUE(cache.Remember("probe", 20'000, 12'000).ok());
  size_t expected = 1 + 1;  // "50000" and "probe"
  for (int i = 0; i < 50'000; ++i) expected += (i % 7) >= 3 ? 1 : 0;
  EXPECT_EQ(cache.size(), expected);
  EXPECT_TRUE(cache.Remember(prefix + "0", 20'000, 12'000).ok());  // expired: usable again
  EXPECT_EQ(cache.Remember(prefix + "3", 20'000, 12'000).code(), StatusCode::kInvalidInput);  // still live
}

}  // namespace
}  // namespace regenpath::security
