#include "fhirpath/evaluator.h"

#include <fmt/format.h>

#include "fhir/model.h"
#include "fhirpath/functions.h"
#include "fhirpath/operations.h"
#include "fhirpath/ucum.h"

namespace regenpath::fhirpath {

namespace {

bool IsNumeric(ValueType type) {
  return type == ValueType::kInteger || type == ValueType::kLong || type == ValueType::kDecimal;
}

bool IsTemporal(ValueType type) {
  return type == ValueType::kDate || type == ValueType::kDateTime || type == ValueType::kTime;
}

Decimal AsDecimal(const Value& value) {
  return value.type() == ValueType::kDecimal || value.type() == ValueType::kQuantity
             ? value.decimal()
             : Decimal::FromInt(value.integer());
}

std::string DescribeType(const Value& value) {
  TypeName name = TypeNameOf(value);
  return std::string(name.name);
}

// The calendar unit for date/time arithmetic; nullopt for units that cannot
// be added to a date (including UCUM 'a' and 'mo', whose length varies).
std::optional<CalendarUnit> CalendarUnitOf(std::string_view unit) {
  if (unit == "year" || unit == "years") return CalendarUnit::kYear;
  if (unit == "month" || unit == "months") return CalendarUnit::kMonth;
  if (unit == "week" || unit == "weeks" || unit == "wk") return CalendarUnit::kWeek;
  if (unit == "day" || unit == "days" || unit == "d") return CalendarUnit::kDay;
  if (unit == "hour" || unit == "hours" || unit == "h") return CalendarUnit::kHour;
  if (unit == "minute" || unit == "minutes" || unit == "min") return CalendarUnit::kMinute;
  if (unit == "second" || unit == "seconds" || unit == "s") return CalendarUnit::kSecond;
  if (unit == "millisecond" || unit == "milliseconds" || unit == "ms") return CalendarUnit::kMillisecond;
  return std::nullopt;
}

bool TypeNameMatches(const fhir::Node& node, std::string_view name) {
  if (node.type() == nullptr) return node.is_resource() && node.type_name() == name;
  const fhir::TypeInfo* wanted = fhir::Model::R4().FindType(name);
  return wanted != nullptr && wanted->kind == fhir::TypeKind::kResource &&
         fhir::Model::IsSubtypeOf(*node.type(), *wanted);
}

}  // namespace

bool MatchesType(const Value& value, const TypeSpecifier& type, bool exact) {
  if (type.matches_any) return true;
  if (!value.is_node()) return type.is_system && type.system_type == value.type();
  if (type.fhir_type == nullptr) return false;
  const fhir::Node& node = *value.node();
  if (node.type() == nullptr) return node.is_resource() && node.type_name() == type.fhir_type->name;
  if (exact && type.fhir_type->kind == fhir::TypeKind::kPrimitive) return node.type() == type.fhir_type;
  return fhir::Model::IsSubtypeOf(*node.type(), *type.fhir_type);
}

Evaluator::Evaluator(const EvaluationContext& context, Workspace& workspace, std::string_view expression_text)
    : context_(context),
      workspace_(workspace),
      expression_text_(expression_text),
      start_bytes_(workspace.arena().bytes_allocated()) {}

Status Evaluator::Error(const Expr& where, std::string_view message) const {
  switch (where.kind) {
    case ExprKind::kFunction:
      return EvaluationError(fmt::format("{}(): {}", where.name, message));
    case ExprKind::kBinary:
      return EvaluationError(fmt::format("operator '{}': {}", BinaryOpText(where.op), message));
    case ExprKind::kUnary:
      return EvaluationError(
          fmt::format("unary '{}': {}", where.op == BinaryOp::kSubtract ? "-" : "+", message));
    case ExprKind::kTypeOp:
      return EvaluationError(fmt::format("operator '{}': {}", where.name, message));
    default:
      return EvaluationError(std::string(message));
  }
}

Status Evaluator::StringBudgetExceeded() const {
  return ResourceExhausted(
      fmt::format("the expression creates more than {} bytes of strings", context_.max_string_bytes));
}

Status Evaluator::CheckSize(const Expr& where, size_t size) const {
  if (out_of_string_budget_) return StringBudgetExceeded();
  if (size <= context_.max_items) return Status();
  return ResourceExhausted(fmt::format(
      "{}: more than {} items", where.kind == ExprKind::kFunction ? where.name + "()" : "the expression",
      context_.max_items));
}

Result<std::optional<bool>> Evaluator::SingletonBoolean(const Expr& where, const Collection& items) const {
  if (items.empty()) return std::optional<bool>();
  if (items.size() > 1) {
    return Fail(Error(where, fmt::format("expected a single Boolean but got {} items", items.size())));
  }
  std::optional<Value> value = ToSystem(items.front());
  if (!value) return std::optional<bool>();
  if (value->type() == ValueType::kBoolean) return std::optional<bool>(value->boolean());
  return std::optional<bool>(true);
}

Result<std::optional<Value>> Evaluator::SingletonValue(const Expr& where, const Collection& items) const {
  if (items.empty()) return std::optional<Value>();
  if (items.size() > 1)
    return Fail(Error(where, fmt::format("expected a single item but got {}", items.size())));
  return ToSystem(items.front());
}

Status Evaluator::EvalArg(const Expr& call, size_t index, std::span<const Value> focus, const Scope& scope,
                          Collection& out) {
  Scope inner = scope;
  return Eval(*call.args[index], focus, inner, out);
}

Status Evaluator::EvalArgForItem(const Expr& call, size_t index, const Value& item, int64_t item_index,
                                 const Scope& scope, Collection& out) {
  Scope inner = scope;
  inner.this_value = &item;
  inner.index = item_index;
  return Eval(*call.args[index], std::span<const Value>(&item, 1), inner, out);
}

std::optional<Status> Evaluator::EvalOfRecordResources(const Expr& expr, std::span<const Value> focus,
                                                       Collection& out) {
  // Only where `Bundle.entry.resource` would give entry_resources(): the
  // focus is the document's root, a Bundle (and none of the three steps
  // would have gone over the item limit).
  const fhir::Document* document = context_.document;
  if (document == nullptr || focus.size() != 1 || !focus.front().is_node() ||
      focus.front().node() != &document->root() || !TypeNameMatches(document->root(), "Bundle") ||
      context_.max_items < 1 || document->entry_count() > context_.max_items ||
      document->entry_resources().size() > context_.max_items) {
    return std::nullopt;
  }
  // As OfType (functions_collection.cc) filters its input.
  for (const fhir::Node* resource : document->entry_resources()) {
    if (resource->is_skeleton()) continue;
    Value item = Value::Node(resource);
    if (MatchesType(item, expr.type, /*exact=*/true)) out.push_back(item);
  }
  return Status();
}

Status Evaluator::EvalMember(const Expr& expr, std::span<const Value> input, Collection& out) {
  for (const Value& item : input) {
    if (item.is_node()) {
      const fhir::Node& node = *item.node();
      if (expr.may_name_type && TypeNameMatches(node, expr.name)) {
        out.push_back(item);
        continue;
      }
      std::span<const fhir::Node> children = node.Children(expr.name);
      if (children.empty() && node.type() != nullptr) {
        // The JSON name of a choice (valueQuantity) selects the choice element
        // when it has that type. (Strict compilation rejects this name.)
        fhir::JsonPropertyMatch match = fhir::Model::ResolveJsonProperty(*node.type(), expr.name);
        if (match.element != nullptr && match.element->is_choice) {
          for (const fhir::Node& child : node.Children(match.element->name)) {
            if (child.type() == match.type) out.push_back(Value::Node(&child));
          }
        }
        continue;
      }
      for (const fhir::Node& child : children) out.push_back(Value::Node(&child));
      continue;
    }
    // System Quantity exposes value and unit, a type() result its name and
    // namespace; other System values have no members.
    if (item.type() == ValueType::kTypeInfo) {
      std::string_view qualified = item.string();
      size_t dot = qualified.find('.');
      if (expr.name == "namespace") out.push_back(Value::String(qualified.substr(0, dot)));
      if (expr.name == "name") out.push_back(Value::String(qualified.substr(dot + 1)));
    }
    if (item.type() == ValueType::kQuantity) {
      if (expr.name == "value") out.push_back(Value::MakeDecimal(item.decimal()));
      if (expr.name == "unit") out.push_back(Value::String(item.unit()));
    }
  }
  return CheckSize(expr, out.size());
}

Status Evaluator::Eval(const Expr& expr, std::span<const Value> focus, Scope& scope, Collection& out) {
  if (out_of_string_budget_) {
    return ResourceExhausted(
        fmt::format("the expression creates more than {} bytes of strings", context_.max_string_bytes));
  }
  switch (expr.kind) {
    case ExprKind::kEmpty:
      return Status();
    case ExprKind::kLiteral:
      out.push_back(expr.literal);
      return Status();
    case ExprKind::kThis:
      if (scope.this_value != nullptr) {
        out.push_back(*scope.this_value);
      } else {
        out.insert(out.end(), focus.begin(), focus.end());
      }
      return Status();
    case ExprKind::kIndex:
      if (scope.index >= 0) out.push_back(Value::Integer(scope.index));
      return Status();
    case ExprKind::kTotal:
      if (scope.total != nullptr) out.insert(out.end(), scope.total->begin(), scope.total->end());
      return Status();
    case ExprKind::kVariable:
      return EvalVariable(expr, focus, scope, out);
    case ExprKind::kMember: {
      if (expr.receiver == nullptr) return EvalMember(expr, focus, out);
      Scratch input(*this);
      RP_RETURN_IF_ERROR(Eval(*expr.receiver, focus, scope, *input));
      return EvalMember(expr, *input, out);
    }
    case ExprKind::kFunction: {
      if (expr.of_record_resources) {
        std::optional<Status> done = EvalOfRecordResources(expr, focus, out);
        if (done) return *done;
      }
      Scratch scratch(*this);
      std::span<const Value> input = focus;
      if (expr.receiver != nullptr) {
        RP_RETURN_IF_ERROR(Eval(*expr.receiver, focus, scope, *scratch));
        input = *scratch;
      }
      if (expr.function->defines_variable) return EvalDefineVariable(expr, input, scope, out);
      return expr.function->impl(*this, expr, input, focus, scope, out);
    }
    case ExprKind::kIndexer: {
      Scratch input(*this);
      RP_RETURN_IF_ERROR(Eval(*expr.receiver, focus, scope, *input));
      Scratch index(*this);
      Scope inner = scope;
      RP_RETURN_IF_ERROR(Eval(*expr.args[0], focus, inner, *index));
      RP_ASSIGN_OR_RETURN(std::optional<Value> position, SingletonValue(expr, *index));
      if (!position) return Status();
      if (position->type() != ValueType::kInteger && position->type() != ValueType::kLong) {
        return EvaluationError("indexer: the index must be an Integer");
      }
      int64_t at = position->integer();
      if (at >= 0 && static_cast<uint64_t>(at) < input->size())
        out.push_back((*input)[static_cast<size_t>(at)]);
      return Status();
    }
    case ExprKind::kUnary: {
      Scratch operand(*this);
      RP_RETURN_IF_ERROR(Eval(*expr.receiver, focus, scope, *operand));
      RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingletonValue(expr, *operand));
      if (!value) return Status();
      if (expr.op == BinaryOp::kAdd) {
        if (!IsNumeric(value->type()) && value->type() != ValueType::kQuantity) {
          return Error(expr, fmt::format("cannot apply to {}", DescribeType(*value)));
        }
        out.push_back(*value);
        return Status();
      }
      switch (value->type()) {
        case ValueType::kInteger:
        case ValueType::kLong:
          if (value->integer() == INT64_MIN) return Error(expr, "integer overflow");
          out.push_back(value->type() == ValueType::kInteger ? Value::Integer(-value->integer())
                                                             : Value::Long(-value->integer()));
          return Status();
        case ValueType::kDecimal:
          out.push_back(Value::MakeDecimal(value->decimal().Negate()));
          return Status();
        case ValueType::kQuantity:
          out.push_back(Value::Quantity(value->decimal().Negate(), value->unit()));
          return Status();
        default:
          return Error(expr, fmt::format("cannot negate {}", DescribeType(*value)));
      }
    }
    case ExprKind::kBinary:
      if (expr.is_constant) {
        out.insert(out.end(), expr.constant.begin(), expr.constant.end());
        return Status();
      }
      return EvalBinary(expr, focus, scope, out);
    case ExprKind::kTypeOp:
      return EvalTypeOp(expr, focus, scope, out);
  }
  return Internal("unknown expression kind");
}

