// The FHIRPath function table (internal to fhirpath/).
//
// Each function is bound by name at compile time; its implementation gets the
// call's syntax node and evaluates its own arguments (lazily: where() runs
// its criteria once per item, iif() only the branch it takes).
#ifndef REGENPATH_FHIRPATH_FUNCTIONS_H_
#define REGENPATH_FHIRPATH_FUNCTIONS_H_

#include <span>
#include <string_view>

#include "common/status.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

class Evaluator;
struct Expr;
struct Scope;

// `input` is the collection the function is invoked on; `focus` is what its
// non-iterating arguments are evaluated on (the focus of the enclosing path
// step); results are appended to `out`.
using FunctionImpl = Status (*)(Evaluator& evaluator, const Expr& call, std::span<const Value> input,
                                std::span<const Value> focus, const Scope& scope, Collection& out);

struct FunctionInfo {
  std::string_view name;
  int min_args;
  int max_args;
  FunctionImpl impl;
  // The argument is a type specifier (is, as, ofType), not an expression.
  bool takes_type = false;
  // The result depends on the input's order (first, skip, ...): flagged by
  // CompileOptions::check_ordered_functions on unordered input.
  bool needs_order = false;
  // defineVariable(): evaluated by the Evaluator itself (it changes the scope).
  bool defines_variable = false;
};

// The function named `name`, or nullptr. The table is static and immutable.
const FunctionInfo* FindFunction(std::string_view name);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_FUNCTIONS_H_
