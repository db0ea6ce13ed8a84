#include "fhirpath/ucum.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstddef>
#include <iterator>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace regenpath::fhirpath::ucum {
namespace {

using u128 = unsigned __int128;

constexpr u128 Pow10(int exponent) {
  u128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// Numerators and denominators stay below 10^36 so that they always fit a
// Decimal coefficient and the product of two of them never needs more than
// one rounding step to fit 128 bits.
constexpr u128 kLimit = Pow10(Decimal::kMaxDigits);

// Bounds that reject absurd inputs ("m99.m99...", "[pi]999") long before an
// int or the Decimal range could overflow.
constexpr int64_t kMaxExp10 = 1000;
constexpr int kMaxPiPower = 8;
constexpr int kMaxExponentDigits = 4;
constexpr int kMaxDimension = 127;
constexpr int kMaxNesting = 64;

constexpr int kDimensionCount = static_cast<int>(std::tuple_size_v<Dimension>);

u128 Gcd(u128 a, u128 b) {
  while (b != 0) {
    u128 rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}

// Rounds away the last digit (half up) and accounts for it in `exp10`.
void DropDigit(u128& value, int64_t& exp10, int direction) {
  value = (value + 5) / 10;
  exp10 += direction;
}

// Returns x * y, rounding the larger operand one digit at a time (and moving
// the dropped digits into exp10 with `direction`) until the product is below
// kLimit. Exact whenever the exact product is below kLimit. Requires x, y in
// [1, kLimit).
u128 MultiplyBounded(u128 x, u128 y, int64_t& exp10, int direction) {
  while (y > (kLimit - 1) / x) {
    if (x >= y) {
      DropDigit(x, exp10, direction);
    } else {
      DropDigit(y, exp10, direction);
    }
  }
  return x * y;
}

void StripTens(u128& value, int64_t& exp10, int direction) {
  while (value != 0 && value % 10 == 0) {
    value /= 10;
    exp10 += direction;
  }
}

// An exact positive factor num / den * 10^exp10 * pi^pi_power. Unit
// definitions are ratios of decimals (1/3 teaspoon) and angles involve pi, so
// a plain Decimal would round where UCUM is exact; the quotient is only taken
// once, when a value is converted. Invariant: 1 <= num, den < kLimit, neither
// ends in 0, gcd(num, den) = 1.
struct Ratio {
  u128 num = 1;
  u128 den = 1;
  int64_t exp10 = 0;
  int pi_power = 0;
};

void Normalize(Ratio& ratio) {
  StripTens(ratio.num, ratio.exp10, 1);
  StripTens(ratio.den, ratio.exp10, -1);
  u128 divisor = Gcd(ratio.num, ratio.den);
  ratio.num /= divisor;
  ratio.den /= divisor;
}

bool InRange(const Ratio& ratio) {
  return ratio.exp10 >= -kMaxExp10 && ratio.exp10 <= kMaxExp10 && ratio.pi_power >= -kMaxPiPower &&
         ratio.pi_power <= kMaxPiPower;
}

Ratio Inverse(const Ratio& ratio) { return {ratio.den, ratio.num, -ratio.exp10, -ratio.pi_power}; }

Ratio MultiplyRatios(const Ratio& a, const Ratio& b) {
  // Cancelling across first keeps the numbers small, so products of ordinary
  // units never round.
  const u128 cross_a = Gcd(a.num, b.den);
  const u128 cross_b = Gcd(b.num, a.den);
  Ratio result;
  result.exp10 = a.exp10 + b.exp10;
  result.pi_power = a.pi_power + b.pi_power;
  result.num = MultiplyBounded(a.num / cross_a, b.num / cross_b, result.exp10, 1);
  result.den = MultiplyBounded(a.den / cross_b, b.den / cross_a, result.exp10, -1);
  Normalize(result);
  return result;
}

// Builds the ratio for a positive integer or decimal literal ("64.79891",
// "1.6605402e-24", "37e9"). nullopt for anything else, zero included.
std::optional<Ratio> RatioFromLiteral(std::string_view text) {
  Ratio ratio;
  ratio.num = 0;
  size_t pos = 0;
  int digits = 0;
  bool seen_point = false;
  while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) {
    if (text[pos] == '.') {
      if (seen_point) return std::nullopt;
      seen_point = true;
    } else {
      if (ratio.num != 0 || text[pos] != '0') ++digits;
      if (digits > Decimal::kMaxDigits) return std::nullopt;
      ratio.num = ratio.num * 10 + static_cast<u128>(text[pos] - '0');
      if (seen_point) --ratio.exp10;
    }
    ++pos;
  }
  if (pos == 0) return std::nullopt;
  if (pos < text.size()) {
    if (text[pos] != 'e' && text[pos] != 'E') return std::nullopt;
    ++pos;
    int sign = 1;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) {
      sign = text[pos] == '-' ? -1 : 1;
      ++pos;
    }
    if (pos == text.size() || text.size() - pos > static_cast<size_t>(kMaxExponentDigits))
      return std::nullopt;
    int64_t exponent = 0;
    for (; pos < text.size(); ++pos) {
      if (!std::isdigit(static_cast<unsigned char>(text[pos]))) return std::nullopt;
      exponent = exponent * 10 + (text[pos] - '0');
    }
    ratio.exp10 += sign * exponent;
  }
  if (ratio.num == 0) return std::nullopt;
  Normalize(ratio);
  return ratio;
}

// A positive decimal floating-point number coefficient * 10^exp10 with
// coefficient < kLimit: the intermediate form of a conversion, wide enough in
// exponent that tiny or huge intermediate factors lose nothing.
struct Floating {
  u128 coefficient = 0;
  int64_t exp10 = 0;
};

Floating MultiplyFloating(Floating a, Floating b) {
  if (a.coefficient == 0 || b.coefficient == 0) return {0, 0};
  StripTens(a.coefficient, a.exp10, 1);
  StripTens(b.coefficient, b.exp10, 1);
  Floating result;
  result.exp10 = a.exp10 + b.exp10;
  result.coefficient = MultiplyBounded(a.coefficient, b.coefficient, result.exp10, 1);
  return result;
}

// a / divisor, exact if the quotient terminates within kMaxDigits digits, else
// rounded half up to kMaxDigits significant digits.
Floating DivideFloating(const Floating& a, u128 divisor) {
  Floating result;
  result.exp10 = a.exp10;
  result.coefficient = a.coefficient / divisor;
  u128 remainder = a.coefficient % divisor;
  while (remainder != 0 && result.coefficient < kLimit / 10) {
    remainder *= 10;  // remainder < divisor < 10^36: no overflow.
    result.coefficient = result.coefficient * 10 + remainder / divisor;
    remainder %= divisor;
    --result.exp10;
  }
  if (remainder != 0 && remainder >= divisor - remainder) ++result.coefficient;
  if (result.coefficient == kLimit) {
    result.coefficient /= 10;
    ++result.exp10;
  }
  return result;
}

// pi and 1/pi to kMaxDigits significant digits.
constexpr Floating kPi = {static_cast<u128>(314159265358979323ULL) * Pow10(18) + 846264338327950288ULL, -35};
constexpr Floating kInversePi = {static_cast<u128>(318309886183790671ULL) * Pow10(18) + 537767526745028724ULL,
                                 -36};

// The Decimal for +/- value, with at least `min_scale` places if they fit and
// no trailing zeros beyond them. Rounds beyond kMaxScale places; nullopt if
// the integer part needs more than kMaxDigits digits.
std::optional<Decimal> ToDecimal(Floating value, bool negative, int min_scale) {
  if (value.coefficient == 0) return Decimal::FromParts(0, std::clamp(min_scale, 0, Decimal::kMaxScale));
  StripTens(value.coefficient, value.exp10, 1);
  u128 coefficient = value.coefficient;
  int scale = 0;
  if (value.exp10 >= 0) {
    for (int64_t i = 0; i < value.exp10; ++i) {
      if (coefficient >= kLimit / 10) return std::nullopt;
      coefficient *= 10;
    }
  } else if (value.exp10 < -Decimal::kMaxScale) {
    const int64_t drop = -value.exp10 - Decimal::kMaxScale;
    if (drop > Decimal::kMaxDigits + 1) {
      coefficient = 0;
    } else {
      coefficient = (coefficient / Pow10(static_cast<int>(drop) - 1) + 5) / 10;
    }
    scale = Decimal::kMaxScale;
  } else {
    scale = static_cast<int>(-value.exp10);
  }
  while (scale < min_scale && scale < Decimal::kMaxScale && coefficient < kLimit / 10) {
    coefficient *= 10;
    ++scale;
  }
  while (scale > min_scale && coefficient != 0 && coefficient % 10 == 0) {
    coefficient /= 10;
    --scale;
  }
  const __int128 signed_coefficient = static_cast<__int128>(coefficient);
  return Decimal::FromParts(negative ? -signed_coefficient : signed_coefficient, scale);
}

// value * ratio, see ToDecimal for the result's scale.
std::optional<Decimal> ApplyRatio(const Decimal& value, const Ratio& ratio, int min_scale) {
  const __int128 coefficient = value.coefficient();
  Floating result = {static_cast<u128>(coefficient < 0 ? -coefficient : coefficient), -value.scale()};
  result = MultiplyFloating(result, {ratio.num, ratio.exp10});
  result = DivideFloating(result, ratio.den);
  // pi last: the rational part is often exact (180 deg = 1 [pi].rad).
  for (int i = 0; i < ratio.pi_power; ++i) result = MultiplyFloating(result, kPi);
  for (int i = 0; i > ratio.pi_power; --i) result = MultiplyFloating(result, kInversePi);
  return ToDecimal(result, coefficient < 0, min_scale);
}

Decimal TrimTrailingZeros(const Decimal& value, int min_scale) {
  __int128 coefficient = value.coefficient();
  int scale = value.scale();
  while (scale > min_scale && coefficient % 10 == 0) {
    coefficient /= 10;
    --scale;
  }
  return *Decimal::FromParts(coefficient, scale);
}

enum class SpecialScale { kNone, kCelsius, kFahrenheit };

// An arbitrary unit's atom (table storage) and its exponent.
struct ArbitraryTerm {
  std::string_view atom;
  int exponent = 0;
  friend bool operator==(const ArbitraryTerm&, const ArbitraryTerm&) = default;
};

// A unit reduced to base units; the working form behind Canonical.
struct Reduced {
  Ratio factor;
  std::array<int, kDimensionCount> dimension{};
  std::vector<ArbitraryTerm> arbitrary;  // Sorted by atom, no zero exponents.
  SpecialScale special = SpecialScale::kNone;
};

// acc := acc * other^sign (sign is +1 or -1). False if either is a special
// unit (an offset scale cannot be multiplied) or a bound is exceeded.
bool Combine(Reduced& acc, const Reduced& other, int sign) {
  if (acc.special != SpecialScale::kNone || other.special != SpecialScale::kNone) return false;
  acc.factor = MultiplyRatios(acc.factor, sign > 0 ? other.factor : Inverse(other.factor));
  if (!InRange(acc.factor)) return false;
  for (int i = 0; i < kDimensionCount; ++i) {
    acc.dimension[i] += sign * other.dimension[i];
    if (acc.dimension[i] > kMaxDimension || acc.dimension[i] < -kMaxDimension) return false;
  }
  for (const ArbitraryTerm& term : other.arbitrary) {
    auto it = std::lower_bound(acc.arbitrary.begin(), acc.arbitrary.end(), term.atom,
                               [](const ArbitraryTerm& t, std::string_view atom) { return t.atom < atom; });
    if (it != acc.arbitrary.end() && it->atom == term.atom) {
      it->exponent += sign * term.exponent;
      if (it->exponent > kMaxDimension || it->exponent < -kMaxDimension) return false;
      if (it->exponent == 0) acc.arbitrary.erase(it);
    } else {
      acc.arbitrary.insert(it, {term.atom, sign * term.exponent});
    }
  }
  return true;
}

// unit^exponent by repeated squaring; false as for Combine.
bool Power(const Reduced& unit, int exponent, Reduced& result) {
  result = Reduced();
  if (exponent == 1) {
    result = unit;
    return true;
  }
  if (unit.special != SpecialScale::kNone) return false;
  for (int i = 0; i < kDimensionCount; ++i) {
    if (unit.dimension[i] * exponent > kMaxDimension || unit.dimension[i] * exponent < -kMaxDimension)
      return false;
  }
  const int sign = exponent < 0 ? -1 : 1;
  int remaining = exponent < 0 ? -exponent : exponent;
  Reduced square = unit;
  while (remaining > 0) {
    if ((remaining & 1) != 0 && !Combine(result, square, sign)) return false;
    remaining >>= 1;
    if (remaining > 0) {
      Reduced next = square;
      if (!Combine(next, square, 1)) return false;
      square = std::move(next);
    }
  }
  return true;
}

// ---- The unit table ----

enum class Kind { kBase, kDefined, kArbitrary, kPi, kSpecial };

struct UnitDef {
  std::string_view code;
  bool metric = false;
  Kind kind = Kind::kDefined;
  int base_index = 0;
  SpecialScale special = SpecialScale::kNone;
  std::string_view value;  // kDefined: a decimal literal.
  std::string_view unit;   // kDefined: a UCUM expression.
};

struct Prefix {
  std::string_view symbol;
  int exp10;
};

constexpr UnitDef Base(std::string_view code, int index) {
  return {code, true, Kind::kBase, index, {}, {}, {}};
}
constexpr UnitDef Metric(std::string_view code, std::string_view value, std::string_view unit) {
  return {code, true, Kind::kDefined, 0, {}, value, unit};
}
constexpr UnitDef NonMetric(std::string_view code, std::string_view value, std::string_view unit) {
  return {code, false, Kind::kDefined, 0, {}, value, unit};
}
constexpr UnitDef Arbitrary(std::string_view code) { return {code, false, Kind::kArbitrary, 0, {}, {}, {}}; }
constexpr UnitDef MetricArbitrary(std::string_view code) {
  return {code, true, Kind::kArbitrary, 0, {}, {}, {}};
}
constexpr UnitDef Special(std::string_view code, SpecialScale scale) {
  return {code, false, Kind::kSpecial, 0, scale, {}, {}};
}
constexpr UnitDef Pi(std::string_view code) { return {code, false, Kind::kPi, 0, {}, {}, {}}; }

#include "fhirpath/ucum_units.inc"

struct Atom {
  Reduced unit;
  bool metric = false;
};

// Finds atoms by their exact code; null if unknown.
class AtomSource {
 public:
  virtual ~AtomSource() = default;
  virtual const Atom* Find(std::string_view code) = 0;
};

// Recursive-descent parser for one UCUM expression (see ucum.h for the
// grammar accepted).
class Parser {
 public:
  Parser(std::string_view text, AtomSource& atoms) : text_(text), atoms_(atoms) {}

