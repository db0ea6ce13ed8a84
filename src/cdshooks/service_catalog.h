// ServiceCatalog: regenpath's three CDS services and their prefetch
// templates, derived from the knowledge base (docs/cds-hooks.md).
//
// The prefetch templates name what the knowledge base's definitions read:
// one key per FHIR resource type found as ofType(<Type>) in a definition
// (Patient as a read, the others as `?patient=` searches; types that cannot
// be searched by patient, such as Medication, come through an _include), and
// the Observation search is narrowed to the codes of the value sets its
// definitions test with code.memberOf(...). No code is written in C++.
//
// Immutable after BuildServiceCatalog; thread-safe.
#ifndef REGENPATH_CDSHOOKS_SERVICE_CATALOG_H_
#define REGENPATH_CDSHOOKS_SERVICE_CATALOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "knowledge/knowledge_base.h"

namespace regenpath::cdshooks {

enum class Hook { kPatientView, kOrderSelect, kOrderSign };

// "patient-view", "order-select", "order-sign".
std::string_view HookName(Hook hook);

struct PrefetchTemplate {
  std::string key;            // "conditions"
  std::string resource_type;  // "Condition"
  std::string query;          // "Condition?patient={{context.patientId}}"
  bool is_read = false;       // a read of one resource (Patient/{{context.patientId}})
};

struct ServiceDefinition {
  std::string id;
  Hook hook = Hook::kPatientView;
  std::string title;
  std::string description;  // markdown
  std::string usage_requirements;
  std::vector<PrefetchTemplate> prefetch;
};

// The three services for `kb`: regenpath-patient-view, regenpath-order-select
// and regenpath-order-sign, in that order.
std::vector<ServiceDefinition> BuildServiceCatalog(const knowledge::KnowledgeBase& kb);

// The prefetch templates alone (the same for every service).
std::vector<PrefetchTemplate> BuildPrefetchTemplates(const knowledge::KnowledgeBase& kb);

// `query` with {{context.patientId}} replaced by `patient_id` (a validated
// FHIR id) and made safe for a request target ('|' and other characters a
// URL may not carry are percent-encoded).
std::string ExpandQuery(std::string_view query, std::string_view patient_id);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_SERVICE_CATALOG_H_
