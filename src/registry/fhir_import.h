// FhirImporter: FHIR R4 in, registry rows out. Reads a Bundle (batch,
// transaction or collection), a single resource or NDJSON (one resource a
// line) of Patient, Procedure, Observation, QuestionnaireResponse and
// AdverseEvent, checks every resource and writes the good ones through a
// RegistryStore (docs/registry.md, "Import").
//
// Semantics:
// - Every rejected resource gets one issue with its location (a FHIRPath such
//   as "Bundle.entry[3].resource.valueQuantity.value", or "line 4:
//   Observation.subject" for NDJSON) and nothing of it is stored.
// - A transaction Bundle is all or nothing: one rejected entry and nothing
//   is written. A batch or collection Bundle and NDJSON keep the good entries.
// - Rows are keyed by the resource's identifier (or its fullUrl), so
//   importing the same input twice creates no duplicate.
// - Patients are pseudonymised (pseudonymizer.h): the subject must carry an
//   identifier or reference a Patient of the same input that has one.
// - Scores out of the instrument's range, unknown instruments, dates after
//   `today`, and references to a procedure of another patient are rejected.
// Not thread-safe (one importer per call); the store may be shared.
#ifndef REGENPATH_REGISTRY_FHIR_IMPORT_H_
#define REGENPATH_REGISTRY_FHIR_IMPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/instrument_catalog.h"
#include "registry/pseudonymizer.h"
#include "registry/registry_store.h"

namespace regenpath::registry {

// One rejected resource (FHIR OperationOutcome.issue).
struct ImportIssue {
  int entry = -1;             // index of the entry / line (0-based); -1: the input as a whole
  std::string code;           // FHIR issue-type: invalid, required, value, not-supported, business-rule, processing
  std::string location;       // FHIRPath of the offending element
  std::string message;
};

// The fate of one entry, in input order.
struct EntryResult {
  std::string resource_type;
  std::string key;  // registry key when accepted
  bool accepted = false;
};

struct ImportResult {
  std::string bundle_type;     // batch | transaction | collection | ndjson | resource
  bool written = false;        // the store committed the accepted entries
  WriteSummary summary;
  std::vector<EntryResult> entries;
  std::vector<ImportIssue> issues;
  int accepted() const;
  int rejected() const;
};

enum class InputFormat { kJson, kNdjson };

class FhirImporter {
 public:
  // `today` ("YYYY-MM-DD"): dates after it are rejected. References stay
  // valid for the importer's life.
  FhirImporter(RegistryStore& store, const InstrumentCatalog& catalog, const Pseudonymizer& pseudonymizer,
               std::string today, bool synthetic = false);

  // Checks and writes `input`. Returns the result (with issues) whenever the
  // input could be read; fails with kInvalidInput when it is not JSON / not
  // a FHIR resource at all (the message names `source` and the position),
  // and with the store's error (kUnavailable: retry) when the write failed —
  // then nothing was written.
  Result<ImportResult> Import(std::string_view input, InputFormat format, std::string_view source,
                              const WriteContext& context);

 private:
  RegistryStore& store_;
  const InstrumentCatalog& catalog_;
  const Pseudonymizer& pseudonymizer_;
  std::string today_;
  bool synthetic_;
};

// The result as a FHIR OperationOutcome (one issue per rejected resource,
// an information issue when everything was accepted).
std::string OperationOutcomeJson(const ImportResult& result);
// The result as a FHIR batch-response / transaction-response Bundle: one
// entry per input entry with response.status (201, 200 or 400) and, for a
// rejected one, its OperationOutcome.
std::string ResponseBundleJson(const ImportResult& result);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_FHIR_IMPORT_H_
