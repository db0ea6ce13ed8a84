// RecordAssembler: the patient's record for one call, as a FHIR collection
// Bundle, from the request's prefetch and, for what is missing, from the
// client's FHIR server (CDS Hooks 2.0 "Providing FHIR Resources").
//
// For each prefetch template of the service:
//  - key present with a resource or searchset Bundle: its resources; a
//    Bundle with a `next` link is paged through on fhirServer;
//  - key present with null: no data;
//  - key present with an OperationOutcome: the client's fetch failed, so the
//    query is run on fhirServer;
//  - key absent: not prefetched, so the query is run on fhirServer.
// Queries go to fhirServer with the fhirAuthorization bearer token (none when
// the request has no fhirAuthorization). `next` links are followed only
// within fhirServer (the token is never sent elsewhere), at most
// `max_pages_per_query` pages, never the same URL twice. Before the first
// fetch the client is asked whether fhirServer may be read at all
// (FhirClient::CheckServer); a refusal is a 400 on `fhirServer`.
//
// Failures: a prefetch value of the wrong shape, or data of another patient in
// the prefetch -> 400; data that can be neither read from the prefetch nor
// fetched (no fhirServer, or the fetch failed) -> 412 with one issue per
// prefetch key saying what is missing; a failed GET is only said to have
// failed ("could not be obtained"), never how (refused, timed out, an HTTP
// status), so the 412 cannot map the network behind the service. Resources are deduplicated by
// type and id; Bundle entries keep their fullUrl so references resolve.
#ifndef REGENPATH_CDSHOOKS_RECORD_ASSEMBLER_H_
#define REGENPATH_CDSHOOKS_RECORD_ASSEMBLER_H_

#include <cstddef>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "cdshooks/card.h"
#include "cdshooks/fhir_client.h"
#include "cdshooks/hook_request.h"
#include "cdshooks/service_catalog.h"

namespace regenpath::cdshooks {

struct AssemblyLimits {
  int max_pages_per_query = 20;
  size_t max_record_bytes = size_t{64} << 20;
};

struct AssembledRecord {
  std::string bundle_json;  // a FHIR Bundle of type collection
  size_t resource_count = 0;
  // Per entry of the Bundle, where its resource came from, in words a
  // client can find it by: "prefetch 'patient'" (a resource), "prefetch
  // 'conditions' entry[2]" (that prefetch Bundle's entry), "'conditions' as
  // fetched from fhirServer".
  std::vector<std::string> entry_origins;
};

// `client` may be null (nothing is fetched). Thread-safe if `client` is.
tl::expected<AssembledRecord, CallError> AssembleRecord(const HookRequest& request,
                                                        const std::vector<PrefetchTemplate>& templates,
                                                        FhirClient* client, const AssemblyLimits& limits);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_RECORD_ASSEMBLER_H_
