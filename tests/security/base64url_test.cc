#include "security/base64url.h"

#include <string>

#include <gtest/gtest.h>

namespace regenpath::security {
namespace {

TEST(Base64UrlTest, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length < 70; ++length) {
    Result<std::string> decoded = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value()) << length;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 200));
  }
}

TEST(Base64UrlTest, KnownValues) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("eyJhbGciOiJFUzM4NCJ9").value(), "{\"alg\":\"ES384\"}");
}

TEST(Base64UrlTest, RejectsNonCanonicalText) {
  for (const char* text :
       {"Zg==", "Zm8=", "Zm+v", "Zm/v", "Zm9 v", "Zm9v\n", "Z", "Zm9vY", "Zh", "Zm9", "Zm-", "Z\xc3\xa9"}) {
    // Padding, the base64 (not url) alphabet, whitespace, a length of 1 mod
    // 4, non-zero unused bits ("Zh", "Zm9", "Zm-") and non-ASCII.
    Result<std::string> decoded = Base64UrlDecode(text);
    EXPECT_FALSE(decoded.has_value()) << text;
  }
}

}  // namespace
}  // namespace regenpath::security
