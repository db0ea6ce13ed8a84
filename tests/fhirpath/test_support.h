// What the FHIRPath tests share (tests only).
#ifndef REGENPATH_TESTS_FHIRPATH_TEST_SUPPORT_H_
#define REGENPATH_TESTS_FHIRPATH_TEST_SUPPORT_H_

#include "common/date_time.h"
#include "fhir/document.h"
#include "fhirpath/evaluation_context.h"

namespace regenpath::fhirpath::testing {

// A context that evaluates on `document`'s root, resolve() finding its
// resources, at a fixed now (2024-01-01T00:00:00Z); the limits are the
// defaults.
inline EvaluationContext DocumentContext(const fhir::Document& document) {
  EvaluationContext context;
  context.document = &document;
  context.resource = &document.root();
  context.now = *DateTime::ParseDateTime("2024-01-01T00:00:00Z");
  return context;
}

}  // namespace regenpath::fhirpath::testing

#endif  // REGENPATH_TESTS_FHIRPATH_TEST_SUPPORT_H_
