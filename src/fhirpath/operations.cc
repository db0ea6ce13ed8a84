#include "fhirpath/operations.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "fhir/model.h"
#include "fhirpath/output.h"
#include "fhirpath/ucum.h"

namespace regenpath::fhirpath {

namespace {

const fhir::TypeInfo* QuantityType() {
  static const fhir::TypeInfo* type = fhir::Model::R4().FindType("Quantity");
  return type;
}

bool IsNumeric(ValueType type) {
  return type == ValueType::kInteger || type == ValueType::kLong || type == ValueType::kDecimal;
}

bool IsTemporal(ValueType type) {
  return type == ValueType::kDate || type == ValueType::kDateTime || type == ValueType::kTime;
}

Decimal AsDecimal(const Value& value) {
  if (value.type() == ValueType::kDecimal || value.type() == ValueType::kQuantity) return value.decimal();
  return Decimal::FromInt(value.integer());
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  size_t i = text[0] == '-' || text[0] == '+' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, text[i] - '0', &value)) {
      return std::nullopt;
    }
  }
  return text[0] == '-' ? -value : value;
}

// A FHIR Quantity node as a System Quantity; nullopt if it has no value.
std::optional<Value> QuantityFromNode(const fhir::Node& node) {
  const fhir::Node* amount = node.Child("value");
  if (amount == nullptr || !amount->has_value()) return std::nullopt;
  std::optional<Decimal> number = Decimal::Parse(amount->text());
  if (!number) return std::nullopt;
  std::string_view unit;
  const fhir::Node* system = node.Child("system");
  const fhir::Node* code = node.Child("code");
  if (system != nullptr && system->text() == "http://unitsofmeasure.org" && code != nullptr && code->has_value()) {
    unit = code->text();
  } else if (const fhir::Node* unit_node = node.Child("unit"); unit_node != nullptr && unit_node->has_value()) {
    // A common non-UCUM spelling of a UCUM unit ("K/uL") is read as that unit.
    std::optional<std::string_view> spelled = ucum::CommonSpellingToUcum(unit_node->text());
    unit = spelled ? *spelled : unit_node->text();
  } else if (code != nullptr && code->has_value()) {
    unit = code->text();
  } else {
    unit = "1";
  }
  return Value::Quantity(*number, unit);
}

enum class CalendarGroup { kNone, kYear, kMonth };

CalendarGroup CalendarGroupOf(std::string_view unit) {
  if (unit == "year" || unit == "years") return CalendarGroup::kYear;
  if (unit == "month" || unit == "months") return CalendarGroup::kMonth;
  return CalendarGroup::kNone;
}

std::string_view ToUcumUnit(std::string_view unit) {
  std::optional<std::string_view> ucum_unit = ucum::CalendarKeywordToUcum(unit);
  return ucum_unit ? *ucum_unit : unit;
}

bool NodesEqual(const fhir::Node& a, const fhir::Node& b, bool equivalent);

// Equality of two values after ToSystem; nodes here are complex.
std::optional<bool> SystemEqual(const Value& a, const Value& b, bool equivalent) {
  if (a.is_node() || b.is_node()) {
    if (a.is_node() && b.is_node()) return NodesEqual(*a.node(), *b.node(), equivalent);
    return false;
  }
  if (IsNumeric(a.type()) && IsNumeric(b.type())) {
    Decimal x = AsDecimal(a);
    Decimal y = AsDecimal(b);
    if (equivalent) {
      int scale = std::min(x.scale(), y.scale());
      std::optional<Decimal> rx = x.Round(scale);
      std::optional<Decimal> ry = y.Round(scale);
      if (rx && ry) return Decimal::Compare(*rx, *ry) == 0;
    }
    return Decimal::Compare(x, y) == 0;
  }
  if (a.type() == ValueType::kString && b.type() == ValueType::kString) {
    if (!equivalent) return a.string() == b.string();
    auto normalize = [](std::string_view text) {
      std::string out;
      bool space = false;
      for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          space = true;
          continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      }
      return out;
    };
    return normalize(a.string()) == normalize(b.string());
  }
  if (a.type() == ValueType::kBoolean && b.type() == ValueType::kBoolean) return a.boolean() == b.boolean();
  if (IsTemporal(a.type()) && IsTemporal(b.type())) {
    if ((a.type() == ValueType::kTime) != (b.type() == ValueType::kTime)) return false;
    if (equivalent) return DateTime::Equivalent(a.date_time(), b.date_time());
    return DateTime::Equal(a.date_time(), b.date_time());
  }
  // An Integer or Decimal converts implicitly to a Quantity with unit '1'.
  if (a.type() == ValueType::kQuantity && IsNumeric(b.type())) {
    return SystemEqual(a, Value::Quantity(AsDecimal(b), "1"), equivalent);
  }
  if (IsNumeric(a.type()) && b.type() == ValueType::kQuantity) {
    return SystemEqual(Value::Quantity(AsDecimal(a), "1"), b, equivalent);
  }
  if (a.type() == ValueType::kQuantity && b.type() == ValueType::kQuantity) {
    std::optional<Decimal> converted = ConvertQuantity(b.decimal(), b.unit(), a.unit());
    if (!converted) {
      if (equivalent) return false;
      return std::nullopt;
    }
    Decimal x = a.decimal();
    Decimal y = *converted;
    if (equivalent) {
      int scale = std::min(a.decimal().scale(), b.decimal().scale());
      std::optional<Decimal> rx = x.Round(scale);
      std::optional<Decimal> ry = y.Round(scale);
      if (rx && ry) return Decimal::Compare(*rx, *ry) == 0;
    }
    return Decimal::Compare(x, y) == 0;
  }
  return false;
}

