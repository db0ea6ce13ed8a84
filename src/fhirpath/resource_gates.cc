#include "fhirpath/resource_gates.h"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/model.h"
#include "fhirpath/ast.h"

namespace regenpath::fhirpath {

void ResourceGates::Merge(const ResourceGates& other) {
  all_whole = all_whole || other.all_whole;
  whole.insert(other.whole.begin(), other.whole.end());
  for (const auto& [type, value_sets] : other.gated) gated[type].insert(value_sets.begin(), value_sets.end());
  resolved.insert(other.resolved.begin(), other.resolved.end());
  resolves_untyped = resolves_untyped || other.resolves_untyped;
}

bool ResourceGates::IsGated(const std::string& type) const {
  return !all_whole && !whole.contains(type) && gated.contains(type);
}

namespace {

using ValueSets = std::set<std::string>;

bool IsFunction(const Expr& expr, std::string_view name) {
  return expr.kind == ExprKind::kFunction && expr.name == name;
}

// Functions whose output is items of their input (or of the input's own
// elements), whatever their arguments.
bool KeepsToInput(const Expr& expr) {
  for (std::string_view name : {"ofType", "where", "first", "last", "single", "tail", "take", "skip", "distinct"}) {
    if (IsFunction(expr, name)) return true;
  }
  return false;
}

// True iff `expr`, evaluated with a resource (or one of its elements) as the
// focus, yields only that focus's own elements: member steps, filters and
// unions of them, never resolve(), a variable or a literal.
bool IsOwnPath(const Expr* expr) {
  if (expr == nullptr) return true;  // the focus
  switch (expr->kind) {
    case ExprKind::kThis:
      return true;
    case ExprKind::kMember:
      return IsOwnPath(expr->receiver.get());
    case ExprKind::kFunction:
      return KeepsToInput(*expr) && IsOwnPath(expr->receiver.get());
    case ExprKind::kBinary:
      return expr->op == BinaryOp::kUnion && IsOwnPath(expr->args[0].get()) && IsOwnPath(expr->args[1].get());
    default:
      return false;
  }
}

std::optional<ValueSets> Gating(const Expr& cond);

// True iff `expr` reads $index or $total anywhere: a skeleton that ofType()
// leaves out would renumber them.
bool ReadsIndex(const Expr& expr) {
  if (expr.kind == ExprKind::kIndex || expr.kind == ExprKind::kTotal) return true;
  if (expr.receiver && ReadsIndex(*expr.receiver)) return true;
  for (const std::unique_ptr<Expr>& argument : expr.args) {
    if (ReadsIndex(*argument)) return true;
  }
  return false;
}

// A collection that is empty unless a gating condition holds for one of its
// items: `P.where(gating)` over an own path P.
std::optional<ValueSets> GatingCollection(const Expr& expr) {
  if (IsFunction(expr, "where") && expr.args.size() == 1 && IsOwnPath(expr.receiver.get())) {
    return Gating(*expr.args[0]);
  }
  return std::nullopt;
}

// The value sets one of which must match for `cond` to be true on a focus
// whose JSON holds no code or name of any other (see the file comment).
std::optional<ValueSets> Gating(const Expr& cond) {
  if (cond.kind == ExprKind::kBinary && cond.op == BinaryOp::kAnd) {
    std::optional<ValueSets> left = Gating(*cond.args[0]);
    std::optional<ValueSets> right = Gating(*cond.args[1]);
    if (left && right) return left->size() <= right->size() ? left : right;
    return left ? left : right;
  }
  if (cond.kind == ExprKind::kBinary && cond.op == BinaryOp::kOr) {
    std::optional<ValueSets> left = Gating(*cond.args[0]);
    std::optional<ValueSets> right = Gating(*cond.args[1]);
    if (!left || !right) return std::nullopt;
    left->insert(right->begin(), right->end());
    return left;
  }
  if (IsFunction(cond, "memberOf") && cond.args.size() == 1 && IsOwnPath(cond.receiver.get())) {
    const Expr& argument = *cond.args[0];
    if (argument.kind != ExprKind::kLiteral || argument.literal.type() != ValueType::kString) return std::nullopt;
    return ValueSets{std::string(argument.literal.string())};
  }
  if (IsFunction(cond, "exists") && cond.receiver != nullptr) {
    if (cond.args.empty()) return GatingCollection(*cond.receiver);
    if (cond.args.size() == 1 && IsOwnPath(cond.receiver.get())) return Gating(*cond.args[0]);
  }
  return std::nullopt;
}

// Nodes whose output may be resources of the record.
bool IsResourceSource(const Expr& expr) {
  if (expr.kind == ExprKind::kMember) return expr.name == "resource";
  for (std::string_view name : {"resolve", "descendants", "children", "repeat", "repeatAll"}) {
    if (IsFunction(expr, name)) return true;
  }
  return false;
}

bool NamesOneResourceType(const TypeSpecifier& type) {
  if (type.is_system || type.matches_any || type.fhir_type == nullptr) return false;
  if (type.name == "Resource" || type.name == "DomainResource") return false;
  return fhir::Model::R4().FindResourceType(type.name) != nullptr;
}

class Walker {
 public:
  ResourceGates gates;