  std::optional<Reduced> ParseMain() {
    Reduced result;
    if (!ParseTerm(0, result) || pos_ != text_.size()) return std::nullopt;
    return result;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // A leading '/' reads as "1/": with UCUM's left-to-right evaluation "/s.m"
  // is m/s.
  bool ParseTerm(int depth, Reduced& result) {
    result = Reduced();
    if (Peek() == '/') {
      ++pos_;
      Reduced component;
      if (!ParseComponent(depth, component) || !Combine(result, component, -1)) return false;
    } else if (!ParseComponent(depth, result)) {
      return false;
    }
    while (Peek() == '.' || Peek() == '/') {
      const int sign = Peek() == '.' ? 1 : -1;
      ++pos_;
      Reduced component;
      if (!ParseComponent(depth, component) || !Combine(result, component, sign)) return false;
    }
    return true;
  }

  bool ParseComponent(int depth, Reduced& result) {
    result = Reduced();
    const char c = Peek();
    if (c == '(') {
      if (depth >= kMaxNesting) return false;
      ++pos_;
      if (!ParseTerm(depth + 1, result) || Peek() != ')') return false;
      ++pos_;
      return true;
    }
    if (c == '{') return SkipAnnotation();
    if (IsDigit(c)) return ParseNumber(result);
    return ParseSimpleUnit(result);
  }

  // {...}: printable ASCII except braces; means 1.
  bool SkipAnnotation() {
    ++pos_;
    while (!AtEnd() && Peek() != '}') {
      const char c = Peek();
      if (c < 32 || c > 126 || c == '{') return false;
      ++pos_;
    }
    if (AtEnd()) return false;
    ++pos_;
    return true;
  }

  bool SkipOptionalAnnotation() { return Peek() != '{' || SkipAnnotation(); }

  // A signed integer exponent; `required` says whether it may be absent.
  bool ParseExponent(bool required, int& exponent) {
    exponent = 1;
    int sign = 1;
    size_t start = pos_;
    if (Peek() == '+' || Peek() == '-') {
      sign = Peek() == '-' ? -1 : 1;
      ++pos_;
    }
    const size_t digits_start = pos_;
    int value = 0;
    while (IsDigit(Peek())) {
      if (pos_ - digits_start >= static_cast<size_t>(kMaxExponentDigits)) return false;
      value = value * 10 + (Peek() - '0');
      ++pos_;
    }
    if (pos_ == digits_start) {
      // No digits: fine only if nothing (not even a sign) was written.
      return !required && pos_ == start;
    }
    exponent = sign * value;
    return true;
  }

  // A factor (positive integer) or 10*n / 10^n. UCUM's grammar has no
  // annotation after a plain factor, but LOINC writes "/100{WBCs}", so one is
  // accepted (and ignored) there too.
  bool ParseNumber(Reduced& result) {
    const size_t start = pos_;
    while (IsDigit(Peek())) ++pos_;
    const std::string_view digits = text_.substr(start, pos_ - start);
    if (digits == "10" && (Peek() == '*' || Peek() == '^')) {
      ++pos_;
      int exponent = 0;
      if (!ParseExponent(/*required=*/true, exponent)) return false;
      result.factor.exp10 = exponent;
      return InRange(result.factor) && SkipOptionalAnnotation();
    }
    std::optional<Ratio> factor = RatioFromLiteral(digits);
    if (!factor) return false;
    result.factor = *factor;
    return SkipOptionalAnnotation();
  }

  static bool IsSymbolChar(char c) {
    if (c < 33 || c > 126 || IsDigit(c)) return false;
    switch (c) {
      case '.':
      case '/':
      case '(':
      case ')':
      case '{':
      case '}':
      case '[':
      case ']':
      case '+':
      case '-':
        return false;
      default:
        return true;
    }
  }

  // An atom, optionally prefixed, then an optional exponent and annotation.
  bool ParseSimpleUnit(Reduced& result) {
    const size_t start = pos_;
    while (!AtEnd()) {
      if (Peek() == '[') {
        const size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) return false;
        pos_ = close + 1;
      } else if (IsSymbolChar(Peek())) {
        ++pos_;
      } else {
        break;
      }
    }
    if (pos_ == start) return false;
    Reduced unit;
    if (!Resolve(text_.substr(start, pos_ - start), unit)) return false;
    const bool has_exponent = Peek() == '+' || Peek() == '-' || IsDigit(Peek());
    int exponent = 1;
    if (!ParseExponent(/*required=*/false, exponent)) return false;
    // A special unit is an offset scale: no power of it, not even ^1.
    if (has_exponent && unit.special != SpecialScale::kNone) return false;
    if (!Power(unit, exponent, result)) return false;
    return SkipOptionalAnnotation();
  }

