// CompiledExpression: a FHIRPath expression parsed and checked once, then
// evaluated many times.
//
//   RP_ASSIGN_OR_RETURN(auto expr, CompiledExpression::Compile("Patient.name.given"));
//   Workspace workspace;
//   EvaluationContext context{.document = &doc, .resource = &doc.root(), .now = now};
//   RP_ASSIGN_OR_RETURN(Collection result, expr.Evaluate(context, workspace));
//
// A CompiledExpression is immutable; copies share the compiled tree, and it
// may be evaluated from many threads at once (each with its own Workspace).
#ifndef REGENPATH_FHIRPATH_COMPILED_EXPRESSION_H_
#define REGENPATH_FHIRPATH_COMPILED_EXPRESSION_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "common/status.h"
#include "fhirpath/evaluation_context.h"
#include "fhirpath/resource_gates.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

struct Expr;

struct CompileOptions {
  // When set, the expression is checked against this type of input (e.g.
  // "Patient", "Bundle"): element names that the type does not have, a path
  // starting with another resource type, a cast to an impossible type and a
  // function given the wrong kind of input are semantic errors. Unset: only
  // syntax and function names/arities are checked.
  std::string context_type;
  // Report ordered functions (first(), skip(), [i], ...) applied to a
  // collection whose order is undefined (children(), descendants()).
  bool check_ordered_functions = false;
  // Accept the JSON names of choice elements (Observation.valueQuantity for
  // Observation.value of type Quantity) in the checks above. Evaluation
  // always resolves them.
  bool allow_json_choice_names = false;
};

class CompiledExpression {
 public:
  // Parses and checks `expression`. On failure the Status (kInvalidArgument)
  // says "syntax error at line L, column C: ..." or "semantic error at ...".
  static Result<CompiledExpression> Compile(std::string_view expression, const CompileOptions& options = {});

  // Evaluates on `context`. Returns the result collection, whose strings live
  // in `workspace` (valid until workspace.Reset()), or kEvaluationError
  // naming the function and the reason ("single(): the input has 3 items").
  Result<Collection> Evaluate(const EvaluationContext& context, Workspace& workspace) const;

  // The expression text as compiled.
  const std::string& text() const { return *text_; }

  // The elements an evaluation on a resource of type `context_type` can
  // read, for fhir::ElementFilter: element names, plus what reading any
  // document needs (Bundle entry/fullUrl/resource, ids, Quantity parts).
  // nullopt when the expression may need whole subtrees (children(),
  // descendants(), comparing complex elements, ...). Evaluating on a
  // document parsed with such a filter gives the same result as on the
  // whole document.
  std::optional<std::vector<std::string>> ElementsRead(const std::string& context_type) const;

  // Which resources of a record the expression can let through, by type
  // (fhirpath/resource_gates.h).
  ResourceGates GatesOnResources() const;

 private:
  CompiledExpression(std::shared_ptr<const Expr> root, std::shared_ptr<const std::string> text)
      : root_(std::move(root)), text_(std::move(text)) {}

  std::shared_ptr<const Expr> root_;
  std::shared_ptr<const std::string> text_;
};

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_COMPILED_EXPRESSION_H_