bool NodesEqual(const fhir::Node& a, const fhir::Node& b, bool equivalent) {
  if (&a == &b) return true;
  if (!a.is_complete() || !b.is_complete()) {
    // Elements were skipped at parse time (the expression's element filter
    // should have prevented this): compare the source texts.
    std::string x;
    std::string y;
    AppendMinifiedJson(a.raw_json(), x);
    AppendMinifiedJson(b.raw_json(), y);
    return x == y;
  }
  if (a.has_value() != b.has_value()) return false;
  if (a.has_value()) {
    std::optional<Value> x = ToSystem(Value::Node(&a));
    std::optional<Value> y = ToSystem(Value::Node(&b));
    if (!x || !y) return false;
    std::optional<bool> same = SystemEqual(*x, *y, equivalent);
    if (!same || !*same) return false;
  }
  std::span<const fhir::Node> ca = a.children();
  std::span<const fhir::Node> cb = b.children();
  if (ca.size() != cb.size()) return false;
  for (size_t i = 0; i < ca.size(); ++i) {
    if (ca[i].name() != cb[i].name()) return false;
    if (!NodesEqual(ca[i], cb[i], equivalent)) return false;
  }
  return true;
}

std::string_view SystemTypeName(ValueType type) {
  switch (type) {
    case ValueType::kBoolean:
      return "Boolean";
    case ValueType::kInteger:
      return "Integer";
    case ValueType::kLong:
      return "Long";
    case ValueType::kDecimal:
      return "Decimal";
    case ValueType::kString:
      return "String";
    case ValueType::kDate:
      return "Date";
    case ValueType::kDateTime:
      return "DateTime";
    case ValueType::kTime:
      return "Time";
    case ValueType::kQuantity:
      return "Quantity";
    case ValueType::kTypeInfo:
      return "TypeInfo";
    case ValueType::kNode:
      return "Any";
  }
  return "Any";
}

}  // namespace

bool IsPrimitiveNode(const Value& value) {
  if (!value.is_node()) return false;
  const fhir::Node* node = value.node();
  if (node->type() != nullptr) return node->type()->kind == fhir::TypeKind::kPrimitive;
  return !node->is_object();
}

std::optional<Value> ToSystem(const Value& value) {
  if (!value.is_node()) return value;
  const fhir::Node& node = *value.node();
  if (node.is_object()) {
    if (node.type() != nullptr && QuantityType() != nullptr &&
        fhir::Model::IsSubtypeOf(*node.type(), *QuantityType())) {
      std::optional<Value> quantity = QuantityFromNode(node);
      if (quantity) return quantity;
    }
    return value;
  }
  if (!node.has_value()) return std::nullopt;
  fhir::SystemType system_type = node.type() != nullptr ? node.type()->system_type : fhir::SystemType::kNone;
  std::string_view text = node.text();
  if (system_type == fhir::SystemType::kNone) {
    switch (node.kind()) {
      case fhir::JsonKind::kBoolean:
        system_type = fhir::SystemType::kBoolean;
        break;
      case fhir::JsonKind::kNumber:
        system_type = text.find_first_of(".eE") == std::string_view::npos ? fhir::SystemType::kInteger
                                                                          : fhir::SystemType::kDecimal;
        break;
      default:
        system_type = fhir::SystemType::kString;
        break;
    }
  }
  switch (system_type) {
    case fhir::SystemType::kBoolean:
      if (text == "true") return Value::Boolean(true);
      if (text == "false") return Value::Boolean(false);
      return std::nullopt;
    case fhir::SystemType::kInteger: {
      std::optional<int64_t> number = ParseInteger(text);
      if (!number) return std::nullopt;
      return Value::Integer(*number);
    }
    case fhir::SystemType::kDecimal: {
      std::optional<Decimal> number = Decimal::Parse(text);
      if (!number) return std::nullopt;
      return Value::MakeDecimal(*number);
    }
    case fhir::SystemType::kDate: {
      std::optional<DateTime> date = DateTime::ParseDate(text);
      if (!date) return std::nullopt;
      return Value::Temporal(*date);
    }
    case fhir::SystemType::kDateTime: {
      std::optional<DateTime> date_time = DateTime::ParseDateTime(text);
      if (!date_time) return std::nullopt;
      return Value::Temporal(*date_time);
    }
    case fhir::SystemType::kTime: {
      std::optional<DateTime> time = DateTime::ParseTime(text);
      if (!time) return std::nullopt;
      return Value::Temporal(*time);
    }
    case fhir::SystemType::kString:
    case fhir::SystemType::kNone:
      return Value::String(text);
  }
  return std::nullopt;
}