Status Evaluator::EvalDefineVariable(const Expr& expr, std::span<const Value> input, Scope& scope,
                                     Collection& out) {
  Scratch name_items(*this);
  RP_RETURN_IF_ERROR(EvalArg(expr, 0, input, scope, *name_items));
  RP_ASSIGN_OR_RETURN(std::optional<Value> name, SingletonValue(expr, *name_items));
  if (!name || name->type() != ValueType::kString) return Error(expr, "the variable name must be a String");
  std::string_view variable = name->string();
  static constexpr std::string_view kSystemVariables[] = {"context", "resource", "rootResource",
                                                          "ucum",    "sct",      "loinc"};
  for (std::string_view reserved : kSystemVariables) {
    if (variable == reserved)
      return Error(expr, fmt::format("%{} is a system variable and cannot be redefined", variable));
  }
  for (const VariableBinding* binding = scope.variables; binding != nullptr; binding = binding->next) {
    if (binding->name == variable) return Error(expr, fmt::format("%{} is already defined", variable));
  }
  Collection& values = NewVariableStorage();
  if (expr.args.size() > 1) {
    RP_RETURN_IF_ERROR(EvalArg(expr, 1, input, scope, values));
  } else {
    values.assign(input.begin(), input.end());
  }
  VariableBinding& binding = bindings_.emplace_front();
  binding.name = Keep(variable);
  binding.values = &values;
  binding.next = scope.variables;
  scope.variables = &binding;
  out.insert(out.end(), input.begin(), input.end());
  return Status();
}

