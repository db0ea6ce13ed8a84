// Engine: evaluates a knowledge base against one patient's record and
// explains every result (docs/knowledge-base.md, "How the engine uses it").
//
//   RP_ASSIGN_OR_RETURN(Engine engine, Engine::Create(knowledge::KnowledgeBase::Embedded()));
//   RP_ASSIGN_OR_RETURN(Assessment assessment, engine.Assess(document, now));
//
// An Engine is immutable after Create (but for a cache of what each
// definition reads, derived from the knowledge base alone and filled under a
// lock on first use) and may assess many records from many threads at once. Assess never fails on data: problems in the record become
// `issues` of the assessment. It fails only when the record holds several
// patients and the options do not pick one (an assessment is of exactly one
// patient; see patient_scope.h).
#ifndef REGENPATH_ENGINE_ENGINE_H_
#define REGENPATH_ENGINE_ENGINE_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/date_time.h"
#include "common/status.h"
#include "engine/assessment.h"
#include "fhir/document.h"
#include "fhir/element_filter.h"
#include "fhir/parser.h"
#include "fhir/resource_filter.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::engine {

struct EngineTables;

struct AssessOptions {
  // The patient to assess when the record holds several (a Patient id); the
  // other patients' resources are then excluded and reported as issues.
  std::optional<std::string> patient_id;
  // A planned procedure date: every hold gets its stop and restart dates and
  // every follow-up schedule its calendar dates (renderers compute none).
  std::optional<DateTime> procedure_date;
};

// Fills the dates of `assessment` from `procedure_date` (a Date): the holds'
// stop_on / restart_on and the follow-up plans' dates (procedure_dates.cc).
void PlanDates(const DateTime& procedure_date, Assessment& assessment);

class Engine {
 public:
  // Fails (kInvalidInput) when the knowledge base has problems (see
  // KnowledgeBase::problems(); `regenpath kb check` lists them).
  static Result<Engine> Create(std::shared_ptr<const knowledge::KnowledgeBase> kb);

  // Assesses the one patient of the record (a Bundle, NDJSON, or a single
  // resource) as of `now`. Resources of other patients are never used: they
  // are excluded and named in the issues. Fails (kInvalidInput, with a
  // message naming the patients) when the record holds several patients and
  // `options.patient_id` does not pick one of them.
  Result<Assessment> Assess(const fhir::Document& record, const DateTime& now,
                            const AssessOptions& options = {}) const;

  // The elements assessing a Bundle can read: parse records with this filter
  // to skip the rest (nullptr when every element may be needed).
  const fhir::ElementFilter* element_filter() const { return element_filter_.get(); }

  // The resources assessing a record can pass over, built as skeletons
  // (fhir/resource_filter.h): those of a type the knowledge base reaches only
  // through value-set gates whose codes and names their JSON does not hold
  // (never null; it passes nothing over when no type is gated). Only the
  // record's own resources are passed over (NDJSON lines, a Bundle's
  // entries). Assessing a record parsed with it gives the same assessment,
  // except that data issues inside the resources passed over are not
  // reported, and an evaluation error such a resource would have raised in
  // a gate's condition (a malformed element, e.g. a status given as an
  // array) does not happen: it could not pass the gate either way.
  const fhir::ResourceFilter* resource_filter() const { return resource_filter_.get(); }
  // The resource types outside the patient compartment that the knowledge
  // base reaches through a patient's references (resolve().ofType(T):
  // Medication): a record is complete for it only with those its resources
  // reference (`regenpath screen` adds them to each patient's record).
  const std::set<std::string, std::less<>>& shared_resource_types() const { return shared_resource_types_; }

  // How to parse a record this engine assesses: the element filter for a
  // Bundle root (everything for any other root) and the resource filter.
  fhir::ParseOptions RecordParseOptions() const;

  const knowledge::KnowledgeBase& kb() const { return *kb_; }

  // Unique to this engine (and its copies) in the process: a cache keyed by
  // it cannot mistake another engine created at the same address for it.
  uint64_t id() const { return id_; }

 private:
  explicit Engine(std::shared_ptr<const knowledge::KnowledgeBase> kb);

  std::shared_ptr<const knowledge::KnowledgeBase> kb_;
  std::shared_ptr<const EngineTables> tables_;
  std::shared_ptr<const fhir::ElementFilter> element_filter_;
  std::shared_ptr<const fhir::ResourceFilter> resource_filter_;
  std::set<std::string, std::less<>> shared_resource_types_;
  uint64_t id_ = 0;
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_ENGINE_H_
