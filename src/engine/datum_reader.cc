#include "engine/datum_reader.h"

#include <algorithm>

#include "fhirpath/operations.h"

namespace regenpath::engine {

std::string ReferenceOf(const fhir::Node& resource) {
  const fhir::Node* id = resource.Child("id");
  return std::string(resource.type_name()) + "/" +
         (id != nullptr && id->has_value() ? std::string(id->text()) : std::string("?"));
}

std::optional<std::string> DatumReader::First(const std::optional<fhirpath::CompiledExpression>& expression,
                                              const fhir::Node& resource) {
  if (!expression) return std::nullopt;
  fhirpath::EvaluationContext context;
  context.document = &record_;
  context.resource = &resource;
  context.now = now_;
  context.terminology = &kb_.terminology();
  Result<Collection> values = expression->Evaluate(context, workspace_);
  if (!values.has_value()) return std::nullopt;
  for (const fhirpath::Value& value : *values) {
    std::optional<std::string> text = fhirpath::ToStringText(value);
    if (text && !text->empty()) return text;
  }
  return std::nullopt;
}

const Datum& DatumReader::Of(const fhir::Node& resource) {
  auto cached = cache_.find(&resource);
  if (cached != cache_.end()) return cached->second;
  Datum datum;
  datum.reference = ReferenceOf(resource);
  if (const knowledge::DatumView* view = kb_.FindDatumView(resource.type_name())) {
    datum.display = First(view->display_compiled, resource).value_or(std::string(resource.type_name()));
    datum.date = First(view->date_compiled, resource);
    datum.value = First(view->value_compiled, resource);
  } else {
    datum.display = std::string(resource.type_name());
  }
  workspace_.Reset();
  return cache_.emplace(&resource, std::move(datum)).first->second;
}

void DatumReader::Append(const Collection& values, Refs& refs, Data& data) {
  for (const fhirpath::Value& value : values) {
    if (!value.is_node()) continue;
    const fhir::Node* resource = value.node()->EnclosingResource();
    if (resource == nullptr) continue;
    const Datum& datum = Of(*resource);
    if (std::find(refs.begin(), refs.end(), datum.reference) != refs.end()) continue;
    refs.push_back(datum.reference);
    data.push_back(datum);
  }
}

}  // namespace regenpath::engine
