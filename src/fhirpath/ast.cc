#include "fhirpath/ast.h"

#include <utility>

namespace regenpath::fhirpath {

namespace {

// Moves the children of `expr` onto `pending`, leaving it a leaf.
void DetachChildren(Expr& expr, std::vector<std::unique_ptr<Expr>>& pending) {
  if (expr.receiver != nullptr) pending.push_back(std::move(expr.receiver));
  for (std::unique_ptr<Expr>& arg : expr.args) {
    if (arg != nullptr) pending.push_back(std::move(arg));
  }
  expr.args.clear();
}

}  // namespace

Expr::~Expr() {
  if (receiver == nullptr && args.empty()) return;
  std::vector<std::unique_ptr<Expr>> pending;
  DetachChildren(*this, pending);
  while (!pending.empty()) {
    std::unique_ptr<Expr> node = std::move(pending.back());
    pending.pop_back();
    DetachChildren(*node, pending);
    // `node` is a leaf now: its destructor returns at once.
  }
}

}  // namespace regenpath::fhirpath
