#include "fhirpath/type_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "fhir/model.h"
#include "fhirpath/functions.h"
#include "fhirpath/lexer.h"

namespace regenpath::fhirpath {

namespace {

// What the checker knows about the items at a point of a path.
struct StaticType {
  // False: any type is possible. True: each item has one of `types`.
  bool known = false;
  std::vector<const fhir::TypeInfo*> types;
  // False once the collection's order is undefined (children(), descendants()).
  bool ordered = true;

  static StaticType Unknown(bool ordered = true) {
    StaticType type;
    type.ordered = ordered;
    return type;
  }
  static StaticType Of(const fhir::TypeInfo* info, bool ordered = true) {
    StaticType type;
    type.known = true;
    type.types.push_back(info);
    type.ordered = ordered;
    return type;
  }
};

class TypeChecker {
 public:
  TypeChecker(std::string_view expression, const CompileOptions& options)
      : expression_(expression), options_(options) {}

  Status Check(const Expr& expr, const StaticType& focus, const StaticType& this_type, StaticType& result) {
    switch (expr.kind) {
      case ExprKind::kEmpty:
      case ExprKind::kLiteral:
      case ExprKind::kIndex:
      case ExprKind::kTotal:
      case ExprKind::kVariable:
        result = StaticType::Unknown();
        return Status();
      case ExprKind::kThis:
        result = this_type;
        return Status();
      case ExprKind::kMember: {
        StaticType input = focus;
        if (expr.receiver != nullptr) RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, input));
        return CheckMember(expr, input, expr.receiver == nullptr, result);
      }
      case ExprKind::kFunction: {
        StaticType input = focus;
        if (expr.receiver != nullptr) RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, input));
        return CheckFunction(expr, input, focus, this_type, result);
      }
      case ExprKind::kIndexer: {
        StaticType input;
        RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, input));
        if (options_.check_ordered_functions && !input.ordered) {
          return Error(expr, "indexing a collection whose order is undefined");
        }
        StaticType index;
        RP_RETURN_IF_ERROR(Check(*expr.args[0], focus, this_type, index));
        result = input;
        return Status();
      }
      case ExprKind::kUnary:
        RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, result));
        result = StaticType::Unknown();
        return Status();
      case ExprKind::kTypeOp: {
        StaticType input;
        RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, input));
        result = expr.name == "as" && expr.type.fhir_type != nullptr && !expr.type.is_system
                     ? StaticType::Of(expr.type.fhir_type)
                     : StaticType::Unknown();
        return Status();
      }
      case ExprKind::kBinary: {
        StaticType left;
        StaticType right;
        RP_RETURN_IF_ERROR(Check(*expr.args[0], focus, this_type, left));
        RP_RETURN_IF_ERROR(Check(*expr.args[1], focus, this_type, right));
        result = expr.op == BinaryOp::kUnion ? Merge(left, right) : StaticType::Unknown();
        return Status();
      }
    }
    result = StaticType::Unknown();
    return Status();
  }

 private:
  Status Error(const Expr& at, std::string_view what) const {
    return InvalidArgument(fmt::format("semantic error at {}: {}", DescribePosition(expression_, at.offset), what));
  }

  static StaticType Merge(const StaticType& a, const StaticType& b) {
    if (!a.known || !b.known) return StaticType::Unknown(a.ordered && b.ordered);
    StaticType merged = a;
    for (const fhir::TypeInfo* type : b.types) {
      if (std::find(merged.types.begin(), merged.types.end(), type) == merged.types.end()) merged.types.push_back(type);
    }
    merged.ordered = a.ordered && b.ordered;
    return merged;
  }

  Status CheckMember(const Expr& expr, const StaticType& input, bool at_start, StaticType& result) {
    if (!input.known) {
      result = StaticType::Unknown(input.ordered);
      return Status();
    }
    StaticType output;
    output.known = true;
    output.ordered = input.ordered;
    bool found = false;
    for (const fhir::TypeInfo* type : input.types) {
      if (expr.may_name_type) {
        const fhir::TypeInfo* named = fhir::Model::R4().FindType(expr.name);
        if (named != nullptr && fhir::Model::IsSubtypeOf(*type, *named)) {
          output.types.push_back(type);
          found = true;
          continue;
        }
      }
      const fhir::ElementInfo* element = fhir::Model::FindElement(*type, expr.name);
      if (element == nullptr && options_.allow_json_choice_names) {
        fhir::JsonPropertyMatch match = fhir::Model::ResolveJsonProperty(*type, expr.name);
        if (match.element != nullptr && match.element->is_choice) {
          output.types.push_back(match.type);
          found = true;
          continue;
        }
      }
      if (element == nullptr) continue;
      found = true;
      for (const fhir::TypeInfo* element_type : element->types) output.types.push_back(element_type);
    }
    if (!found) {
      std::string possible;
      for (const fhir::TypeInfo* type : input.types) {
        if (!possible.empty()) possible += " or ";
        possible += type->name;
      }
      const fhir::TypeInfo* named = fhir::Model::R4().FindResourceType(expr.name);
      if (at_start && named != nullptr) {
        return Error(expr, fmt::format("the expression is about {} but is evaluated on {}", expr.name, possible));
      }
      return Error(expr, fmt::format("{} has no element '{}'", possible, expr.name));
    }
    result = std::move(output);
    return Status();
  }

  Status CheckFunction(const Expr& expr, const StaticType& input, const StaticType& focus,
                       const StaticType& this_type, StaticType& result) {
    const std::string& name = expr.name;
    if (options_.check_ordered_functions && expr.function->needs_order && !input.ordered) {
      return Error(expr, fmt::format("{}() depends on order, but the order of its input is undefined", name));
    }
    // Iterating functions see each input item as their focus and $this.
    const bool iterates = name == "where" || name == "select" || name == "all" || name == "exists" ||
                          name == "repeat" || name == "repeatAll" || name == "sort" || name == "aggregate" ||
                          name == "trace" || name == "iif";
    std::vector<StaticType> args(expr.args.size());
    for (size_t i = 0; i < expr.args.size(); ++i) {
      if (expr.function->takes_type) continue;
      const StaticType& arg_focus = iterates ? input : focus;
      const StaticType& arg_this = iterates ? input : this_type;
      RP_RETURN_IF_ERROR(Check(*expr.args[i], arg_focus, arg_this, args[i]));
    }
    if (name == "where" || name == "first" || name == "last" || name == "tail" || name == "skip" ||
        name == "take" || name == "single" || name == "distinct" || name == "trace" || name == "intersect" ||
        name == "exclude" || name == "defineVariable" || name == "sort") {
      result = input;
    } else if (name == "ofType" || name == "as") {
      result = expr.type.fhir_type != nullptr && !expr.type.is_system ? StaticType::Of(expr.type.fhir_type, input.ordered)
                                                                      : StaticType::Unknown(input.ordered);
    } else if (name == "select") {
      result = args[0];
      result.ordered = result.ordered && input.ordered;
    } else if (name == "children" || name == "descendants") {
      result = StaticType::Unknown(/*ordered=*/false);
    } else if (name == "extension") {
      result = StaticType::Of(fhir::Model::R4().FindType("Extension"), input.ordered);
    } else if (name == "union" || name == "combine") {
      result = Merge(input, args[0]);
    } else {
      result = StaticType::Unknown();
    }
    return Status();
  }

  std::string_view expression_;
  const CompileOptions& options_;
};

}  // namespace

Status CheckTypes(const Expr& root, std::string_view expression, const CompileOptions& options) {
  StaticType focus = StaticType::Unknown();
  if (!options.context_type.empty()) {
    const fhir::TypeInfo* type = fhir::Model::R4().FindType(options.context_type);
    if (type == nullptr) return InvalidArgument(fmt::format("unknown context type '{}'", options.context_type));
    focus = StaticType::Of(type);
  }
  TypeChecker checker(expression, options);
  StaticType result;
  return checker.Check(root, focus, focus, result);
}

}  // namespace regenpath::fhirpath
