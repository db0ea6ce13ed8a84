#include "fhir/document.h"

#include <optional>
#include <string>

#include "fhir/patient_compartment.h"

namespace regenpath::fhir {

std::string_view IssueSeverityName(IssueSeverity severity) {
  switch (severity) {
    case IssueSeverity::kInformation:
      return "information";
    case IssueSeverity::kWarning:
      return "warning";
    case IssueSeverity::kError:
      return "error";
  }
  return "error";
}

namespace {

bool IsAbsoluteReference(std::string_view reference) {
  return reference.starts_with("urn:") || reference.find("://") != std::string_view::npos;
}

// "Patient/1/_history/2" -> "Patient/1".
std::string_view StripHistory(std::string_view reference) {
  size_t history = reference.find("/_history/");
  return history == std::string_view::npos ? reference : reference.substr(0, history);
}

// The service base of an absolute RESTful fullUrl: "http://x/fhir/Patient/1" ->
// "http://x/fhir/"; "" if it has no Type/id tail.
std::string_view ServiceBase(std::string_view full_url) {
  if (full_url.starts_with("urn:")) return std::string_view();
  size_t last = full_url.rfind('/');
  if (last == std::string_view::npos || last == 0) return std::string_view();
  size_t type_slash = full_url.rfind('/', last - 1);
  if (type_slash == std::string_view::npos) return std::string_view();
  return full_url.substr(0, type_slash + 1);
}

// The Bundle.entry node holding `node`, if any.
const Node* EnclosingEntry(const Node* node) {
  for (; node != nullptr; node = node->parent()) {
    const Node* parent = node->parent();
    if (node->name() == "entry" && parent != nullptr && parent->type_name() == "Bundle") return node;
  }
  return nullptr;
}

}  // namespace

void Document::IndexResources() {
  resources_.clear();
  entry_resources_.clear();
  entry_count_ = 0;
  if (root_ == nullptr) return;
  if (root_->type_name() != "Bundle") {
    resources_.push_back(root_);
    const Node* id = root_->Child("id");
    if (id != nullptr && id->has_value()) {
      by_type_and_id_.emplace(TypeAndId{root_->type_name(), id->text()}, root_);
    }
    IndexPatientReferences();
    return;
  }
  std::span<const Node> entries = root_->Children("entry");
  resources_.reserve(entries.size());
  by_type_and_id_.reserve(entries.size());
  entry_count_ = entries.size();
  entry_resources_.reserve(entries.size());
  for (const Node& entry : entries) {
    for (const Node& resource : entry.Children("resource")) entry_resources_.push_back(&resource);
  }
  for (const Node& entry : entries) {
    const Node* resource = entry.Child("resource");
    if (resource == nullptr || !resource->is_resource()) continue;
    resources_.push_back(resource);
    const Node* full_url = entry.Child("fullUrl");
    if (full_url != nullptr && full_url->has_value()) by_full_url_.emplace(full_url->text(), resource);
    const Node* id = resource->Child("id");
    if (id != nullptr && id->has_value() && !resource->type_name().empty()) {
      by_type_and_id_.emplace(TypeAndId{resource->type_name(), id->text()}, resource);
    }
  }
  IndexPatientReferences();
}

std::span<const std::string_view> PatientReferenceElementsOf(std::string_view resource_type) {
  // kPatientReferenceElements, each in turn first.
  static constexpr std::string_view kOrders[][3] = {{"subject", "patient", "beneficiary"},
                                                    {"patient", "subject", "beneficiary"},
                                                    {"beneficiary", "subject", "patient"}};
  static_assert(std::size(kOrders) == std::size(kPatientReferenceElements));
  if (const std::optional<std::string_view> element = PatientElement(resource_type)) {
    for (const auto& order : kOrders) {
      if (order[0] == *element) return order;
    }
  }
  return kPatientReferenceElements;
}

void Document::IndexPatientReferences() {
  patient_references_.assign(resources_.size(), std::string_view());
  resource_ids_.assign(resources_.size(), std::string_view());
  resource_types_.assign(resources_.size(), std::string_view());
  for (size_t index = 0; index < resources_.size(); ++index) {
    const Node& resource = *resources_[index];
    resource_types_[index] = resource.type_name();
    if (const Node* id = resource.Child("id"); id != nullptr && id->has_value()) resource_ids_[index] = id->text();
    for (std::string_view name : PatientReferenceElementsOf(resource.type_name())) {
      const Node* element = resource.Child(name);
      if (element == nullptr) continue;
      const Node* text = element->Child("reference");
      if (text == nullptr || !text->has_value()) continue;
      patient_references_[index] = text->text();
      break;
    }
  }
}

const Node* Document::Resolve(std::string_view reference, const Node* from) const {
  if (reference.empty()) return nullptr;
  if (from == nullptr) from = root_;
  if (reference.front() == '#') {
    // Contained resources belong to the outermost resource that is not itself contained.
    const Node* container = from->EnclosingResource();
    while (container != nullptr && container->name() == "contained" && container->parent() != nullptr) {
      container = container->parent()->EnclosingResource();
    }
    if (container == nullptr) return nullptr;
    std::string_view id = reference.substr(1);
    if (id.empty()) return container;
    for (const Node& contained : container->Children("contained")) {
      const Node* contained_id = contained.Child("id");
      if (contained_id != nullptr && contained_id->text() == id) return &contained;
    }
    return nullptr;
  }
  if (IsAbsoluteReference(reference)) {
    auto found = by_full_url_.find(reference);
    if (found != by_full_url_.end()) return found->second;
    found = by_full_url_.find(StripHistory(reference));
    return found != by_full_url_.end() ? found->second : nullptr;
  }
  std::string_view relative = StripHistory(reference);
  if (const Node* entry = EnclosingEntry(from); entry != nullptr) {
    const Node* full_url = entry->Child("fullUrl");
    std::string_view base = full_url != nullptr ? ServiceBase(full_url->text()) : std::string_view();
    if (!base.empty()) {
      std::string absolute(base);
      absolute += relative;
      auto found = by_full_url_.find(absolute);
      if (found != by_full_url_.end()) return found->second;
    }
  }
  // "Type/id", split at the first '/': no FHIR type name has one (a resource
  // whose unknown, invalid resourceType holds one is not found by reference).
  const size_t slash = relative.find('/');
  if (slash == std::string_view::npos) return nullptr;
  auto found = by_type_and_id_.find(TypeAndId{relative.substr(0, slash), relative.substr(slash + 1)});
  return found != by_type_and_id_.end() ? found->second : nullptr;
}

}  // namespace regenpath::fhir
