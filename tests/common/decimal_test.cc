#include "common/decimal.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace regenpath {
namespace {

// Parses text the test knows to be valid.
Decimal D(std::string_view text) {
  std::optional<Decimal> value = Decimal::Parse(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(Decimal());
}

std::string Str(const std::optional<Decimal>& value) { return value ? value->ToString() : "<nullopt>"; }

// --- Parse / ToString -------------------------------------------------------

TEST(DecimalParseTest, KeepsWrittenScale) {
  EXPECT_EQ(D("1.50").scale(), 2);
  EXPECT_EQ(D("1.50").ToString(), "1.50");
  EXPECT_EQ(D("-12.340").ToString(), "-12.340");
  EXPECT_EQ(D("0.5").ToString(), "0.5");
  EXPECT_EQ(D("3").ToString(), "3");
  EXPECT_EQ(D("-0.001").ToString(), "-0.001");
  EXPECT_EQ(D("0.0").ToString(), "0.0");
  EXPECT_EQ(D("0").ToString(), "0");
  EXPECT_EQ(D("100").ToString(), "100");
  EXPECT_EQ(D("1.58700").Precision(), 5);
  EXPECT_EQ(D("12").Precision(), 0);
}

TEST(DecimalParseTest, Exponents) {
  EXPECT_EQ(D("1e3").ToString(), "1000");
  EXPECT_EQ(D("1e3").scale(), 0);
  EXPECT_EQ(D("15e-1").ToString(), "1.5");
  EXPECT_EQ(D("-1.2E-2").ToString(), "-0.012");
  EXPECT_EQ(D("1.50e1").ToString(), "15.0");
  EXPECT_EQ(D("1.5E+2").ToString(), "150");
  EXPECT_EQ(D("0e10").ToString(), "0");
  EXPECT_EQ(D("2e0").ToString(), "2");
  EXPECT_EQ(D("100e-2").ToString(), "1.00");
}

TEST(DecimalParseTest, NegativeZeroIsZero) {
  Decimal zero = D("-0.0");
  EXPECT_TRUE(zero.IsZero());
  EXPECT_FALSE(zero.IsNegative());
  EXPECT_EQ(zero.ToString(), "0.0");
}

TEST(DecimalParseTest, LeadingZerosAccepted) {
  EXPECT_EQ(D("007").ToString(), "7");
  EXPECT_EQ(D("00.50").ToString(), "0.50");
}

TEST(DecimalParseTest, RejectsGarbage) {
  for (const char* text :
       {"",   "-",  "+1",  "1.",  ".5",   "1..2",  "1e",  "1e+", "e5",   "1.2.3", "abc", "1a",
        " 1", "1 ", "--1", "1,5", "0x10", "1e5.0", "nan", "inf", "-inf", "1_000", "١"}) {
    EXPECT_FALSE(Decimal::Parse(text).has_value()) << "'" << text << "'";
  }
}

TEST(DecimalParseTest, DigitLimits) {
  const std::string digits36(36, '9');
  EXPECT_EQ(D(digits36).ToString(), digits36);
  EXPECT_EQ(D("-" + digits36).ToString(), "-" + digits36);
  EXPECT_FALSE(Decimal::Parse(digits36 + "9").has_value());
  // Leading zeros do not count as significant digits.
  EXPECT_EQ(D("000" + digits36).ToString(), digits36);
  // Written trailing zeros do.
  EXPECT_FALSE(Decimal::Parse("1." + std::string(36, '0')).has_value());
  EXPECT_TRUE(Decimal::Parse("1." + std::string(35, '0')).has_value());
  // kMaxScale fraction digits.
  EXPECT_EQ(D("0." + std::string(35, '0') + "1").scale(), 36);
  EXPECT_FALSE(Decimal::Parse("0." + std::string(36, '0') + "1").has_value());
  EXPECT_FALSE(Decimal::Parse("1e-37").has_value());
  EXPECT_TRUE(Decimal::Parse("1e-36").has_value());
  // Exponents that would push past kMaxDigits.
  EXPECT_TRUE(Decimal::Parse("1e35").has_value());
  EXPECT_FALSE(Decimal::Parse("1e36").has_value());
  EXPECT_FALSE(Decimal::Parse("1e999999999999999999999").has_value());
  EXPECT_FALSE(Decimal::Parse("1e-999999999999999999999").has_value());
  EXPECT_FALSE(Decimal::Parse(std::string(1000, '9')).has_value());
}

TEST(DecimalTest, FromIntAndToInt64) {
  EXPECT_EQ(Decimal::FromInt(42).ToString(), "42");
  EXPECT_EQ(Decimal::FromInt(-7).ToString(), "-7");
  Decimal min = Decimal::FromInt(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(min.ToString(), "-9223372036854775808");
  EXPECT_EQ(min.ToInt64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(min.Negate().ToString(), "9223372036854775808");
  EXPECT_FALSE(min.Negate().ToInt64().has_value());
  EXPECT_EQ(D("2.00").ToInt64(), 2);
  EXPECT_FALSE(D("2.5").ToInt64().has_value());
  EXPECT_FALSE(D("1e30").ToInt64().has_value());
}

TEST(DecimalTest, FromParts) {
  EXPECT_EQ(Str(Decimal::FromParts(12345, 2)), "123.45");
  EXPECT_EQ(Str(Decimal::FromParts(-5, 3)), "-0.005");
  EXPECT_FALSE(Decimal::FromParts(1, -1).has_value());
  EXPECT_FALSE(Decimal::FromParts(1, Decimal::kMaxScale + 1).has_value());
  __int128 max = 1;
  for (int i = 0; i < 36; ++i) max *= 10;
  EXPECT_FALSE(Decimal::FromParts(max, 0).has_value());
  EXPECT_FALSE(Decimal::FromParts(-max, 0).has_value());
  EXPECT_TRUE(Decimal::FromParts(max - 1, 0).has_value());
  // The most negative __int128 must be rejected, not negated.
  __int128 min = static_cast<__int128>(static_cast<unsigned __int128>(1) << 127);
  EXPECT_FALSE(Decimal::FromParts(min, 0).has_value());
}

TEST(DecimalTest, Predicates) {
  EXPECT_TRUE(D("2.00").IsIntegral());
  EXPECT_FALSE(D("2.01").IsIntegral());
  EXPECT_TRUE(D("0").IsZero());
  EXPECT_TRUE(D("-0.5").IsNegative());
  EXPECT_FALSE(D("0.5").IsNegative());
}

TEST(DecimalTest, ToDouble) {
  EXPECT_EQ(D("0.1").ToDouble(), 0.1);
  EXPECT_EQ(D("-2.5").ToDouble(), -2.5);
  EXPECT_EQ(D("1e35").ToDouble(), 1e35);
  EXPECT_EQ(D("0.000000000000000000000000000000000001").ToDouble(), 1e-36);
}

TEST(DecimalTest, FromDouble) {
  EXPECT_EQ(Str(Decimal::FromDouble(std::sqrt(81.0))), "9");
  EXPECT_EQ(Str(Decimal::FromDouble(0.1)), "0.1");
  EXPECT_EQ(Str(Decimal::FromDouble(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(Str(Decimal::FromDouble(-1.5e-7)), "-0.00000015");
  EXPECT_EQ(Str(Decimal::FromDouble(6.25)), "6.25");
  EXPECT_EQ(Str(Decimal::FromDouble(1e20)), "100000000000000000000");
  EXPECT_EQ(Str(Decimal::FromDouble(0.0)), "0");
  EXPECT_EQ(Str(Decimal::FromDouble(-0.0)), "0");
  EXPECT_EQ(Str(Decimal::FromDouble(std::sqrt(2.0))), "1.4142135623730951");
  EXPECT_EQ(Str(Decimal::FromDouble(std::exp(0.0))), "1");
  // Too small for kMaxScale: rounded to zero; too large: nullopt.
  EXPECT_EQ(Str(Decimal::FromDouble(1e-40)), "0");
  EXPECT_EQ(Str(Decimal::FromDouble(5e-324)), "0");
  EXPECT_EQ(Str(Decimal::FromDouble(1.5e-36)), "0.000000000000000000000000000000000002");
  EXPECT_FALSE(Decimal::FromDouble(1e300).has_value());
  EXPECT_FALSE(Decimal::FromDouble(std::numeric_limits<double>::max()).has_value());
  EXPECT_FALSE(Decimal::FromDouble(std::numeric_limits<double>::quiet_NaN()).has_value());
  EXPECT_FALSE(Decimal::FromDouble(std::numeric_limits<double>::infinity()).has_value());
  EXPECT_FALSE(Decimal::FromDouble(-std::numeric_limits<double>::infinity()).has_value());
}

TEST(DecimalTest, FromDoubleRoundTrips) {
  for (double value : {1.0 / 3.0, 2.0 / 3.0, 123456.789, -98.6, 1e-10, 3.141592653589793, 1e30}) {
    std::optional<Decimal> decimal = Decimal::FromDouble(value);
    ASSERT_TRUE(decimal.has_value()) << value;
    EXPECT_EQ(decimal->ToDouble(), value);
  }
}

// --- Compare ----------------------------------------------------------------

TEST(DecimalCompareTest, IgnoresScale) {
  EXPECT_EQ(Decimal::Compare(D("1.0"), D("1.00")), 0);
  EXPECT_TRUE(D("1.10") == D("1.1"));
  EXPECT_TRUE(D("0.0") == D("0"));
  EXPECT_TRUE(D("-0.0") == D("0"));
  EXPECT_LT(Decimal::Compare(D("1.1"), D("1.2")), 0);
  EXPECT_GT(Decimal::Compare(D("10"), D("5.0")), 0);
  EXPECT_LT(Decimal::Compare(D("-2"), D("1")), 0);
  EXPECT_GT(Decimal::Compare(D("-1"), D("-2")), 0);
  EXPECT_LT(Decimal::Compare(D("-1.5"), D("-1.25")), 0);
  EXPECT_TRUE(D("1") < D("1.00000000000000000000000000000000001"));
  EXPECT_FALSE(D("1.2") < D("1.20"));
}

TEST(DecimalCompareTest, ExtremeScalesDoNotOverflow) {
  const std::string big(36, '9');
  const std::string tiny = "0." + std::string(35, '0') + "1";
  EXPECT_GT(Decimal::Compare(D(big), D(tiny)), 0);
  EXPECT_LT(Decimal::Compare(D("-" + big), D(tiny)), 0);
  EXPECT_GT(Decimal::Compare(D(tiny), D("-" + big)), 0);
  EXPECT_EQ(Decimal::Compare(D(big), D(big)), 0);
}

// --- Arithmetic -------------------------------------------------------------

TEST(DecimalArithmeticTest, AddSubtract) {
  EXPECT_EQ(Str(Decimal::Add(D("1.5"), D("2.25"))), "3.75");
  EXPECT_EQ(Str(Decimal::Add(D("1.50"), D("2"))), "3.50");
  EXPECT_EQ(Str(Decimal::Add(D("-1.5"), D("1.5"))), "0.0");
  EXPECT_EQ(Str(Decimal::Add(D("-1.5"), D("0.25"))), "-1.25");
  EXPECT_EQ(Str(Decimal::Add(D("0.25"), D("-1.5"))), "-1.25");
  EXPECT_EQ(Str(Decimal::Subtract(D("1.8"), D("1.2"))), "0.6");
  EXPECT_TRUE(*Decimal::Subtract(D("1.8"), D("1.2")) == D("0.6"));
  EXPECT_EQ(Str(Decimal::Subtract(D("1"), D("3"))), "-2");
  EXPECT_EQ(Str(Decimal::Subtract(D("-1"), D("-3"))), "2");
  EXPECT_EQ(Str(Decimal::Add(D("5"), D("4.5"))), "9.5");
}

TEST(DecimalArithmeticTest, AddOverflowAndRounding) {
  const std::string big(36, '9');
  EXPECT_FALSE(Decimal::Add(D(big), D("1")).has_value());
  EXPECT_FALSE(Decimal::Subtract(D("-" + big), D("1")).has_value());
  EXPECT_EQ(Str(Decimal::Add(D(big), D("-1"))), std::string(35, '9') + "8");
  // The exact sum needs 37 digits: the fraction is rounded off instead.
  EXPECT_EQ(Str(Decimal::Add(D(std::string(35, '9')), D("0.5"))), std::string(35, '9') + ".5");
  EXPECT_EQ(Str(Decimal::Add(D(std::string(35, '9') + ".5"), D("0.05"))), std::string(35, '9') + ".6");
  EXPECT_EQ(Str(Decimal::Add(D(std::string(35, '9') + ".9"), D("0.05"))), "1" + std::string(35, '0'));
  EXPECT_FALSE(Decimal::Add(D(std::string(36, '9')), D("0.5")).has_value());
  EXPECT_EQ(Str(Decimal::Add(D("1" + std::string(34, '0')), D("0.001"))), "1" + std::string(33, '0') + "0.0");
  // Wildly different scales.
  const std::string tiny = "0." + std::string(35, '0') + "1";
  EXPECT_EQ(Str(Decimal::Add(D("1" + std::string(30, '0')), D(tiny))), "1" + std::string(30, '0') + ".00000");
  EXPECT_EQ(Str(Decimal::Add(D(tiny), D(tiny))), "0." + std::string(35, '0') + "2");
}

TEST(DecimalArithmeticTest, Multiply) {
  EXPECT_EQ(Str(Decimal::Multiply(D("1.5"), D("2.0"))), "3.0");
  EXPECT_EQ(Str(Decimal::Multiply(D("1.25"), D("1.5"))), "1.875");
  EXPECT_EQ(Str(Decimal::Multiply(D("2.5"), D("2.5"))), "6.25");
  EXPECT_EQ(Str(Decimal::Multiply(D("-3"), D("4"))), "-12");
  EXPECT_EQ(Str(Decimal::Multiply(D("-3"), D("-4"))), "12");
  EXPECT_EQ(Str(Decimal::Multiply(D("0.10"), D("0.10"))), "0.01");
  EXPECT_EQ(Str(Decimal::Multiply(D("0"), D("-4.5"))), "0.0");
  EXPECT_EQ(Str(Decimal::Multiply(D("2.0"), D("2.0"))), "4.0");
}

TEST(DecimalArithmeticTest, MultiplyOverflowAndRounding) {
  EXPECT_FALSE(Decimal::Multiply(D("1e20"), D("1e20")).has_value());
  EXPECT_FALSE(Decimal::Multiply(D(std::string(36, '9')), D("-10")).has_value());
  EXPECT_EQ(Str(Decimal::Multiply(D("1e17"), D("1e18"))), "1" + std::string(35, '0'));
  // 0.33333333^5 needs 40 places: rounded to 36.
  Decimal third = D("0.33333333");
  Decimal power = third;
  for (int i = 0; i < 4; ++i) power = Decimal::Multiply(power, third).value();
  EXPECT_EQ(power.scale(), 36);
  EXPECT_EQ(power.ToString(), "0.004115226131687246913580205761317078");
  // Trailing zeros of a wide product go away before anything is rounded.
  Decimal one = D("1." + std::string(20, '0'));
  EXPECT_EQ(Str(Decimal::Multiply(one, one)), one.ToString());
}

TEST(DecimalArithmeticTest, Divide) {
  EXPECT_EQ(Str(Decimal::Divide(D("1"), D("2"))), "0.5");
  EXPECT_TRUE(*Decimal::Divide(D("4.0"), D("2.0")) == D("2"));
  EXPECT_EQ(Str(Decimal::Divide(D("4.0"), D("2.0"))), "2.0");
  EXPECT_EQ(Str(Decimal::Divide(D("4"), D("2"))), "2");
  EXPECT_EQ(Str(Decimal::Divide(D("1"), D("3"))), "0.33333333");
  EXPECT_EQ(Str(Decimal::Divide(D("2"), D("3"))), "0.66666667");
  EXPECT_EQ(Str(Decimal::Divide(D("-2"), D("3"))), "-0.66666667");
  EXPECT_EQ(Str(Decimal::Divide(D("2"), D("-4"))), "-0.5");
  EXPECT_EQ(Str(Decimal::Divide(D("1"), D("8"))), "0.125");
  EXPECT_EQ(Str(Decimal::Divide(D("10"), D("0.01"))), "1000");
  EXPECT_EQ(Str(Decimal::Divide(D("0"), D("5"))), "0");
  EXPECT_EQ(Str(Decimal::Divide(D("1.00"), D("4"))), "0.25");
  EXPECT_EQ(Str(Decimal::Divide(D("1.000"), D("4"))), "0.250");
  EXPECT_EQ(Str(Decimal::Divide(D("120"), D("60"))), "2");
  EXPECT_EQ(Str(Decimal::Divide(D("1.0000000000"), D("3"))), "0.3333333333");
  EXPECT_FALSE(Decimal::Divide(D("12"), D("0")).has_value());
  EXPECT_FALSE(Decimal::Divide(D("0"), D("0.0")).has_value());
}

TEST(DecimalArithmeticTest, DivideThenRound) {
  std::optional<Decimal> quotient = Decimal::Divide(D("1.2"), D("1.8"));
  ASSERT_TRUE(quotient.has_value());
  EXPECT_EQ(quotient->ToString(), "0.66666667");
  EXPECT_FALSE(*quotient == D("0.67"));
  EXPECT_EQ(Str(quotient->Round(2)), "0.67");
  EXPECT_TRUE(*quotient->Round(2) == D("0.67"));
  EXPECT_FALSE(*quotient->Round(2) == D("0.6666667"));
}

TEST(DecimalArithmeticTest, DivideExtremes) {
  // A terminating expansion longer than kMaxScale is rounded like 1/3.
  Decimal two_to_40 = D("1099511627776");
  EXPECT_EQ(Str(Decimal::Divide(D("1"), two_to_40)), "0");
  EXPECT_EQ(Str(Decimal::Divide(D("1.000000000000000"), two_to_40)), "0.000000000000909");
  // A big integer part leaves fewer places for the rounded fraction.
  EXPECT_EQ(Str(Decimal::Divide(D("1" + std::string(32, '0')), D("3"))), std::string(32, '3') + ".3333");
  EXPECT_EQ(Str(Decimal::Divide(D("2" + std::string(35, '0')), D("3"))), std::string(35, '6') + ".7");
  // Quotients beyond kMaxDigits.
  EXPECT_FALSE(Decimal::Divide(D(std::string(36, '9')), D("0.01")).has_value());
  EXPECT_FALSE(Decimal::Divide(D("1e35"), D("0." + std::string(35, '0') + "1")).has_value());
  // Tiny divisors and dividends.
  EXPECT_EQ(Str(Decimal::Divide(D("1"), D("0." + std::string(30, '0') + "1"))), "1" + std::string(31, '0'));
  EXPECT_EQ(Str(Decimal::Divide(D("0." + std::string(30, '0') + "1"), D("2"))),
            "0." + std::string(31, '0') + "5");
}

TEST(DecimalArithmeticTest, IntegerDivide) {
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("5"), D("2"))), "2");
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("-5"), D("2"))), "-2");
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("5"), D("-2"))), "-2");
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("5.5"), D("0.7"))), "7");
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("0.5"), D("7"))), "0");
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("1"), D("0.0001"))), "10000");
  EXPECT_EQ(Str(Decimal::IntegerDivide(D("0.000001"), D(std::string(36, '9')))), "0");
  EXPECT_FALSE(Decimal::IntegerDivide(D("5"), D("0")).has_value());
  EXPECT_FALSE(Decimal::IntegerDivide(D(std::string(36, '9')), D("0.1")).has_value());
}

