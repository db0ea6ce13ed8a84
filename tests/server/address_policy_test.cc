// AddressPolicy, FhirServerAllowlist and the TLS 1.2 cipher check: the
// pieces of issue 13's SSRF and TLS items that need no network.
#include "server/address_policy.h"

#include <gtest/gtest.h>

#include "server/fhir_server_allowlist.h"
#include "server/tls_ciphers.h"

namespace regenpath::server {
namespace {

TEST(AddressPolicyTest, InternalAddressesAreNotPublic) {
  for (const char* address :
       {"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "192.0.2.10", "198.51.100.7", "203.0.113.9", "198.18.0.1", "224.0.0.1",
        "255.255.255.255", "::1", "::", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.1.2.3",
        "fe80::1", "fc00::1", "fd12:3456::1", "2001:db8::1", "3fff::1", "2002:a00:1::1", "64:ff9b::a00:1",
        "ff02::1", "fec0::1", "2001::1"}) {
    EXPECT_FALSE(IsPublicAddress(address)) << address;
    Result<AddressPolicy> policy = AddressPolicy::PublicOnly({});
    ASSERT_TRUE(policy.has_value());
    EXPECT_FALSE(policy->Allows(address)) << address;
  }
}

TEST(AddressPolicyTest, PublicAddressesAreAllowed) {
  Result<AddressPolicy> policy = AddressPolicy::PublicOnly({});
  ASSERT_TRUE(policy.has_value());
  for (const char* address : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "2606:4700:4700::1111",
                              "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(IsPublicAddress(address)) << address;
    EXPECT_TRUE(policy->Allows(address)) << address;
  }
  EXPECT_FALSE(policy->Allows("not-an-address"));
  EXPECT_FALSE(policy->Allows("localhost"));
}

TEST(AddressPolicyTest, ListedNetworksAreAllowedExplicitly) {
  Result<AddressPolicy> policy = AddressPolicy::PublicOnly({"127.0.0.1", "10.2.0.0/16", "fd00::/8"});
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  EXPECT_TRUE(policy->Allows("127.0.0.1"));
  EXPECT_TRUE(policy->Allows("::ffff:127.0.0.1"));
  EXPECT_FALSE(policy->Allows("127.0.0.2"));
  EXPECT_TRUE(policy->Allows("10.2.200.1"));
  EXPECT_FALSE(policy->Allows("10.3.0.1"));
  EXPECT_TRUE(policy->Allows("fd00::5"));
  EXPECT_FALSE(policy->Allows("169.254.169.254"));
  EXPECT_TRUE(AddressPolicy::AllowAll().Allows("169.254.169.254"));
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "ehr.example.org", "10.0.0.0/", "10.0.0.0/x"}) {
    EXPECT_FALSE(AddressPolicy::PublicOnly({bad}).has_value()) << bad;
  }
}

TEST(FhirServerAllowlistTest, PerIssuerExactAndPrefixEntries) {
  Result<FhirServerAllowlist> list = FhirServerAllowlist::Create(
      {"https://shared.example.org/fhir"},
      {{"https://ehr-a.example.com/", {"https://fhir.a.example.com/r4/", "https://tenants.a.example.com/fhir/*"}},
       {"https://ehr-b.example.com/", {"https://fhir.b.example.com/r4"}}});
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  const std::string a = "https://ehr-a.example.com/";
  const std::string b = "https://ehr-b.example.com/";
  EXPECT_TRUE(list->Allows(a, "https://fhir.a.example.com/r4"));
  EXPECT_TRUE(list->Allows(a, "https://FHIR.A.example.com/r4/"));
  EXPECT_FALSE(list->Allows(a, "https://fhir.a.example.com/r4x"));
  EXPECT_FALSE(list->Allows(a, "https://fhir.a.example.com/r4/other"));
  EXPECT_TRUE(list->Allows(a, "https://tenants.a.example.com/fhir/t1"));
  EXPECT_FALSE(list->Allows(a, "https://tenants.a.example.com/fhirx"));
  EXPECT_FALSE(list->Allows(b, "https://fhir.a.example.com/r4"));  // another issuer's server
  EXPECT_TRUE(list->Allows(b, "https://fhir.b.example.com/r4"));
  EXPECT_TRUE(list->Allows(b, "https://shared.example.org/fhir"));
  EXPECT_TRUE(list->Allows("", "https://shared.example.org/fhir"));
  EXPECT_FALSE(list->Allows("", "https://fhir.b.example.com/r4"));
  EXPECT_FALSE(list->Allows("https://unknown.example.com/", "http://169.254.169.254/latest"));
  for (const char* bad : {"https://ehr.example.org*", "ftp://x/", "https://x/fhir?q=1", "not a url"}) {
    EXPECT_FALSE(FhirServerAllowlist::Create({bad}, {}).has_value()) << bad;
  }
}

TEST(TlsCiphersTest, DefaultIsEcdheWithAeadOnly) {
  Result<std::vector<std::string>> names = Tls12CipherNames("");
  ASSERT_TRUE(names.has_value()) << names.error().ToString();
  ASSERT_FALSE(names->empty());
  for (const std::string& name : *names) {
    EXPECT_EQ(name.rfind("ECDHE-", 0), 0u) << name;
    EXPECT_TRUE(name.find("GCM") != std::string::npos || name.find("CHACHA20") != std::string::npos) << name;
  }
}

TEST(TlsCiphersTest, ListsWithoutForwardSecrecyOrAeadAreRefused) {
  for (const char* bad : {"DEFAULT", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-SHA256",
                          "DHE-RSA-AES128-GCM-SHA256", "no-such-cipher"}) {
    EXPECT_FALSE(Tls12CipherNames(bad).has_value()) << bad;
  }
  Result<std::vector<std::string>> one = Tls12CipherNames("ECDHE-RSA-CHACHA20-POLY1305");
  ASSERT_TRUE(one.has_value()) << one.error().ToString();
  EXPECT_EQ(*one, std::vector<std::string>{"ECDHE-RSA-CHACHA20-POLY1305"});
}

}  // namespace
}  // namespace regenpath::server
