#include "security/jti_cache.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace regenpath::security
