// Evaluator: walks a compiled syntax tree over one input (internal to
// fhirpath/). One Evaluator serves one call of CompiledExpression::Evaluate;
// it is not shared between threads.
#ifndef REGENPATH_FHIRPATH_EVALUATOR_H_
#define REGENPATH_FHIRPATH_EVALUATOR_H_

#include <forward_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "fhirpath/ast.h"
#include "fhirpath/evaluation_context.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

// A variable made by defineVariable(): a linked list, innermost first.
struct VariableBinding {
  std::string_view name;
  const Collection* values = nullptr;
  const VariableBinding* next = nullptr;
};

// What $this, $index, $total and defined variables mean at a point of evaluation.
struct Scope {
  const Value* this_value = nullptr;  // nullptr: $this is the focus
  int64_t index = -1;                 // -1: $index is empty
  const Collection* total = nullptr;  // aggregate()'s running total
  const VariableBinding* variables = nullptr;
};

class Evaluator {
 public:
  Evaluator(const EvaluationContext& context, Workspace& workspace, std::string_view expression_text);

  // Evaluates `expr` with `focus` as its input, appending the result to
  // `out`. `scope` may gain variables (defineVariable) that later steps of
  // the same path see.
  Status Eval(const Expr& expr, std::span<const Value> focus, Scope& scope, Collection& out);

  // Evaluates argument `index` of `call` on `focus` (scope copied, so
  // variables it defines stay inside).
  Status EvalArg(const Expr& call, size_t index, std::span<const Value> focus, const Scope& scope,
                 Collection& out);

  // Evaluates argument `index` of `call` for one item of an iteration:
  // focus and $this are `item`, $index is `item_index`.
  Status EvalArgForItem(const Expr& call, size_t index, const Value& item, int64_t item_index,
                        const Scope& scope, Collection& out);

  // A kEvaluationError naming the function or operator at `where`.
  Status Error(const Expr& where, std::string_view message) const;

  // Copies `text` into the workspace (valid as long as the results).
  // When the evaluation's string budget (EvaluationContext::max_string_bytes)
  // would be exceeded, returns "" and makes the evaluation fail.
  std::string_view Keep(std::string_view text) {
    if (!FitsStringBudget(text.size())) return std::string_view();
    return workspace_.arena().CopyString(text);
  }

  // Whether `bytes` more bytes of strings fit the evaluation's budget; when
  // not, the evaluation is marked as out of it (it fails). A function that
  // builds a string asks this before building it, with the size it will have
  // (or the size so far, as it grows), so no oversized string is ever made.
  bool FitsStringBudget(size_t bytes) {
    const size_t used = workspace_.arena().bytes_allocated() - start_bytes_;
    if (bytes > context_.max_string_bytes || used > context_.max_string_bytes - bytes) {
      out_of_string_budget_ = true;
      return false;
    }
    return true;
  }

  // Whether the evaluation ran out of its string budget (it then fails).
  bool out_of_string_budget() const { return out_of_string_budget_; }

  // The failure of an evaluation out of its string budget.
  Status StringBudgetExceeded() const;

  // Fails when a collection grows beyond the context's max_items.
  Status CheckSize(const Expr& where, size_t size) const;

  // Storage for a defineVariable() value, alive until evaluation ends.
  Collection& NewVariableStorage() { return variables_.emplace_front(); }

  const EvaluationContext& context() const { return context_; }
  Workspace& workspace() { return workspace_; }

  // A scratch collection borrowed from the workspace for the caller's scope.
  class Scratch {
   public:
    explicit Scratch(Evaluator& evaluator) : workspace_(evaluator.workspace_), items_(workspace_.Borrow()) {}
    ~Scratch() { workspace_.Return(items_); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    Collection& operator*() { return *items_; }
    Collection* operator->() { return items_; }

   private:
    Workspace& workspace_;
    Collection* items_;
  };

  // Reads the single item of `items` as a Boolean per FHIRPath singleton
  // evaluation: empty -> nullopt; one Boolean -> it; one other item -> true;
  // more than one -> error.
  Result<std::optional<bool>> SingletonBoolean(const Expr& where, const Collection& items) const;

  // The single item of `items` converted to a System value; nullopt if empty
  // (or a primitive without a value); error if more than one item.
  Result<std::optional<Value>> SingletonValue(const Expr& where, const Collection& items) const;

 private:
  // Expr::of_record_resources on the document's root Bundle, from
  // fhir::Document::entry_resources(); nullopt where that does not apply
  // (then the call is evaluated as written).
  std::optional<Status> EvalOfRecordResources(const Expr& expr, std::span<const Value> focus, Collection& out);
  Status EvalMember(const Expr& expr, std::span<const Value> input, Collection& out);
  Status EvalBinary(const Expr& expr, std::span<const Value> focus, Scope& scope, Collection& out);
  Status EvalArithmetic(const Expr& expr, const Collection& left, const Collection& right, Collection& out);
  Status EvalVariable(const Expr& expr, std::span<const Value> focus, const Scope& scope, Collection& out);
  Status EvalTypeOp(const Expr& expr, std::span<const Value> focus, Scope& scope, Collection& out);
  Status EvalDefineVariable(const Expr& expr, std::span<const Value> input, Scope& scope, Collection& out);

  const EvaluationContext& context_;
  Workspace& workspace_;
  std::string_view expression_text_;
  // Lists, not deques: most evaluations define no variable, and an empty
  // forward_list allocates nothing (a deque allocates on construction).
  std::forward_list<Collection> variables_;
  std::forward_list<VariableBinding> bindings_;
  size_t start_bytes_ = 0;
  bool out_of_string_budget_ = false;
};

// True iff `value` is of the type `type` (FHIRPath `is`); `exact` disables
// subtype matching for primitive FHIR types (as() and ofType()).
bool MatchesType(const Value& value, const TypeSpecifier& type, bool exact);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_EVALUATOR_H_
