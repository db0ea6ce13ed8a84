// iif() and the toX()/convertsToX() conversion functions.
#include <re2/re2.h>

#include "fhirpath/function_support.h"
#include "fhirpath/ucum.h"

namespace regenpath::fhirpath {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsIntegerText(std::string_view text) {
  size_t i = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

bool IsDecimalText(std::string_view text) {
  size_t i = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  if (digits == 0) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t fraction = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++fraction;
    if (fraction == 0) return false;
  }
  return i == text.size();
}

std::optional<Decimal> ParseSignedDecimal(std::string_view text) {
  if (!IsDecimalText(text)) return std::nullopt;
  if (text[0] == '+') text.remove_prefix(1);
  return Decimal::Parse(text);
}

enum class Target { kBoolean, kInteger, kLong, kDecimal, kString, kDate, kDateTime, kTime, kQuantity };

// Converts one System value; nullopt when it does not convert. Strings made
// here are kept in the evaluator's workspace.
std::optional<Value> Convert(Evaluator& evaluator, const Value& value, Target target) {
  switch (target) {
    case Target::kBoolean:
      switch (value.type()) {
        case ValueType::kBoolean:
          return value;
        case ValueType::kInteger:
        case ValueType::kLong:
          if (value.integer() == 1) return Value::Boolean(true);
          if (value.integer() == 0) return Value::Boolean(false);
          return std::nullopt;
        case ValueType::kDecimal:
          if (Decimal::Compare(value.decimal(), Decimal::FromInt(1)) == 0) return Value::Boolean(true);
          if (value.decimal().IsZero()) return Value::Boolean(false);
          return std::nullopt;
        case ValueType::kString: {
          std::string text = Lower(value.string());
          if (text == "true" || text == "t" || text == "yes" || text == "y" || text == "1" || text == "1.0") {
            return Value::Boolean(true);
          }
          if (text == "false" || text == "f" || text == "no" || text == "n" || text == "0" || text == "0.0") {
            return Value::Boolean(false);
          }
          return std::nullopt;
        }
        default:
          return std::nullopt;
      }
    case Target::kInteger:
    case Target::kLong: {
      std::optional<int64_t> number;
      switch (value.type()) {
        case ValueType::kInteger:
        case ValueType::kLong:
          number = value.integer();
          break;
        case ValueType::kBoolean:
          number = value.boolean() ? 1 : 0;
          break;
        case ValueType::kString:
          if (IsIntegerText(value.string())) {
            std::optional<Decimal> parsed = ParseSignedDecimal(value.string());
            if (parsed) number = parsed->ToInt64();
          }
          break;
        default:
          break;
      }
      if (!number) return std::nullopt;
      if (target == Target::kInteger) {
        if (*number > INT32_MAX || *number < INT32_MIN) return std::nullopt;
        return Value::Integer(*number);
      }
      return Value::Long(*number);
    }
    case Target::kDecimal:
      switch (value.type()) {
        case ValueType::kDecimal:
          return value;
        case ValueType::kInteger:
        case ValueType::kLong:
          return Value::MakeDecimal(Decimal::FromInt(value.integer()));
        case ValueType::kBoolean:
          return Value::MakeDecimal(*Decimal::Parse(value.boolean() ? "1.0" : "0.0"));
        case ValueType::kString: {
          std::optional<Decimal> parsed = ParseSignedDecimal(value.string());
          if (!parsed) return std::nullopt;
          return Value::MakeDecimal(*parsed);
        }
        default:
          return std::nullopt;
      }
    case Target::kString: {
      if (value.type() == ValueType::kString) return value;
      std::optional<std::string> text = ToStringText(value);
      if (!text) return std::nullopt;
      return Value::String(evaluator.Keep(*text));
    }
    case Target::kDate:
      switch (value.type()) {
        case ValueType::kDate:
          return value;
        case ValueType::kDateTime:
          return Value::Temporal(*DateTime::FromFields(
              DateTimeKind::kDate, std::min(value.date_time().precision(), DateTimePrecision::kDay),
              value.date_time().year(), value.date_time().month(), value.date_time().day(), 0, 0, 0, 0, std::nullopt));
        case ValueType::kString: {
          std::optional<DateTime> date = DateTime::ParseDate(value.string());
          if (date) return Value::Temporal(*date);
          std::optional<DateTime> date_time = DateTime::ParseDateTime(value.string());
          if (!date_time) return std::nullopt;
          return Convert(evaluator, Value::Temporal(*date_time), Target::kDate);
        }
        default:
          return std::nullopt;
      }
    case Target::kDateTime:
      switch (value.type()) {
        case ValueType::kDateTime:
          return value;
        case ValueType::kDate: {
          const DateTime& date = value.date_time();
          std::optional<DateTime> date_time = DateTime::FromFields(DateTimeKind::kDateTime, date.precision(), date.year(),
                                                                   date.month(), date.day(), 0, 0, 0, 0, std::nullopt);
          if (!date_time) return std::nullopt;
          return Value::Temporal(*date_time);
        }
        case ValueType::kString: {
          std::optional<DateTime> date_time = DateTime::ParseDateTime(value.string());
          if (!date_time) return std::nullopt;
          return Value::Temporal(*date_time);
        }
        default:
          return std::nullopt;
      }
    case Target::kTime:
      switch (value.type()) {
        case ValueType::kTime:
          return value;
        case ValueType::kString: {
          std::optional<DateTime> time = DateTime::ParseTime(value.string());
          if (!time) return std::nullopt;
          return Value::Temporal(*time);
        }
        default:
          return std::nullopt;
      }
    case Target::kQuantity:
      switch (value.type()) {
        case ValueType::kQuantity:
          return value;
        case ValueType::kInteger:
        case ValueType::kLong:
          return Value::Quantity(Decimal::FromInt(value.integer()), "1");
        case ValueType::kDecimal:
          return Value::Quantity(value.decimal(), "1");
        case ValueType::kBoolean:
          return Value::Quantity(*Decimal::Parse(value.boolean() ? "1.0" : "0.0"), "1");
        case ValueType::kString: {
          // value, then optionally a quoted UCUM unit or a calendar keyword.
          static const RE2* pattern = new RE2(R"(\s*([+-]?\d+(?:\.\d+)?)\s*(?:'([^']+)'|([a-zA-Z]+))?\s*)");
          std::string number;
          std::string quoted;
          std::string word;
          if (!RE2::FullMatch(value.string(), *pattern, &number, &quoted, &word)) return std::nullopt;
          std::optional<Decimal> amount = ParseSignedDecimal(number);
          if (!amount) return std::nullopt;
          if (!word.empty() && !ucum::CalendarKeywordToUcum(word)) return std::nullopt;
          std::string unit = !quoted.empty() ? quoted : !word.empty() ? word : "1";
          if (!quoted.empty() && !ucum::Parse(quoted)) return std::nullopt;
          return Value::Quantity(*amount, evaluator.Keep(unit));
        }
        default:
          return std::nullopt;
      }
  }
  return std::nullopt;
}

Status ConvertFunction(Evaluator& evaluator, const Expr& call, std::span<const Value> input,
                       std::span<const Value> focus, const Scope& scope, Target target, bool test_only,
                       Collection& out) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  if (!value) return Status();
  std::optional<Value> converted = Convert(evaluator, *value, target);
  if (converted && target == Target::kQuantity && !call.args.empty()) {
    RP_ASSIGN_OR_RETURN(std::optional<std::string_view> unit, StringArg(evaluator, call, 0, focus, scope));
    if (unit) {
      std::optional<Decimal> amount = ConvertQuantity(converted->decimal(), converted->unit(), *unit);
      converted = amount ? std::optional<Value>(Value::Quantity(*amount, evaluator.Keep(*unit))) : std::nullopt;
    }
  }
  if (test_only) {
    out.push_back(Value::Boolean(converted.has_value()));
  } else if (converted) {
    out.push_back(*converted);
  }
  return Status();
}