  // `focus_is_record`: the focus of `expr` is the record (the Bundle).
  void Visit(const Expr& expr, bool focus_is_record) {
    if (IsResourceSource(expr)) Classify();
    if (expr.kind == ExprKind::kMember && expr.name == "entry" && !ParentSteps()) gates.all_whole = true;
    if (IsRecord(&expr, focus_is_record) && !RecordUseIsShallow()) {
      gates.all_whole = true;
    }
    if (expr.receiver) {
      parents_.push_back({&expr, true});
      Visit(*expr.receiver, focus_is_record);
      parents_.pop_back();
    }
    // Arguments see the receiver's items (or the focus) as their focus.
    const bool argument_focus_is_record =
        expr.kind == ExprKind::kFunction ? IsRecord(expr.receiver.get(), focus_is_record) : focus_is_record;
    for (const std::unique_ptr<Expr>& argument : expr.args) {
      parents_.push_back({&expr, false});
      Visit(*argument, argument_focus_is_record);
      parents_.pop_back();
    }
  }

 private:
  // A node above the one visited, and whether the path down goes through
  // its receiver (not an argument).
  struct Parent {
    const Expr* node;
    bool via_receiver;
  };

  // The parent `up` levels above the node being visited, if reached through
  // its receiver.
  const Expr* ReceiverParent(size_t up) const {
    if (parents_.size() < up) return nullptr;
    for (size_t level = 1; level <= up; ++level) {
      if (!parents_[parents_.size() - level].via_receiver) return nullptr;
    }
    return parents_[parents_.size() - up].node;
  }

  // True iff `expr` (nullptr: the focus) may be the record itself: a whole
  // record compared or hashed would meet its skeletons.
  static bool IsRecord(const Expr* expr, bool focus_is_record) {
    if (expr == nullptr) return focus_is_record;
    switch (expr->kind) {
      case ExprKind::kThis:
        return focus_is_record;
      case ExprKind::kVariable:
        return expr->name == "resource" || expr->name == "rootResource" || expr->name == "context";
      case ExprKind::kMember:
        return expr->receiver == nullptr && expr->may_name_type && focus_is_record;
      case ExprKind::kFunction:
        if (IsFunction(*expr, "iif")) {
          for (size_t i = 1; i < expr->args.size(); ++i) {
            if (IsRecord(expr->args[i].get(), focus_is_record)) return true;
          }
          return false;
        }
        return (KeepsToInput(*expr) || IsFunction(*expr, "defineVariable") || IsFunction(*expr, "trace")) &&
               IsRecord(expr->receiver.get(), focus_is_record);
      case ExprKind::kBinary:
        return expr->op == BinaryOp::kUnion &&
               (IsRecord(expr->args[0].get(), focus_is_record) || IsRecord(expr->args[1].get(), focus_is_record));
      default:
        return false;
    }
  }

  // The record, just visited, is only stepped into (a member), filtered on,
  // given to defineVariable / select / iif, asked exists / empty / count, or
  // walked by descendants() / children() / repeat(), whose results are
  // resource sources: nothing that compares it whole. (A function that keeps the record is
  // itself a record use, checked when visited.)
  bool RecordUseIsShallow() const {
    if (parents_.empty()) return false;  // the result: its users may compare it
    const Parent& parent = parents_.back();
    if (!parent.via_receiver) return false;
    const Expr& node = *parent.node;
    if (node.kind == ExprKind::kMember) return true;
    for (std::string_view name : {"where", "select", "defineVariable", "exists", "empty", "count", "trace",
                                  "first", "last", "single", "iif"}) {
      if (IsFunction(node, name)) return true;
    }
    return IsResourceSource(node);  // checked as such (Classify)
  }

  // `entry` only steps into its own elements (fullUrl, resource, ...).
  bool ParentSteps() const {
    const Expr* parent = ReceiverParent(1);
    return parent != nullptr && parent->kind == ExprKind::kMember;
  }

  // A resource source: ofType(T).where(gating) above it, or T / every type whole.
  void Classify() {
    const Expr* of_type = ReceiverParent(1);
    if (of_type == nullptr || !IsFunction(*of_type, "ofType") || !NamesOneResourceType(of_type->type)) {
      gates.all_whole = true;
      return;
    }
    const std::string& type = of_type->type.name;
    const Expr* where = ReceiverParent(2);
    std::optional<ValueSets> value_sets;
    if (where != nullptr && IsFunction(*where, "where") && where->args.size() == 1 && !ReadsIndex(*where->args[0])) {
      value_sets = Gating(*where->args[0]);
    }
    if (value_sets) {
      gates.gated[type].insert(value_sets->begin(), value_sets->end());
    } else {
      gates.whole.insert(type);
    }
  }

  std::vector<Parent> parents_;
};

}  // namespace

namespace {

// Adds T of every resolve().ofType(T) under `expr` to gates.resolved, and
// sets gates.resolves_untyped for a resolve() that is not so followed.
// `typed`: `expr` is the receiver of such an ofType.
void CollectResolved(const Expr& expr, bool typed, ResourceGates& gates) {
  if (IsFunction(expr, "resolve") && !typed) gates.resolves_untyped = true;
  bool receiver_typed = false;
  if (IsFunction(expr, "ofType") && expr.receiver != nullptr && IsFunction(*expr.receiver, "resolve") &&
      NamesOneResourceType(expr.type)) {
    gates.resolved.insert(expr.type.name);
    receiver_typed = true;
  }
  if (expr.receiver != nullptr) CollectResolved(*expr.receiver, receiver_typed, gates);
  for (const std::unique_ptr<Expr>& arg : expr.args) {
    if (arg != nullptr) CollectResolved(*arg, false, gates);
  }
}

}  // namespace

ResourceGates AnalyzeResourceGates(const Expr& root) {
  Walker walker;
  walker.Visit(root, /*focus_is_record=*/true);
  CollectResolved(root, false, walker.gates);
  return std::move(walker.gates);
}

}  // namespace regenpath::fhirpath
