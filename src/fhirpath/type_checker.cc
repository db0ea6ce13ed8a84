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
  // True when every item is a System value (literals, count(), comparisons)
  // or a FHIR primitive: nothing with a subtree.
  bool values = false;
  // False once the collection's order is undefined (children(), descendants()).
  bool ordered = true;

  static StaticType Unknown(bool ordered = true) {
    StaticType type;
    type.ordered = ordered;
    return type;
  }
  static StaticType Values() {
    StaticType type;
    type.values = true;
    return type;
  }
  static StaticType Of(const fhir::TypeInfo* info, bool ordered = true) {
    StaticType type;
    type.known = true;
    type.types.push_back(info);
    type.values = info->kind == fhir::TypeKind::kPrimitive;
    type.ordered = ordered;
    return type;
  }

  // True when no item can be a complex element or resource.
  bool OnlyValues() const {
    if (values) return true;
    if (!known) return false;
    return std::all_of(types.begin(), types.end(),
                       [](const fhir::TypeInfo* type) { return type->kind == fhir::TypeKind::kPrimitive; });
  }
};

// What element names an expression reads (see ElementsRead).
struct Access {
  std::vector<std::string> names;
  bool whole_tree = false;
};

bool IsDeepComparison(BinaryOp op) {
  return op == BinaryOp::kEqual || op == BinaryOp::kNotEqual || op == BinaryOp::kEquivalent ||
         op == BinaryOp::kNotEquivalent || op == BinaryOp::kIn || op == BinaryOp::kContains ||
         op == BinaryOp::kUnion;
}

class TypeChecker {
 public:
  // With `access` set, the checker records what the expression reads and
  // reports no errors (it assumes nothing where it would have failed).
  TypeChecker(std::string_view expression, const CompileOptions& options, Access* access)
      : expression_(expression), options_(options), access_(access) {}