  // Whole atom first ("cd" is candela, "Pa" pascal), then prefix + metric atom.
  bool Resolve(std::string_view symbol, Reduced& result) {
    if (const Atom* atom = atoms_.Find(symbol)) {
      result = atom->unit;
      return true;
    }
    for (const Prefix& prefix : kPrefixes) {
      if (symbol.size() <= prefix.symbol.size() || !symbol.starts_with(prefix.symbol)) continue;
      const Atom* atom = atoms_.Find(symbol.substr(prefix.symbol.size()));
      if (atom == nullptr || !atom->metric) continue;
      result = atom->unit;
      result.factor.exp10 += prefix.exp10;
      return true;
    }
    return false;
  }

  std::string_view text_;
  AtomSource& atoms_;
  size_t pos_ = 0;
};

// The finished, immutable table.
class AtomTable : public AtomSource {
 public:
  const Atom* Find(std::string_view code) override {
    auto it = atoms_.find(code);
    return it == atoms_.end() ? nullptr : &it->second;
  }
  std::unordered_map<std::string_view, Atom>& atoms() { return atoms_; }

 private:
  std::unordered_map<std::string_view, Atom> atoms_;
};

// Resolves the definitions on demand, in dependency order.
class TableBuilder : public AtomSource {
 public:
  TableBuilder() {
    for (size_t i = 0; i < std::size(kUnitDefs); ++i) {
      [[maybe_unused]] bool inserted = index_.emplace(kUnitDefs[i].code, i).second;
      assert(inserted && "duplicate UCUM atom");
    }
    state_.assign(std::size(kUnitDefs), State::kPending);
  }

