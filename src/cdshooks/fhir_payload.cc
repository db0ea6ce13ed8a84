#include "cdshooks/fhir_payload.h"

#include <fmt/format.h>

#include <algorithm>

#include "cdshooks/hook_request.h"
#include "cdshooks/json_parsers.h"
#include "cdshooks/raw_json.h"
#include "cdshooks/text.h"
#include "fhir/document.h"
#include "simdjson.h"

namespace regenpath::cdshooks {

namespace {

namespace dom = simdjson::dom;

std::string StringOf(dom::element value, std::string_view name) {
  std::string_view text;
  if (value[name].get_string().get(text) != simdjson::SUCCESS) return std::string();
  return std::string(text);
}

// The issues of an OperationOutcome, as one line.
std::string OutcomeText(dom::element outcome) {
  std::string text;
  dom::array issues;
  if (outcome["issue"].get_array().get(issues) == simdjson::SUCCESS) {
    for (dom::element issue : issues) {
      std::string_view part;
      if (issue["details"]["text"].get_string().get(part) != simdjson::SUCCESS &&
          issue["diagnostics"].get_string().get(part) != simdjson::SUCCESS &&
          issue["code"].get_string().get(part) != simdjson::SUCCESS) {
        continue;
      }
      if (!text.empty()) text += "; ";
      text += part;
    }
  }
  return OneLine(text.empty() ? std::string("an OperationOutcome without details") : text, 300);
}

bool IsErrorOutcome(dom::element outcome) {
  dom::array issues;
  if (outcome["issue"].get_array().get(issues) != simdjson::SUCCESS) return true;
  for (dom::element issue : issues) {
    std::string_view severity;
    if (issue["severity"].get_string().get(severity) == simdjson::SUCCESS &&
        (severity == "error" || severity == "fatal")) {
      return true;
    }
  }
  return false;
}

// `raw` is the resource's source text when known (kept byte for byte, so
// decimals keep their exact text); otherwise the DOM element is serialized.
PayloadEntry EntryOf(dom::element resource, std::string_view raw, std::string_view type,
                     std::string full_url) {
  PayloadEntry entry;
  entry.full_url = std::move(full_url);
  entry.resource_json = raw.empty() ? simdjson::minify(resource) : std::string(raw);
  entry.resource_type = std::string(type);
  entry.id = StringOf(resource, "id");
  // Whose it is, as the engine reads it (the type's compartment element first).
  for (std::string_view name : fhir::PatientReferenceElementsOf(type)) {
    std::string_view reference;
    if (resource[name]["reference"].get_string().get(reference) == simdjson::SUCCESS) {
      entry.patient_reference = std::string(reference);
      break;
    }
  }
  return entry;
}

FhirPayload Invalid(std::string message) {
  FhirPayload payload;
  payload.kind = PayloadKind::kInvalid;
  payload.message = std::move(message);
  return payload;
}

// `json` is the source text of `root` (empty inside a 1.0 wrapper);
// `raw_entries`, when not null, its entries' resource texts (else they are
// found in `json`).
FhirPayload ReadElement(dom::element root, std::string_view json,
                        const std::vector<std::string_view>* raw_entries, const PrefetchTemplate& query,
                        int wrapper_depth) {
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS)
    return Invalid("not a FHIR resource (not a JSON object)");
  std::string_view type;
  if (object["resourceType"].get_string().get(type) != simdjson::SUCCESS) {
    // CDS Hooks 1.0 wrapped each prefetch result: {response: {status}, resource}.
    dom::element response;
    dom::element resource;
    const bool has_response = object["response"].get(response) == simdjson::SUCCESS;
    const bool has_resource = object["resource"].get(resource) == simdjson::SUCCESS;
    if ((has_response || has_resource) && wrapper_depth == 0) {
      std::string status = has_response ? StringOf(response, "status") : std::string();
      if (!status.empty() && !status.starts_with("2")) {
        FhirPayload payload;
        payload.kind = PayloadKind::kFailed;
        payload.message = fmt::format("the client's fetch answered '{}'", OneLine(status, 60));
        return payload;
      }
      if (!has_resource || resource.is_null()) {
        FhirPayload payload;
        payload.kind = PayloadKind::kNoData;
        return payload;
      }
      return ReadElement(resource, std::string_view(), nullptr, query, wrapper_depth + 1);
    }
    return Invalid("not a FHIR resource (no resourceType)");
  }
  if (type == "OperationOutcome") {
    FhirPayload payload;
    payload.kind = PayloadKind::kFailed;
    payload.message = OutcomeText(root);
    return payload;
  }
  FhirPayload payload;
  if (type == "Bundle" && query.is_read) {
    // A read answers one resource; a Bundle here is the wrong type, not "no data".
    return Invalid(fmt::format("a Bundle where a {} was expected (a read answers the resource itself)",
                               query.resource_type));
  }
  if (type != "Bundle") {
    if (type != query.resource_type) {
      return Invalid(fmt::format("a {} where {} {} was expected", OneLine(type, 60),
                                 query.is_read ? "a" : "a Bundle of", query.resource_type));
    }
    payload.entries.push_back(EntryOf(root, RawObjectText(json), type, std::string()));
    return payload;
  }
  dom::element entries_value;
  if (object["entry"].get(entries_value) == simdjson::SUCCESS) {
    dom::array entries;
    if (entries_value.get_array().get(entries) != simdjson::SUCCESS)
      return Invalid("Bundle.entry is not an array");
    // Resources are copied from the source text when it can be mapped
    // entry by entry; otherwise re-serialized.
    std::vector<std::string_view> raw = raw_entries != nullptr ? *raw_entries
                                        : json.empty()         ? std::vector<std::string_view>()
                                                               : RawEntryResources(json);
    if (raw.size() != entries.size()) raw.clear();
    size_t index = 0;
    for (dom::element entry : entries) {
      dom::element resource;
      std::string_view entry_type;
      if (!entry.is_object()) return Invalid(fmt::format("Bundle.entry[{}] is not an object", index));
      if (entry["resource"].get(resource) != simdjson::SUCCESS) {
        ++index;
        continue;  // an entry without a resource (e.g. a deleted one in history): nothing to read
      }
      if (resource["resourceType"].get_string().get(entry_type) != simdjson::SUCCESS) {
        return Invalid(fmt::format("Bundle.entry[{}].resource is not a FHIR resource", index));
      }
      ++index;
      if (entry_type == "OperationOutcome") {
        if (IsErrorOutcome(resource)) {
          FhirPayload failed;
          failed.kind = PayloadKind::kFailed;
          failed.message = OutcomeText(resource);
          return failed;
        }
        continue;  // warnings about the search (search.mode = outcome)
      }
      payload.entries.push_back(EntryOf(resource, raw.empty() ? std::string_view() : raw[index - 1],
                                        entry_type, StringOf(entry, "fullUrl")));
      payload.entries.back().bundle_entry = index - 1;
    }
  }
  dom::array links;
  if (object["link"].get_array().get(links) == simdjson::SUCCESS) {
    for (dom::element link : links) {
      if (StringOf(link, "relation") == "next") {
        payload.next_url = StringOf(link, "url");
        if (payload.next_url.empty()) return Invalid("Bundle.link 'next' has no url");
      }
    }
  }
  return payload;
}

}  // namespace

FhirPayload ReadFhirPayload(std::string_view json, const PrefetchTemplate& query) {
  dom::parser* parser = ThreadDomParser(json.size());
  if (parser == nullptr) return Invalid("too large to read");
  dom::element root;
  if (auto error = parser->parse(json.data(), json.size()).get(root); error != simdjson::SUCCESS) {
    return Invalid(error == simdjson::DEPTH_ERROR ? "JSON nested too deeply" : "not valid JSON");
  }
  return ReadElement(root, json, nullptr, query, 0);
}

FhirPayload ReadFhirPayload(const dom::element& root, std::string_view json,
                            const std::vector<std::string_view>* raw_entries, const PrefetchTemplate& query) {
  return ReadElement(root, json, raw_entries, query, 0);
}

}  // namespace regenpath::cdshooks
