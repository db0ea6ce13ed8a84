// Conversions, equality and ordering of FHIRPath values (internal to
// fhirpath/, also used by output.h and the knowledge engine).
//
// All functions are pure and thread-safe.
#ifndef REGENPATH_FHIRPATH_OPERATIONS_H_
#define REGENPATH_FHIRPATH_OPERATIONS_H_

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

// True iff `value` is a FHIR primitive node (it has, or could have, a value).
bool IsPrimitiveNode(const Value& value);

// The System value of `value`: a FHIR primitive node becomes its Boolean,
// Integer, Decimal, String, Date, DateTime or Time; a FHIR Quantity node (or a
// subtype such as Age) becomes a System Quantity (unit from `code` when the
// system is UCUM, else `unit`); System values are returned unchanged; other
// complex nodes are returned unchanged. Returns nullopt for a primitive with
// no value, or whose text is not valid for its type.
std::optional<Value> ToSystem(const Value& value);

// FHIRPath type names: {"System", "Integer"} or {"FHIR", "code"}.
struct TypeName {
  std::string_view namespace_name;
  std::string_view name;
};
TypeName TypeNameOf(const Value& value);

// FHIRPath `=` on two items: true/false, or nullopt when unknown (date/time
// precision, incomparable quantity units).
std::optional<bool> ItemsEqual(const Value& a, const Value& b);

// FHIRPath `~` on two items.
bool ItemsEquivalent(const Value& a, const Value& b);

// FHIRPath ordering (<, >, sort): <0, 0, >0; nullopt when unknown (date/time
// precision). Fails (kEvaluationError) when the two cannot be ordered (a
// string with a number, a Boolean, incomparable quantity units).
Result<std::optional<int>> CompareItems(const Value& a, const Value& b);

// A hash consistent with ItemsEqual: items that are equal hash alike (items
// whose equality depends on conversions, such as dates across time zones or
// quantities across units, share coarse buckets).
size_t ItemHash(const Value& value);

// A set of items under FHIRPath equality with hashing, for distinct(),
// union, intersect, exclude, subsetOf and supersetOf in linear time.
class ItemSet {
 public:
  // Adds `item` unless an equal item is in the set; true if it was added.
  bool Insert(const Value& item);
  bool Contains(const Value& item) const;

 private:
  // The first items live in a fixed array (unions and distinct() over a few
  // items, evaluated once per resource inside where(), allocate nothing);
  // beyond that, a hash multimap.
  static constexpr size_t kInline = 8;
  bool Find(const Value& item, size_t hash) const;

  std::array<std::pair<size_t, Value>, kInline> inline_;
  size_t inline_count_ = 0;
  std::unordered_multimap<size_t, Value> items_;
};

// Appends to `out` the items of `items` that `seen` does not hold yet, and
// adds them to `seen` (distinct(), union).
void AppendDistinct(std::span<const Value> items, ItemSet& seen, Collection& out);

// The FHIRPath toString() text of a System value or primitive node
// (Quantity: "4 'g'"; calendar units unquoted: "1 week"); nullopt for
// complex nodes and for values that have no string form.
std::optional<std::string> ToStringText(const Value& value);

// Converts quantity `amount unit` into `target_unit`; handles UCUM units and
// FHIRPath calendar keywords (day, week, ... are their UCUM units; year and
// month only convert between themselves). nullopt if not convertible.
std::optional<Decimal> ConvertQuantity(const Decimal& amount, std::string_view unit, std::string_view target_unit);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_OPERATIONS_H_