Status Evaluator::EvalTypeOp(const Expr& expr, std::span<const Value> focus, Scope& scope, Collection& out) {
  Scratch input(*this);
  Scope inner = scope;
  RP_RETURN_IF_ERROR(Eval(*expr.receiver, focus, inner, *input));
  if (input->empty()) return Status();
  if (input->size() > 1) return Error(expr, fmt::format("expected a single item but got {}", input->size()));
  const Value& item = input->front();
  if (expr.name == "is") {
    out.push_back(Value::Boolean(MatchesType(item, expr.type, /*exact=*/false)));
  } else if (MatchesType(item, expr.type, /*exact=*/true)) {
    out.push_back(item);
  }
  return Status();
}

Status Evaluator::EvalVariable(const Expr& expr, std::span<const Value> focus, const Scope& scope,
                               Collection& out) {
  (void)focus;
  const std::string& name = expr.name;
  const fhir::Node* resource = context_.resource;
  if (name == "context") {
    if (!context_.focus.empty()) {
      out.insert(out.end(), context_.focus.begin(), context_.focus.end());
    } else if (resource != nullptr) {
      out.push_back(Value::Node(resource));
    }
    return Status();
  }
  if (name == "resource") {
    if (resource != nullptr) out.push_back(Value::Node(resource->EnclosingResource()));
    return Status();
  }
  if (name == "rootResource") {
    if (resource == nullptr) return Status();
    const fhir::Node* root = resource->EnclosingResource();
    // A contained resource's root is its container.
    while (root != nullptr && root->name() == "contained" && root->parent() != nullptr) {
      root = root->parent()->EnclosingResource();
    }
    if (root != nullptr) out.push_back(Value::Node(root));
    return Status();
  }
  if (name == "ucum") {
    out.push_back(Value::String("http://unitsofmeasure.org"));
    return Status();
  }
  if (name == "sct") {
    out.push_back(Value::String("http://snomed.info/sct"));
    return Status();
  }
  if (name == "loinc") {
    out.push_back(Value::String("http://loinc.org"));
    return Status();
  }
  for (const VariableBinding* binding = scope.variables; binding != nullptr; binding = binding->next) {
    if (binding->name == name) {
      out.insert(out.end(), binding->values->begin(), binding->values->end());
      return Status();
    }
  }
  if (context_.variable_source != nullptr) {
    if (const Collection* found = context_.variable_source->Find(name); found != nullptr) {
      out.insert(out.end(), found->begin(), found->end());
      return Status();
    }
  }
  if (context_.variables != nullptr) {
    auto found = context_.variables->find(name);
    if (found != context_.variables->end()) {
      out.insert(out.end(), found->second.begin(), found->second.end());
      return Status();
    }
  }
  if (name.starts_with("vs-")) {
    out.push_back(Value::String(Keep("http://hl7.org/fhir/ValueSet/" + name.substr(3))));
    return Status();
  }
  if (name.starts_with("ext-")) {
    out.push_back(Value::String(Keep("http://hl7.org/fhir/StructureDefinition/" + name.substr(4))));
    return Status();
  }
  return EvaluationError(fmt::format("undefined variable %{}", name));
}

