// UCUM: unit conversion for FHIRPath Quantity comparison and arithmetic.
//
// Implements the part of the Unified Code for Units of Measure that clinical
// data uses: the SI prefixes, the base units, the common derived,
// customary-US/imperial, clinical and arbitrary units, unit expressions built
// with '.', '/', exponents, parentheses, numeric factors (10*3, 10^9) and
// annotations ({score}), and the special units Cel and [degF] (offset scales).
// Calendar keywords (year, month, week, day, hour, minute, second,
// millisecond and their plurals) are not UCUM; callers map them first
// (CalendarKeywordToUcum).
//
// Every function is pure and thread-safe; tables are static.
#ifndef REGENPATH_FHIRPATH_UCUM_H_
#define REGENPATH_FHIRPATH_UCUM_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/decimal.h"

namespace regenpath::fhirpath::ucum {

// Exponents of the UCUM base dimensions: m, g, s, rad, K, C, cd (length,
// mass, time, plane angle, temperature, charge, luminous intensity), plus a
// slot for mol kept separate so that mol and dimensionless counts differ.
using Dimension = std::array<int8_t, 8>;

// A unit reduced to a factor times base units: `value unit` equals
// `value * factor` in base units of `dimension` (plus `offset` for Cel/[degF]).
// `factor` (and `offset`) are exact where the UCUM definitions give a
// terminating decimal; otherwise ([degF]'s 5/9, deg's pi/180, [ft_us]'s
// 1200/3937) they are rounded half up to Decimal::kMaxDigits significant
// digits within Decimal::kMaxScale places. Convert does not go through these
// rounded values (see there).
struct Canonical {
  Decimal factor;           // exact where the UCUM definitions are exact
  Dimension dimension{};    // all zero for dimensionless ("1", "%", "{score}")
  bool is_special = false;  // Cel or [degF]: an offset scale, not a ratio
  Decimal offset;           // for special units: base = value * factor + offset
  bool arbitrary = false;   // contains an arbitrary unit ([iU], [arb'U]): only comparable with itself
};

// Parses and reduces a UCUM unit expression ("mg/dL", "10*9/L", "kg.m-2",
// "[lb_av]", "%", "1", "{beats}/min"). Returns nullopt for text that is not a
// valid UCUM expression or uses an unknown unit. Case-sensitive (UCUM c/s:
// "meq/L", not "mEq/L"; "mm[Hg]", not "mmHg"); no white space outside
// annotations. Grammar details:
//  - '.' and '/' have equal precedence and associate to the left, so
//    "g/m/s" = g/(m.s); a leading '/' reads as "1/" ("/min", "/s.m" = m/s).
//  - An atom is matched whole first, then as prefix + metric atom ("cd" is
//    candela, "Pa" pascal, "mo" month, "mmol" milli-mole).
//  - "10*" and "10^" must carry an exponent ("10*3", "10^-6"); "10*" alone is
//    rejected. Exponents have at most 4 digits.
//  - An annotation may follow an atom, a 10*n or a plain factor ("/100{WBCs}")
//    or stand alone, and counts as 1.
//  - Cel and [degF] are valid only as the whole unit (optionally in
//    parentheses or annotated): not prefixed, raised to a power or combined
//    with other units.
//  - Logarithmic and other non-ratio special units ([pH], dB, Np, ...) are
//    not supported and give nullopt.
//  - A unit whose factor does not fit a Decimal (beyond 10^36, or rounding to
//    0 below 10^-36, e.g. "Ym3", "ym3") gives nullopt, here and in every other
//    function, so that they all agree on which units are valid.
std::optional<Canonical> Parse(std::string_view unit);

// True iff the two units are both valid and measure the same dimension (and,
// for arbitrary units, are the same unit).
bool Comparable(std::string_view unit_a, std::string_view unit_b);

// Converts `value` from unit `from` to unit `to`. Returns nullopt if either
// unit is invalid or they are not comparable, or if the result's integer part
// needs more than Decimal::kMaxDigits digits. The factor from/to is kept as an
// exact ratio (times a power of pi) and applied once, so the result is exact
// whenever it terminates within Decimal::kMaxDigits digits (1 [in_i] ->
// 2.54 cm, 1 [tsp_us] -> 4.92892159375 mL, 1 deg -> 60 '); otherwise it is
// rounded half up to kMaxDigits significant digits (1 cm -> 0.3937007874...
// [in_i]) and to at most Decimal::kMaxScale places (so tiny results may
// become 0). The result keeps at least value's decimal places, without
// trailing zeros beyond them: 4000 mg -> 4 g, 1.50 m -> 150.00 cm,
// 37 Cel -> 98.6 [degF].
std::optional<Decimal> Convert(const Decimal& value, std::string_view from, std::string_view to);

// The UCUM unit for a FHIRPath calendar keyword: year/years -> "a",
// month/months -> "mo", week/weeks -> "wk", day/days -> "d", hour/hours -> "h",
// minute/minutes -> "min", second/seconds -> "s", millisecond/milliseconds -> "ms".
// nullopt for any other text.
std::optional<std::string_view> CalendarKeywordToUcum(std::string_view keyword);

// The UCUM code of a common non-UCUM spelling of a laboratory count unit, as
// records write it in Quantity.unit without a UCUM code ("K/uL", "10^3/uL",
// "x10E3/uL", "/nL" -> "10*3/uL"; "10^9/L", "x10E9/L" -> "10*9/L"; "µL"
// spelled with a micro sign). nullopt: not one of them (use the text as is).
std::optional<std::string_view> CommonSpellingToUcum(std::string_view unit);

// Multiplies or divides two quantities' units. The result unit is a valid
// UCUM expression built literally from the inputs, so the values simply
// multiply or divide with no factor: 2 'cm' * 3 'm' = 6 'cm.m' (convert to
// "m2" if wanted). Multiply gives "a.b"; Divide gives "a/b", or "a/(b)" when b
// has more than one component ("g/m" / "s" -> "g/m/s"; "g" / "m.s" ->
// "g/(m.s)"). An operand with a leading '/' is written "1/..." ("/min" * "s"
// -> "1/min.s"). An operand that is exactly "1" yields the other unit
// (Divide("1", "m") -> "/m"). The result is not simplified: "m" / "m" ->
// "m/m", which Parse reduces to a dimensionless factor 1. Returns nullopt if
// either unit is invalid (including "": callers map unit-less numbers to "1")
// or is a special unit (Cel, [degF]).
struct ProductUnit {
  std::string unit;
};
std::optional<ProductUnit> Multiply(std::string_view unit_a, std::string_view unit_b);
std::optional<ProductUnit> Divide(std::string_view unit_a, std::string_view unit_b);

}  // namespace regenpath::fhirpath::ucum

#endif  // REGENPATH_FHIRPATH_UCUM_H_
