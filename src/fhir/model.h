// The FHIR R4 type model: which element has which type, choice types and
// inheritance, generated from the official R4 StructureDefinitions.
//
// The tables live in r4_model_data.inc, produced by tools/gen_fhir_model.py
// (see docs/fhir-model.md for how to regenerate). Everything here is static,
// immutable data: pointers returned stay valid for the life of the process,
// and every function is thread-safe.
#ifndef REGENPATH_FHIR_MODEL_H_
#define REGENPATH_FHIR_MODEL_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace regenpath::fhir {

// The FHIRPath System types a FHIR primitive's value maps to.
enum class SystemType : uint8_t {
  kNone = 0,  // not a primitive (complex type, resource, backbone)
  kBoolean,
  kString,
  kInteger,
  kDecimal,
  kDate,
  kDateTime,
  kTime,
};

enum class TypeKind : uint8_t {
  kPrimitive,  // boolean, string, code, dateTime, ... (FHIR primitive types)
  kComplex,    // HumanName, Quantity, Element, BackboneElement, ...
  kResource,   // Resource, DomainResource, Patient, ... (abstract ones included)
  kBackbone,   // an anonymous nested type such as Patient.contact
};

struct TypeInfo;

// One element of a type. For a choice element (value[x]) `name` is "value",
// `is_choice` is true and `types` lists every allowed type.
struct ElementInfo {
  std::string_view name;
  bool is_choice;
  bool is_array;  // max cardinality above 1
  std::span<const TypeInfo* const> types;
};

struct TypeInfo {
  // "Patient", "HumanName", "string", or for a backbone "Patient.contact".
  std::string_view name;
  TypeKind kind;
  bool is_abstract;
  // The parent type ("Patient" -> "DomainResource", "code" -> "string",
  // "Age" -> "Quantity", "Patient.contact" -> "BackboneElement"); nullptr for
  // the roots Base-less "Element" and "Resource".
  const TypeInfo* base;
  // For primitives, the System type of their value; kNone otherwise.
  SystemType system_type;
  // Every element of the type, inherited ones included, sorted by name.
  std::span<const ElementInfo> elements;
};

// What a JSON property name resolves to within a parent type.
struct JsonPropertyMatch {
  const ElementInfo* element = nullptr;  // nullptr if no element matches
  const TypeInfo* type = nullptr;        // the concrete type of the value
};

class Model {
 public:
  // The FHIR R4 (4.0.1) model. Never null.
  static const Model& R4();

  // Finds a type by name: "Patient", "string", "Patient.contact".
  // Returns nullptr if unknown. Case-sensitive.
  const TypeInfo* FindType(std::string_view name) const;

  // Finds a resource type ("Patient"); nullptr if `name` is not a resource.
  const TypeInfo* FindResourceType(std::string_view name) const;

  // The element `name` of `type` (inherited ones included), or nullptr.
  // A choice element is found by its base name ("value"), not "valueQuantity".
  static const ElementInfo* FindElement(const TypeInfo& type, std::string_view name);

  // Resolves a JSON property name of an object of type `parent`:
  //   "given"         -> element given, type string
  //   "valueQuantity" -> element value[x], type Quantity
  //   "contact"       -> element contact, type Patient.contact
  // Returns an empty match (element == nullptr) when nothing fits.
  static JsonPropertyMatch ResolveJsonProperty(const TypeInfo& parent, std::string_view json_name);

  // True iff `type` is `ancestor` or derives from it.
  static bool IsSubtypeOf(const TypeInfo& type, const TypeInfo& ancestor);

  // Every type in the model, in a stable order.
  std::span<const TypeInfo* const> types() const;
};

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_MODEL_H_
