// FhirPayload: what one prefetch value or one FHIR server response holds,
// by the CDS Hooks 2.0 rules for prefetch data:
//  - a resource or a searchset Bundle -> its resources (and the Bundle's
//    `next` link, when the client paginated);
//  - an OperationOutcome (alone, or an error entry in a Bundle) -> the fetch
//    failed;
//  - the 1.0 {"response": {"status": ...}, "resource": ...} wrapper is read
//    as its resource (or as a failure for a non-2xx status).
// Null prefetch values (no data) are decided by the caller, before this.
#ifndef REGENPATH_CDSHOOKS_FHIR_PAYLOAD_H_
#define REGENPATH_CDSHOOKS_FHIR_PAYLOAD_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cdshooks/service_catalog.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace regenpath::cdshooks {

struct PayloadEntry {
  std::string full_url;       // Bundle.entry.fullUrl, when given
  std::string resource_json;  // the resource's JSON text, as received
  std::string resource_type;
  std::string id;
  // subject.reference or patient.reference, when the resource has one.
  std::string patient_reference;
  // Its place in the answer: the index of its Bundle.entry, or nullopt for
  // an answer that is the resource itself (a read).
  std::optional<size_t> bundle_entry;
};

enum class PayloadKind {
  kResources,  // entries (possibly none: an empty search result)
  kNoData,     // the wrapper said there is nothing
  kFailed,     // an OperationOutcome: the fetch failed (message says why)
  kInvalid,    // not FHIR JSON of the expected shape (message says why)
};

struct FhirPayload {
  PayloadKind kind = PayloadKind::kResources;
  std::vector<PayloadEntry> entries;
  std::string next_url;  // Bundle.link where relation = next; empty when none
  std::string message;
};

// Reads `json` as the answer to `query` (its resource type and whether it is
// a read). Never fails: problems are kFailed / kInvalid with a message.
FhirPayload ReadFhirPayload(std::string_view json, const PrefetchTemplate& query);

// The same for a value already parsed (a prefetch value, read from the
// request's own parse): `root` is its DOM element, `json` its source text,
// and `raw_entries` (when not null) the source text of each Bundle.entry's
// resource in order (see RawMember), so the value is not parsed again.
FhirPayload ReadFhirPayload(const simdjson::dom::element& root, std::string_view json,
                            const std::vector<std::string_view>* raw_entries, const PrefetchTemplate& query);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_FHIR_PAYLOAD_H_
