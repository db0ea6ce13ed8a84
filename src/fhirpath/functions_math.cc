// Math functions. Exact Decimal arithmetic where the result is exact;
// exp, ln, log, sqrt and fractional powers go through double and come back as
// the shortest Decimal that round-trips.
#include <cmath>

#include "fhirpath/function_support.h"

namespace regenpath::fhirpath {

namespace {

bool IsNumber(const Value& value) {
  return value.type() == ValueType::kInteger || value.type() == ValueType::kLong ||
         value.type() == ValueType::kDecimal;
}

Decimal AsDecimal(const Value& value) {
  return value.type() == ValueType::kDecimal || value.type() == ValueType::kQuantity ? value.decimal()
                                                                                     : Decimal::FromInt(value.integer());
}

// The single numeric input, or an error naming the function.
Result<std::optional<Value>> NumberInput(Evaluator& evaluator, const Expr& call, std::span<const Value> input,
                                         bool allow_quantity = false) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  if (!value) return std::optional<Value>();
  if (!IsNumber(*value) && !(allow_quantity && value->type() == ValueType::kQuantity)) {
    return Fail(evaluator.Error(call, fmt::format("the input must be a number, not {}", TypeNameOf(*value).name)));
  }
  return value;
}

Status PushDouble(double result, Collection& out) {
  std::optional<Decimal> decimal = Decimal::FromDouble(result);
  if (decimal) out.push_back(Value::MakeDecimal(*decimal));
  return Status();
}

RP_FHIRPATH_FUNCTION(Abs) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, NumberInput(evaluator, call, input, true));
  if (!value) return Status();
  switch (value->type()) {
    case ValueType::kInteger:
    case ValueType::kLong:
      if (value->integer() == INT64_MIN) return evaluator.Error(call, "integer overflow");
      out.push_back(value->type() == ValueType::kInteger ? Value::Integer(std::llabs(value->integer()))
                                                         : Value::Long(std::llabs(value->integer())));
      break;
    case ValueType::kDecimal:
      out.push_back(Value::MakeDecimal(value->decimal().Abs()));
      break;
    default:
      out.push_back(Value::Quantity(value->decimal().Abs(), value->unit()));
      break;
  }
  return Status();
}

Status Rounding(Evaluator& evaluator, const Expr& call, std::span<const Value> input, Collection& out) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, NumberInput(evaluator, call, input));
  if (!value) return Status();
  if (value->type() != ValueType::kDecimal) {
    out.push_back(Value::Integer(value->integer()));
    return Status();
  }
  Decimal result = call.name == "ceiling" ? value->decimal().Ceiling()
                   : call.name == "floor" ? value->decimal().Floor()
                                          : value->decimal().Truncate();
  std::optional<int64_t> whole = result.ToInt64();
  if (!whole) return evaluator.Error(call, "the result does not fit an Integer");
  out.push_back(Value::Integer(*whole));
  return Status();
}

RP_FHIRPATH_FUNCTION(Ceiling) {
  (void)focus, (void)scope;
  return Rounding(evaluator, call, input, out);
}

RP_FHIRPATH_FUNCTION(Transcendental) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, NumberInput(evaluator, call, input));
  std::optional<Value> base;
  if (call.name == "log") {
    RP_ASSIGN_OR_RETURN(base, SingleArg(evaluator, call, 0, focus, scope));
    if (base && !IsNumber(*base)) return evaluator.Error(call, "the base must be a number");
  }
  if (!value) return Status();
  double x = AsDecimal(*value).ToDouble();
  double result = 0;
  if (call.name == "exp") {
    result = std::exp(x);
  } else if (call.name == "ln") {
    if (x <= 0) return Status();
    result = std::log(x);
  } else if (call.name == "sqrt") {
    if (x < 0) return Status();
    result = std::sqrt(x);
  } else {  // log
    if (!base) return Status();
    double b = AsDecimal(*base).ToDouble();
    if (x <= 0 || b <= 0 || b == 1) return Status();
    result = std::log(x) / std::log(b);
  }
  if (!std::isfinite(result)) return Status();
  return PushDouble(result, out);
}

RP_FHIRPATH_FUNCTION(Power) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, NumberInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<Value> exponent, SingleArg(evaluator, call, 0, focus, scope));
  if (exponent && !IsNumber(*exponent)) return evaluator.Error(call, "the exponent must be a number");
  if (!value || !exponent) return Status();
  const bool integral = value->type() != ValueType::kDecimal && exponent->type() != ValueType::kDecimal;
  if (integral && exponent->integer() >= 0) {
    int64_t result = 1;
    int64_t base = value->integer();
    for (int64_t i = 0; i < exponent->integer(); ++i) {
      if (__builtin_mul_overflow(result, base, &result)) return evaluator.Error(call, "integer overflow");
    }
    out.push_back(value->type() == ValueType::kLong ? Value::Long(result) : Value::Integer(result));
    return Status();
  }
  // Exact for a Decimal base with a whole exponent; double otherwise.
  if (exponent->type() != ValueType::kDecimal && exponent->integer() >= 0 && exponent->integer() <= 64) {
    Decimal result = Decimal::FromInt(1);
    for (int64_t i = 0; i < exponent->integer(); ++i) {
      std::optional<Decimal> next = Decimal::Multiply(result, AsDecimal(*value));
      if (!next) return evaluator.Error(call, "decimal overflow");
      result = *next;
    }
    out.push_back(Value::MakeDecimal(result));
    return Status();
  }
  double result = std::pow(AsDecimal(*value).ToDouble(), AsDecimal(*exponent).ToDouble());
  if (!std::isfinite(result)) return Status();
  return PushDouble(result, out);
}

RP_FHIRPATH_FUNCTION(Round) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, NumberInput(evaluator, call, input));
  int64_t places = 0;
  if (!call.args.empty()) {
    RP_ASSIGN_OR_RETURN(std::optional<int64_t> given, IntegerArg(evaluator, call, 0, focus, scope));
    if (given) places = *given;
  }
  if (!value) return Status();
  if (places < 0 || places > Decimal::kMaxScale) return evaluator.Error(call, "precision must be between 0 and 36");
  std::optional<Decimal> rounded = AsDecimal(*value).Round(static_cast<int>(places));
  if (!rounded) return evaluator.Error(call, "decimal overflow");
  out.push_back(Value::MakeDecimal(*rounded));
  return Status();
}

constexpr FunctionInfo kFunctions[] = {
    {"abs", 0, 0, Abs},
    {"ceiling", 0, 0, Ceiling},
    {"floor", 0, 0, Ceiling},
    {"truncate", 0, 0, Ceiling},
    {"exp", 0, 0, Transcendental},
    {"ln", 0, 0, Transcendental},
    {"sqrt", 0, 0, Transcendental},
    {"log", 1, 1, Transcendental},
    {"power", 1, 1, Power},
    {"round", 0, 1, Round},
};

}  // namespace

std::span<const FunctionInfo> MathFunctions() { return kFunctions; }

}  // namespace regenpath::fhirpath