  AtomTable Build() {
    for (const UnitDef& def : kUnitDefs) {
      [[maybe_unused]] const Atom* atom = Find(def.code);
      assert(atom != nullptr && "UCUM atom definition does not resolve");
    }
    return std::move(table_);
  }

  const Atom* Find(std::string_view code) override {
    if (const Atom* done = table_.Find(code)) return done;
    auto it = index_.find(code);
    if (it == index_.end() || state_[it->second] != State::kPending) return nullptr;
    state_[it->second] = State::kInProgress;
    std::optional<Atom> atom = Define(kUnitDefs[it->second]);
    state_[it->second] = State::kDone;
    if (!atom) return nullptr;
    return &table_.atoms().emplace(code, std::move(*atom)).first->second;
  }

 private:
  enum class State { kPending, kInProgress, kDone };

  std::optional<Atom> Define(const UnitDef& def) {
    Atom atom;
    atom.metric = def.metric;
    switch (def.kind) {
      case Kind::kBase:
        atom.unit.dimension[def.base_index] = 1;
        return atom;
      case Kind::kPi:
        atom.unit.factor.pi_power = 1;
        return atom;
      case Kind::kArbitrary:
        atom.unit.arbitrary.push_back({def.code, 1});
        return atom;
      case Kind::kSpecial:
        // Both scales are temperatures; the offsets live in SpecialOffset.
        atom.unit.dimension[4] = 1;
        atom.unit.special = def.special;
        if (def.special == SpecialScale::kFahrenheit) atom.unit.factor = {5, 9, 0, 0};
        return atom;
      case Kind::kDefined:
        break;
    }
    std::optional<Ratio> value = RatioFromLiteral(def.value);
    if (!value) return std::nullopt;
    std::optional<Reduced> unit = Parser(def.unit, *this).ParseMain();
    if (!unit) return std::nullopt;
    Reduced scaled;
    scaled.factor = *value;
    if (!Combine(scaled, *unit, 1)) return std::nullopt;
    atom.unit = std::move(scaled);
    return atom;
  }

