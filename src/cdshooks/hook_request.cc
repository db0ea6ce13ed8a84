#include "cdshooks/hook_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cdshooks/json_parsers.h"
#include "cdshooks/raw_json.h"
#include "cdshooks/text.h"
#include "cdshooks/uuid.h"
#include "simdjson.h"

namespace regenpath::cdshooks {

namespace {

namespace dom = simdjson::dom;

CallError Bad(std::string expression, std::string text, std::string code = "invalid") {
  return MakeCallError(400, std::move(code), std::move(text), std::move(expression));
}

std::string_view TypeName(dom::element value) {
  switch (value.type()) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
    default:
      return "a number";
  }
}

// Fails on a member name used twice: readers that keep the first and readers
// that keep the last would see different requests.
std::optional<CallError> CheckUniqueMembers(dom::object object, std::string_view path) {
  std::set<std::string_view> seen;
  for (dom::key_value_pair member : object) {
    if (!seen.insert(member.key).second) {
      std::string where = path.empty() ? std::string(member.key) : fmt::format("{}.{}", path, member.key);
      return Bad(where, fmt::format("'{}' appears more than once", where), "structure");
    }
  }
  return std::nullopt;
}

// A required or optional string member that, when present, is a non-empty
// string (the specification forbids null and "").
tl::expected<std::optional<std::string>, CallError> StringMember(dom::object object, std::string_view name,
                                                                 std::string_view path, bool required) {
  std::string where = path.empty() ? std::string(name) : fmt::format("{}.{}", path, name);
  dom::element value;
  if (object[name].get(value) != simdjson::SUCCESS) {
    if (required) return tl::unexpected(Bad(where, fmt::format("'{}' is required", where), "required"));
    return std::optional<std::string>();
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return tl::unexpected(
        Bad(where, fmt::format("'{}' must be a string, not {}", where, TypeName(value)), "value"));
  }
  if (text.empty()) return tl::unexpected(Bad(where, fmt::format("'{}' must not be empty", where), "value"));
  return std::optional<std::string>(std::string(text));
}

bool IsReferenceTo(std::string_view reference, std::initializer_list<std::string_view> types) {
  size_t slash = reference.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view type = reference.substr(0, slash);
  return std::find(types.begin(), types.end(), type) != types.end() && IsFhirId(reference.substr(slash + 1));
}

// A CodeableConcept's codings and text (shape errors are ignored: a draft
// order's content is data, not protocol).
void ReadCodeableConcept(dom::element concept_value, std::vector<CodeValue>& codings,
                         std::vector<std::string>& texts) {
  dom::object concept_object;
  if (concept_value.get_object().get(concept_object) != simdjson::SUCCESS) return;
  dom::array coding_array;
  if (concept_object["coding"].get_array().get(coding_array) == simdjson::SUCCESS) {
    for (dom::element coding : coding_array) {
      CodeValue value;
      std::string_view text;
      if (coding["system"].get_string().get(text) == simdjson::SUCCESS) value.system = std::string(text);
      if (coding["code"].get_string().get(text) == simdjson::SUCCESS) value.code = std::string(text);
      if (coding["display"].get_string().get(text) == simdjson::SUCCESS) value.display = std::string(text);
      if (!value.code.empty() || !value.display.empty()) codings.push_back(std::move(value));
    }
  }
  std::string_view text;
  if (concept_object["text"].get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
    texts.emplace_back(text);
  }
}

tl::expected<std::vector<DraftOrder>, CallError> ReadDraftOrders(dom::object context) {
  constexpr std::string_view kPath = "context.draftOrders";
  dom::element value;
  if (context["draftOrders"].get(value) != simdjson::SUCCESS) {
    return tl::unexpected(
        Bad(std::string(kPath), "'context.draftOrders' is required for this hook", "required"));
  }
  dom::object bundle;
  std::string_view resource_type;
  if (value.get_object().get(bundle) != simdjson::SUCCESS ||
      bundle["resourceType"].get_string().get(resource_type) != simdjson::SUCCESS ||
      resource_type != "Bundle") {
    return tl::unexpected(
        Bad(std::string(kPath), "'context.draftOrders' must be a FHIR Bundle of the draft orders"));
  }
  std::vector<DraftOrder> orders;
  dom::element entries_value;
  if (bundle["entry"].get(entries_value) != simdjson::SUCCESS) return orders;
  dom::array entries;
  if (entries_value.get_array().get(entries) != simdjson::SUCCESS) {
    return tl::unexpected(
        Bad(fmt::format("{}.entry", kPath), "'context.draftOrders.entry' must be an array"));
  }
  size_t index = 0;
  for (dom::element entry : entries) {
    const std::string path = fmt::format("{}.entry[{}].resource", kPath, index++);
    dom::object resource;
    std::string_view type;
    if (entry["resource"].get_object().get(resource) != simdjson::SUCCESS ||
        resource["resourceType"].get_string().get(type) != simdjson::SUCCESS || type.empty()) {
      return tl::unexpected(Bad(path, fmt::format("'{}' must be a FHIR resource", path), "structure"));
    }
    DraftOrder order;
    order.resource_type = std::string(type);
    order.path = path;
    std::string_view id;
    if (resource["id"].get_string().get(id) == simdjson::SUCCESS) order.id = std::string(id);
    if (type == "MedicationRequest") {
      dom::element medication;
      if (resource["medicationCodeableConcept"].get(medication) == simdjson::SUCCESS) {
        ReadCodeableConcept(medication, order.codings, order.texts);
      }
      std::string_view display;
      if (resource["medicationReference"]["display"].get_string().get(display) == simdjson::SUCCESS &&
          !display.empty()) {
        order.texts.emplace_back(display);
      }
    } else {
      dom::element code;
      if (resource["code"].get(code) == simdjson::SUCCESS)
        ReadCodeableConcept(code, order.codings, order.texts);
    }
    dom::array sites;
    if (resource["bodySite"].get_array().get(sites) == simdjson::SUCCESS) {
      for (dom::element site : sites)
        ReadCodeableConcept(site, order.body_site_codings, order.body_site_texts);
    }
    orders.push_back(std::move(order));
  }
  return orders;
}

tl::expected<std::vector<std::string>, CallError> ReadSelections(dom::object context,
                                                                 const std::vector<DraftOrder>& orders) {
  constexpr std::string_view kPath = "context.selections";
  dom::element value;
  if (context["selections"].get(value) != simdjson::SUCCESS) {
    return tl::unexpected(
        Bad(std::string(kPath), "'context.selections' is required for order-select", "required"));
  }
  dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return tl::unexpected(
        Bad(std::string(kPath), "'context.selections' must be an array of order references"));
  }
  std::vector<std::string> selections;
  size_t index = 0;
  for (dom::element item : array) {
    const std::string path = fmt::format("{}[{}]", kPath, index++);
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
      return tl::unexpected(
          Bad(path, fmt::format("'{}' must be a reference such as ServiceRequest/123", path)));
    }
    const bool known = std::any_of(orders.begin(), orders.end(), [&](const DraftOrder& order) {
      return !order.id.empty() && text.size() == order.resource_type.size() + 1 + order.id.size() &&
             text.starts_with(order.resource_type) && text[order.resource_type.size()] == '/' &&
             text.ends_with(order.id);
    });
    if (!known) {
      return tl::unexpected(
          Bad(path, fmt::format("'{}' ({}) is not an order in context.draftOrders", path, OneLine(text, 80)),
              "value"));
    }
    selections.emplace_back(text);
  }
  if (selections.empty()) {
    return tl::unexpected(Bad(std::string(kPath), "'context.selections' must not be empty", "value"));
  }
  return selections;
}