TypeName TypeNameOf(const Value& value) {
  if (!value.is_node()) return {"System", SystemTypeName(value.type())};
  const fhir::Node& node = *value.node();
  std::string_view name = node.type_name();
  if (!name.empty()) return {"FHIR", name};
  switch (node.kind()) {
    case fhir::JsonKind::kBoolean:
      return {"FHIR", "boolean"};
    case fhir::JsonKind::kNumber:
      return {"FHIR", node.text().find_first_of(".eE") == std::string_view::npos ? "integer" : "decimal"};
    case fhir::JsonKind::kString:
      return {"FHIR", "string"};
    default:
      return {"FHIR", "Element"};
  }
}

std::optional<bool> ItemsEqual(const Value& a, const Value& b) {
  std::optional<Value> x = ToSystem(a);
  std::optional<Value> y = ToSystem(b);
  if (!x || !y) return std::nullopt;
  return SystemEqual(*x, *y, /*equivalent=*/false);
}

bool ItemsEquivalent(const Value& a, const Value& b) {
  std::optional<Value> x = ToSystem(a);
  std::optional<Value> y = ToSystem(b);
  if (!x || !y) return !x && !y;
  std::optional<bool> same = SystemEqual(*x, *y, /*equivalent=*/true);
  return same.value_or(false);
}

Result<std::optional<int>> CompareItems(const Value& a, const Value& b) {
  std::optional<Value> x = ToSystem(a);
  std::optional<Value> y = ToSystem(b);
  if (!x || !y) return std::optional<int>();
  auto describe = [](const Value& value) {
    TypeName name = TypeNameOf(value);
    return fmt::format("{}.{}", name.namespace_name, name.name);
  };
  if (IsNumeric(x->type()) && IsNumeric(y->type())) return std::optional<int>(Decimal::Compare(AsDecimal(*x), AsDecimal(*y)));
  if (x->type() == ValueType::kString && y->type() == ValueType::kString) {
    int order = x->string().compare(y->string());
    return std::optional<int>(order < 0 ? -1 : order > 0 ? 1 : 0);
  }
  if (IsTemporal(x->type()) && IsTemporal(y->type()) &&
      (x->type() == ValueType::kTime) == (y->type() == ValueType::kTime)) {
    return DateTime::Compare(x->date_time(), y->date_time());
  }
  if (x->type() == ValueType::kQuantity && IsNumeric(y->type())) y = Value::Quantity(AsDecimal(*y), "1");
  if (IsNumeric(x->type()) && y->type() == ValueType::kQuantity) x = Value::Quantity(AsDecimal(*x), "1");
  if (x->type() == ValueType::kQuantity && y->type() == ValueType::kQuantity) {
    std::optional<Decimal> converted = ConvertQuantity(y->decimal(), y->unit(), x->unit());
    if (!converted) {
      return Fail(EvaluationError(fmt::format("cannot compare quantities in '{}' and '{}'", x->unit(), y->unit())));
    }
    return std::optional<int>(Decimal::Compare(x->decimal(), *converted));
  }
  return Fail(EvaluationError(fmt::format("cannot compare {} with {}", describe(*x), describe(*y))));
}

std::optional<std::string> ToStringText(const Value& value) {
  std::optional<Value> system = ToSystem(value);
  if (!system || system->is_node()) return std::nullopt;
  switch (system->type()) {
    case ValueType::kBoolean:
      return std::string(system->boolean() ? "true" : "false");
    case ValueType::kInteger:
    case ValueType::kLong:
      return std::to_string(system->integer());
    case ValueType::kDecimal:
      return system->decimal().ToString();
    case ValueType::kString:
      return std::string(system->string());
    case ValueType::kDate:
    case ValueType::kDateTime:
    case ValueType::kTime:
      return system->date_time().ToString();
    case ValueType::kQuantity:
      if (ucum::CalendarKeywordToUcum(system->unit())) {
        return fmt::format("{} {}", system->decimal().ToString(), system->unit());
      }
      return fmt::format("{} '{}'", system->decimal().ToString(), system->unit());
    case ValueType::kTypeInfo:
    case ValueType::kNode:
      return std::nullopt;
  }
  return std::nullopt;
}

