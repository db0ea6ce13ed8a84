// Parses FHIRPath text into a syntax tree (internal to fhirpath/).
#ifndef REGENPATH_FHIRPATH_EXPRESSION_PARSER_H_
#define REGENPATH_FHIRPATH_EXPRESSION_PARSER_H_

#include <memory>
#include <string_view>

#include "common/status.h"
#include "fhirpath/ast.h"

namespace regenpath::fhirpath {

// Parses `expression` (grammar: fhirpath.g4) and binds function names to
// their implementations and type names to the model. Fails with
// "syntax error at line L, column C: ..." for text that does not parse, and
// "semantic error at ...: ..." for an unknown function, a wrong number of
// arguments or an unknown type.
Result<std::unique_ptr<Expr>> ParseExpression(std::string_view expression);

// Resolves a type name as written ("Patient", "FHIR.string", "System.Integer",
// "Integer"). Fails for a name that is neither a FHIR model type nor a System
// type (except in the System namespace, where unknown names never match).
Result<TypeSpecifier> ResolveTypeSpecifier(std::string_view namespace_name, std::string_view name);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_EXPRESSION_PARSER_H_