std::optional<CallError> ReadAuthorization(dom::element value, HookRequest& request) {
  constexpr std::string_view kPath = "fhirAuthorization";
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return Bad(std::string(kPath),
               fmt::format("'fhirAuthorization' must be an object, not {}", TypeName(value)));
  }
  if (auto duplicate = CheckUniqueMembers(object, kPath)) return duplicate;
  for (std::string_view name : {"access_token", "token_type", "scope", "subject"}) {
    auto text = StringMember(object, name, kPath, true);
    if (!text) return text.error();
    if (name == "access_token") {
      // It goes into the Authorization header of every request to
      // fhirServer: anything but token68 (CR, LF, spaces...) could split it.
      if (!IsToken68(**text)) {
        return Bad("fhirAuthorization.access_token",
                   "'fhirAuthorization.access_token' must be a bearer token (RFC 6750 token68 characters: "
                   "letters, digits, -._~+/ and trailing =)",
                   "value");
      }
      request.access_token = **text;
    }
    if (name == "token_type") {
      std::string lower = **text;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (lower != "bearer") {
        return Bad("fhirAuthorization.token_type", "'fhirAuthorization.token_type' must be 'Bearer'",
                   "value");
      }
    }
  }
  dom::element expires;
  if (object["expires_in"].get(expires) != simdjson::SUCCESS) {
    return Bad("fhirAuthorization.expires_in", "'fhirAuthorization.expires_in' is required", "required");
  }
  int64_t seconds = 0;
  if (expires.get_int64().get(seconds) != simdjson::SUCCESS || seconds < 0) {
    return Bad("fhirAuthorization.expires_in",
               "'fhirAuthorization.expires_in' must be a non-negative integer (seconds)", "value");
  }
  auto patient = StringMember(object, "patient", kPath, false);
  if (!patient) return patient.error();
  if (*patient && !IsFhirId(**patient)) {
    return Bad("fhirAuthorization.patient", "'fhirAuthorization.patient' must be a FHIR id", "value");
  }
  return std::nullopt;
}