namespace {

// 1 = 1.0 = 1.00: a number hashes by its value without trailing zeros.
size_t NumberHash(const Decimal& number) {
  constexpr size_t kMix = 0x9E3779B97F4A7C15ull;
  __int128 coefficient = number.coefficient();
  int scale = number.scale();
  while (scale > 0 && coefficient % 10 == 0) {
    coefficient /= 10;
    --scale;
  }
  return std::hash<int64_t>()(static_cast<int64_t>(coefficient)) ^
         std::hash<int64_t>()(static_cast<int64_t>(coefficient >> 64)) * kMix ^ static_cast<size_t>(scale);
}

}  // namespace

size_t ItemHash(const Value& value) {
  constexpr size_t kMix = 0x9E3779B97F4A7C15ull;
  std::optional<Value> system = ToSystem(value);
  if (!system) return 1;
  if (system->is_node()) {
    // Complex elements are equal only with the same child names in order.
    const fhir::Node& node = *system->node();
    size_t hash = std::hash<std::string_view>()(node.type_name()) ^ (node.children().size() * kMix);
    size_t shown = 0;
    for (const fhir::Node& child : node.children()) {
      hash = hash * 31 + std::hash<std::string_view>()(child.name());
      if (++shown == 8) break;
    }
    // A resource's id too (equal resources have equal ids, hashed as the
    // ids hash): the resources of a record share their shape, so without it
    // a union of a record's resources compares every pair.
    if (node.is_resource()) {
      if (const fhir::Node* id = node.Child("id"); id != nullptr && id->has_value()) {
        hash ^= ItemHash(Value::Node(id)) * kMix;
      }
    }
    return hash;
  }
  switch (system->type()) {
    case ValueType::kBoolean:
      return system->boolean() ? 3 : 5;
    case ValueType::kInteger:
    case ValueType::kLong:
    case ValueType::kDecimal:
      return NumberHash(AsDecimal(*system));
    case ValueType::kString:
      return std::hash<std::string_view>()(system->string());
    case ValueType::kDate:
    case ValueType::kDateTime:
      return 7;  // equality normalizes time zones: one bucket
    case ValueType::kTime:
      return 11;
    case ValueType::kQuantity: {
      // A dimensionless quantity equals the number it converts to
      // (1 '1' = 1): it must hash as that number. Other quantities:
      // equality converts units, so one bucket.
      std::optional<Decimal> plain = ConvertQuantity(system->decimal(), system->unit(), "1");
      return plain ? NumberHash(*plain) : 13;
    }
    default:
      return 17;
  }
}

bool ItemSet::Find(const Value& item, size_t hash) const {
  for (size_t i = 0; i < inline_count_; ++i) {
    if (inline_[i].first == hash && ItemsEqual(inline_[i].second, item).value_or(false)) return true;
  }
  auto [begin, end] = items_.equal_range(hash);
  for (auto it = begin; it != end; ++it) {
    if (ItemsEqual(it->second, item).value_or(false)) return true;
  }
  return false;
}

bool ItemSet::Insert(const Value& item) {
  const size_t hash = ItemHash(item);
  if (Find(item, hash)) return false;
  if (inline_count_ < kInline) {
    inline_[inline_count_++] = {hash, item};
  } else {
    items_.emplace(hash, item);
  }
  return true;
}

bool ItemSet::Contains(const Value& item) const { return Find(item, ItemHash(item)); }

void AppendDistinct(std::span<const Value> items, ItemSet& seen, Collection& out) {
  for (const Value& item : items) {
    if (seen.Insert(item)) out.push_back(item);
  }
}

std::optional<Decimal> ConvertQuantity(const Decimal& amount, std::string_view unit, std::string_view target_unit) {
  if (unit == target_unit) return amount;
  CalendarGroup from = CalendarGroupOf(unit);
  CalendarGroup to = CalendarGroupOf(target_unit);
  if (from != CalendarGroup::kNone || to != CalendarGroup::kNone) {
    // Calendar years and months have no fixed length: they only convert
    // between themselves (1 year = 12 months), never to UCUM 'a' or 'mo'.
    if (from == to) return amount;
    if (from == CalendarGroup::kNone || to == CalendarGroup::kNone) return std::nullopt;
    if (from == CalendarGroup::kYear) return Decimal::Multiply(amount, Decimal::FromInt(12));
    return Decimal::Divide(amount, Decimal::FromInt(12));
  }
  std::string_view ucum_from = ToUcumUnit(unit);
  std::string_view ucum_to = ToUcumUnit(target_unit);
  if (ucum_from == ucum_to) return amount;
  return ucum::Convert(amount, ucum_from, ucum_to);
}

}  // namespace regenpath::fhirpath
