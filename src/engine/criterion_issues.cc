// The data issues next to the criteria they concern (Assessor::AttachIssues,
// see assessor.h): an issue of the record (an unknown element, a value that
// is not valid FHIR) about a resource behind a criterion is shown with that
// criterion, not only in the list at the end. So is an issue that may have
// kept a resource out of a criterion: on an element the criterion's
// definition reads, of a resource of a type it reads, not among its data
// (an unreadable authoredOn that left a MedicationRequest uncounted).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "engine/assessor.h"
#include "engine/datum_reader.h"
#include "engine/definition_reads.h"

namespace regenpath::engine {

namespace {

// "Bundle.entry[3].resource" of "Bundle.entry[3].resource.effectiveDateTime".
std::string ResourcePath(const std::string& location) {
  const std::string marker = "].resource";
  const size_t at = location.find(marker);
  return at == std::string::npos ? "" : location.substr(0, at + marker.size());
}

// The first element under the resource: "effectiveDateTime" of
// "Bundle.entry[3].resource.effectiveDateTime", "dosage" of
// "...resource.dosage[0].text"; "" for the resource itself.
std::string FirstElement(const std::string& location, const std::string& resource_path) {
  if (location.size() <= resource_path.size() + 1 || location[resource_path.size()] != '.') return "";
  const size_t start = resource_path.size() + 1;
  size_t end = start;
  while (end < location.size() && location[end] != '.' && location[end] != '[') ++end;
  return location.substr(start, end - start);
}

// True when `element` is one of `read`, or a choice element of one
// ("effectiveDateTime" of "effective").
bool ElementRead(const std::set<std::string, std::less<>>& read, const std::string& element) {
  if (element.empty()) return false;
  if (read.count(element) != 0) return true;
  for (size_t end = 1; end < element.size(); ++end) {
    if (std::isupper(static_cast<unsigned char>(element[end])) && read.count(element.substr(0, end)) != 0) return true;
  }
  return false;
}

// An issue of the record with the resource it is about.
struct ResourceIssue {
  std::string reference;  // "MedicationRequest/m2"
  std::string type;       // "MedicationRequest"
  std::string element;    // "authoredOn"; "" for the resource itself
  std::string text;       // "severity: message at location"
};

}  // namespace

void Assessor::AttachIssues(const fhir::Document& original, Assessment& out) const {
  // The issues by the resource they are about.
  std::map<std::string, std::vector<const AssessmentIssue*>> by_path;
  for (const AssessmentIssue& issue : out.issues) {
    std::string path = ResourcePath(issue.location);
    if (!path.empty()) by_path[path].push_back(&issue);
  }
  if (by_path.empty()) return;
  std::vector<ResourceIssue> issues;
  for (const fhir::Node* resource : original.resources()) {
    auto found = by_path.find(resource->Path());
    if (found == by_path.end()) continue;
    for (const AssessmentIssue* issue : found->second) {
      issues.push_back(ResourceIssue{ReferenceOf(*resource), std::string(resource->type_name()),
                                     FirstElement(issue->location, found->first),
                                     fmt::format("{}: {} at {}", issue->severity, issue->message, issue->location)});
    }
  }
  if (issues.empty()) return;
  const std::string& not_counted = kb_.pathway().issue_not_counted;
  auto add = [](Criterion& criterion, std::string text) {
    if (std::find(criterion.issues.begin(), criterion.issues.end(), text) == criterion.issues.end()) {
      criterion.issues.push_back(std::move(text));
    }
  };
  auto attach = [&](Criterion& criterion) {
    // What the criterion's definition reads: from the knowledge base alone,
    // kept by the engine for every assessment (computed per assessment, it
    // was 2.5 % of a population screening's instructions).
    const DefinitionReads* reads = nullptr;
    if (!criterion.definition.empty()) {
      if (const knowledge::Definition* definition = kb_.FindDefinition(criterion.definition)) {
        reads = &tables_.definition_reads.Of(kb_, *definition);
      }
    }
    for (const ResourceIssue& issue : issues) {
      const bool among_data =
          std::find(criterion.evidence.begin(), criterion.evidence.end(), issue.reference) != criterion.evidence.end();
      if (among_data) {
        add(criterion, issue.text);
        continue;
      }
      // Left out, perhaps because of the issue.
      if (reads == nullptr || not_counted.empty() || reads->types.count(issue.type) == 0) continue;
      // Only an element it names: a definition that may read whole subtrees
      // does not make every issue of every resource of its type its own.
      if (!ElementRead(reads->elements, issue.element)) continue;
      add(criterion, FillTemplate(not_counted, {{"issue", issue.text}, {"resource", issue.reference}}));
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