TEST(DecimalArithmeticTest, Modulo) {
  EXPECT_EQ(Str(Decimal::Modulo(D("5"), D("2"))), "1");
  EXPECT_EQ(Str(Decimal::Modulo(D("-5"), D("2"))), "-1");
  EXPECT_EQ(Str(Decimal::Modulo(D("5"), D("-2"))), "1");
  EXPECT_EQ(Str(Decimal::Modulo(D("5.5"), D("0.7"))), "0.6");
  EXPECT_EQ(Str(Decimal::Modulo(D("2.2"), D("1.8"))), "0.4");
  EXPECT_EQ(Str(Decimal::Modulo(D("5"), D("0.7"))), "0.1");
  EXPECT_EQ(Str(Decimal::Modulo(D("4"), D("2"))), "0");
  EXPECT_FALSE(Decimal::Modulo(D("5"), D("0")).has_value());
  // Scales far apart: nothing overflows.
  const std::string tiny = "0." + std::string(35, '0') + "1";
  EXPECT_EQ(Str(Decimal::Modulo(D(tiny), D(std::string(36, '9')))), tiny);
  EXPECT_EQ(Str(Decimal::Modulo(D("1" + std::string(35, '0')), D("0." + std::string(30, '0') + "3"))),
            "0." + std::string(30, '0') + "1");
}

