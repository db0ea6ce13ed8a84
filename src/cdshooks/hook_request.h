// HookRequest: a CDS Hooks 2.0 service request, read and checked against the
// specification and the hook definitions (patient-view, order-select,
// order-sign) before anything is fetched or assessed.
//
// ParseHookRequest reports the first problem it finds as a 400 CallError
// whose OperationOutcome names the element ("context.patientId") and what is
// wrong with it. It never throws, and bounds its work by the input's size
// (nesting deeper than kMaxJsonDepth is refused).
#ifndef REGENPATH_CDSHOOKS_HOOK_REQUEST_H_
#define REGENPATH_CDSHOOKS_HOOK_REQUEST_H_

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cdshooks/card.h"
#include "cdshooks/fhir_payload.h"
#include "cdshooks/service_catalog.h"
#include "fhir/fhir_id.h"

namespace regenpath::cdshooks {

// Deepest JSON nesting accepted in a request or a FHIR server response.
inline constexpr size_t kMaxJsonDepth = 200;

struct CodeValue {
  std::string system;
  std::string code;
  std::string display;
};

// What the service reads of one draft order (an entry of context.draftOrders).
struct DraftOrder {
  std::string resource_type;
  std::string id;    // may be empty
  std::string path;  // "context.draftOrders.entry[1].resource"
  // The order's code: ServiceRequest.code, Procedure.code,
  // MedicationRequest.medicationCodeableConcept (or medicationReference.display).
  std::vector<CodeValue> codings;
  std::vector<std::string> texts;
  // bodySite codings and texts.
  std::vector<CodeValue> body_site_codings;
  std::vector<std::string> body_site_texts;
};

// One prefetch value of the request.
struct PrefetchValue {
  // The value's JSON text as the client sent it (byte for byte); nullopt
  // for null (the client has no data).
  std::optional<std::string> json;
  // ReadFhirPayload of the value, when ParseHookRequest was given a template
  // for its key; nullopt otherwise (and for null).
  std::optional<FhirPayload> payload;
};

struct HookRequest {
  Hook hook = Hook::kPatientView;
  std::string hook_instance;
  std::string fhir_server;   // absolute http(s) base URL without a trailing '/'; empty when absent
  std::string access_token;  // fhirAuthorization.access_token; empty when absent
  std::string user_id;
  std::string patient_id;
  std::string encounter_id;             // empty when absent
  std::vector<std::string> selections;  // order-select: "Type/id"
  std::vector<DraftOrder> draft_orders;
  std::map<std::string, PrefetchValue, std::less<>> prefetch;  // by prefetch key
};

// Reads `body` as a request for a service of hook `expected`. The prefetch
// values whose keys are among `templates` (the service's) are read as FHIR
// payloads on the way (PrefetchValue::payload), from the request's own parse.
tl::expected<HookRequest, CallError> ParseHookRequest(std::string_view body, Hook expected,
                                                      std::span<const PrefetchTemplate> templates = {});

// True iff `text` is an RFC 6750 b64token / RFC 9110 token68: 1*( ALPHA /
// DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" -- what may follow
// "Bearer " in an Authorization header.
bool IsToken68(std::string_view text);

// True iff `text` is a FHIR id: 1 to 64 of [A-Za-z0-9-.] (fhir/fhir_id.h).
using fhir::IsFhirId;

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_HOOK_REQUEST_H_
