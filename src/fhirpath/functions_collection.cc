// Existence, filtering, subsetting, combining, aggregate, sort, tree
// navigation and type functions.
#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "fhir/model.h"
#include "fhirpath/function_support.h"

namespace regenpath::fhirpath {

namespace {

// An ItemSet of `items`, to test membership in linear time overall.
ItemSet IndexOf(std::span<const Value> items) {
  ItemSet set;
  for (const Value& item : items) set.Insert(item);
  return set;
}

// Evaluates the criteria argument for each item; calls `on_result` with the
// item and its Boolean result (nullopt = empty). Stops when it returns false.
template <typename OnResult>
Status ForEachCriterion(Evaluator& evaluator, const Expr& call, std::span<const Value> input, const Scope& scope,
                        OnResult on_result) {
  Evaluator::Scratch result(evaluator);
  for (size_t i = 0; i < input.size(); ++i) {
    result->clear();
    RP_RETURN_IF_ERROR(evaluator.EvalArgForItem(call, 0, input[i], static_cast<int64_t>(i), scope, *result));
    RP_ASSIGN_OR_RETURN(std::optional<bool> verdict, evaluator.SingletonBoolean(call, *result));
    if (!on_result(input[i], verdict)) break;
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Empty) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  out.push_back(Value::Boolean(input.empty()));
  return Status();
}

RP_FHIRPATH_FUNCTION(Exists) {
  if (call.args.empty()) {
    out.push_back(Value::Boolean(!input.empty()));
    return Status();
  }
  bool found = false;
  RP_RETURN_IF_ERROR(ForEachCriterion(evaluator, call, input, scope, [&](const Value&, std::optional<bool> verdict) {
    found = verdict == true;
    return !found;
  }));
  out.push_back(Value::Boolean(found));
  return Status();
}

RP_FHIRPATH_FUNCTION(All) {
  bool all = true;
  RP_RETURN_IF_ERROR(ForEachCriterion(evaluator, call, input, scope, [&](const Value&, std::optional<bool> verdict) {
    all = verdict == true;
    return all;
  }));
  out.push_back(Value::Boolean(all));
  return Status();
}

// allTrue / anyTrue / allFalse / anyFalse: the input must hold only Booleans.
Status BooleanAggregate(Evaluator& evaluator, const Expr& call, std::span<const Value> input, bool want,
                        bool require_all, Collection& out) {
  bool result = require_all;
  for (const Value& item : input) {
    std::optional<Value> value = ToSystem(item);
    if (!value) continue;
    if (value->type() != ValueType::kBoolean) {
      return evaluator.Error(call, fmt::format("the input must hold only Booleans, not {}", TypeNameOf(*value).name));
    }
    if (require_all && value->boolean() != want) result = false;
    if (!require_all && value->boolean() == want) result = true;
  }
  out.push_back(Value::Boolean(result));
  return Status();
}

RP_FHIRPATH_FUNCTION(AllTrue) {
  (void)focus, (void)scope;
  return BooleanAggregate(evaluator, call, input, true, true, out);
}
RP_FHIRPATH_FUNCTION(AnyTrue) {
  (void)focus, (void)scope;
  return BooleanAggregate(evaluator, call, input, true, false, out);
}
RP_FHIRPATH_FUNCTION(AllFalse) {
  (void)focus, (void)scope;
  return BooleanAggregate(evaluator, call, input, false, true, out);
}
RP_FHIRPATH_FUNCTION(AnyFalse) {
  (void)focus, (void)scope;
  return BooleanAggregate(evaluator, call, input, false, false, out);
}

RP_FHIRPATH_FUNCTION(SubsetOf) {
  Evaluator::Scratch other(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, focus, scope, *other));
  ItemSet index = IndexOf(*other);
  bool subset = std::all_of(input.begin(), input.end(), [&](const Value& item) { return index.Contains(item); });
  out.push_back(Value::Boolean(subset));
  return Status();
}

RP_FHIRPATH_FUNCTION(SupersetOf) {
  Evaluator::Scratch other(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, focus, scope, *other));
  ItemSet index = IndexOf(input);
  bool superset = std::all_of(other->begin(), other->end(), [&](const Value& item) { return index.Contains(item); });
  out.push_back(Value::Boolean(superset));
  return Status();
}