  Status Check(const Expr& expr, const StaticType& focus, const StaticType& this_type, StaticType& result) {
    switch (expr.kind) {
      case ExprKind::kEmpty:
      case ExprKind::kLiteral:
      case ExprKind::kIndex:
        result = StaticType::Values();
        return Status();
      case ExprKind::kTotal:
        result = StaticType::Unknown();
        return Status();
      case ExprKind::kVariable:
        result = VariableType(expr.name);
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
        if (options_.check_ordered_functions && !input.ordered && access_ == nullptr) {
          return Error(expr, "indexing a collection whose order is undefined");
        }
        StaticType index;
        RP_RETURN_IF_ERROR(Check(*expr.args[0], focus, this_type, index));
        result = input;
        return Status();
      }
      case ExprKind::kUnary:
        RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, result));
        result = StaticType::Values();
        return Status();
      case ExprKind::kTypeOp: {
        StaticType input;
        RP_RETURN_IF_ERROR(Check(*expr.receiver, focus, this_type, input));
        if (expr.name == "is") {
          result = StaticType::Values();
        } else {
          result = TypeOf(expr.type, input.ordered);
        }
        return Status();
      }
      case ExprKind::kBinary: {
        StaticType left;
        StaticType right;
        RP_RETURN_IF_ERROR(Check(*expr.args[0], focus, this_type, left));
        RP_RETURN_IF_ERROR(Check(*expr.args[1], focus, this_type, right));
        // Comparing two complex elements compares their whole subtrees (an
        // element against a value never looks inside the element); a union
        // also compares the items of each side with each other.
        if (IsDeepComparison(expr.op)) {
          const bool both_may_be_complex = !left.OnlyValues() && !right.OnlyValues();
          const bool any_may_be_complex = !left.OnlyValues() || !right.OnlyValues();
          if (expr.op == BinaryOp::kUnion ? any_may_be_complex : both_may_be_complex) NeedWholeTree();
        }
        result = expr.op == BinaryOp::kUnion ? Merge(left, right) : StaticType::Values();
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

  void Read(std::string_view name) {
    if (access_ != nullptr) access_->names.emplace_back(name);
  }
  void NeedWholeTree() {
    if (access_ != nullptr) access_->whole_tree = true;
  }

  StaticType VariableType(const std::string& name) const {
    if (name == "ucum" || name == "sct" || name == "loinc" || name.starts_with("vs-") || name.starts_with("ext-")) {
      return StaticType::Values();
    }
    return StaticType::Unknown();
  }

  static StaticType TypeOf(const TypeSpecifier& type, bool ordered) {
    if (type.fhir_type != nullptr && (!type.is_system || type.namespace_name.empty())) {
      StaticType result = StaticType::Of(type.fhir_type, ordered);
      // An unqualified name like Quantity also matches System values.
      if (type.is_system) result.known = false;
      return result;
    }
    if (type.is_system && !type.matches_any) {
      StaticType result = StaticType::Values();
      result.ordered = ordered;
      return result;
    }
    return StaticType::Unknown(ordered);
  }

  static StaticType Merge(const StaticType& a, const StaticType& b) {
    StaticType merged;
    merged.ordered = a.ordered && b.ordered;
    merged.values = a.OnlyValues() && b.OnlyValues();
    if (!a.known || !b.known) return merged;
    merged.known = true;
    merged.types = a.types;
    for (const fhir::TypeInfo* type : b.types) {
      if (std::find(merged.types.begin(), merged.types.end(), type) == merged.types.end()) merged.types.push_back(type);
    }
    return merged;
  }

  // True iff a type deriving from the abstract `type` has element `name`.
  static bool SomeSubtypeHas(const fhir::TypeInfo& type, std::string_view name) {
    for (const fhir::TypeInfo* candidate : fhir::Model::R4().types()) {
      if (candidate != &type && fhir::Model::IsSubtypeOf(*candidate, type) &&
          fhir::Model::FindElement(*candidate, name) != nullptr) {
        return true;
      }
    }
    return false;
  }

  Status CheckMember(const Expr& expr, const StaticType& input, bool at_start, StaticType& result) {
    Read(expr.name);
    if (!input.known) {
      result = StaticType::Unknown(input.ordered);
      return Status();
    }
    StaticType output;
    output.known = true;
    output.ordered = input.ordered;
    bool found = false;
    bool subtypes_only = false;
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
      if (element == nullptr && (options_.allow_json_choice_names || access_ != nullptr)) {
        fhir::JsonPropertyMatch match = fhir::Model::ResolveJsonProperty(*type, expr.name);
        if (match.element != nullptr && match.element->is_choice) {
          output.types.push_back(match.type);
          found = true;
          continue;
        }
      }
      if (element == nullptr && type->is_abstract && SomeSubtypeHas(*type, expr.name)) {
        // Bundle.entry.resource.name: Resource has no `name`, but Patient
        // does; the items' types are then unknown.
        found = true;
        subtypes_only = true;
        continue;
      }
      if (element == nullptr) continue;
      found = true;
      for (const fhir::TypeInfo* element_type : element->types) output.types.push_back(element_type);
    }
    if (found && subtypes_only) {
      result = StaticType::Unknown(input.ordered);
      return Status();
    }
    if (!found) {
      if (access_ != nullptr) {
        result = StaticType::Unknown(input.ordered);
        return Status();
      }
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
    output.values = output.OnlyValues();
    result = std::move(output);
    return Status();
  }

  Status CheckFunction(const Expr& expr, const StaticType& input, const StaticType& focus,
                       const StaticType& this_type, StaticType& result) {
    const std::string& name = expr.name;
    if (options_.check_ordered_functions && expr.function->needs_order && !input.ordered && access_ == nullptr) {
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
    // What the function reads beyond its arguments' paths.
    if (name == "children" || name == "descendants" || name == "trace") {
      NeedWholeTree();
    } else if (name == "resolve") {
      Read("reference");
      Read("contained");
    } else if (name == "extension") {
      Read("extension");
      Read("url");
    } else if (name == "memberOf") {
      Read("coding");
      Read("system");
      Read("code");
    } else if (name == "distinct" || name == "isDistinct" || name == "union" || name == "intersect" ||
               name == "exclude" || name == "subsetOf" || name == "supersetOf") {
      // These compare items, whole subtrees for complex ones.
      bool values = input.OnlyValues();
      for (const StaticType& arg : args) values = values && arg.OnlyValues();
      if (!values) NeedWholeTree();
    }

    if (name == "where" || name == "first" || name == "last" || name == "tail" || name == "skip" ||
        name == "take" || name == "single" || name == "distinct" || name == "trace" || name == "intersect" ||
        name == "exclude" || name == "defineVariable" || name == "sort") {
      result = input;
    } else if (name == "ofType" || name == "as") {
      result = TypeOf(expr.type, input.ordered);
    } else if (name == "select") {
      result = args[0];
      result.ordered = result.ordered && input.ordered;
    } else if (name == "iif") {
      result = args.size() > 2 ? Merge(args[1], args[2]) : args[1];
    } else if (name == "children" || name == "descendants") {
      result = StaticType::Unknown(/*ordered=*/false);
    } else if (name == "extension") {
      result = StaticType::Of(fhir::Model::R4().FindType("Extension"), input.ordered);
    } else if (name == "union" || name == "combine") {
      result = Merge(input, args[0]);
    } else if (name == "resolve" || name == "repeat" || name == "repeatAll" || name == "aggregate") {
      result = StaticType::Unknown();
    } else {
      // Every other function returns System values (count(), exists(),
      // toString(), substring(), now(), type(), ...).
      result = StaticType::Values();
    }
    return Status();
  }

  std::string_view expression_;
  const CompileOptions& options_;
  Access* access_;
};

StaticType RootType(const std::string& context_type) {
  if (context_type.empty()) return StaticType::Unknown();
  const fhir::TypeInfo* type = fhir::Model::R4().FindType(context_type);
  return type == nullptr ? StaticType::Unknown() : StaticType::Of(type);
}

}  // namespace

Status CheckTypes(const Expr& root, std::string_view expression, const CompileOptions& options) {
  if (!options.context_type.empty() && fhir::Model::R4().FindType(options.context_type) == nullptr) {
    return InvalidArgument(fmt::format("unknown context type '{}'", options.context_type));
  }
  StaticType focus = RootType(options.context_type);
  TypeChecker checker(expression, options, nullptr);
  StaticType result;
  return checker.Check(root, focus, focus, result);
}

std::optional<std::vector<std::string>> ElementsRead(const Expr& root, std::string_view expression,
                                                     const std::string& context_type) {
  CompileOptions options;
  options.context_type = context_type;
  Access access;
  TypeChecker checker(expression, options, &access);
  StaticType focus = RootType(context_type);
  StaticType result;
  if (!checker.Check(root, focus, focus, result).ok() || access.whole_tree) return std::nullopt;
  return std::move(access.names);
}

}  // namespace regenpath::fhirpath