// Each prefetch value is kept as its source text (a copy of the bytes the
// client sent), not re-serialized from the DOM: FHIR decimals keep their
// exact text, and nothing is minified. Values the service has a template for
// are read as FHIR payloads here, from this parse, with the spans of their
// Bundle entries found in the same pass.
std::optional<CallError> ReadPrefetch(dom::element value, std::string_view body,
                                      std::span<const PrefetchTemplate> templates, HookRequest& request) {
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return Bad("prefetch", fmt::format("'prefetch' must be an object, not {}", TypeName(value)));
  }
  if (auto duplicate = CheckUniqueMembers(object, "prefetch")) return duplicate;
  const std::map<std::string, RawMember, std::less<>> raw = RawObjectMembers(body, "prefetch");
  for (dom::key_value_pair member : object) {
    const std::string path = fmt::format("prefetch.{}", member.key);
    PrefetchValue& stored = request.prefetch[std::string(member.key)];
    if (member.value.is_null()) continue;
    if (!member.value.is_object()) {
      return Bad(path, fmt::format("'{}' must be a FHIR resource or null, not {}", OneLine(path, 80),
                                   TypeName(member.value)));
    }
    auto source = raw.find(member.key);
    stored.json = source != raw.end() ? std::string(source->second.text) : simdjson::minify(member.value);
    auto query = std::find_if(templates.begin(), templates.end(),
                              [&](const PrefetchTemplate& item) { return item.key == member.key; });
    if (query == templates.end()) continue;
    const bool raw_known = source != raw.end();
    stored.payload = ReadFhirPayload(
        member.value, raw_known ? std::string_view(*stored.json) : std::string_view(),
        raw_known && source->second.entries_known ? &source->second.entry_resources : nullptr, *query);
  }
  return std::nullopt;
}

}  // namespace

bool IsToken68(std::string_view text) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '=') --end;
  if (end == 0) return false;
  return std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
  });
}