  std::unordered_map<std::string_view, size_t> index_;
  std::vector<State> state_;
  AtomTable table_;
};

AtomTable& Table() {
  // Built once, thread-safely (function-local static); only read afterwards.
  static AtomTable table = TableBuilder().Build();
  return table;
}

// The zero of a special scale in its own unit: K = (Cel + 273.15) * 1 and
// K = ([degF] + 459.67) * 5/9.
Decimal SpecialOffset(SpecialScale special) {
  switch (special) {
    case SpecialScale::kCelsius:
      return *Decimal::FromParts(27315, 2);
    case SpecialScale::kFahrenheit:
      return *Decimal::FromParts(45967, 2);
    case SpecialScale::kNone:
      break;
  }
  return Decimal();
}

struct ParsedUnit {
  Reduced unit;
  Decimal factor;
};

// Parses `text` and checks that its factor is representable as a Decimal, so
// that Parse, Comparable and Convert agree on which units are valid.
std::optional<ParsedUnit> ParseUnit(std::string_view text) {
  std::optional<Reduced> unit = Parser(text, Table()).ParseMain();
  if (!unit) return std::nullopt;
  std::optional<Decimal> factor = ApplyRatio(Decimal::FromInt(1), unit->factor, 0);
  if (!factor || factor->IsZero()) return std::nullopt;
  return ParsedUnit{std::move(*unit), *factor};
}

bool SameKind(const Reduced& a, const Reduced& b) {
  return a.dimension == b.dimension && a.arbitrary == b.arbitrary;
}

// True iff `unit` is a single component at the top level (no '.' or '/'
// outside brackets, braces and parentheses, and no leading '/').
bool IsSingleComponent(std::string_view unit) {
  int parens = 0;
  for (size_t i = 0; i < unit.size(); ++i) {
    const char c = unit[i];
    if (c == '[' || c == '{') {
      const size_t close = unit.find(c == '[' ? ']' : '}', i);
      if (close == std::string_view::npos) return false;
      i = close;
    } else if (c == '(') {
      ++parens;
    } else if (c == ')') {
      --parens;
    } else if ((c == '.' || c == '/') && parens == 0) {
      return false;
    }
  }
  return true;
}

// The operand as it may stand left of '.' or '/': "/s" becomes "1/s", since
// "/s.m" would otherwise read differently in parsers that apply a leading '/'
// to the whole term.
std::string AsLeftOperand(std::string_view unit) {
  std::string result;
  if (unit.starts_with('/')) result = "1";
  result.append(unit);
  return result;
}

// Parses both operands for Multiply/Divide; false if either is invalid or a
// special unit.
bool ValidProductOperands(std::string_view unit_a, std::string_view unit_b) {
  std::optional<ParsedUnit> a = ParseUnit(unit_a);
  std::optional<ParsedUnit> b = ParseUnit(unit_b);
  return a && b && a->unit.special == SpecialScale::kNone && b->unit.special == SpecialScale::kNone;
}

}  // namespace

