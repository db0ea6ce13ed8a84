// Output forms of FHIRPath results (the `regenpath fhirpath` contract).
//
// JSON form: primitives as JSON values, dates and times as their string form
// without '@', Quantities as {"value": 1.5, "unit": "mg"}, FHIR elements as
// their JSON (choice elements under their typed name, `_name` parts restored).
// Typed form: the official test suite's <output> (type name and a string).
#ifndef REGENPATH_FHIRPATH_OUTPUT_H_
#define REGENPATH_FHIRPATH_OUTPUT_H_

#include <span>
#include <string>

#include "fhir/node.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

// Appends `json` without the whitespace between tokens.
void AppendMinifiedJson(std::string_view json, std::string& out);

// Appends the JSON of a FHIR element (object, or primitive value) to `out`.
void AppendNodeJson(const fhir::Node& node, std::string& out);

// Appends the JSON form of one item to `out`.
void AppendValueJson(const Value& value, std::string& out);

// The JSON array of a collection: "[...]".
std::string CollectionToJson(std::span<const Value> values);

// The typed form of one item: type as the suite writes it ("integer",
// "decimal", "dateTime", "Quantity", "code", "HumanName") and value as a
// string ("4", "1.50", "@1974-12-25", "1 'cm'", or a complex element's JSON).
struct TypedValue {
  std::string type;
  std::string value;
};
TypedValue ToTyped(const Value& value);

// The typed JSON array: [{"type": "integer", "value": "1"}, ...].
std::string CollectionToTypedJson(std::span<const Value> values);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_OUTPUT_H_
