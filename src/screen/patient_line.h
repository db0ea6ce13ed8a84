// One patient's screening line: a projection of their assessment.
//
// The line is defined on the assessment's JSON form
// (shared/spec/assessment.schema.json, what `assess --format json` prints):
// ProjectAssessment reads the schema's stable field names. The screen
// writes it from the engine's Assessment instead (ScreeningLine), without
// rendering and re-reading the whole JSON per patient; both readers feed
// one writer. The two lines are held byte-identical on every clinical
// scenario and Synthea bundle (tests/screen/patient_line_test.cc); the
// screen's lines are held equal to `assess`'s output projected by
// ProjectAssessment on the 13-patient Synthea export
// (tests/screen/assess_equality_test.cc) and, as parsed JSON, on a
// generated population (tests/screen/test_population_equality.py, with
// bench/check_assess_equality.py).
//
//   {"patient":"Patient/1","deceased":false,"stage":"<stage id>","candidate":true,"option_open":true,
//    (after "deceased", "replaced_by":"Patient/2" for a record merged into another,
//     then "active":false for a record not in active use)
//    "conditions":[{"id":"knee-osteoarthritis","stage":"<stage id>"}],
//    "regenerative_options":[{"id":"prp-knee","condition":"knee-osteoarthritis","therapy":"prp","status":"consider"}],
//    "next_steps":[{"kind":"diagnostic","condition":"...","display":"..."}],
//    "missing_data":["platelet-count"],"red_flags":["cauda-equina"],"issues":0}
//
// Pure functions; thread-safe except ProjectAssessment's `parser` argument.
#ifndef REGENPATH_SCREEN_PATIENT_LINE_H_
#define REGENPATH_SCREEN_PATIENT_LINE_H_

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/assessment.h"

namespace regenpath::screen {

// The screening line (no newline) of the patient `reference`, from their
// assessment JSON. Fails when the JSON lacks a required field.
// The line's definition, which the tests hold ScreeningLine to (the screen
// itself does not call it).
Result<std::string> ProjectAssessment(std::string_view reference, std::string_view assessment_json,
                                      simdjson::dom::parser& parser);

// The same line from the assessment itself: what ProjectAssessment gives
// for report::AssessmentToJson(assessment), whose strings are UTF-8 (the
// record parser and the knowledge-base loader refuse anything else). A
// string that is not would make that JSON invalid and ProjectAssessment
// fail; here its bad bytes are written as U+FFFD (AppendJsonString).
std::string ScreeningLine(std::string_view reference, const engine::Assessment& assessment);

// The line of a patient whose record could not be read at all: the
// reference, and the error instead of a stage.
std::string UnreadableRecordLine(std::string_view reference, std::string_view error);

// The fields of a screening line, read back (for the CSV and the summary).
struct PatientSummary {
  std::string patient;
  std::string deceased;  // "true", "false" or "" (unknown)
  // The record it was merged into (Patient.link replaced-by; maybe ""), if any.
  std::optional<std::string> replaced_by;
  bool inactive = false;  // the record is not in active use (Patient.active false)
  std::string stage;     // "" for an unreadable record
  bool candidate = false;    // the stage offers regenerative options
  bool option_open = false;  // one is open for a shared decision (the assessment's regenerative_option_open)
  std::string error;
  std::vector<std::pair<std::string, std::string>> conditions;  // id, stage
  struct Option {
    std::string id, condition, therapy, status;
  };
  std::vector<Option> options;
  struct NextStep {
    std::string condition, kind, display;  // condition: empty for a step of no one condition
  };
  std::vector<NextStep> next_steps;
  std::vector<std::string> missing_data;
  std::vector<std::string> red_flags;
  int64_t issues = 0;
};

Result<PatientSummary> ReadPatientLine(std::string_view line, simdjson::dom::parser& parser);

// The CSV header and one row (RFC 4180, common/csv_field.h: a field that
// starts as a spreadsheet formula would is written after an apostrophe,
// which a reader drops before splitting): the patient line's fields; lists
// joined with ';' (an item's own ';' and '\\' escaped with '\\'), pairs as
// id:value (the first ':' separates).
std::string CsvHeader();
std::string CsvRow(const PatientSummary& patient);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_PATIENT_LINE_H_