std::optional<Canonical> Parse(std::string_view unit) {
  std::optional<ParsedUnit> parsed = ParseUnit(unit);
  if (!parsed) return std::nullopt;
  Canonical result;
  result.factor = parsed->factor;
  for (int i = 0; i < kDimensionCount; ++i)
    result.dimension[i] = static_cast<int8_t>(parsed->unit.dimension[i]);
  result.is_special = parsed->unit.special != SpecialScale::kNone;
  if (result.is_special) {
    std::optional<Decimal> offset = ApplyRatio(SpecialOffset(parsed->unit.special), parsed->unit.factor, 0);
    if (!offset) return std::nullopt;
    result.offset = *offset;
  }
  result.arbitrary = !parsed->unit.arbitrary.empty();
  return result;
}

bool Comparable(std::string_view unit_a, std::string_view unit_b) {
  std::optional<ParsedUnit> a = ParseUnit(unit_a);
  if (!a) return false;
  std::optional<ParsedUnit> b = ParseUnit(unit_b);
  return b && SameKind(a->unit, b->unit);
}

std::optional<Decimal> Convert(const Decimal& value, std::string_view from, std::string_view to) {
  std::optional<ParsedUnit> source = ParseUnit(from);
  if (!source) return std::nullopt;
  std::optional<ParsedUnit> target = ParseUnit(to);
  if (!target || !SameKind(source->unit, target->unit)) return std::nullopt;
  // result = (value + source offset) * source factor / target factor - target offset,
  // with the factor ratio kept exact until this one multiplication.
  const Ratio ratio = MultiplyRatios(source->unit.factor, Inverse(target->unit.factor));
  Decimal shifted = value;
  if (source->unit.special != SpecialScale::kNone) {
    std::optional<Decimal> sum = Decimal::Add(value, SpecialOffset(source->unit.special));
    if (!sum) return std::nullopt;
    shifted = *sum;
  }
  std::optional<Decimal> result = ApplyRatio(shifted, ratio, value.scale());
  if (!result) return std::nullopt;
  if (target->unit.special != SpecialScale::kNone) {
    result = Decimal::Subtract(*result, SpecialOffset(target->unit.special));
    if (!result) return std::nullopt;
  }
  return TrimTrailingZeros(*result, value.scale());
}

