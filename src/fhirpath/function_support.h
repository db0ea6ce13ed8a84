// Helpers shared by the function implementations (internal to fhirpath/).
#ifndef REGENPATH_FHIRPATH_FUNCTION_SUPPORT_H_
#define REGENPATH_FHIRPATH_FUNCTION_SUPPORT_H_

#include <fmt/format.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fhirpath/ast.h"
#include "fhirpath/evaluator.h"
#include "fhirpath/functions.h"
#include "fhirpath/operations.h"

namespace regenpath::fhirpath {

// Each functions_*.cc file contributes its part of the table.
std::span<const FunctionInfo> CollectionFunctions();
std::span<const FunctionInfo> StringFunctions();
std::span<const FunctionInfo> ConversionFunctions();
std::span<const FunctionInfo> MathFunctions();
std::span<const FunctionInfo> UtilityFunctions();

// The signature every implementation has (not every one uses every part).
#define RP_FHIRPATH_FUNCTION(name)                                                                \
  Status name([[maybe_unused]] Evaluator& evaluator, [[maybe_unused]] const Expr& call,           \
              [[maybe_unused]] std::span<const Value> input, [[maybe_unused]] std::span<const Value> focus, \
              [[maybe_unused]] const Scope& scope, [[maybe_unused]] Collection& out)

// The single item of the function's input as a System value; nullopt when
// the input is empty; an error naming the function when it has more items.
inline Result<std::optional<Value>> SingleInput(Evaluator& evaluator, const Expr& call,
                                                std::span<const Value> input) {
  if (input.empty()) return std::optional<Value>();
  if (input.size() > 1) {
    return Fail(evaluator.Error(call, fmt::format("the input must be a single item, not {} items", input.size())));
  }
  return ToSystem(input.front());
}

// Argument `index` evaluated on the focus, as a single System value (nullopt if empty).
inline Result<std::optional<Value>> SingleArg(Evaluator& evaluator, const Expr& call, size_t index,
                                              std::span<const Value> focus, const Scope& scope) {
  const Expr& arg = *call.args[index];
  if (arg.kind == ExprKind::kLiteral) {
    // What evaluating it would give (memberOf('id') inside where() over a
    // whole record comes here once per item).
    if (evaluator.out_of_string_budget()) return Fail(evaluator.StringBudgetExceeded());
    return ToSystem(arg.literal);
  }
  Evaluator::Scratch items(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, index, focus, scope, *items));
  if (items->empty()) return std::optional<Value>();
  if (items->size() > 1) {
    return Fail(evaluator.Error(call, fmt::format("argument {} must be a single item, not {} items", index + 1,
                                                  items->size())));
  }
  return ToSystem(items->front());
}

// Argument `index` as a String (nullopt if empty; error if not a string).
inline Result<std::optional<std::string_view>> StringArg(Evaluator& evaluator, const Expr& call, size_t index,
                                                         std::span<const Value> focus, const Scope& scope) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleArg(evaluator, call, index, focus, scope));
  if (!value) return std::optional<std::string_view>();
  if (value->type() != ValueType::kString) {
    return Fail(evaluator.Error(call, fmt::format("argument {} must be a String", index + 1)));
  }
  return std::optional<std::string_view>(value->string());
}

// Argument `index` as an Integer (nullopt if empty; error if not an integer).
inline Result<std::optional<int64_t>> IntegerArg(Evaluator& evaluator, const Expr& call, size_t index,
                                                 std::span<const Value> focus, const Scope& scope) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleArg(evaluator, call, index, focus, scope));
  if (!value) return std::optional<int64_t>();
  if (value->type() != ValueType::kInteger && value->type() != ValueType::kLong) {
    return Fail(evaluator.Error(call, fmt::format("argument {} must be an Integer", index + 1)));
  }
  return std::optional<int64_t>(value->integer());
}

// The function's single input as a String: nullopt when empty; an error when
// it is not a string (the FHIRPath string functions reject other types).
inline Result<std::optional<std::string_view>> StringInput(Evaluator& evaluator, const Expr& call,
                                                           std::span<const Value> input) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  if (!value) return std::optional<std::string_view>();
  if (value->type() != ValueType::kString) {
    return Fail(evaluator.Error(call, fmt::format("the input must be a String, not {}", TypeNameOf(*value).name)));
  }
  return std::optional<std::string_view>(value->string());
}

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_FUNCTION_SUPPORT_H_