RP_FHIRPATH_FUNCTION(Count) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  out.push_back(Value::Integer(static_cast<int64_t>(input.size())));
  return Status();
}

RP_FHIRPATH_FUNCTION(Distinct) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  ItemSet seen;
  AppendDistinct(input, seen, out);
  return Status();
}

RP_FHIRPATH_FUNCTION(IsDistinct) {
  (void)call, (void)focus, (void)scope;
  ItemSet seen;
  bool distinct = std::all_of(input.begin(), input.end(), [&](const Value& item) { return seen.Insert(item); });
  out.push_back(Value::Boolean(distinct));
  return Status();
}

RP_FHIRPATH_FUNCTION(Where) {
  return ForEachCriterion(evaluator, call, input, scope, [&](const Value& item, std::optional<bool> verdict) {
    if (verdict == true) out.push_back(item);
    return true;
  });
}

RP_FHIRPATH_FUNCTION(Select) {
  for (size_t i = 0; i < input.size(); ++i) {
    RP_RETURN_IF_ERROR(evaluator.EvalArgForItem(call, 0, input[i], static_cast<int64_t>(i), scope, out));
    RP_RETURN_IF_ERROR(evaluator.CheckSize(call, out.size()));
  }
  return Status();
}

// repeat() keeps each item once; repeatAll() keeps every item it reaches.
Status Repeat(Evaluator& evaluator, const Expr& call, std::span<const Value> input, const Scope& scope,
              bool unique, Collection& out) {
  Collection frontier(input.begin(), input.end());
  Collection next;
  size_t rounds = 0;
  // Identity for nodes, FHIRPath equality for System values.
  std::unordered_set<const fhir::Node*> seen_nodes;
  ItemSet seen_values;
  while (!frontier.empty()) {
    next.clear();
    for (size_t i = 0; i < frontier.size(); ++i) {
      Evaluator::Scratch produced(evaluator);
      RP_RETURN_IF_ERROR(evaluator.EvalArgForItem(call, 0, frontier[i], static_cast<int64_t>(i), scope, *produced));
      for (const Value& item : *produced) {
        if (unique && !(item.is_node() ? seen_nodes.insert(item.node()).second : seen_values.Insert(item))) continue;
        out.push_back(item);
        next.push_back(item);
      }
      RP_RETURN_IF_ERROR(evaluator.CheckSize(call, out.size()));
    }
    if (++rounds > evaluator.context().max_items) return evaluator.Error(call, "too many iterations");
    frontier.swap(next);
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(RepeatUnique) {
  return Repeat(evaluator, call, input, scope, true, out);
}
RP_FHIRPATH_FUNCTION(RepeatAll) {
  return Repeat(evaluator, call, input, scope, false, out);
}

RP_FHIRPATH_FUNCTION(OfType) {
  (void)evaluator, (void)focus, (void)scope;
  for (const Value& item : input) {
    // A skeleton could only meet a gate it cannot pass (fhirpath/resource_gates.h).
    if (item.is_node() && item.node()->is_skeleton()) continue;
    if (MatchesType(item, call.type, /*exact=*/true)) out.push_back(item);
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(IsFunction) {
  (void)focus, (void)scope;
  if (input.empty()) return Status();
  if (input.size() > 1) return evaluator.Error(call, fmt::format("the input must be a single item, not {} items", input.size()));
  out.push_back(Value::Boolean(MatchesType(input.front(), call.type, /*exact=*/false)));
  return Status();
}

RP_FHIRPATH_FUNCTION(AsFunction) {
  (void)focus, (void)scope;
  if (input.empty()) return Status();
  if (input.size() > 1) return evaluator.Error(call, fmt::format("the input must be a single item, not {} items", input.size()));
  if (MatchesType(input.front(), call.type, /*exact=*/true)) out.push_back(input.front());
  return Status();
}

RP_FHIRPATH_FUNCTION(Type) {
  (void)call, (void)focus, (void)scope;
  for (const Value& item : input) {
    TypeName name = TypeNameOf(item);
    out.push_back(Value::TypeInfo(evaluator.Keep(fmt::format("{}.{}", name.namespace_name, name.name))));
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Single) {
  (void)focus, (void)scope;
  if (input.size() > 1) return evaluator.Error(call, fmt::format("the input has {} items, not one", input.size()));
  if (!input.empty()) out.push_back(input.front());
  return Status();
}

RP_FHIRPATH_FUNCTION(First) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  if (!input.empty()) out.push_back(input.front());
  return Status();
}

RP_FHIRPATH_FUNCTION(Last) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  if (!input.empty()) out.push_back(input.back());
  return Status();
}

RP_FHIRPATH_FUNCTION(Tail) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  if (input.size() > 1) out.insert(out.end(), input.begin() + 1, input.end());
  return Status();
}

RP_FHIRPATH_FUNCTION(Skip) {
  RP_ASSIGN_OR_RETURN(std::optional<int64_t> count, IntegerArg(evaluator, call, 0, focus, scope));
  if (!count) return Status();
  size_t skip = *count <= 0 ? 0 : static_cast<size_t>(std::min<int64_t>(*count, static_cast<int64_t>(input.size())));
  out.insert(out.end(), input.begin() + static_cast<std::ptrdiff_t>(skip), input.end());
  return Status();
}

RP_FHIRPATH_FUNCTION(Take) {
  RP_ASSIGN_OR_RETURN(std::optional<int64_t> count, IntegerArg(evaluator, call, 0, focus, scope));
  if (!count || *count <= 0) return Status();
  size_t take = static_cast<size_t>(std::min<int64_t>(*count, static_cast<int64_t>(input.size())));
  out.insert(out.end(), input.begin(), input.begin() + static_cast<std::ptrdiff_t>(take));
  return Status();
}

RP_FHIRPATH_FUNCTION(Intersect) {
  Evaluator::Scratch other(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, focus, scope, *other));
  ItemSet index = IndexOf(*other);
  ItemSet seen;
  for (const Value& item : input) {
    if (index.Contains(item) && seen.Insert(item)) out.push_back(item);
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Exclude) {
  Evaluator::Scratch other(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, focus, scope, *other));
  ItemSet index = IndexOf(*other);
  for (const Value& item : input) {
    if (!index.Contains(item)) out.push_back(item);
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Union) {
  Evaluator::Scratch other(evaluator);
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, focus, scope, *other));
  Collection merged;
  ItemSet seen;
  AppendDistinct(input, seen, merged);
  AppendDistinct(*other, seen, merged);
  out.insert(out.end(), merged.begin(), merged.end());
  return evaluator.CheckSize(call, out.size());
}

