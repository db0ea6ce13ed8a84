// The data issues next to the criteria they concern (Assessor::AttachIssues,
// see assessor.h): an issue of the record (an unknown element, a value that
// is not valid FHIR) about a resource behind a criterion is shown with that
// criterion, not only in the list at the end.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/assessor.h"
#include "engine/datum_reader.h"

namespace regenpath::engine {

namespace {

// "Bundle.entry[3].resource" of "Bundle.entry[3].resource.effectiveDateTime".
std::string ResourcePath(const std::string& location) {
  const std::string marker = "].resource";
  const size_t at = location.find(marker);
  return at == std::string::npos ? "" : location.substr(0, at + marker.size());
}

}  // namespace

void Assessor::AttachIssues(const fhir::Document& original, Assessment& out) {
  // The issues by the resource they are about.
  std::map<std::string, std::vector<const AssessmentIssue*>> by_path;
  for (const AssessmentIssue& issue : out.issues) {
    std::string path = ResourcePath(issue.location);
    if (!path.empty()) by_path[path].push_back(&issue);
  }
  if (by_path.empty()) return;
  std::map<std::string, std::vector<std::string>> by_reference;
  for (const fhir::Node* resource : original.resources()) {
    auto found = by_path.find(resource->Path());
    if (found == by_path.end()) continue;
    for (const AssessmentIssue* issue : found->second) {
      by_reference[ReferenceOf(*resource)].push_back(
          fmt::format("{}: {} at {}", issue->severity, issue->message, issue->location));
    }
  }
  if (by_reference.empty()) return;
  auto attach = [&](Criterion& criterion) {
    for (const std::string& reference : criterion.evidence) {
      auto found = by_reference.find(reference);
      if (found == by_reference.end()) continue;
      for (const std::string& text : found->second) {
        if (std::find(criterion.issues.begin(), criterion.issues.end(), text) == criterion.issues.end()) {
          criterion.issues.push_back(text);
        }
      }
    }
  };
  for (AssessedCondition& condition : out.conditions) {
    for (Criterion& criterion : condition.criteria) attach(criterion);
  }
  for (Recommendation& recommendation : out.recommendations) {
    for (Criterion& criterion : recommendation.rationale) attach(criterion);
    for (Criterion& criterion : recommendation.pre_checks) attach(criterion);
    if (recommendation.procedure) {
      for (MedicationHoldResult& hold : recommendation.procedure->medication_holds) {
        if (hold.check) attach(*hold.check);
      }
    }
  }
}

}  // namespace regenpath::engine