Status Evaluator::EvalBinary(const Expr& expr, std::span<const Value> focus, Scope& scope, Collection& out) {
  const Expr& left_expr = *expr.args[0];
  const Expr& right_expr = *expr.args[1];
  Scratch left(*this);
  Scope left_scope = scope;
  RP_RETURN_IF_ERROR(Eval(left_expr, focus, left_scope, *left));

  // Three-valued logic, short-circuiting where the left side decides.
  switch (expr.op) {
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kXor:
    case BinaryOp::kImplies: {
      RP_ASSIGN_OR_RETURN(std::optional<bool> a, SingletonBoolean(expr, *left));
      if (expr.op == BinaryOp::kAnd && a == false) {
        out.push_back(Value::Boolean(false));
        return Status();
      }
      if (expr.op == BinaryOp::kOr && a == true) {
        out.push_back(Value::Boolean(true));
        return Status();
      }
      if (expr.op == BinaryOp::kImplies && a == false) {
        out.push_back(Value::Boolean(true));
        return Status();
      }
      Scratch right(*this);
      Scope right_scope = scope;
      RP_RETURN_IF_ERROR(Eval(right_expr, focus, right_scope, *right));
      RP_ASSIGN_OR_RETURN(std::optional<bool> b, SingletonBoolean(expr, *right));
      switch (expr.op) {
        case BinaryOp::kAnd:
          if (b == false) {
            out.push_back(Value::Boolean(false));
          } else if (a == true && b == true) {
            out.push_back(Value::Boolean(true));
          }
          return Status();
        case BinaryOp::kOr:
          if (b == true) {
            out.push_back(Value::Boolean(true));
          } else if (a == false && b == false) {
            out.push_back(Value::Boolean(false));
          }
          return Status();
        case BinaryOp::kXor:
          if (a && b) out.push_back(Value::Boolean(*a != *b));
          return Status();
        default:  // implies; a is true or empty here
          if (b == true) {
            out.push_back(Value::Boolean(true));
          } else if (a == true && b == false) {
            out.push_back(Value::Boolean(false));
          }
          return Status();
      }
    }
    default:
      break;
  }

  Scratch right(*this);
  Scope right_scope = scope;
  RP_RETURN_IF_ERROR(Eval(right_expr, focus, right_scope, *right));

  switch (expr.op) {
    case BinaryOp::kUnion: {
      // Duplicates are removed within the union only, not against what `out`
      // already holds (e.g. earlier iterations of select()).
      if (left->size() + right->size() <= 1) {
        out.insert(out.end(), left->begin(), left->end());
        out.insert(out.end(), right->begin(), right->end());
        return CheckSize(expr, out.size());
      }
      Scratch merged(*this);
      ItemSet seen;
      AppendDistinct(*left, seen, *merged);
      AppendDistinct(*right, seen, *merged);
      out.insert(out.end(), merged->begin(), merged->end());
      return CheckSize(expr, out.size());
    }
    case BinaryOp::kEqual:
    case BinaryOp::kNotEqual: {
      if (left->empty() || right->empty()) return Status();
      const bool negate = expr.op == BinaryOp::kNotEqual;
      if (left->size() != right->size()) {
        out.push_back(Value::Boolean(negate));
        return Status();
      }
      bool all_equal = true;
      for (size_t i = 0; i < left->size(); ++i) {
        std::optional<bool> same = ItemsEqual((*left)[i], (*right)[i]);
        if (!same) return Status();
        if (!*same) {
          all_equal = false;
          break;
        }
      }
      out.push_back(Value::Boolean(all_equal != negate));
      return Status();
    }
    case BinaryOp::kEquivalent:
    case BinaryOp::kNotEquivalent: {
      const bool negate = expr.op == BinaryOp::kNotEquivalent;
      bool equivalent = left->size() == right->size();
      // Order does not matter for equivalence: every item must have a match.
      std::vector<bool> used(right->size(), false);
      for (size_t i = 0; equivalent && i < left->size(); ++i) {
        bool found = false;
        for (size_t j = 0; j < right->size(); ++j) {
          if (!used[j] && ItemsEquivalent((*left)[i], (*right)[j])) {
            used[j] = true;
            found = true;
            break;
          }
        }
        equivalent = found;
      }
      out.push_back(Value::Boolean(equivalent != negate));
      return Status();
    }
    case BinaryOp::kLess:
    case BinaryOp::kLessOrEqual:
    case BinaryOp::kGreater:
    case BinaryOp::kGreaterOrEqual: {
      if (left->empty() || right->empty()) return Status();
      if (left->size() > 1 || right->size() > 1) return Error(expr, "both sides must be single items");
      Result<std::optional<int>> order = CompareItems(left->front(), right->front());
      if (!order.has_value()) return Error(expr, order.error().message());
      if (!*order) return Status();
      int c = **order;
      bool result = expr.op == BinaryOp::kLess          ? c < 0
                    : expr.op == BinaryOp::kLessOrEqual ? c <= 0
                    : expr.op == BinaryOp::kGreater     ? c > 0
                                                        : c >= 0;
      out.push_back(Value::Boolean(result));
      return Status();
    }
    case BinaryOp::kIn:
    case BinaryOp::kContains: {
      const Collection& element = expr.op == BinaryOp::kIn ? *left : *right;
      const Collection& container = expr.op == BinaryOp::kIn ? *right : *left;
      if (element.empty()) return Status();
      if (element.size() > 1) return Error(expr, "the element must be a single item");
      bool found = false;
      for (const Value& item : container) {
        if (ItemsEqual(element.front(), item).value_or(false)) {
          found = true;
          break;
        }
      }
      out.push_back(Value::Boolean(found));
      return Status();
    }
    case BinaryOp::kConcatenate: {
      if (left->size() > 1 || right->size() > 1) return Error(expr, "both sides must be single items");
      std::string text;
      for (const Collection* side : {&*left, &*right}) {
        if (side->empty()) continue;
        std::optional<Value> value = ToSystem(side->front());
        if (!value) continue;
        if (value->type() != ValueType::kString) return Error(expr, "both sides must be strings");
        if (!FitsStringBudget(text.size() + value->string().size())) return StringBudgetExceeded();
        text += value->string();
      }
      out.push_back(Value::String(Keep(text)));
      return Status();
    }
    default:
      return EvalArithmetic(expr, *left, *right, out);
  }
}

