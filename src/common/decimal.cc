#include "common/decimal.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

namespace regenpath {
namespace {

using u128 = unsigned __int128;

// 10^36: one more than the largest coefficient magnitude a Decimal may hold.
constexpr u128 Pow10(int exponent) {
  u128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}
constexpr u128 kCoefficientLimit = Pow10(Decimal::kMaxDigits);

// The coefficient's magnitude. Safe for every Decimal because |coefficient| <
// 10^36, far from the __int128 minimum whose negation would overflow.
u128 Magnitude(__int128 value) { return value < 0 ? -static_cast<u128>(value) : static_cast<u128>(value); }

int DigitCount(u128 value) {
  int digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

// An unsigned 256-bit integer, just wide enough for exact intermediate
// results: an aligned sum (< 2 * 10^72) or a full product (< 10^72) of two
// coefficients, both far below 2^256 (about 1.16 * 10^77).
class U256 {
 public:
  U256() = default;
  explicit U256(u128 value) {
    limbs_[0] = static_cast<uint64_t>(value);
    limbs_[1] = static_cast<uint64_t>(value >> 64);
  }

  static U256 Multiply(u128 a, u128 b) {
    const uint64_t a_parts[2] = {static_cast<uint64_t>(a), static_cast<uint64_t>(a >> 64)};
    const uint64_t b_parts[2] = {static_cast<uint64_t>(b), static_cast<uint64_t>(b >> 64)};
    U256 result;
    for (int i = 0; i < 2; ++i) {
      u128 carry = 0;
      for (int j = 0; j < 2; ++j) {
        u128 cell = static_cast<u128>(a_parts[i]) * b_parts[j] + result.limbs_[i + j] + carry;
        result.limbs_[i + j] = static_cast<uint64_t>(cell);
        carry = cell >> 64;
      }
      for (int k = i + 2; k < 4 && carry != 0; ++k) {
        u128 cell = static_cast<u128>(result.limbs_[k]) + carry;
        result.limbs_[k] = static_cast<uint64_t>(cell);
        carry = cell >> 64;
      }
    }
    return result;
  }

  // The operands here never come near 2^256, so the final carry is dropped.
  static U256 Add(const U256& a, const U256& b) {
    U256 result;
    u128 carry = 0;
    for (int i = 0; i < 4; ++i) {
      u128 cell = static_cast<u128>(a.limbs_[i]) + b.limbs_[i] + carry;
      result.limbs_[i] = static_cast<uint64_t>(cell);
      carry = cell >> 64;
    }
    return result;
  }

  // Requires a >= b.
  static U256 Subtract(const U256& a, const U256& b) {
    U256 result;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
      uint64_t lhs = a.limbs_[i];
      uint64_t rhs = b.limbs_[i];
      uint64_t diff = lhs - rhs - borrow;
      borrow = (lhs < rhs || (lhs == rhs && borrow != 0)) ? 1 : 0;
      result.limbs_[i] = diff;
    }
    return result;
  }

  static int Compare(const U256& a, const U256& b) {
    for (int i = 3; i >= 0; --i) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

  // Divides in place by `divisor` (non-zero) and returns the remainder.
  uint64_t DivideBy(uint64_t divisor) {
    u128 remainder = 0;
    for (int i = 3; i >= 0; --i) {
      u128 cell = (remainder << 64) | limbs_[i];
      limbs_[i] = static_cast<uint64_t>(cell / divisor);
      remainder = cell % divisor;
    }
    return static_cast<uint64_t>(remainder);
  }

  void Increment() {
    for (int i = 0; i < 4; ++i) {
      if (++limbs_[i] != 0) return;
    }
  }

  bool IsZero() const { return (limbs_[0] | limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
  bool FitsU128() const { return (limbs_[2] | limbs_[3]) == 0; }
  u128 ToU128() const { return (static_cast<u128>(limbs_[1]) << 64) | limbs_[0]; }

  int DigitCount() const {
    if (FitsU128()) return regenpath::DigitCount(ToU128());
    U256 copy = *this;
    int digits = 0;
    while (!copy.FitsU128()) {
      copy.DivideBy(10);
      ++digits;
    }
    return digits + regenpath::DigitCount(copy.ToU128());
  }

 private:
  uint64_t limbs_[4] = {0, 0, 0, 0};  // Little-endian.
};

// How to treat the digits dropped when a magnitude loses decimal places.
enum class Rounding {
  kDown,    // Truncate toward zero.
  kHalfUp,  // Half away from zero (FHIRPath round()).
  kUp,      // Away from zero if anything non-zero was dropped.
};

// Removes the `count` lowest decimal digits of `magnitude`, rounding as asked.
void DropDigits(U256& magnitude, int count, Rounding rounding) {
  if (count <= 0) return;
  bool sticky = false;  // Any non-zero digit below the most significant dropped one.
  uint64_t top = 0;     // The most significant dropped digit.
  for (int i = 0; i < count; ++i) {
    uint64_t digit = magnitude.DivideBy(10);
    if (i + 1 < count) {
      sticky = sticky || digit != 0;
    } else {
      top = digit;
    }
  }
  bool round_up = rounding == Rounding::kHalfUp ? top >= 5
                  : rounding == Rounding::kUp   ? (top != 0 || sticky)
                                                : false;
  if (round_up) magnitude.Increment();
}

// Builds a Decimal from a sign, an exact magnitude and a scale >= 0. Fraction
// digits that do not fit kMaxScale or kMaxDigits are rounded off (half away
// from zero); nullopt when the integer part alone needs more than kMaxDigits.
std::optional<Decimal> Normalize(bool negative, U256 magnitude, int scale) {
  int excess = std::max(scale - Decimal::kMaxScale, magnitude.DigitCount() - Decimal::kMaxDigits);
  if (excess > 0) {
    if (excess > scale) return std::nullopt;
    DropDigits(magnitude, excess, Rounding::kHalfUp);
    scale -= excess;
  }
  if (!magnitude.FitsU128() || magnitude.ToU128() >= kCoefficientLimit) {
    // Rounding carried into a new digit (999.95 -> 1000.0); the dropped digit is 0.
    if (scale == 0) return std::nullopt;
    magnitude.DivideBy(10);
    --scale;
  }
  __int128 coefficient = static_cast<__int128>(magnitude.ToU128());
  return Decimal::FromParts(negative ? -coefficient : coefficient, scale);
}

// Removes trailing fraction zeros while the scale stays above `min_scale`.
Decimal StripTrailingZeros(const Decimal& value, int min_scale) {
  __int128 coefficient = value.coefficient();
  int scale = value.scale();
  while (scale > min_scale && coefficient % 10 == 0) {
    coefficient /= 10;
    --scale;
  }
  return *Decimal::FromParts(coefficient, scale);
}

// The magnitude of `value` expressed at `scale` (>= value.scale()), exactly.
U256 AlignedMagnitude(const Decimal& value, int scale) {
  return U256::Multiply(Magnitude(value.coefficient()), Pow10(scale - value.scale()));
}

// Rescales to `scale`, rounding the magnitude as asked when digits are dropped.
std::optional<Decimal> RescaleWith(const Decimal& value, int scale, Rounding rounding) {
  if (scale < 0 || scale > Decimal::kMaxScale) return std::nullopt;
  if (scale >= value.scale()) {
    U256 magnitude = AlignedMagnitude(value, scale);
    if (!magnitude.FitsU128() || magnitude.ToU128() >= kCoefficientLimit) return std::nullopt;
    __int128 coefficient = static_cast<__int128>(magnitude.ToU128());
    return Decimal::FromParts(value.IsNegative() ? -coefficient : coefficient, scale);
  }
  U256 magnitude(Magnitude(value.coefficient()));
  DropDigits(magnitude, value.scale() - scale, rounding);
  // Dropping at least one digit leaves at most kMaxDigits digits, even after a carry.
  __int128 coefficient = static_cast<__int128>(magnitude.ToU128());
  return Decimal::FromParts(value.IsNegative() ? -coefficient : coefficient, scale);
}

// Integer part toward zero, as a scale-0 Decimal.
Decimal TruncateToInteger(const Decimal& value) {
  return *Decimal::FromParts(value.coefficient() / static_cast<__int128>(Pow10(value.scale())), 0);
}

bool HasFraction(const Decimal& value) {
  return value.coefficient() % static_cast<__int128>(Pow10(value.scale())) != 0;
}

// Shared by LowBoundary/HighBoundary. `toward_zero` says whether the boundary
// lies on the zero side of the value (the low boundary of a positive number,
// the high boundary of a negative one); that boundary is truncated to
// `precision`, the other one rounded half up, which is what the FHIRPath
// test suite expects (0.0034.highBoundary(1) = 0.0).
std::optional<Decimal> Boundary(const Decimal& value, int precision, bool low) {
  if (precision < 0 || precision > Decimal::kMaxBoundaryPrecision) return std::nullopt;
  const bool negative_result = value.IsZero() ? low : value.IsNegative();
  const bool toward_zero = !value.IsZero() && (low != value.IsNegative());
  // Half a unit in the last written place, at scale + 1: 1.587 -> 1.5865 / 1.5875.
  u128 magnitude = Magnitude(value.coefficient()) * 10;
  magnitude = toward_zero ? magnitude - 5 : magnitude + 5;
  int scale = value.scale() + 1;
  U256 wide(magnitude);
  if (precision >= scale) {
    wide = U256::Multiply(magnitude, Pow10(precision - scale));
  } else {
    DropDigits(wide, scale - precision, toward_zero ? Rounding::kDown : Rounding::kHalfUp);
  }
  if (!wide.FitsU128() || wide.ToU128() >= kCoefficientLimit) return std::nullopt;
  __int128 coefficient = static_cast<__int128>(wide.ToU128());
  return Decimal::FromParts(negative_result ? -coefficient : coefficient, precision);
}

}  // namespace

std::optional<Decimal> Decimal::Parse(std::string_view text) {
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && text[pos] == '-') {
    negative = true;
    ++pos;
  }
  u128 coefficient = 0;
  int significant_digits = 0;
  int fraction_digits = 0;
  auto take_digit = [&](char c) {
    if (significant_digits == 0 && c == '0') return;  // A leading zero adds nothing.
    ++significant_digits;
    if (significant_digits <= kMaxDigits) coefficient = coefficient * 10 + static_cast<u128>(c - '0');
  };
  size_t integer_start = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') take_digit(text[pos++]);
  if (pos == integer_start) return std::nullopt;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t fraction_start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      take_digit(text[pos++]);
      ++fraction_digits;
    }
    if (pos == fraction_start) return std::nullopt;
  }
  int64_t exponent = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool negative_exponent = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      negative_exponent = text[pos] == '-';
      ++pos;
    }
    size_t exponent_start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      // Saturate: anything this large is out of range whatever the digits.
      if (exponent < 100000) exponent = exponent * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == exponent_start) return std::nullopt;
    if (negative_exponent) exponent = -exponent;
  }
  if (pos != text.size() || significant_digits > kMaxDigits) return std::nullopt;

  int64_t scale = fraction_digits - exponent;
  if (scale > kMaxScale) return std::nullopt;
  if (scale < 0) {
    if (coefficient != 0) {
      if (significant_digits - scale > kMaxDigits) return std::nullopt;
      coefficient *= Pow10(static_cast<int>(-scale));
    }
    scale = 0;
  }
  __int128 signed_coefficient = static_cast<__int128>(coefficient);
  return FromParts(negative ? -signed_coefficient : signed_coefficient, static_cast<int>(scale));
}