std::optional<std::string_view> CalendarKeywordToUcum(std::string_view keyword) {
  static constexpr std::pair<std::string_view, std::string_view> kKeywords[] = {
      {"year", "a"},   {"years", "a"},   {"month", "mo"},       {"months", "mo"},
      {"week", "wk"},  {"weeks", "wk"},  {"day", "d"},          {"days", "d"},
      {"hour", "h"},   {"hours", "h"},   {"minute", "min"},     {"minutes", "min"},
      {"second", "s"}, {"seconds", "s"}, {"millisecond", "ms"}, {"milliseconds", "ms"},
  };
  for (const auto& [name, unit] : kKeywords) {
    if (name == keyword) return unit;
  }
  return std::nullopt;
}

std::optional<ProductUnit> Multiply(std::string_view unit_a, std::string_view unit_b) {
  if (!ValidProductOperands(unit_a, unit_b)) return std::nullopt;
  if (unit_a == "1") return ProductUnit{std::string(unit_b)};
  if (unit_b == "1") return ProductUnit{std::string(unit_a)};
  // '.' and '/' associate to the left, so "a.b1/b2" = a.(b1/b2): no
  // parentheses needed on the right.
  return ProductUnit{AsLeftOperand(unit_a) + "." + AsLeftOperand(unit_b)};
}

