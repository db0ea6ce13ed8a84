#include "engine/datum_reader.h"

#include <algorithm>

#include "fhirpath/operations.h"

namespace regenpath::engine {

std::string ReferenceOf(const fhir::Node& resource) {
  const fhir::Node* id = resource.Child("id");
  return std::string(resource.type_name()) + "/" +
         (id != nullptr && id->has_value() ? std::string(id->text()) : std::string("?"));
}

DatumPaths::DatumPaths(const knowledge::KnowledgeBase& kb) {
  for (const knowledge::DatumView& view : kb.datum_views()) {
    for (const knowledge::DatumField* field : {&view.display, &view.date, &view.value}) {
      std::vector<std::optional<MemberPath>>& paths = paths_[field];
      for (const std::string& expression : field->expressions) paths.push_back(MemberPath::Parse(expression));
    }
  }
}

const std::vector<std::optional<MemberPath>>* DatumPaths::Of(const knowledge::DatumField& field) const {
  auto found = paths_.find(&field);
  return found != paths_.end() && found->second.size() == field.compiled.size() ? &found->second : nullptr;
}

std::optional<std::string> DatumReader::First(const knowledge::DatumField& field, const fhir::Node& resource) {
  const std::vector<std::optional<MemberPath>>* paths = paths_.Of(field);
  fhirpath::EvaluationContext context;
  context.document = &record_;
  context.resource = &resource;
  context.now = now_;
  context.terminology = &kb_.terminology();
  for (size_t i = 0; i < field.compiled.size(); ++i) {
    if (paths != nullptr && (*paths)[i].has_value()) {
      nodes_.clear();
      (*paths)[i]->Select(resource, nodes_);
      for (const fhir::Node* node : nodes_) {
        std::optional<std::string> text = fhirpath::ToStringText(fhirpath::Value::Node(node));
        if (text && !text->empty()) return text;
      }
      continue;
    }
    Result<Collection> values = field.compiled[i].Evaluate(context, workspace_);
    if (!values.has_value()) continue;
    for (const fhirpath::Value& value : *values) {
      std::optional<std::string> text = fhirpath::ToStringText(value);
      if (text && !text->empty()) return text;
    }
  }
  return std::nullopt;
}

const Datum& DatumReader::Of(const fhir::Node& resource) {
  auto cached = cache_.find(&resource);
  if (cached != cache_.end()) return cached->second;
  Datum datum;
  datum.reference = ReferenceOf(resource);
  if (const knowledge::DatumView* view = kb_.FindDatumView(resource.type_name())) {
    datum.display = First(view->display, resource).value_or(std::string(resource.type_name()));
    datum.date = First(view->date, resource);
    datum.value = First(view->value, resource);
  } else {
    datum.display = std::string(resource.type_name());
  }
  workspace_.Reset();
  return cache_.emplace(&resource, std::move(datum)).first->second;
}

std::optional<std::string> DatumReader::CodeOf(const fhir::Node& resource) {
  const knowledge::DatumView* view = kb_.FindDatumView(resource.type_name());
  if (view == nullptr || view->code.compiled.empty()) return std::nullopt;
  std::optional<std::string> code = First(view->code, resource);
  workspace_.Reset();
  return code;
}

void DatumReader::Append(const Collection& values, Refs& refs, Data& data) {
  // Resources already added by this call, by node (cheaper than comparing
  // references); those added before it, by reference.
  const size_t before = refs.size();
  std::vector<const fhir::Node*> added;
  for (const fhirpath::Value& value : values) {
    if (!value.is_node()) continue;
    const fhir::Node* resource = value.node()->EnclosingResource();
    if (resource == nullptr || std::find(added.begin(), added.end(), resource) != added.end()) continue;
    added.push_back(resource);
    const Datum& datum = Of(*resource);
    if (before > 0 && std::find(refs.begin(), refs.begin() + static_cast<long>(before), datum.reference) !=
                          refs.begin() + static_cast<long>(before)) {
      continue;
    }
    refs.push_back(datum.reference);
    data.push_back(datum);
  }
}

}  // namespace regenpath::engine
