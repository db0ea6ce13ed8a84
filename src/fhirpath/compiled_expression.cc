#include "fhirpath/compiled_expression.h"

#include <string_view>
#include <vector>

#include "fhirpath/ast.h"
#include "fhirpath/constant_folding.h"
#include "fhirpath/evaluator.h"
#include "fhirpath/expression_parser.h"
#include "fhirpath/type_checker.h"

namespace regenpath::fhirpath {

namespace {

bool IsMemberStep(const Expr* expr, std::string_view name) {
  return expr != nullptr && expr->kind == ExprKind::kMember && expr->name == name;
}

// Marks every ofType(T) applied to `Bundle.entry.resource` of the focus
// (Expr::of_record_resources). Without recursion: operator chains are deep.
void MarkRecordResourceSteps(Expr& root) {
  std::vector<Expr*> stack = {&root};
  while (!stack.empty()) {
    Expr* expr = stack.back();
    stack.pop_back();
    if (expr->kind == ExprKind::kFunction && expr->name == "ofType" && expr->args.size() == 1) {
      const Expr* resource = expr->receiver.get();
      const Expr* entry = IsMemberStep(resource, "resource") ? resource->receiver.get() : nullptr;
      const Expr* bundle = IsMemberStep(entry, "entry") ? entry->receiver.get() : nullptr;
      expr->of_record_resources = IsMemberStep(bundle, "Bundle") && bundle->may_name_type &&
                                  bundle->receiver == nullptr && !resource->may_name_type && !entry->may_name_type;
    }
    if (expr->receiver != nullptr) stack.push_back(expr->receiver.get());
    for (const std::unique_ptr<Expr>& arg : expr->args) {
      if (arg != nullptr) stack.push_back(arg.get());
    }
  }
}

}  // namespace

Result<CompiledExpression> CompiledExpression::Compile(std::string_view expression, const CompileOptions& options) {
  RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, ParseExpression(expression));
  if (!options.context_type.empty() || options.check_ordered_functions) {
    RP_RETURN_IF_ERROR(CheckTypes(*root, expression, options));
  }
  FoldConstants(*root);
  MarkRecordResourceSteps(*root);
  return CompiledExpression(std::shared_ptr<const Expr>(std::move(root)),
                            std::make_shared<const std::string>(expression));
}

std::optional<std::vector<std::string>> CompiledExpression::ElementsRead(const std::string& context_type) const {
  std::optional<std::vector<std::string>> names = fhirpath::ElementsRead(*root_, *text_, context_type);
  if (!names) return std::nullopt;
  // Always read: how documents hold resources and find references, and the
  // parts of a Quantity that comparisons convert implicitly.
  for (const char* always : {"entry", "resource", "fullUrl", "id", "value", "unit", "code", "system", "comparator"}) {
    names->push_back(always);
  }
  return names;
}

ResourceGates CompiledExpression::GatesOnResources() const { return AnalyzeResourceGates(*root_); }

Result<Collection> CompiledExpression::Evaluate(const EvaluationContext& context, Workspace& workspace) const {
  Evaluator evaluator(context, workspace, *text_);
  Value resource;
  std::span<const Value> focus = context.focus;
  if (focus.empty() && context.resource != nullptr) {
    resource = Value::Node(context.resource);
    focus = std::span<const Value>(&resource, 1);
  }
  Scope scope;
  Collection result;
  RP_RETURN_IF_ERROR(evaluator.Eval(*root_, focus, scope, result));
  // A string cut short by the budget at the very end still fails.
  RP_RETURN_IF_ERROR(evaluator.CheckSize(*root_, result.size()));
  return result;
}

}  // namespace regenpath::fhirpath