std::optional<ProductUnit> Divide(std::string_view unit_a, std::string_view unit_b) {
  if (!ValidProductOperands(unit_a, unit_b)) return std::nullopt;
  if (unit_b == "1") return ProductUnit{std::string(unit_a)};
  const std::string divisor =
      IsSingleComponent(unit_b) ? std::string(unit_b) : "(" + AsLeftOperand(unit_b) + ")";
  if (unit_a == "1") return ProductUnit{"/" + divisor};
  return ProductUnit{AsLeftOperand(unit_a) + "/" + divisor};
}

std::optional<std::string_view> CommonSpellingToUcum(std::string_view unit) {
  // Spellings seen in laboratory feeds (issue 9: a platelet count in "K/uL"
  // must compare with 100 10*9/L). The micro sign (U+00B5) and Greek mu
  // (U+03BC) are read as "u".
  std::string text;
  for (size_t i = 0; i < unit.size(); ++i) {
    if (i + 1 < unit.size() && ((unit[i] == '\xC2' && unit[i + 1] == '\xB5') || (unit[i] == '\xCE' && unit[i + 1] == '\xBC'))) {
      text += 'u';
      ++i;
      continue;
    }
    text += static_cast<char>(unit[i] >= 'A' && unit[i] <= 'Z' ? unit[i] - 'A' + 'a' : unit[i]);
  }
  static constexpr std::pair<std::string_view, std::string_view> kSpellings[] = {
      {"k/ul", "10*3/uL"},      {"10^3/ul", "10*3/uL"}, {"x10e3/ul", "10*3/uL"}, {"10e3/ul", "10*3/uL"},
      {"x10^3/ul", "10*3/uL"},  {"thou/ul", "10*3/uL"}, {"/nl", "10*3/uL"},      {"10*3/ul", "10*3/uL"},
      {"10^9/l", "10*9/L"},     {"x10e9/l", "10*9/L"},  {"10e9/l", "10*9/L"},    {"x10^9/l", "10*9/L"},
      {"10*9/l", "10*9/L"},     {"g/l", "g/L"},         {"g/dl", "g/dL"},
  };
  for (const auto& [spelling, code] : kSpellings) {
    if (text == spelling) return code;
  }
  return std::nullopt;
}

}  // namespace regenpath::fhirpath::ucum
