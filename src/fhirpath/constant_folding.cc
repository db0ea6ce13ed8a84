#include "fhirpath/constant_folding.h"

#include <vector>

#include "fhirpath/operations.h"

namespace regenpath::fhirpath {

namespace {

bool IsConstant(const Expr& expr) { return expr.kind == ExprKind::kLiteral || expr.is_constant; }

void AppendConstant(const Expr& side, ItemSet& seen, Collection& out) {
  if (side.kind == ExprKind::kLiteral) {
    if (seen.Insert(side.literal)) out.push_back(side.literal);
    return;
  }
  AppendDistinct(side.constant, seen, out);
}

void FoldNode(Expr& expr) {
  if (expr.kind != ExprKind::kBinary || expr.op != BinaryOp::kUnion || expr.args.size() != 2) return;
  if (!IsConstant(*expr.args[0]) || !IsConstant(*expr.args[1])) return;
  ItemSet seen;
  AppendConstant(*expr.args[0], seen, expr.constant);
  AppendConstant(*expr.args[1], seen, expr.constant);
  expr.is_constant = true;
}

}  // namespace

void FoldConstants(Expr& root) {
  // Children before parents, without recursion (operator chains are deep).
  std::vector<std::pair<Expr*, bool>> stack = {{&root, false}};
  while (!stack.empty()) {
    auto [expr, children_done] = stack.back();
    stack.pop_back();
    if (children_done) {
      FoldNode(*expr);
      continue;
    }
    stack.push_back({expr, true});
    if (expr->receiver != nullptr) stack.push_back({expr->receiver.get(), false});
    for (const std::unique_ptr<Expr>& arg : expr->args) {
      if (arg != nullptr) stack.push_back({arg.get(), false});
    }
  }
}

}  // namespace regenpath::fhirpath