TEST(DecimalArithmeticTest, NegateAbs) {
  EXPECT_EQ(D("1.5").Negate().ToString(), "-1.5");
  EXPECT_EQ(D("-1.5").Negate().ToString(), "1.5");
  EXPECT_EQ(D("0").Negate().ToString(), "0");
  EXPECT_EQ(D("-5.5").Abs().ToString(), "5.5");
  EXPECT_EQ(D("5.5").Abs().ToString(), "5.5");
  const std::string big(36, '9');
  EXPECT_EQ(D("-" + big).Abs().ToString(), big);
}

// --- Rounding ---------------------------------------------------------------

TEST(DecimalRoundTest, Round) {
  EXPECT_EQ(Str(D("3.14159").Round(3)), "3.142");
  EXPECT_EQ(Str(D("1").Round(0)), "1");
  EXPECT_EQ(Str(D("0.5").Round(0)), "1");
  EXPECT_EQ(Str(D("-0.5").Round(0)), "-1");
  EXPECT_EQ(Str(D("-0.4").Round(0)), "0");
  EXPECT_EQ(Str(D("2.45").Round(1)), "2.5");
  EXPECT_EQ(Str(D("-2.45").Round(1)), "-2.5");
  EXPECT_EQ(Str(D("1.5").Round(3)), "1.500");
  EXPECT_EQ(Str(D("9.99").Round(1)), "10.0");
  EXPECT_FALSE(D("1").Round(-1).has_value());
  EXPECT_FALSE(D("1").Round(Decimal::kMaxScale + 1).has_value());
  EXPECT_FALSE(D(std::string(36, '9')).Round(1).has_value());
  EXPECT_EQ(Str(D(std::string(35, '9') + ".9").Round(0)), "1" + std::string(35, '0'));
}

