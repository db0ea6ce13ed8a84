#include "fhirpath/ucum.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/decimal.h"

namespace regenpath::fhirpath::ucum {
namespace {

Decimal Dec(std::string_view text) {
  std::optional<Decimal> value = Decimal::Parse(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(Decimal());
}

// ---- Validity ----

class ValidUnitTest : public testing::TestWithParam<const char*> {};

TEST_P(ValidUnitTest, Parses) { EXPECT_TRUE(Parse(GetParam()).has_value()) << GetParam(); }

INSTANTIATE_TEST_SUITE_P(
    Clinical, ValidUnitTest,
    testing::Values("1", "m", "g", "s", "rad", "K", "C", "cd", "mol", "mg/dL", "mmol/L", "10*3/uL", "10*9/L",
                    "10^3", "10*-3", "10*+3", "/min", "{beats}/min", "kg/m2", "kg.m-2", "[lb_av]", "[in_i]",
                    "cm", "mm[Hg]", "cm[H2O]", "Cel", "[degF]", "%", "g/dL", "mL/min/{1.73_m2}", "U/L",
                    "[iU]/L", "[IU]/L", "m[iU]/mL", "ng/mL", "ug/L", "pg/mL", "fL", "min", "h", "d", "wk",
                    "mo", "a", "a_j", "a_g", "{score}", "{count}", "{}", "{any text, even spaces}", "ms",
                    "kat", "ukat/L", "Pa", "kPa", "dL", "L", "l", "mL", "t", "bar", "eq", "meq/L", "osm",
                    "mosm/kg", "[ppm]", "[ppb]", "deg", "'", "''", "gon", "cal", "kcal", "[Cal]", "[arb'U]",
                    "[CFU]/mL", "k[CFU]", "[drp]", "[foz_us]", "[pt_us]", "[qt_us]", "[gal_us]", "[cup_us]",
                    "[tbs_us]", "[tsp_us]", "[oz_av]", "[gr]", "[ft_i]", "[yd_i]", "[mi_i]", "m/s2",
                    "(m/s)/s", "((m))", "m.(s/g)", "10*3{cells}/uL", "/[HPF]", "/100{WBCs}", "2{x}", "N", "J",
                    "W", "A", "V", "F", "Ohm", "S", "Wb", "T", "H", "lm", "lx", "Bq", "Gy", "Sv", "Hz", "sr",
                    "mm", "dam", "hL", "[pi]", "[pi].rad", "(Cel)", "Cel{body}", "m0", "m+2", "2.5", "[ppth]",
                    "[MET]", "[Ch]", "nmol/mmol{creat}"));

class InvalidUnitTest : public testing::TestWithParam<const char*> {};

TEST_P(InvalidUnitTest, IsRejected) { EXPECT_FALSE(Parse(GetParam()).has_value()) << GetParam(); }

INSTANTIATE_TEST_SUITE_P(Malformed, InvalidUnitTest,
                         testing::Values("", " ", "m//s", "{unclosed", "xyz", "10*", "10^", "10*-", "kg..m",
                                         "[lb_av", "lb_av]", "/", "m/", ".m", "m.", "()", "(m", "m)", "m s",
                                         " m", "m ", "2m", "m2m", "{a}{b}", "mEq/L", "{a{b}", "(m){x}",
                                         "(m)2", "m-", "m+", "0", "0/s", "mmHg", "KG", "Kg", "mCel", "Cel2",
                                         "Cel-1", "Cel/s", "/Cel", "Cel.m", "2.Cel", "k[in_i]", "m%",
                                         "k[ppm]", "ka", "mmo", "cmin", "*", "10*3*", "10**3", "2*3",
                                         "m12345", "10*99999", "m\xc2\xb5", "\xc2\xb5g", "[pH]", "dB",
                                         "[degRe]", "Ym999"));

TEST(UcumParseTest, PrefersWholeAtomsOverPrefixes) {
  // cd is candela, not centi-day; Pa is pascal, not peta-year; mo is month.
  std::optional<Canonical> candela = Parse("cd");
  ASSERT_TRUE(candela);
  EXPECT_EQ(candela->dimension[6], 1);
  EXPECT_EQ(candela->factor, Dec("1"));
  std::optional<Canonical> pascal = Parse("Pa");
  ASSERT_TRUE(pascal);
  EXPECT_EQ(pascal->factor, Dec("1000"));  // kg/(m.s2) in g/(m.s2).
  EXPECT_EQ(pascal->dimension[0], -1);
  EXPECT_EQ(pascal->dimension[1], 1);
  EXPECT_EQ(pascal->dimension[2], -2);
  std::optional<Canonical> month = Parse("mo");
  ASSERT_TRUE(month);
  EXPECT_EQ(month->factor, Dec("2629800"));  // 30.4375 d in s.
  std::optional<Canonical> millimole = Parse("mmol");
  ASSERT_TRUE(millimole);
  EXPECT_EQ(millimole->factor, Dec("0.001"));
  EXPECT_EQ(millimole->dimension[7], 1);
  std::optional<Canonical> decaliter = Parse("daL");
  ASSERT_TRUE(decaliter);
  EXPECT_EQ(decaliter->factor, Dec("0.01"));
}

TEST(UcumParseTest, CanonicalForms) {
  std::optional<Canonical> glucose = Parse("mg/dL");
  ASSERT_TRUE(glucose);
  EXPECT_EQ(glucose->factor, Dec("10"));  // 0.001 g / 0.0001 m3.
  EXPECT_EQ(glucose->dimension, (Dimension{-3, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(glucose->is_special);
  EXPECT_FALSE(glucose->arbitrary);

  std::optional<Canonical> percent = Parse("%");
  ASSERT_TRUE(percent);
  EXPECT_EQ(percent->factor, Dec("0.01"));
  EXPECT_EQ(percent->dimension, Dimension{});

  std::optional<Canonical> annotation = Parse("{beats}/min");
  ASSERT_TRUE(annotation);
  EXPECT_EQ(annotation->dimension, (Dimension{0, 0, -1, 0, 0, 0, 0, 0}));

  std::optional<Canonical> celsius = Parse("Cel");
  ASSERT_TRUE(celsius);
  EXPECT_TRUE(celsius->is_special);
  EXPECT_EQ(celsius->factor, Dec("1"));
  EXPECT_EQ(celsius->offset, Dec("273.15"));
  EXPECT_EQ(celsius->dimension[4], 1);

  std::optional<Canonical> fahrenheit = Parse("[degF]");
  ASSERT_TRUE(fahrenheit);
  EXPECT_TRUE(fahrenheit->is_special);
  EXPECT_NEAR(fahrenheit->factor.ToDouble(), 5.0 / 9.0, 1e-15);
  EXPECT_NEAR(fahrenheit->offset.ToDouble(), 255.3722222222222, 1e-12);

  std::optional<Canonical> units = Parse("m[iU]/mL");
  ASSERT_TRUE(units);
  EXPECT_TRUE(units->arbitrary);
  EXPECT_EQ(units->factor.ToString(), "1000");  // 0.001 per 0.000001 m3.

  // Arbitrary units that cancel are no longer arbitrary.
  std::optional<Canonical> cancelled = Parse("[iU]/[iU]");
  ASSERT_TRUE(cancelled);
  EXPECT_FALSE(cancelled->arbitrary);

  std::optional<Canonical> degree = Parse("deg");
  ASSERT_TRUE(degree);
  EXPECT_NEAR(degree->factor.ToDouble(), 3.14159265358979323846 / 180, 1e-17);
  EXPECT_EQ(degree->dimension[3], 1);
}

TEST(UcumParseTest, OperatorsAssociateLeftToRight) {
  // g/m/s = g/(m.s); a leading '/' reads as "1/".
  std::optional<Canonical> chained = Parse("g/m/s");
  ASSERT_TRUE(chained);
  EXPECT_EQ(chained->dimension, (Dimension{-1, 1, -1, 0, 0, 0, 0, 0}));
  std::optional<Canonical> leading = Parse("/s.m");
  ASSERT_TRUE(leading);
  EXPECT_EQ(leading->dimension, (Dimension{1, 0, -1, 0, 0, 0, 0, 0}));
  std::optional<Canonical> grouped = Parse("g/(m.s)");
  ASSERT_TRUE(grouped);
  EXPECT_EQ(grouped->dimension, chained->dimension);
}

TEST(UcumParseTest, UnrepresentableFactorsAreRejected) {
  EXPECT_TRUE(Parse("ym3").has_value() == false);  // 10^-72 m3.
  EXPECT_FALSE(Parse("Ym3").has_value());          // 10^72 m3.
  EXPECT_TRUE(Parse("ym").has_value());
  EXPECT_TRUE(Parse("Ym").has_value());
}

// ---- Conversion ----

struct ConversionCase {
  const char* value;
  const char* from;
  const char* to;
  const char* expected;  // nullptr: not convertible.
};

void PrintTo(const ConversionCase& c, std::ostream* os) {
  *os << c.value << " '" << c.from << "' -> '" << c.to << "'";
}

class ConvertTest : public testing::TestWithParam<ConversionCase> {};

TEST_P(ConvertTest, ConvertsExactly) {
  const ConversionCase& c = GetParam();
  std::optional<Decimal> result = Convert(Dec(c.value), c.from, c.to);
  if (c.expected == nullptr) {
    EXPECT_FALSE(result.has_value()) << result->ToString();
    return;
  }
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->ToString(), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConvertTest,
    testing::Values(
        ConversionCase{"1", "[in_i]", "cm", "2.54"},       //
        ConversionCase{"4", "g", "mg", "4000"},            //
        ConversionCase{"4000", "mg", "g", "4"},            //
        ConversionCase{"1", "[lb_av]", "g", "453.59237"},  //
        ConversionCase{"1", "[lb_av]", "kg", "0.45359237"}, ConversionCase{"16", "[oz_av]", "[lb_av]", "1"},
        ConversionCase{"1", "[ft_i]", "m", "0.3048"}, ConversionCase{"1", "[mi_i]", "km", "1.609344"},
        ConversionCase{"37", "Cel", "[degF]", "98.6"}, ConversionCase{"98.6", "[degF]", "Cel", "37.0"},
        ConversionCase{"0", "Cel", "K", "273.15"}, ConversionCase{"300", "K", "Cel", "26.85"},
        ConversionCase{"-40", "Cel", "[degF]", "-40"}, ConversionCase{"32", "[degF]", "Cel", "0"},
        ConversionCase{"212", "[degF]", "K", "373.15"}, ConversionCase{"0", "Cel", "mK", "273150"},
        ConversionCase{"100", "mg/dL", "g/L", "1"}, ConversionCase{"100", "mg/dL", "mg/L", "1000"},
        ConversionCase{"250", "10*3/uL", "10*9/L", "250"},
        ConversionCase{"250", "10*3/uL", "/L", "250000000000"}, ConversionCase{"1", "/min", "/h", "60"},
        ConversionCase{"72", "{beats}/min", "/s", "1.2"}, ConversionCase{"7", "d", "wk", "1"},
        ConversionCase{"1", "a", "d", "365.25"}, ConversionCase{"1", "mo", "d", "30.4375"},
        ConversionCase{"12", "mo", "a", "1"}, ConversionCase{"1", "h", "s", "3600"},
        ConversionCase{"1500", "ms", "s", "1.5"}, ConversionCase{"120", "mm[Hg]", "kPa", "15.99864"},
        ConversionCase{"1", "m[Hg]", "Pa", "133322"}, ConversionCase{"1", "L", "mL", "1000"},
        ConversionCase{"1", "l", "dm3", "1"}, ConversionCase{"1", "fL", "um3", "1"},
        ConversionCase{"1", "[gal_us]", "L", "3.785411784"},
        ConversionCase{"1", "[foz_us]", "mL", "29.5735295625"},
        ConversionCase{"1", "[cup_us]", "[tbs_us]", "16"}, ConversionCase{"3", "[tsp_us]", "[tbs_us]", "1"},
        ConversionCase{"1", "[tsp_us]", "mL", "4.92892159375"},
        ConversionCase{"2", "[pt_us]", "[qt_us]", "1"},
        ConversionCase{"1", "cm", "[in_i]", "0.393700787401574803149606299212598425"},
        ConversionCase{"70", "kg/m2", "g/cm2", "7"}, ConversionCase{"1", "kcal", "J", "4184"},
        ConversionCase{"1", "[Cal]", "kcal", "1"}, ConversionCase{"50", "%", "1", "0.5"},
        ConversionCase{"1", "1", "%", "100"}, ConversionCase{"1", "[ppm]", "[ppb]", "1000"},
        ConversionCase{"1", "U/L", "ukat/L", "0.016666666666666666666666666666666667"},
        ConversionCase{"60", "U", "ukat", "1"}, ConversionCase{"1", "meq/L", "mmol/L", "1"},
        ConversionCase{"5", "[iU]/L", "m[iU]/mL", "5"}, ConversionCase{"5", "[IU]/L", "[iU]/L", "5"},
        ConversionCase{"1", "deg", "'", "60"}, ConversionCase{"1", "'", "''", "60"},
        ConversionCase{"180", "deg", "rad", "3.14159265358979323846264338327950288"},
        ConversionCase{"1", "circ", "deg", "360"}, ConversionCase{"1", "gon", "deg", "0.9"},
        ConversionCase{"1.50", "m", "cm", "150.00"}, ConversionCase{"1.50", "[in_i]", "cm", "3.81"},
        ConversionCase{"1.000", "g", "kg", "0.001"}, ConversionCase{"2.0", "g", "mg", "2000.0"},
        ConversionCase{"-3", "m", "mm", "-3000"}, ConversionCase{"1", "N", "kg.m/s2", "1"},
        ConversionCase{"1", "J", "W.s", "1"}, ConversionCase{"1", "Ohm", "V/A", "1"},
        ConversionCase{"1", "S", "/Ohm", "1"}, ConversionCase{"1", "(g/m)/s", "g/(m.s)", "1"},
        ConversionCase{"1", "10*-3", "1", "0.001"}, ConversionCase{"1", "ym", "Ym", "0"},
        ConversionCase{"1", "cm", "s", nullptr}, ConversionCase{"1", "[iU]", "mg", nullptr},
        ConversionCase{"1", "[iU]", "[arb'U]", nullptr}, ConversionCase{"1", "mol", "1", nullptr},
        ConversionCase{"1", "xyz", "m", nullptr}, ConversionCase{"1", "Cel", "K/s", nullptr}));

// Tiny and huge factors are handled through the ratio, not the Decimal range.
TEST(UcumConvertTest, ExtremePrefixesStayExactThroughTheRatio) {
  std::optional<Decimal> yocto = Convert(Dec("1"), "Ym", "ym");
  EXPECT_FALSE(yocto.has_value());  // 10^48 does not fit a Decimal.
  std::optional<Decimal> grams = Convert(Dec("1"), "yg", "ag");
  ASSERT_TRUE(grams);
  EXPECT_EQ(grams->ToString(), "0.000001");
}

// ---- Comparability ----

struct ComparableCase {
  const char* a;
  const char* b;
  bool comparable;
};

void PrintTo(const ComparableCase& c, std::ostream* os) { *os << "'" << c.a << "' vs '" << c.b << "'"; }

class ComparableTest : public testing::TestWithParam<ComparableCase> {};

TEST_P(ComparableTest, MatchesDimensions) {
  const ComparableCase& c = GetParam();
  EXPECT_EQ(Comparable(c.a, c.b), c.comparable);
  EXPECT_EQ(Comparable(c.b, c.a), c.comparable);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ComparableTest,
    testing::Values(ComparableCase{"cm", "s", false},         //
                    ComparableCase{"[iU]", "mg", false},      //
                    ComparableCase{"[iU]", "[iU]/L", false},  //
                    ComparableCase{"[iU]", "[iU]", true},     //
                    ComparableCase{"[iU]", "[IU]", true},     //
                    ComparableCase{"[iU]", "k[iU]", true},    //
                    ComparableCase{"[iU]", "1", false},       //
                    ComparableCase{"[iU]", "[arb'U]", false}, ComparableCase{"[iU]/L", "m[IU]/mL", true},
                    ComparableCase{"mL", "L", true}, ComparableCase{"kg/m2", "g/cm2", true},
                    ComparableCase{"mol", "1", false}, ComparableCase{"mmol/L", "mg/dL", false},
                    ComparableCase{"%", "1", true}, ComparableCase{"{score}", "1", true},
                    ComparableCase{"Cel", "K", true}, ComparableCase{"Cel", "[degF]", true},
                    ComparableCase{"[degF]", "mK", true}, ComparableCase{"Cel", "s", false},
                    ComparableCase{"mm[Hg]", "kPa", true}, ComparableCase{"cm[H2O]", "mm[Hg]", true},
                    ComparableCase{"/min", "Hz", true}, ComparableCase{"{beats}/min", "/min", true},
                    ComparableCase{"a", "mo", true}, ComparableCase{"deg", "rad", true},
                    ComparableCase{"deg", "1", false}, ComparableCase{"J", "cal", true},
                    ComparableCase{"m", "xyz", false}, ComparableCase{"", "", false}));

// ---- Calendar keywords ----

TEST(UcumCalendarTest, MapsKeywords) {
  const std::pair<const char*, const char*> cases[] = {
      {"year", "a"},   {"years", "a"},   {"month", "mo"},       {"months", "mo"},
      {"week", "wk"},  {"weeks", "wk"},  {"day", "d"},          {"days", "d"},
      {"hour", "h"},   {"hours", "h"},   {"minute", "min"},     {"minutes", "min"},
      {"second", "s"}, {"seconds", "s"}, {"millisecond", "ms"}, {"milliseconds", "ms"},
  };
  for (const auto& [keyword, unit] : cases) {
    std::optional<std::string_view> mapped = CalendarKeywordToUcum(keyword);
    ASSERT_TRUE(mapped.has_value()) << keyword;
    EXPECT_EQ(*mapped, unit);
    EXPECT_TRUE(Parse(*mapped).has_value()) << *mapped;
  }
  EXPECT_FALSE(CalendarKeywordToUcum("Year").has_value());
  EXPECT_FALSE(CalendarKeywordToUcum("yr").has_value());
  EXPECT_FALSE(CalendarKeywordToUcum("a").has_value());
  EXPECT_FALSE(CalendarKeywordToUcum("").has_value());
}

// ---- Products and quotients ----

struct ProductCase {
  const char* a;
  const char* b;
  const char* product;   // nullptr: nullopt expected.
  const char* quotient;  // nullptr: nullopt expected.
};

void PrintTo(const ProductCase& c, std::ostream* os) { *os << "'" << c.a << "' and '" << c.b << "'"; }

class ProductTest : public testing::TestWithParam<ProductCase> {};

TEST_P(ProductTest, BuildsUnits) {
  const ProductCase& c = GetParam();
  std::optional<ProductUnit> product = Multiply(c.a, c.b);
  std::optional<ProductUnit> quotient = Divide(c.a, c.b);
  if (c.product == nullptr) {
    EXPECT_FALSE(product.has_value());
  } else {
    ASSERT_TRUE(product.has_value());
    EXPECT_EQ(product->unit, c.product);
    EXPECT_TRUE(Parse(product->unit).has_value()) << product->unit;
  }
  if (c.quotient == nullptr) {
    EXPECT_FALSE(quotient.has_value());
  } else {
    ASSERT_TRUE(quotient.has_value());
    EXPECT_EQ(quotient->unit, c.quotient);
    EXPECT_TRUE(Parse(quotient->unit).has_value()) << quotient->unit;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProductTest,
    testing::Values(ProductCase{"cm", "m", "cm.m", "cm/m"}, ProductCase{"g", "m", "g.m", "g/m"},
                    ProductCase{"g/m", "s", "g/m.s", "g/m/s"}, ProductCase{"g", "m.s", "g.m.s", "g/(m.s)"},
                    ProductCase{"g", "m/s", "g.m/s", "g/(m/s)"},
                    ProductCase{"/min", "s", "1/min.s", "1/min/s"},
                    ProductCase{"m", "/s", "m.1/s", "m/(1/s)"}, ProductCase{"1", "m", "m", "/m"},
                    ProductCase{"1", "m.s", "m.s", "/(m.s)"}, ProductCase{"m", "1", "m", "m"},
                    ProductCase{"1", "1", "1", "1"}, ProductCase{"[iU]", "L", "[iU].L", "[iU]/L"},
                    ProductCase{"mL/min/{1.73_m2}", "{1.73_m2}", "mL/min/{1.73_m2}.{1.73_m2}",
                                "mL/min/{1.73_m2}/{1.73_m2}"},
                    ProductCase{"Cel", "m", nullptr, nullptr}, ProductCase{"m", "[degF]", nullptr, nullptr},
                    ProductCase{"xyz", "m", nullptr, nullptr}, ProductCase{"m", "", nullptr, nullptr}));

TEST(UcumProductTest, ResultsReduceAsExpected) {
  std::optional<ProductUnit> ratio = Divide("m", "m");
  ASSERT_TRUE(ratio);
  std::optional<Canonical> canonical = Parse(ratio->unit);
  ASSERT_TRUE(canonical);
  EXPECT_EQ(canonical->factor, Dec("1"));
  EXPECT_EQ(canonical->dimension, Dimension{});
  EXPECT_TRUE(Comparable(ratio->unit, "1"));

  std::optional<ProductUnit> area = Multiply("cm", "m");
  ASSERT_TRUE(area);
  std::optional<Decimal> in_m2 = Convert(Dec("6"), area->unit, "m2");  // 2 cm * 3 m.
  ASSERT_TRUE(in_m2);
  EXPECT_EQ(in_m2->ToString(), "0.06");

  std::optional<ProductUnit> speed = Divide("/min", "m");
  ASSERT_TRUE(speed);
  EXPECT_TRUE(Comparable(speed->unit, "/(m.min)"));
}

}  // namespace
}  // namespace regenpath::fhirpath::ucum
