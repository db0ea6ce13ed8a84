// Value: one item of a FHIRPath collection.
//
// An item is either a FHIR element (a fhir::Node of a parsed document, typed
// by the R4 model) or a System value (Boolean, Integer, Long, Decimal, String,
// Date, DateTime, Time, Quantity) made by the expression. A FHIR primitive
// node converts to its System value where an operator needs one
// (ToSystemValue in conversions.h); it keeps its FHIR type (code, id, ...) for
// type tests and output.
//
// Values are small, trivially copyable, and never own memory: a node belongs
// to its fhir::Document; a string or unit belongs to the document, to the
// CompiledExpression (literals), or to the evaluation Workspace (computed
// strings). A Value is valid as long as all three are.
#ifndef REGENPATH_FHIRPATH_VALUE_H_
#define REGENPATH_FHIRPATH_VALUE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/date_time.h"
#include "common/decimal.h"
#include "fhir/node.h"

namespace regenpath::fhirpath {

enum class ValueType : uint8_t {
  kNode,  // a FHIR element (primitive or complex) or resource
  kBoolean,
  kInteger,
  kLong,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
  kTypeInfo,  // the result of type(): text is "Namespace.Name"; members name, namespace
};

class Value {
 public:
  Value() : type_(ValueType::kBoolean) { payload_.boolean = false; }

  static Value Node(const fhir::Node* node) {
    Value value(ValueType::kNode);
    value.payload_.node = node;
    return value;
  }
  static Value Boolean(bool flag) {
    Value value(ValueType::kBoolean);
    value.payload_.boolean = flag;
    return value;
  }
  static Value Integer(int64_t number) {
    Value value(ValueType::kInteger);
    value.payload_.integer = number;
    return value;
  }
  static Value Long(int64_t number) {
    Value value(ValueType::kLong);
    value.payload_.integer = number;
    return value;
  }
  static Value MakeDecimal(const regenpath::Decimal& number) {
    Value value(ValueType::kDecimal);
    value.payload_.decimal = number;
    return value;
  }
  // `text` must outlive the value (see the file comment).
  static Value String(std::string_view text) {
    Value value(ValueType::kString);
    value.text_ = text;
    return value;
  }
  // `date_time` of kind kDate, kDateTime or kTime; the Value's type follows it.
  static Value Temporal(const regenpath::DateTime& date_time) {
    Value value(date_time.kind() == DateTimeKind::kDate       ? ValueType::kDate
                : date_time.kind() == DateTimeKind::kDateTime ? ValueType::kDateTime
                                                              : ValueType::kTime);
    value.payload_.date_time = date_time;
    return value;
  }
  // A Quantity; `unit` is a UCUM code or a calendar keyword ("year", "days").
  static Value Quantity(const regenpath::Decimal& number, std::string_view unit) {
    Value value(ValueType::kQuantity);
    value.payload_.decimal = number;
    value.text_ = unit;
    return value;
  }

  // The result of type(): `qualified_name` is "System.Integer", "FHIR.Patient",
  // "FHIR.Patient.contact" (the namespace is the part before the first dot).
  static Value TypeInfo(std::string_view qualified_name) {
    Value value(ValueType::kTypeInfo);
    value.text_ = qualified_name;
    return value;
  }

  ValueType type() const { return type_; }
  bool is_node() const { return type_ == ValueType::kNode; }

  const fhir::Node* node() const { return payload_.node; }
  bool boolean() const { return payload_.boolean; }
  // For kInteger and kLong.
  int64_t integer() const { return payload_.integer; }
  // For kDecimal and kQuantity (its amount).
  const regenpath::Decimal& decimal() const { return payload_.decimal; }
  std::string_view string() const { return text_; }
  const regenpath::DateTime& date_time() const { return payload_.date_time; }
  std::string_view unit() const { return text_; }

 private:
  explicit Value(ValueType type) : type_(type) {}

  union Payload {
    Payload() : node(nullptr) {}
    const fhir::Node* node;
    bool boolean;
    int64_t integer;
    regenpath::Decimal decimal;
    regenpath::DateTime date_time;
  };

  ValueType type_;
  Payload payload_;
  std::string_view text_;
};

using Collection = std::vector<Value>;

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_VALUE_H_