TEST(DecimalRoundTest, TruncateFloorCeiling) {
  EXPECT_EQ(D("101").Truncate().ToString(), "101");
  EXPECT_EQ(D("1.00000001").Truncate().ToString(), "1");
  EXPECT_EQ(D("-1.56").Truncate().ToString(), "-1");
  EXPECT_EQ(D("1").Floor().ToString(), "1");
  EXPECT_EQ(D("2.1").Floor().ToString(), "2");
  EXPECT_EQ(D("-2.1").Floor().ToString(), "-3");
  EXPECT_EQ(D("-2.0").Floor().ToString(), "-2");
  EXPECT_EQ(D("1").Ceiling().ToString(), "1");
  EXPECT_EQ(D("1.1").Ceiling().ToString(), "2");
  EXPECT_EQ(D("-1.1").Ceiling().ToString(), "-1");
  EXPECT_EQ(D("2.0").Ceiling().ToString(), "2");
  EXPECT_EQ(D("-0.5").Ceiling().ToString(), "0");
  EXPECT_EQ(D("0.000001").Ceiling().ToString(), "1");
  EXPECT_EQ(D("-0.000001").Floor().ToString(), "-1");
  EXPECT_EQ(D(std::string(35, '9') + ".9").Ceiling().ToString(), "1" + std::string(35, '0'));
}