tl::expected<HookRequest, CallError> ParseHookRequest(std::string_view body, Hook expected,
                                                      std::span<const PrefetchTemplate> templates) {
  dom::parser* parser = ThreadDomParser(body.size());
  if (parser == nullptr) {
    return tl::unexpected(MakeCallError(400, "too-costly", "the request body is too large to read"));
  }
  dom::element root;
  if (auto error = parser->parse(body.data(), body.size()).get(root); error != simdjson::SUCCESS) {
    return tl::unexpected(
        MakeCallError(400, "structure",
                      error == simdjson::DEPTH_ERROR
                          ? fmt::format("the request body nests JSON deeper than {} levels", kMaxJsonDepth)
                          : "the request body is not valid JSON",
                      "", simdjson::error_message(error)));
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return tl::unexpected(MakeCallError(400, "structure", "the request body must be a JSON object"));
  }
  if (auto duplicate = CheckUniqueMembers(object, "")) return tl::unexpected(*duplicate);

  HookRequest request;
  request.hook = expected;
  auto hook = StringMember(object, "hook", "", true);
  if (!hook) return tl::unexpected(hook.error());
  if (**hook != HookName(expected)) {
    return tl::unexpected(Bad("hook",
                              fmt::format("hook '{}' does not match this service, which answers '{}'",
                                          OneLine(**hook, 60), HookName(expected)),
                              "value"));
  }
  auto instance = StringMember(object, "hookInstance", "", true);
  if (!instance) return tl::unexpected(instance.error());
  if (!IsUuid(**instance)) {
    return tl::unexpected(
        Bad("hookInstance", "'hookInstance' must be a UUID (8-4-4-4-12 hexadecimal digits)", "value"));
  }
  request.hook_instance = **instance;

  auto server = StringMember(object, "fhirServer", "", false);
  if (!server) return tl::unexpected(server.error());
  if (*server) {
    std::string url = **server;
    if (!IsAbsoluteHttpUrl(url) || url.find_first_of("?#") != std::string::npos) {
      return tl::unexpected(Bad("fhirServer",
                                "'fhirServer' must be the absolute http(s) base URL of a FHIR server "
                                "(no query or fragment)",
                                "value"));
    }
    while (url.ends_with('/')) url.pop_back();
    request.fhir_server = std::move(url);
  }
  dom::element authorization;
  if (object["fhirAuthorization"].get(authorization) == simdjson::SUCCESS) {
    if (auto error = ReadAuthorization(authorization, request)) return tl::unexpected(*error);
    // cds-r-1: fhirAuthorization implies fhirServer.
    if (request.fhir_server.empty()) {
      return tl::unexpected(Bad(
          "fhirServer", "'fhirServer' is required when 'fhirAuthorization' is given (cds-r-1)", "required"));
    }
  }
  dom::element extension;
  if (object["extension"].get(extension) == simdjson::SUCCESS && !extension.is_object()) {
    return tl::unexpected(Bad("extension", "'extension' must be an object"));
  }

  dom::element context_value;
  if (object["context"].get(context_value) != simdjson::SUCCESS) {
    return tl::unexpected(Bad("context", "'context' is required", "required"));
  }
  dom::object context;
  if (context_value.get_object().get(context) != simdjson::SUCCESS) {
    return tl::unexpected(
        Bad("context", fmt::format("'context' must be an object, not {}", TypeName(context_value))));
  }
  if (auto duplicate = CheckUniqueMembers(context, "context")) return tl::unexpected(*duplicate);
  auto user = StringMember(context, "userId", "context", true);
  if (!user) return tl::unexpected(user.error());
  const bool user_ok =
      expected == Hook::kPatientView
          ? IsReferenceTo(**user, {"Practitioner", "PractitionerRole", "Patient", "RelatedPerson"})
          : IsReferenceTo(**user, {"Practitioner", "PractitionerRole"});
  if (!user_ok) {
    return tl::unexpected(Bad("context.userId",
                              expected == Hook::kPatientView
                                  ? "'context.userId' must be Practitioner/<id>, PractitionerRole/<id>, "
                                    "Patient/<id> or RelatedPerson/<id>"
                                  : "'context.userId' must be Practitioner/<id> or PractitionerRole/<id>",
                              "value"));
  }
  request.user_id = **user;
  auto patient = StringMember(context, "patientId", "context", true);
  if (!patient) return tl::unexpected(patient.error());
  if (!IsFhirId(**patient)) {
    return tl::unexpected(
        Bad("context.patientId", "'context.patientId' must be a FHIR id ([A-Za-z0-9-.], 1-64)", "value"));
  }
  request.patient_id = **patient;
  auto encounter = StringMember(context, "encounterId", "context", false);
  if (!encounter) return tl::unexpected(encounter.error());
  if (*encounter) {
    if (!IsFhirId(**encounter)) {
      return tl::unexpected(Bad("context.encounterId", "'context.encounterId' must be a FHIR id", "value"));
    }
    request.encounter_id = **encounter;
  }
  if (expected != Hook::kPatientView) {
    auto orders = ReadDraftOrders(context);
    if (!orders) return tl::unexpected(orders.error());
    request.draft_orders = std::move(*orders);
    if (expected == Hook::kOrderSelect) {
      auto selections = ReadSelections(context, request.draft_orders);
      if (!selections) return tl::unexpected(selections.error());
      request.selections = std::move(*selections);
    }
  }

  dom::element prefetch;
  if (object["prefetch"].get(prefetch) == simdjson::SUCCESS) {
    if (auto error = ReadPrefetch(prefetch, body, templates, request)) return tl::unexpected(*error);
  }
  return request;
}

}  // namespace regenpath::cdshooks
