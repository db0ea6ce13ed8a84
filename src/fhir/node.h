// Node: one element of a parsed FHIR resource, as FHIRPath navigates it.
//
// A parsed document is an immutable tree of Nodes:
//  - an object (resource, complex type, backbone element) has its properties
//    as children, in document order, JSON arrays flattened (a property with
//    three values gives three consecutive children with the same name and
//    array indexes 0, 1, 2);
//  - a primitive has its value as text (strings unescaped, numbers exactly as
//    written, booleans "true"/"false") and, when the JSON carried a `_name`
//    sibling, that sibling's `id` and `extension` as its children; a primitive
//    that has only the `_name` part has no value (has_value() is false);
//  - choice elements are resolved: `valueQuantity` is a child named "value"
//    whose type is Quantity;
//  - `resourceType` is not a child; it is the node's type.
// Types come from the R4 model; an element the model does not know keeps its
// JSON name and has no type (type() == nullptr) but stays navigable.
//
// Nodes are owned by their fhir::Document and live as long as it does.
// They are immutable after parsing and safe to read from many threads.
#ifndef REGENPATH_FHIR_NODE_H_
#define REGENPATH_FHIR_NODE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fhir/model.h"

namespace regenpath::fhir {

// The JSON shape of a node's own value.
enum class JsonKind : uint8_t {
  kObject,   // a resource or complex element
  kString,   // a JSON string primitive
  kNumber,   // a JSON number primitive
  kBoolean,  // a JSON boolean primitive
  kNone,     // a primitive with only extensions / id (no value)
};

class Node {
 public:
  // The element name ("given", "value" for valueQuantity); for a document's
  // root resource, its resource type.
  std::string_view name() const { return name_; }

  // The element's model type, or nullptr if the model does not know it.
  const TypeInfo* type() const { return type_; }

  // The type name: the model type's name, or for a resource of a type the
  // model does not know, its `resourceType`; "" when unknown.
  std::string_view type_name() const;

  // True iff this node is a resource (it carried `resourceType`).
  bool is_resource() const { return is_resource_; }

  JsonKind kind() const { return kind_; }
  bool is_object() const { return kind_ == JsonKind::kObject; }
  // True iff this is a primitive that carries a value.
  bool has_value() const {
    return kind_ == JsonKind::kString || kind_ == JsonKind::kNumber || kind_ == JsonKind::kBoolean;
  }
  // A primitive's value text (see the file comment); "" for objects.
  std::string_view text() const { return is_object() ? std::string_view() : text_; }
  // The value of a boolean primitive.
  bool bool_value() const { return kind_ == JsonKind::kBoolean && text_ == "true"; }

  // All children, in document order.
  std::span<const Node> children() const { return {children_, child_count_}; }

  // The consecutive children named `name` (one JSON property), possibly empty.
  std::span<const Node> Children(std::string_view name) const;

  // The first child named `name`, or nullptr.
  const Node* Child(std::string_view name) const;

  // The enclosing node, or nullptr for the document root.
  const Node* parent() const { return parent_; }

  // Position within its JSON array, or -1 when the property is not an array.
  int array_index() const { return array_index_; }

  // The nearest resource at or above this node (itself for a resource).
  const Node* EnclosingResource() const;

  // The FHIR element path of this node from the document root, e.g.
  // "Bundle.entry[3].resource.name[0].given[1]".
  std::string Path() const;

  // False for an object some of whose elements (or their descendants) were
  // skipped by an ElementFilter: its children are not all there, and its
  // source JSON (raw_json()) is the faithful content.
  bool is_complete() const { return complete_; }

  // True for a resource a ResourceFilter passed over (fhir/resource_filter.h):
  // only its type, id and patient reference were built. ofType() leaves it
  // out: every path to it ends at a gate it cannot pass.
  bool is_skeleton() const { return skeleton_; }

  // An object's JSON text as it appears in the source document (whitespace
  // included); empty for primitives and for synthetic nodes.
  std::string_view raw_json() const { return raw_; }

 private:
  friend class DocumentBuilder;

  std::string_view name_;
  std::string_view text_;  // primitive value; resourceType for resources
  std::string_view raw_;   // an object's source JSON
  const Node* children_ = nullptr;
  const Node* parent_ = nullptr;
  const TypeInfo* type_ = nullptr;
  uint32_t child_count_ = 0;
  int32_t array_index_ = -1;
  JsonKind kind_ = JsonKind::kObject;
  bool is_resource_ = false;
  bool complete_ = true;
  bool skeleton_ = false;
};

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_NODE_H_
