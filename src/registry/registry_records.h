// The registry's data model: what one import writes and what the reports
// read. Plain values; no identifiers of a person (patients are pseudonyms,
// see pseudonymizer.h). Dates are "YYYY-MM-DD" (the day of the event as the
// source recorded it; times are not kept).
#ifndef REGENPATH_REGISTRY_REGISTRY_RECORDS_H_
#define REGENPATH_REGISTRY_REGISTRY_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace regenpath::registry {

// Closed vocabulary of adverse events the registry counts separately
// (issue 10; clinical-facts.md §2e).
enum class AdverseEventCategory {
  kInfection,
  kBleeding,  // bleeding / hematoma
  kSensoryDisturbance,
  kPostInjectionFlare,
  kVasovagal,
  kOther,
};
// "infection", "bleeding", "sensory-disturbance", "post-injection-flare",
// "vasovagal", "other".
const char* AdverseEventCategoryCode(AdverseEventCategory category);
// The category of `code`; nullopt for an unknown code.
std::optional<AdverseEventCategory> ParseAdverseEventCategory(const std::string& code);

// One episode of care: a patient, an option of the knowledge base (therapy x
// target) on one side / level, from its first procedure on.
struct Episode {
  std::string key;        // "<pseudonym>|<option>|<side>"
  std::string patient;    // pseudonym
  std::string option_id;  // knowledge-base option id, e.g. "prp-knee"
  std::string therapy;
  std::string target;
  std::string condition;  // knowledge-base condition id, or empty
  std::string side;       // left | right | bilateral | level text | empty
  std::string start_date; // the first procedure's date
  // The assessment that preceded it and the CDS card feedback, when given.
  std::string assessment_stage;
  std::string option_status;
  std::string kb_version;
  std::string feedback;         // accepted | overridden | empty
  std::string override_reason;  // free text or code of the override
  bool synthetic = false;
};

// One procedure of a series (FHIR Procedure).
struct ProcedureRecord {
  std::string key;          // "Procedure|<identifier or fullUrl>"
  std::string episode_key;
  std::string patient;
  std::string date;
  std::string kind = "index";  // index (the option's injection) | surgery
  std::string image_guidance;  // ultrasound | fluoroscopy | ct | landmark | empty
  std::string prp_leukocytes;  // rich | poor | empty
  std::optional<double> volume_ml;
  std::optional<double> platelet_concentration;  // 10*9/L
  std::optional<double> bmc_nucleated_cells;     // cells
  std::optional<double> dextrose_percent;
  int series_number = 1;
};

// One score (FHIR Observation or a scored QuestionnaireResponse).
struct OutcomeRecord {
  std::string key;  // "Observation|..." or "QuestionnaireResponse|..."
  std::string patient;
  std::string instrument;  // knowledge-base instrument id
  std::string date;
  double value = 0;
};

// One adverse event (FHIR AdverseEvent).
struct AdverseEventRecord {
  std::string key;
  std::string patient;
  std::string episode_key;  // from suspectEntity -> Procedure, else the latest episode
  AdverseEventCategory category = AdverseEventCategory::kOther;
  bool serious = false;
  std::string onset;
  std::string resolved;     // empty: not resolved / unknown
  std::string relatedness;  // related | possibly | unrelated | empty
};

// Who wrote what, when (FHIR AuditEvent-like): one row per write, action and
// entity type, for up to 1,000 entities (audit_entities.h). Never holds an
// identifier of the patient: `entity` lists the resources' registry keys.
struct AuditRow {
  int64_t id = 0;
  std::string recorded;  // instant
  std::string actor;     // token subject, or "cli:<user>"
  std::string action;    // create | update | migrate | reject
  std::string entity_type;
  std::string entity;    // JSON array of the registry keys written (audit_entities.h)
  std::string outcome;   // success | failure
  int64_t entity_count = 1;
};

// What one import writes in one transaction.
struct WriteBatch {
  std::vector<std::pair<std::string, bool>> patients;  // pseudonym, synthetic
  std::vector<Episode> episodes;
  std::vector<ProcedureRecord> procedures;
  std::vector<OutcomeRecord> outcomes;
  std::vector<AdverseEventRecord> adverse_events;
  bool synthetic = false;
  bool empty() const {
    return episodes.empty() && procedures.empty() && outcomes.empty() && adverse_events.empty();
  }
};

// Counts of a committed write.
struct WriteSummary {
  int created = 0;
  int updated = 0;
};

// Everything the reports need about the episodes of one option (or all).
struct Cohort {
  std::vector<Episode> episodes;
  std::vector<ProcedureRecord> procedures;
  std::vector<OutcomeRecord> outcomes;
  std::vector<AdverseEventRecord> adverse_events;
};

// The stored report facts of one episode (episode_facts.h gives their
// meaning and the format of `groups` and `data`).
struct FactsRow {
  std::string option_id;
  std::string episode_key;
  std::string patient;
  bool synthetic = false;
  std::string groups;  // the group values and the first procedure, separated by \x1f
  std::string data;    // everything else, binary (episode_facts.cc)
};

// A FactsRow seen in place (RegistryStore::ForEachFacts): the views point
// into the store's own buffers and are valid only during the call they are
// given to.
struct FactsRowView {
  std::string_view option_id;
  std::string_view episode_key;
  std::string_view patient;
  bool synthetic = false;
  std::string_view groups;
  std::string_view data;
  // False when the store did not read `groups` (FactsScan::groups): the
  // group values are then unknown, and DecodeFacts() leaves them empty.
  bool has_groups = true;
};

// One stored follow-up worklist candidate (followup_worklist.h): a timepoint
// of an episode's schedule for one instrument that has no score in its
// window, kept beside the report facts and refreshed with them
// (due_windows.h). Whether it is on the worklist depends on the day of
// the worklist (DueOn()). Days are civil_day.h day numbers.
struct DueRow {
  int window_first = 0;
  int window_last = 0;
  std::string episode_key;
  std::string option_id;
  std::string instrument;
  double weeks = 0;
  bool seen_later = false;  // the patient has a score on the instrument after window_last
  std::string patient;
  std::string procedure;  // key of the episode's first procedure
};

// Where a page of the worklist starts: after this key of the worklist's
// order (window_last, episode_key, option_id, instrument).
struct DueCursor {
  int window_last = 0;
  std::string episode_key;
  std::string option_id;
  std::string instrument;
};

// A read of the worklist: the candidates due on `today` (window_first <=
// today, and not overdue with a later score), with window_last <=
// `last_bound` (the caller's bound: today + the widest window), after
// `after`, in the worklist's order, at most `limit` (0: all).
struct DueQuery {
  int today = 0;
  int last_bound = 0;
  std::optional<DueCursor> after;
  int limit = 0;
};

// How many rows a batch writes (patients, episodes, procedures, outcomes,
// adverse events).
size_t RowCount(const WriteBatch& batch);

// Every patient a batch writes a row of (sorted, without duplicates).
std::vector<std::string> TouchedPatients(const WriteBatch& batch);

// A patient whose report facts are out of date, and how many writes made
// them so (a refresh clears the mark only if no write came in between).
struct StalePatient {
  std::string patient;
  int64_t version = 0;
};

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_REGISTRY_RECORDS_H_