RP_FHIRPATH_FUNCTION(Combine) {
  out.insert(out.end(), input.begin(), input.end());
  RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 0, focus, scope, out));
  return evaluator.CheckSize(call, out.size());
}

RP_FHIRPATH_FUNCTION(Children) {
  (void)focus, (void)scope;
  for (const Value& item : input) {
    if (!item.is_node()) continue;
    for (const fhir::Node& child : item.node()->children()) out.push_back(Value::Node(&child));
  }
  return evaluator.CheckSize(call, out.size());
}

RP_FHIRPATH_FUNCTION(Descendants) {
  (void)focus, (void)scope;
  // Breadth-first, as repeat(children()) would produce.
  size_t start = out.size();
  for (const Value& item : input) {
    if (!item.is_node()) continue;
    for (const fhir::Node& child : item.node()->children()) out.push_back(Value::Node(&child));
  }
  for (size_t i = start; i < out.size(); ++i) {
    const fhir::Node* node = out[i].node();
    for (const fhir::Node& child : node->children()) out.push_back(Value::Node(&child));
    RP_RETURN_IF_ERROR(evaluator.CheckSize(call, out.size()));
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Not) {
  (void)focus, (void)scope;
  Collection items(input.begin(), input.end());
  RP_ASSIGN_OR_RETURN(std::optional<bool> value, evaluator.SingletonBoolean(call, items));
  if (value) out.push_back(Value::Boolean(!*value));
  return Status();
}

RP_FHIRPATH_FUNCTION(Aggregate) {
  Collection total;
  if (call.args.size() > 1) RP_RETURN_IF_ERROR(evaluator.EvalArg(call, 1, focus, scope, total));
  Collection next;
  for (size_t i = 0; i < input.size(); ++i) {
    next.clear();
    Scope inner = scope;
    inner.this_value = &input[i];
    inner.index = static_cast<int64_t>(i);
    inner.total = &total;
    RP_RETURN_IF_ERROR(evaluator.Eval(*call.args[0], input.subspan(i, 1), inner, next));
    RP_RETURN_IF_ERROR(evaluator.CheckSize(call, next.size()));
    total.swap(next);
  }
  out.insert(out.end(), total.begin(), total.end());
  return Status();
}

RP_FHIRPATH_FUNCTION(Sort) {
  const size_t n = input.size();
  // Sort keys: one single value (or empty) per item and per argument.
  const size_t key_count = std::max<size_t>(call.args.size(), 1);
  std::vector<std::optional<Value>> keys(n * key_count);
  for (size_t i = 0; i < n; ++i) {
    if (call.args.empty()) {
      keys[i] = ToSystem(input[i]);
      continue;
    }
    for (size_t k = 0; k < call.args.size(); ++k) {
      Evaluator::Scratch key(evaluator);
      RP_RETURN_IF_ERROR(evaluator.EvalArgForItem(call, k, input[i], static_cast<int64_t>(i), scope, *key));
      if (key->size() > 1) return evaluator.Error(call, "a sort key must be a single item");
      if (!key->empty()) keys[i * key_count + k] = ToSystem(key->front());
    }
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Status failure;
  auto less = [&](size_t a, size_t b) {
    for (size_t k = 0; k < key_count; ++k) {
      const std::optional<Value>& x = keys[a * key_count + k];
      const std::optional<Value>& y = keys[b * key_count + k];
      const bool descending = k < call.descending.size() && call.descending[k];
      const bool negated = k < call.negated_key.size() && call.negated_key[k];
      int c = 0;
      if (!x || !y) {
        if (!x && !y) continue;
        // Empty is lower than everything; a negated key keeps it first.
        return negated ? !x : (descending ? !y : !x);
      } else {
        Result<std::optional<int>> order_result = CompareItems(*x, *y);
        if (!order_result.has_value()) {
          if (failure.ok()) failure = evaluator.Error(call, order_result.error().message());
          return false;
        }
        c = order_result->value_or(0);
      }
      if (c != 0) return descending ? c > 0 : c < 0;
    }
    return false;
  };
  std::stable_sort(order.begin(), order.end(), less);
  if (!failure.ok()) return failure;
  for (size_t index : order) out.push_back(input[index]);
  return Status();
}

constexpr FunctionInfo kFunctions[] = {
    {"empty", 0, 0, Empty},
    {"exists", 0, 1, Exists},
    {"all", 1, 1, All},
    {"allTrue", 0, 0, AllTrue},
    {"anyTrue", 0, 0, AnyTrue},
    {"allFalse", 0, 0, AllFalse},
    {"anyFalse", 0, 0, AnyFalse},
    {"subsetOf", 1, 1, SubsetOf},
    {"supersetOf", 1, 1, SupersetOf},
    {"count", 0, 0, Count},
    {"distinct", 0, 0, Distinct},
    {"isDistinct", 0, 0, IsDistinct},
    {"where", 1, 1, Where},
    {"select", 1, 1, Select},
    {"repeat", 1, 1, RepeatUnique},
    {"repeatAll", 1, 1, RepeatAll},
    {"ofType", 1, 1, OfType, /*takes_type=*/true},
    {"is", 1, 1, IsFunction, /*takes_type=*/true},
    {"as", 1, 1, AsFunction, /*takes_type=*/true},
    {"type", 0, 0, Type},
    {"single", 0, 0, Single, false, /*needs_order=*/true},
    {"first", 0, 0, First, false, true},
    {"last", 0, 0, Last, false, true},
    {"tail", 0, 0, Tail, false, true},
    {"skip", 1, 1, Skip, false, true},
    {"take", 1, 1, Take, false, true},
    {"intersect", 1, 1, Intersect},
    {"exclude", 1, 1, Exclude},
    {"union", 1, 1, Union},
    {"combine", 1, 1, Combine},
    {"children", 0, 0, Children},
    {"descendants", 0, 0, Descendants},
    {"not", 0, 0, Not},
    {"aggregate", 1, 2, Aggregate, false, true},
    {"sort", 0, 16, Sort},
};

}  // namespace

std::span<const FunctionInfo> CollectionFunctions() { return kFunctions; }

}  // namespace regenpath::fhirpath