#define RP_CONVERSION(Name, target)                                               \
  RP_FHIRPATH_FUNCTION(To##Name) {                                                \
    return ConvertFunction(evaluator, call, input, focus, scope, target, false, out); \
  }                                                                               \
  RP_FHIRPATH_FUNCTION(ConvertsTo##Name) {                                        \
    return ConvertFunction(evaluator, call, input, focus, scope, target, true, out);  \
  }

RP_CONVERSION(Boolean, Target::kBoolean)
RP_CONVERSION(Integer, Target::kInteger)
RP_CONVERSION(Long, Target::kLong)
RP_CONVERSION(Decimal, Target::kDecimal)
RP_CONVERSION(String, Target::kString)
RP_CONVERSION(Date, Target::kDate)
RP_CONVERSION(DateTime, Target::kDateTime)
RP_CONVERSION(Time, Target::kTime)
RP_CONVERSION(Quantity, Target::kQuantity)

#undef RP_CONVERSION

RP_FHIRPATH_FUNCTION(Iif) {
  if (input.size() > 1) return evaluator.Error(call, fmt::format("the input must be a single item, not {} items", input.size()));
  // With an input, $this in the arguments is that item.
  Scope inner = scope;
  std::span<const Value> arg_focus = focus;
  if (!input.empty() && call.receiver != nullptr) {
    inner.this_value = &input.front();
    arg_focus = input;
  }
  Evaluator::Scratch criterion(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, arg_focus, inner, *criterion));
  if (criterion->size() > 1) return evaluator.Error(call, "the criterion must be a single Boolean");
  std::optional<bool> verdict;
  if (!criterion->empty()) {
    std::optional<Value> value = ToSystem(criterion->front());
    if (value && value->type() != ValueType::kBoolean) return evaluator.Error(call, "the criterion must be a Boolean");
    if (value) verdict = value->boolean();
  }
  if (verdict == true) return evaluator.EvalArg(call, 1, arg_focus, inner, out);
  if (call.args.size() > 2) return evaluator.EvalArg(call, 2, arg_focus, inner, out);
  return Status();
}

constexpr FunctionInfo kFunctions[] = {
    {"iif", 2, 3, Iif},
    {"toBoolean", 0, 0, ToBoolean},
    {"convertsToBoolean", 0, 0, ConvertsToBoolean},
    {"toInteger", 0, 0, ToInteger},
    {"convertsToInteger", 0, 0, ConvertsToInteger},
    {"toLong", 0, 0, ToLong},
    {"convertsToLong", 0, 0, ConvertsToLong},
    {"toDecimal", 0, 0, ToDecimal},
    {"convertsToDecimal", 0, 0, ConvertsToDecimal},
    {"toString", 0, 0, ToString},
    {"convertsToString", 0, 0, ConvertsToString},
    {"toDate", 0, 0, ToDate},
    {"convertsToDate", 0, 0, ConvertsToDate},
    {"toDateTime", 0, 0, ToDateTime},
    {"convertsToDateTime", 0, 0, ConvertsToDateTime},
    {"toTime", 0, 0, ToTime},
    {"convertsToTime", 0, 0, ConvertsToTime},
    {"toQuantity", 0, 1, ToQuantity},
    {"convertsToQuantity", 0, 1, ConvertsToQuantity},
};

}  // namespace

std::span<const FunctionInfo> ConversionFunctions() { return kFunctions; }

}  // namespace regenpath::fhirpath
