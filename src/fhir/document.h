// Document: a parsed FHIR resource (often a Bundle) that owns its Node tree.
//
// A Document is created by fhir::Parser and is immutable afterwards: it may be
// read from many threads at once. Nodes and strings it hands out stay valid
// until the Document is destroyed; moving a Document keeps them valid.
#ifndef REGENPATH_FHIR_DOCUMENT_H_
#define REGENPATH_FHIR_DOCUMENT_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/arena.h"
#include "fhir/issue.h"
#include "fhir/node.h"

namespace regenpath::fhir {

// The elements that put a resource in a patient's compartment, for the
// resource types the engine reads (FHIR R4 CompartmentDefinition "patient"):
// subject (Condition, Observation, Procedure, MedicationRequest,
// DiagnosticReport, ImagingStudy, CarePlan, Encounter, ...), patient
// (AllergyIntolerance, Immunization, ...), beneficiary (Coverage).
inline constexpr std::string_view kPatientReferenceElements[] = {"subject", "patient", "beneficiary"};

// The elements of kPatientReferenceElements to look at, in order, for the
// patient of a resource of `resource_type`: first the one the compartment
// definition names for the type (fhir/patient_compartment.h), so that a
// resource carrying another of them too (an AllergyIntolerance with a stray
// `subject`) is placed as `regenpath screen` places it; then the others, so
// that one naming a patient only in a stray element is still that
// patient's, never taken for nobody's (and kept in another's record).
std::span<const std::string_view> PatientReferenceElementsOf(std::string_view resource_type);

class Document {
 public:
  Document(Document&&) = default;
  Document& operator=(Document&&) = default;

  // The root resource (a Bundle for bundles and for NDJSON input).
  const Node& root() const { return *root_; }

  // Data problems found while reading, in document order.
  std::span<const Issue> issues() const { return issues_; }

  // The file name or label the document was read from (for messages).
  const std::string& source_name() const { return source_name_; }

  // Every resource the document holds at the top level: the root itself, or
  // for a Bundle the resources of its entries (not the Bundle). Contained
  // resources are not listed.
  std::span<const Node* const> resources() const { return resources_; }

  // For a Bundle root: the nodes FHIRPath's `entry.resource` gives on it, in
  // the same order (every `resource` of every entry, resources or not,
  // skeletons included), and how many entries it has; empty and 0 for
  // another root. (The engine's definitions start with
  // Bundle.entry.resource.ofType(T): the evaluator filters this list
  // instead of building those two collections on every evaluation.)
  std::span<const Node* const> entry_resources() const { return entry_resources_; }
  size_t entry_count() const { return entry_count_; }

  // Per resource of resources(), in the same order, read once while the
  // document is indexed (when its nodes are still in the cache):
  //  - patient_references(): the reference text of the element that puts it
  //    in a patient's compartment (FHIR R4 CompartmentDefinition "patient":
  //    of PatientReferenceElementsOf(its type), the first that holds a
  //    reference), or "";
  //  - resource_ids(): its id, or "";
  //  - resource_types(): its type name (Node::type_name()).
  std::span<const std::string_view> patient_references() const { return patient_references_; }
  std::span<const std::string_view> resource_ids() const { return resource_ids_; }
  std::span<const std::string_view> resource_types() const { return resource_types_; }

  // Resolves a Reference.reference string as seen from `from` (a node of this
  // document, or nullptr for the root), following FHIR's rules:
  //  - "#id": a resource contained in the resource that holds `from`
  //    ("#" alone: that resource itself);
  //  - an absolute URL or urn:uuid / urn:oid: the Bundle entry with that fullUrl;
  //  - "Type/id" (optionally with "/_history/v"): the entry whose fullUrl is
  //    the same base as the referring entry's fullUrl, else any entry whose
  //    resource has that type and id.
  // Returns nullptr when the target is not in the document.
  const Node* Resolve(std::string_view reference, const Node* from) const;

  // Approximate bytes held by the tree (for limits and metrics).
  size_t memory_bytes() const { return arena_->bytes_allocated(); }

 private:
  friend class DocumentBuilder;
  friend class Parser;
  Document() : arena_(std::make_unique<Arena>(1 << 16)) {}

  void IndexResources();
  void IndexPatientReferences();

  // The JSON text the nodes' strings point into, and the arena for the rest.
  std::unique_ptr<char[]> input_;
  std::unique_ptr<Arena> arena_;
  const Node* root_ = nullptr;
  std::vector<Issue> issues_;
  std::string source_name_;
  std::vector<const Node*> resources_;
  std::vector<const Node*> entry_resources_;
  size_t entry_count_ = 0;
  std::vector<std::string_view> patient_references_;  // by position in resources_
  std::vector<std::string_view> resource_ids_;        // by position in resources_
  std::vector<std::string_view> resource_types_;      // by position in resources_
  // fullUrl -> resource, and (type, id) -> resource (first wins). The keys
  // view the document's own text and the model's type names: no string is
  // made per resource.
  struct TypeAndId {
    std::string_view type, id;
    bool operator==(const TypeAndId&) const = default;
  };
  struct TypeAndIdHash {
    // The id's hash, mixed with the type's length and first byte (a hash of
    // the whole type name would cost a second pass for little: the same id
    // under two types is rare).
    size_t operator()(const TypeAndId& key) const noexcept {
      const size_t type =
          key.type.size() * 257 + (key.type.empty() ? 0 : static_cast<unsigned char>(key.type[0]));
      return std::hash<std::string_view>{}(key.id) ^ (type * size_t{0x9E3779B97F4A7C15});
    }
  };
  std::unordered_map<std::string_view, const Node*> by_full_url_;
  std::unordered_map<TypeAndId, const Node*, TypeAndIdHash> by_type_and_id_;
};

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_DOCUMENT_H_