TEST(DecimalRoundTest, Rescale) {
  EXPECT_EQ(Str(D("1.5").Rescale(3)), "1.500");
  EXPECT_EQ(Str(D("1.55").Rescale(1)), "1.6");
  EXPECT_EQ(Str(D("-1.55").Rescale(1)), "-1.6");
  EXPECT_EQ(Str(D("1.54").Rescale(1)), "1.5");
  EXPECT_FALSE(D("1").Rescale(-1).has_value());
  EXPECT_FALSE(D("1").Rescale(37).has_value());
  EXPECT_FALSE(D("12").Rescale(35).has_value());
  EXPECT_EQ(Str(D("1").Rescale(35)), "1." + std::string(35, '0'));
}

// --- Boundaries -------------------------------------------------------------

struct BoundaryCase {
  const char* value;
  int precision;
  const char* expected;
};

// Every decimal case of the official FHIRPath test suite (tests-fhir-r4/r5),
// plus the examples of the specification.
TEST(DecimalBoundaryTest, LowBoundarySuite) {
  const BoundaryCase cases[] = {
      {"1.587", 8, "1.58650000"},   {"1.587", 6, "1.586500"},
      {"1.587", 2, "1.58"},         {"1.587", 0, "1"},
      {"-1.587", 8, "-1.58750000"}, {"-1.587", 6, "-1.587500"},
      {"-1.587", 2, "-1.59"},       {"-1.587", 0, "-2"},
      {"1", 8, "0.50000000"},       {"1", 0, "0"},
      {"1", 5, "0.50000"},          {"12.587", 2, "12.58"},
      {"12.500", 4, "12.4995"},     {"120", 2, "119.50"},
      {"-120", 2, "-120.50"},       {"0.0034", 1, "0.0"},
      {"-0.0034", 1, "0.0"},  // The suite writes "-0.0".
  };
  for (const BoundaryCase& c : cases) {
    std::optional<Decimal> result = D(c.value).LowBoundary(c.precision);
    EXPECT_EQ(Str(result), c.expected) << c.value << ".lowBoundary(" << c.precision << ")";
  }
}

