// Static checks of a parsed expression against the type of its input
// (internal to fhirpath/; run by CompiledExpression::Compile when
// CompileOptions asks for them).
//
// The checker infers, along each path, the FHIR types an item may have. It
// reports only what is certainly wrong: an element name that none of the
// possible types has (name.given1, Observation.valueQuantity), a path that
// starts with a resource type other than the input's, and, when asked, an
// order-dependent function applied to an unordered collection
// (children().first()). Where it cannot know a type it assumes nothing.
#ifndef REGENPATH_FHIRPATH_TYPE_CHECKER_H_
#define REGENPATH_FHIRPATH_TYPE_CHECKER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhirpath/ast.h"
#include "fhirpath/compiled_expression.h"

namespace regenpath::fhirpath {

// Returns "semantic error at line L, column C: ..." (kInvalidArgument) for
// the first problem found, or OK. An unknown options.context_type is itself
// an error.
Status CheckTypes(const Expr& root, std::string_view expression, const CompileOptions& options);

// The element names evaluating the expression on an input of `context_type`
// can read (JSON names of choices included as written), or nullopt when it
// may read whole subtrees: children(), descendants(), trace(), or equality,
// union and distinct on values that may be complex elements. Implicit reads
// (a FHIR Quantity's value/unit/code/system when compared) are not listed;
// the caller adds them (see CompiledExpression::ElementsRead).
std::optional<std::vector<std::string>> ElementsRead(const Expr& root, std::string_view expression,
                                                     const std::string& context_type);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_TYPE_CHECKER_H_
