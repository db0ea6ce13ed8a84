// Decimal: an exact base-10 number that remembers its written precision.
//
// FHIR and FHIRPath decimals must never pass through binary floating point:
// "1.50" has two decimal places and prints back as "1.50". A Decimal is a
// signed 128-bit coefficient and a scale (digits after the point), so
// value = coefficient / 10^scale. Up to kMaxDigits significant digits are exact.
//
// All operations are pure and never throw; those that can fail (overflow,
// division by zero, a result that needs more than kMaxDigits digits) return
// std::nullopt. Thread-safe: a Decimal is a plain value.
#ifndef REGENPATH_COMMON_DECIMAL_H_
#define REGENPATH_COMMON_DECIMAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace regenpath {

class Decimal {
 public:
  // Significant digits kept exactly (FHIRPath requires at least 28).
  static constexpr int kMaxDigits = 36;
  // Largest scale (digits after the point) a Decimal may carry.
  static constexpr int kMaxScale = 36;
  // Digits after the point used when a quotient does not terminate (1/3).
  static constexpr int kDivisionScale = 8;
  // Largest precision LowBoundary/HighBoundary accept; beyond it they return
  // nullopt (the FHIRPath suite expects empty for 32 and 39).
  static constexpr int kMaxBoundaryPrecision = 28;

  // Zero with scale 0.
  Decimal() = default;

  // Parses "-12.340", "0.5", "1e3", "-1.2E-2" (JSON number grammar, except
  // that leading zeros such as "007" are accepted, as FHIRPath literals allow;
  // a leading '+', "5." and ".5" are not). The scale is the number of written
  // fraction digits adjusted by the exponent ("1.50" -> scale 2; "1e3" ->
  // 1000, scale 0; "15e-1" -> 1.5, scale 1). Returns nullopt for anything
  // else, or when the value needs more than kMaxDigits significant digits
  // (leading zeros do not count, written trailing zeros do) or kMaxScale
  // fraction digits.
  static std::optional<Decimal> Parse(std::string_view text);

  static Decimal FromInt(int64_t value);

  // Converts a binary double (results of sqrt, ln, exp, power) to the shortest
  // decimal that round-trips (81.0 -> 9 with scale 0 for sqrt; 0.1 -> 0.1).
  // Values below 10^-kMaxScale are rounded to kMaxScale places (so tiny ones
  // become 0). Returns nullopt for NaN, infinities and magnitudes needing
  // more than kMaxDigits integer digits.
  static std::optional<Decimal> FromDouble(double value);

  // Builds coefficient / 10^scale; nullopt if scale is outside [0, kMaxScale]
  // or the coefficient has more than kMaxDigits digits.
  static std::optional<Decimal> FromParts(__int128 coefficient, int scale);

  __int128 coefficient() const { return coefficient_; }
  int scale() const { return scale_; }

  // Decimal places as written: "1.58700" -> 5, "12" -> 0 (FHIRPath precision()).
  int Precision() const { return scale_; }

  bool IsZero() const { return coefficient_ == 0; }
  bool IsNegative() const { return coefficient_ < 0; }
  // True iff the value has no fractional part ("2.00" is integral).
  bool IsIntegral() const;

  // Text that keeps the scale: "1.50", "-0.001", "3". Never uses exponents.
  std::string ToString() const;

  double ToDouble() const;

  // The value as int64 if it is integral and fits, else nullopt.
  std::optional<int64_t> ToInt64() const;

  // Numeric three-way comparison ignoring scale: 1.0 == 1.00. Returns <0, 0, >0.
  static int Compare(const Decimal& a, const Decimal& b);

  // Arithmetic. The scale of a sum or difference is the larger input scale;
  // of a product, the sum of the scales (then trailing zeros beyond the larger
  // input scale are dropped). When an exact result would need more than
  // kMaxDigits digits or kMaxScale places, fraction digits are rounded off
  // (half away from zero); nullopt on overflow, i.e. when the integer part
  // alone needs more than kMaxDigits digits.
  static std::optional<Decimal> Add(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Subtract(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Multiply(const Decimal& a, const Decimal& b);
  // a / b, exact when the quotient terminates within kMaxScale places and
  // kMaxDigits digits (1/2 -> 0.5, 4.0/2.0 -> 2.0), else rounded half away
  // from zero to max(kDivisionScale, scale(a)) places, or fewer if the integer
  // part leaves no room (1/3 -> 0.33333333). Either way the result keeps at
  // least scale(a) places and no trailing zeros beyond them. nullopt when b
  // is zero or the integer part of the quotient needs more than kMaxDigits.
  static std::optional<Decimal> Divide(const Decimal& a, const Decimal& b);
  // Truncated integer division (FHIRPath `div`): 5 div 2 = 2, -5 div 2 = -2.
  static std::optional<Decimal> IntegerDivide(const Decimal& a, const Decimal& b);
  // Remainder with the sign of the dividend (FHIRPath `mod`): 2.2 mod 1.8 = 0.4.
  static std::optional<Decimal> Modulo(const Decimal& a, const Decimal& b);

  Decimal Negate() const;
  Decimal Abs() const;

  // Rounds half away from zero to `places` decimal places (places >= 0):
  // 3.14159.Round(3) = 3.142; the result has scale `places`.
  std::optional<Decimal> Round(int places) const;
  // Integer part toward zero / toward -inf / toward +inf, with scale 0
  // (always representable).
  Decimal Truncate() const;
  Decimal Floor() const;
  Decimal Ceiling() const;

  // Same value with scale raised to `scale` (adds zeros) or, if lower,
  // rounded half away from zero. nullopt if out of range.
  std::optional<Decimal> Rescale(int scale) const;

  // FHIRPath lowBoundary()/highBoundary(): the least / greatest value the
  // written number could stand for (half a unit in its last place below /
  // above), returned with `precision` decimal places (FHIRPath default 8).
  // When `precision` is below that boundary's places, the boundary that lies
  // on the zero side of the value (low of a positive, high of a negative) is
  // truncated toward zero and the other one is rounded half away from zero,
  // a rule that reproduces all the FHIRPath spec examples and the official
  // test suite:
  //   1.587.LowBoundary(8) = 1.58650000, 1.587.LowBoundary(2) = 1.58,
  //   (-1.587).LowBoundary(2) = -1.59, 1.LowBoundary(0) = 0, 120.LowBoundary(2) = 119.50,
  //   1.587.HighBoundary(2) = 1.59, (-1.587).HighBoundary(2) = -1.58, 1.HighBoundary(0) = 2,
  //   0.0034.HighBoundary(1) = 0.0 (so at a coarse precision the "boundary" may
  //   fall on the near side of the value).
  // Zero has both boundaries away from zero (0.LowBoundary(1) = -0.5). There is
  // no negative zero: (-0.0034).LowBoundary(1) is 0.0. nullopt if precision is
  // outside [0, kMaxBoundaryPrecision] or the result needs more than kMaxDigits.
  std::optional<Decimal> LowBoundary(int precision) const;
  std::optional<Decimal> HighBoundary(int precision) const;

  friend bool operator==(const Decimal& a, const Decimal& b) { return Compare(a, b) == 0; }
  friend bool operator<(const Decimal& a, const Decimal& b) { return Compare(a, b) < 0; }

 private:
  __int128 coefficient_ = 0;
  int scale_ = 0;
};

}  // namespace regenpath

#endif  // REGENPATH_COMMON_DECIMAL_H_
