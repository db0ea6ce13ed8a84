#include "cdshooks/response_json.h"

#include <boost/json.hpp>

namespace regenpath::cdshooks {

namespace {

namespace json = boost::json;

// The CDS Hooks specification version the services implement, and the
// version of the three hooks (hook definitions, "hookVersion").
constexpr const char* kSpecificationVersion = "2.0.0";
constexpr const char* kHookVersion = "1.0";

void PutString(json::object& object, const char* name, const std::string& value) {
  if (!value.empty()) object[name] = value;
}

json::object CodingJson(const Coding& coding) {
  json::object object;
  PutString(object, "system", coding.system);
  PutString(object, "code", coding.code);
  PutString(object, "display", coding.display);
  return object;
}

json::object ServiceRequestJson(const ProposedServiceRequest& request) {
  json::object resource;
  resource["resourceType"] = "ServiceRequest";
  resource["status"] = "draft";
  resource["intent"] = "order";
  if (!request.category.empty()) {
    json::array codings;
    for (const Coding& coding : request.category) codings.push_back(CodingJson(coding));
    resource["category"] = json::array{json::object{{"coding", std::move(codings)}}};
  }
  json::object code;
  if (!request.codings.empty()) {
    json::array codings;
    for (const Coding& coding : request.codings) codings.push_back(CodingJson(coding));
    code["coding"] = std::move(codings);
  }
  PutString(code, "text", request.text);
  if (!code.empty()) resource["code"] = std::move(code);
  resource["subject"] = json::object{{"reference", "Patient/" + request.patient_id}};
  if (!request.encounter_id.empty()) {
    resource["encounter"] = json::object{{"reference", "Encounter/" + request.encounter_id}};
  }
  if (!request.note.empty()) resource["note"] = json::array{json::object{{"text", request.note}}};
  return resource;
}

json::object CardJson(const Card& card) {
  json::object object;
  PutString(object, "uuid", card.uuid);
  object["summary"] = card.summary;
  PutString(object, "detail", card.detail);
  object["indicator"] = card.indicator;
  json::object source;
  source["label"] = card.source.label;
  PutString(source, "url", card.source.url);
  if (!card.source.topic.code.empty()) source["topic"] = CodingJson(card.source.topic);
  object["source"] = std::move(source);
  if (!card.suggestions.empty()) {
    json::array suggestions;
    for (const Suggestion& suggestion : card.suggestions) {
      json::object item;
      item["label"] = suggestion.label;
      PutString(item, "uuid", suggestion.uuid);
      if (suggestion.is_recommended) item["isRecommended"] = true;
      if (!suggestion.actions.empty()) {
        json::array actions;
        for (const Action& action : suggestion.actions) {
          json::object entry;
          entry["type"] = action.type;
          PutString(entry, "description", action.description);
          if (!action.resource.empty()) entry["resource"] = ServiceRequestJson(action.resource.front());
          PutString(entry, "resourceId", action.resource_id);
          actions.push_back(std::move(entry));
        }
        item["actions"] = std::move(actions);
      }
      suggestions.push_back(std::move(item));
    }
    object["suggestions"] = std::move(suggestions);
    PutString(object, "selectionBehavior", card.selection_behavior);
  }
  if (!card.override_reasons.empty()) {
    json::array reasons;
    for (const Coding& reason : card.override_reasons) reasons.push_back(CodingJson(reason));
    object["overrideReasons"] = std::move(reasons);
  }
  if (!card.links.empty()) {
    json::array links;
    for (const Link& link : card.links) {
      json::object entry{{"label", link.label}, {"url", link.url}, {"type", link.type}};
      if (!link.app_context.empty()) entry["appContext"] = link.app_context;
      links.push_back(std::move(entry));
    }
    object["links"] = std::move(links);
  }
  return object;
}

}  // namespace

std::string CardsResponseJson(const std::vector<Card>& cards) {
  json::array array;
  for (const Card& card : cards) array.push_back(CardJson(card));
  json::object response;
  response["cards"] = std::move(array);
  return json::serialize(response);
}

std::string OperationOutcomeJson(const std::vector<OutcomeIssue>& issues) {
  json::array array;
  for (const OutcomeIssue& issue : issues) {
    json::object item;
    item["severity"] = issue.severity.empty() ? std::string("error") : issue.severity;
    item["code"] = issue.code.empty() ? std::string("processing") : issue.code;
    if (!issue.text.empty()) item["details"] = json::object{{"text", issue.text}};
    PutString(item, "diagnostics", issue.diagnostics);
    if (!issue.expression.empty()) item["expression"] = json::array{json::value(issue.expression)};
    array.push_back(std::move(item));
  }
  if (array.empty()) {
    array.push_back(json::object{{"severity", "error"}, {"code", "processing"}});
  }
  json::object outcome;
  outcome["resourceType"] = "OperationOutcome";
  outcome["issue"] = std::move(array);
  return json::serialize(outcome);
}

std::string DiscoveryJson(const std::vector<ServiceDefinition>& services) {
  json::array array;
  for (const ServiceDefinition& service : services) {
    json::object object;
    object["hook"] = std::string(HookName(service.hook));
    object["id"] = service.id;
    PutString(object, "title", service.title);
    object["description"] = service.description;
    if (!service.prefetch.empty()) {
      json::object prefetch;
      for (const PrefetchTemplate& item : service.prefetch) prefetch[item.key] = item.query;
      object["prefetch"] = std::move(prefetch);
    }
    PutString(object, "usageRequirements", service.usage_requirements);
    object["version"] = kSpecificationVersion;
    object["hookVersion"] = kHookVersion;
    array.push_back(std::move(object));
  }
  json::object discovery;
  discovery["services"] = std::move(array);
  return json::serialize(discovery);
}

}  // namespace regenpath::cdshooks