TEST(DecimalBoundaryTest, HighBoundarySuite) {
  const BoundaryCase cases[] = {
      {"1.587", 8, "1.58750000"},   {"1.587", 2, "1.59"},
      {"1.587", 6, "1.587500"},     {"1.587", 0, "2"},
      {"-1.587", 8, "-1.58650000"}, {"-1.587", 2, "-1.58"},
      {"-1.587", 6, "-1.586500"},   {"-1.587", 0, "-1"},
      {"1", 8, "1.50000000"},       {"1", 0, "2"},
      {"1", 5, "1.50000"},          {"12.587", 2, "12.59"},
      {"12.500", 4, "12.5005"},     {"120", 2, "120.50"},
      {"0.0034", 1, "0.0"},
  };
  for (const BoundaryCase& c : cases) {
    std::optional<Decimal> result = D(c.value).HighBoundary(c.precision);
    EXPECT_EQ(Str(result), c.expected) << c.value << ".highBoundary(" << c.precision << ")";
  }
  // -120.highBoundary(2) and -0.0034.highBoundary(1) parse as unary minus applied last.
  EXPECT_EQ(D("120").HighBoundary(2)->Negate().ToString(), "-120.50");
  EXPECT_EQ(D("0.0034").HighBoundary(1)->Negate().ToString(), "0.0");
}

