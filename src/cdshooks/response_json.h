// The JSON the service writes: card responses, OperationOutcomes and the
// discovery document. Empty optional fields are omitted (no "", [] or null
// ever appears, spec "Use of JSON"). The only file that includes Boost.JSON.
#ifndef REGENPATH_CDSHOOKS_RESPONSE_JSON_H_
#define REGENPATH_CDSHOOKS_RESPONSE_JSON_H_

#include <string>
#include <vector>

#include "cdshooks/card.h"
#include "cdshooks/service_catalog.h"

namespace regenpath::cdshooks {

// {"cards": [...]}.
std::string CardsResponseJson(const std::vector<Card>& cards);

// A FHIR OperationOutcome with `issues` (at least one is written).
std::string OperationOutcomeJson(const std::vector<OutcomeIssue>& issues);

// {"services": [...]} with hook, id, title, description, prefetch,
// usageRequirements, version (of CDS Hooks) and hookVersion.
std::string DiscoveryJson(const std::vector<ServiceDefinition>& services);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_RESPONSE_JSON_H_