Status Evaluator::EvalArithmetic(const Expr& expr, const Collection& left, const Collection& right,
                                 Collection& out) {
  if (left.empty() || right.empty()) return Status();
  if (left.size() > 1 || right.size() > 1) return Error(expr, "both sides must be single items");
  std::optional<Value> a = ToSystem(left.front());
  std::optional<Value> b = ToSystem(right.front());
  if (!a || !b) return Status();
  auto cannot = [&]() {
    return Error(expr, fmt::format("cannot apply to {} and {}", DescribeType(*a), DescribeType(*b)));
  };
  auto push_decimal = [&](std::optional<Decimal> result) -> Status {
    if (!result) return Error(expr, "decimal overflow");
    out.push_back(Value::MakeDecimal(*result));
    return Status();
  };
  const BinaryOp op = expr.op;

  // Integer (and Long) arithmetic stays integral for + - * div mod.
  const bool integral = (a->type() == ValueType::kInteger || a->type() == ValueType::kLong) &&
                        (b->type() == ValueType::kInteger || b->type() == ValueType::kLong);
  if (integral && op != BinaryOp::kDivide) {
    int64_t x = a->integer();
    int64_t y = b->integer();
    int64_t result = 0;
    bool overflow = false;
    switch (op) {
      case BinaryOp::kAdd:
        overflow = __builtin_add_overflow(x, y, &result);
        break;
      case BinaryOp::kSubtract:
        overflow = __builtin_sub_overflow(x, y, &result);
        break;
      case BinaryOp::kMultiply:
        overflow = __builtin_mul_overflow(x, y, &result);
        break;
      case BinaryOp::kIntegerDivide:
        if (y == 0) return Status();
        if (x == INT64_MIN && y == -1) return Error(expr, "integer overflow");
        result = x / y;
        break;
      case BinaryOp::kModulo:
        if (y == 0) return Status();
        if (y == -1) {
          result = 0;
          break;
        }
        result = x % y;
        break;
      default:
        return cannot();
    }
    if (overflow) return Error(expr, "integer overflow");
    const bool is_long = a->type() == ValueType::kLong || b->type() == ValueType::kLong;
    if (!is_long && (result > INT32_MAX || result < INT32_MIN)) return Error(expr, "integer overflow");
    out.push_back(is_long ? Value::Long(result) : Value::Integer(result));
    return Status();
  }
  if (IsNumeric(a->type()) && IsNumeric(b->type())) {
    Decimal x = AsDecimal(*a);
    Decimal y = AsDecimal(*b);
    switch (op) {
      case BinaryOp::kAdd:
        return push_decimal(Decimal::Add(x, y));
      case BinaryOp::kSubtract:
        return push_decimal(Decimal::Subtract(x, y));
      case BinaryOp::kMultiply:
        return push_decimal(Decimal::Multiply(x, y));
      case BinaryOp::kDivide:
        if (y.IsZero()) return Status();
        return push_decimal(Decimal::Divide(x, y));
      case BinaryOp::kIntegerDivide: {
        if (y.IsZero()) return Status();
        std::optional<Decimal> quotient = Decimal::IntegerDivide(x, y);
        if (!quotient) return Error(expr, "decimal overflow");
        std::optional<int64_t> whole = quotient->ToInt64();
        if (whole) {
          out.push_back(Value::Integer(*whole));
          return Status();
        }
        return push_decimal(quotient);
      }
      case BinaryOp::kModulo:
        if (y.IsZero()) return Status();
        return push_decimal(Decimal::Modulo(x, y));
      default:
        return cannot();
    }
  }
  if (a->type() == ValueType::kString && b->type() == ValueType::kString && op == BinaryOp::kAdd) {
    if (!FitsStringBudget(a->string().size() + b->string().size())) return StringBudgetExceeded();
    std::string text(a->string());
    text += b->string();
    out.push_back(Value::String(Keep(text)));
    return Status();
  }
  if (IsTemporal(a->type()) && b->type() == ValueType::kQuantity &&
      (op == BinaryOp::kAdd || op == BinaryOp::kSubtract)) {
    std::optional<CalendarUnit> unit = CalendarUnitOf(b->unit());
    if (!unit) {
      return Error(expr,
                   fmt::format("'{}' is not a calendar duration (use year, month, week, day, hour, minute, "
                               "second or millisecond)",
                               b->unit()));
    }
    Decimal amount = op == BinaryOp::kAdd ? b->decimal() : b->decimal().Negate();
    std::optional<DateTime> result = a->date_time().Add(amount, *unit);
    if (!result)
      return Error(expr, fmt::format("cannot add {} {} to {}", amount.ToString(), b->unit(),
                                     a->date_time().ToString()));
    out.push_back(Value::Temporal(*result));
    return Status();
  }
  if (a->type() == ValueType::kQuantity && b->type() == ValueType::kQuantity) {
    if (op == BinaryOp::kAdd || op == BinaryOp::kSubtract) {
      std::optional<Decimal> converted = ConvertQuantity(b->decimal(), b->unit(), a->unit());
      if (!converted)
        return Error(expr, fmt::format("units '{}' and '{}' are not compatible", a->unit(), b->unit()));
      std::optional<Decimal> sum = op == BinaryOp::kAdd ? Decimal::Add(a->decimal(), *converted)
                                                        : Decimal::Subtract(a->decimal(), *converted);
      if (!sum) return Error(expr, "decimal overflow");
      out.push_back(Value::Quantity(*sum, a->unit()));
      return Status();
    }
    if (op == BinaryOp::kMultiply || op == BinaryOp::kDivide) {
      std::optional<std::string_view> ua = ucum::CalendarKeywordToUcum(a->unit());
      std::optional<std::string_view> ub = ucum::CalendarKeywordToUcum(b->unit());
      std::string_view unit_a = ua ? *ua : a->unit();
      std::string_view unit_b = ub ? *ub : b->unit();
      std::optional<ucum::ProductUnit> unit =
          op == BinaryOp::kMultiply ? ucum::Multiply(unit_a, unit_b) : ucum::Divide(unit_a, unit_b);
      if (!unit) return Error(expr, fmt::format("cannot combine units '{}' and '{}'", a->unit(), b->unit()));
      if (op == BinaryOp::kDivide && b->decimal().IsZero()) return Status();
      std::optional<Decimal> amount = op == BinaryOp::kMultiply
                                          ? Decimal::Multiply(a->decimal(), b->decimal())
                                          : Decimal::Divide(a->decimal(), b->decimal());
      if (!amount) return Error(expr, "decimal overflow");
      out.push_back(Value::Quantity(*amount, Keep(unit->unit)));
      return Status();
    }
    return cannot();
  }
  if (a->type() == ValueType::kQuantity && IsNumeric(b->type()) &&
      (op == BinaryOp::kMultiply || op == BinaryOp::kDivide)) {
    if (op == BinaryOp::kDivide && AsDecimal(*b).IsZero()) return Status();
    std::optional<Decimal> amount = op == BinaryOp::kMultiply ? Decimal::Multiply(a->decimal(), AsDecimal(*b))
                                                              : Decimal::Divide(a->decimal(), AsDecimal(*b));
    if (!amount) return Error(expr, "decimal overflow");
    out.push_back(Value::Quantity(*amount, a->unit()));
    return Status();
  }
  if (IsNumeric(a->type()) && b->type() == ValueType::kQuantity && op == BinaryOp::kMultiply) {
    std::optional<Decimal> amount = Decimal::Multiply(AsDecimal(*a), b->decimal());
    if (!amount) return Error(expr, "decimal overflow");
    out.push_back(Value::Quantity(*amount, b->unit()));
    return Status();
  }
  return cannot();
}

}  // namespace regenpath::fhirpath