TEST(DecimalBoundaryTest, InvalidPrecision) {
  EXPECT_FALSE(D("1.587").LowBoundary(-1).has_value());
  EXPECT_FALSE(D("1.587").HighBoundary(-1).has_value());
  EXPECT_FALSE(D("1.587").LowBoundary(32).has_value());
  EXPECT_FALSE(D("-1.587").LowBoundary(32).has_value());
  EXPECT_FALSE(D("1.587").LowBoundary(39).has_value());
  EXPECT_FALSE(D("1.587").HighBoundary(39).has_value());
  EXPECT_TRUE(D("1.587").LowBoundary(Decimal::kMaxBoundaryPrecision).has_value());
  EXPECT_FALSE(D("1.587").LowBoundary(Decimal::kMaxBoundaryPrecision + 1).has_value());
}

TEST(DecimalBoundaryTest, EdgeValues) {
  EXPECT_EQ(Str(D("0").LowBoundary(1)), "-0.5");
  EXPECT_EQ(Str(D("0").HighBoundary(1)), "0.5");
  EXPECT_EQ(Str(D("0.0").LowBoundary(8)), "-0.05000000");
  EXPECT_EQ(Str(D("0").LowBoundary(0)), "-1");
  EXPECT_EQ(Str(D("0").HighBoundary(0)), "1");
  // A value already at kMaxScale.
  const std::string tiny = "0." + std::string(35, '0') + "1";
  EXPECT_EQ(Str(D(tiny).LowBoundary(8)), "0.00000000");
  EXPECT_EQ(Str(D(tiny).HighBoundary(8)), "0.00000000");
  // Results beyond kMaxDigits.
  EXPECT_FALSE(D(std::string(30, '9')).LowBoundary(8).has_value());
  EXPECT_EQ(Str(D(std::string(36, '9')).LowBoundary(0)), std::string(35, '9') + "8");
  EXPECT_FALSE(D(std::string(36, '9')).HighBoundary(0).has_value());
  EXPECT_EQ(Str(D(std::string(35, '9') + ".9").HighBoundary(0)), "1" + std::string(35, '0'));
  // Integers keep their boundaries.
  EXPECT_EQ(Str(D("1e3").LowBoundary(1)), "999.5");
}

}  // namespace
}  // namespace regenpath
