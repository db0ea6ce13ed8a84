// Constant folding: work an expression would redo on every evaluation,
// done once at compile time.
//
// A union of literals ('final' | 'amended' | 'corrected') becomes one
// precomputed, de-duplicated collection on its node (Expr::constant), so
// `status in (...)` inside where() does not rebuild the same list for every
// resource. The folded node keeps its children (error messages, the type
// checker and ElementsRead still see the expression as written).
#ifndef REGENPATH_FHIRPATH_CONSTANT_FOLDING_H_
#define REGENPATH_FHIRPATH_CONSTANT_FOLDING_H_

#include "fhirpath/ast.h"

namespace regenpath::fhirpath {

// Folds every constant subexpression of the tree under `root`.
void FoldConstants(Expr& root);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_CONSTANT_FOLDING_H_