Decimal Decimal::FromInt(int64_t value) {
  Decimal result;
  result.coefficient_ = value;
  return result;
}

std::optional<Decimal> Decimal::FromDouble(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  // Shortest round-trip digits in scientific form: "8.1e+01", "-1.5e-07".
  char buffer[64];
  std::to_chars_result written =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  if (written.ec != std::errc()) return std::nullopt;
  std::string_view text(buffer, static_cast<size_t>(written.ptr - buffer));

  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  size_t exponent_pos = text.find('e');
  if (exponent_pos == std::string_view::npos) return std::nullopt;
  u128 digits = 0;
  int digit_count = 0;
  for (char c : text.substr(0, exponent_pos)) {
    if (c == '.') continue;
    digits = digits * 10 + static_cast<u128>(c - '0');
    ++digit_count;
  }
  int exponent = 0;
  std::string_view exponent_text = text.substr(exponent_pos + 1);
  if (!exponent_text.empty() && exponent_text[0] == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  // value = digits * 10^(exponent - (digit_count - 1)).
  int scale = digit_count - 1 - exponent;
  if (digits == 0) return FromParts(0, 0);
  if (scale < 0) {
    if (digit_count - scale > kMaxDigits) return std::nullopt;
    return FromParts(static_cast<__int128>(digits * Pow10(-scale)) * (negative ? -1 : 1), 0);
  }
  // Tiny values keep kMaxScale places, rounded.
  std::optional<Decimal> result = Normalize(negative, U256(digits), scale);
  if (!result) return std::nullopt;
  return StripTrailingZeros(*result, 0);
}

std::optional<Decimal> Decimal::FromParts(__int128 coefficient, int scale) {
  if (scale < 0 || scale > kMaxScale) return std::nullopt;
  if (coefficient >= static_cast<__int128>(kCoefficientLimit) ||
      coefficient <= -static_cast<__int128>(kCoefficientLimit)) {
    return std::nullopt;
  }
  Decimal result;
  result.coefficient_ = coefficient;
  result.scale_ = scale;
  return result;
}

bool Decimal::IsIntegral() const { return !HasFraction(*this); }

std::string Decimal::ToString() const {
  u128 magnitude = Magnitude(coefficient_);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (static_cast<int>(digits.size()) <= scale_) digits.push_back('0');  // "0.001".
  std::reverse(digits.begin(), digits.end());
  std::string result;
  if (coefficient_ < 0) result.push_back('-');
  size_t integer_digits = digits.size() - static_cast<size_t>(scale_);
  result.append(digits, 0, integer_digits);
  if (scale_ > 0) {
    result.push_back('.');
    result.append(digits, integer_digits, std::string::npos);
  }
  return result;
}

double Decimal::ToDouble() const {
  // from_chars rounds correctly, unlike coefficient / 10^scale in binary.
  std::string text = ToString();
  double result = 0;
  std::from_chars(text.data(), text.data() + text.size(), result);
  return result;
}

std::optional<int64_t> Decimal::ToInt64() const {
  if (HasFraction(*this)) return std::nullopt;
  __int128 integer = coefficient_ / static_cast<__int128>(Pow10(scale_));
  if (integer > INT64_MAX || integer < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(integer);
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  int sign_a = a.coefficient_ > 0 ? 1 : (a.coefficient_ < 0 ? -1 : 0);
  int sign_b = b.coefficient_ > 0 ? 1 : (b.coefficient_ < 0 ? -1 : 0);
  if (sign_a != sign_b) return sign_a < sign_b ? -1 : 1;
  int scale = std::max(a.scale_, b.scale_);
  int magnitude_order = U256::Compare(AlignedMagnitude(a, scale), AlignedMagnitude(b, scale));
  return sign_a < 0 ? -magnitude_order : magnitude_order;
}

std::optional<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  int scale = std::max(a.scale_, b.scale_);
  U256 magnitude_a = AlignedMagnitude(a, scale);
  U256 magnitude_b = AlignedMagnitude(b, scale);
  if (a.IsNegative() == b.IsNegative()) {
    return Normalize(a.IsNegative(), U256::Add(magnitude_a, magnitude_b), scale);
  }
  if (U256::Compare(magnitude_a, magnitude_b) >= 0) {
    return Normalize(a.IsNegative(), U256::Subtract(magnitude_a, magnitude_b), scale);
  }
  return Normalize(b.IsNegative(), U256::Subtract(magnitude_b, magnitude_a), scale);
}

std::optional<Decimal> Decimal::Subtract(const Decimal& a, const Decimal& b) { return Add(a, b.Negate()); }

std::optional<Decimal> Decimal::Multiply(const Decimal& a, const Decimal& b) {
  U256 magnitude = U256::Multiply(Magnitude(a.coefficient_), Magnitude(b.coefficient_));
  int scale = a.scale_ + b.scale_;
  const int min_scale = std::max(a.scale_, b.scale_);
  // Exact trailing zeros first, so that rounding only happens when needed.
  while (scale > min_scale) {
    U256 copy = magnitude;
    if (copy.DivideBy(10) != 0) break;
    magnitude = copy;
    --scale;
  }
  std::optional<Decimal> result = Normalize(a.IsNegative() != b.IsNegative(), magnitude, scale);
  if (!result) return std::nullopt;
  return StripTrailingZeros(*result, min_scale);
}

std::optional<Decimal> Decimal::Divide(const Decimal& a, const Decimal& b) {
  if (b.IsZero()) return std::nullopt;
  const bool negative = a.IsNegative() != b.IsNegative();
  const u128 dividend = Magnitude(a.coefficient_);
  const u128 divisor = Magnitude(b.coefficient_);
  // a / b = (dividend / divisor) * 10^(b.scale - a.scale). The result at scale
  // s has coefficient floor(dividend * 10^(b.scale - a.scale + s) / divisor),
  // built one digit at a time by long division so nothing overflows; the
  // smallest scale tried is a.scale, so the exponent is never negative.
  u128 quotient = dividend / divisor;
  u128 remainder = dividend % divisor;
  auto next_digit = [&]() -> bool {
    // remainder < divisor < 10^36, so remainder * 10 fits easily.
    u128 widened = remainder * 10;
    u128 digit = widened / divisor;
    remainder = widened % divisor;
    if (quotient >= kCoefficientLimit / 10) return false;  // Would exceed kMaxDigits.
    quotient = quotient * 10 + digit;
    return true;
  };
  for (int i = 0; i < b.scale_; ++i) {
    if (!next_digit()) return std::nullopt;
  }
  if (quotient >= kCoefficientLimit) return std::nullopt;
  int scale = a.scale_;
  // Exact if the expansion terminates within kMaxScale / kMaxDigits.
  while (remainder != 0 && scale < kMaxScale) {
    u128 saved_quotient = quotient;
    u128 saved_remainder = remainder;
    if (!next_digit()) {
      quotient = saved_quotient;
      remainder = saved_remainder;
      break;
    }
    ++scale;
  }
  if (remainder == 0) {
    __int128 coefficient = static_cast<__int128>(quotient);
    return FromParts(negative ? -coefficient : coefficient, scale);
  }
  // Not terminating: round half up to max(kDivisionScale, a.scale) places, or
  // fewer if the integer part leaves no room. Recompute from the start so the
  // rounding digit is the true next digit.
  const int target = std::max(kDivisionScale, a.scale_);
  quotient = dividend / divisor;
  remainder = dividend % divisor;
  for (int i = 0; i < b.scale_; ++i) next_digit();
  scale = a.scale_;
  while (scale < target) {
    u128 saved_quotient = quotient;
    u128 saved_remainder = remainder;
    if (!next_digit()) {
      quotient = saved_quotient;
      remainder = saved_remainder;
      break;
    }
    ++scale;
  }
  if ((remainder * 10) / divisor >= 5) ++quotient;
  if (quotient >= kCoefficientLimit) {
    if (scale == 0) return std::nullopt;
    quotient /= 10;  // 99.995 -> 100.00: the dropped digit is a carried 0.
    --scale;
  }
  __int128 coefficient = static_cast<__int128>(quotient);
  std::optional<Decimal> result = FromParts(negative ? -coefficient : coefficient, scale);
  if (!result) return std::nullopt;
  return StripTrailingZeros(*result, a.scale_);
}

std::optional<Decimal> Decimal::IntegerDivide(const Decimal& a, const Decimal& b) {
  if (b.IsZero()) return std::nullopt;
  const bool negative = a.IsNegative() != b.IsNegative();
  const u128 dividend = Magnitude(a.coefficient_);
  const u128 divisor = Magnitude(b.coefficient_);
  // |a / b| = dividend * 10^shift / divisor with shift = b.scale - a.scale.
  int shift = b.scale_ - a.scale_;
  u128 quotient = 0;
  if (shift >= 0) {
    quotient = dividend / divisor;
    u128 remainder = dividend % divisor;
    for (int i = 0; i < shift; ++i) {
      u128 widened = remainder * 10;
      if (quotient >= kCoefficientLimit / 10) return std::nullopt;
      quotient = quotient * 10 + widened / divisor;
      remainder = widened % divisor;
    }
  } else {
    U256 scaled_divisor = U256::Multiply(divisor, Pow10(-shift));
    if (scaled_divisor.FitsU128()) quotient = dividend / scaled_divisor.ToU128();
    // Otherwise the divisor exceeds any coefficient and the quotient is 0.
  }
  __int128 coefficient = static_cast<__int128>(quotient);
  return FromParts(negative ? -coefficient : coefficient, 0);
}

std::optional<Decimal> Decimal::Modulo(const Decimal& a, const Decimal& b) {
  if (b.IsZero()) return std::nullopt;
  const int scale = std::max(a.scale_, b.scale_);
  // remainder = (|a| * 10^(scale - a.scale)) mod (|b| * 10^(scale - b.scale)).
  U256 wide_divisor = AlignedMagnitude(b, scale);
  u128 remainder = Magnitude(a.coefficient_);
  if (wide_divisor.FitsU128() && wide_divisor.ToU128() < kCoefficientLimit * 10) {
    u128 divisor = wide_divisor.ToU128();
    remainder %= divisor;
    for (int i = a.scale_; i < scale; ++i) remainder = (remainder * 10) % divisor;
  }
  // Otherwise |b| is beyond every aligned |a| (b was aligned, so a.scale is the
  // common scale and |a| < 10^36 < |b|): the remainder is |a| itself.
  __int128 coefficient = static_cast<__int128>(remainder);
  return FromParts(a.IsNegative() ? -coefficient : coefficient, scale);
}

Decimal Decimal::Negate() const {
  Decimal result = *this;
  result.coefficient_ = -coefficient_;
  return result;
}

Decimal Decimal::Abs() const { return IsNegative() ? Negate() : *this; }

std::optional<Decimal> Decimal::Round(int places) const {
  return RescaleWith(*this, places, Rounding::kHalfUp);
}

Decimal Decimal::Truncate() const { return TruncateToInteger(*this); }

Decimal Decimal::Floor() const {
  // Rounding the magnitude up is rounding toward -inf for negative values.
  return *RescaleWith(*this, 0, IsNegative() ? Rounding::kUp : Rounding::kDown);
}

Decimal Decimal::Ceiling() const {
  return *RescaleWith(*this, 0, IsNegative() ? Rounding::kDown : Rounding::kUp);
}

std::optional<Decimal> Decimal::Rescale(int scale) const {
  return RescaleWith(*this, scale, Rounding::kHalfUp);
}

std::optional<Decimal> Decimal::LowBoundary(int precision) const {
  return Boundary(*this, precision, /*low=*/true);
}

std::optional<Decimal> Decimal::HighBoundary(int precision) const {
  return Boundary(*this, precision, /*low=*/false);
}

}  // namespace regenpath
