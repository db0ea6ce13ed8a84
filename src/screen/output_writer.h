// Writes a screening run's output directory from the patients' lines, given
// in patient order:
//   patients.ndjson   one line per patient (screen/patient_line.h)
//   patients.csv      the same, one row per patient
//   summary.json      counts per stage, condition, option status, red flag,
//   summary.txt       missing datum; deceased patients and the lines that were
//                     no patient's resource, with their counts
//   MeasureReport.json  the summary as a FHIR R4 MeasureReport (type summary)
//   Group.json        the regenerative candidates as a FHIR R4 Group
//   run.json          the run's facts (screen/run_facts.h)
//   issues.ndjson     every line skipped as malformed, with file and line
// Files are written under DIR/.partial and moved into DIR only when all are
// complete: a failed run leaves no partial output behind.
#ifndef REGENPATH_SCREEN_OUTPUT_WRITER_H_
#define REGENPATH_SCREEN_OUTPUT_WRITER_H_

#include <simdjson.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "screen/patient_line.h"
#include "screen/run_facts.h"

namespace regenpath::screen {

class OutputWriter {
 public:
  // Creates DIR (and DIR/.partial) if absent.
  static Result<std::unique_ptr<OutputWriter>> Open(const std::string& dir);
  ~OutputWriter();

  // The next patient's line (no newline), in patient order.
  Status AddPatient(std::string_view line);

  // Writes the summaries and moves every file into place. `extra_files`
  // (name -> content) are written too (a shard's shard.json); an optional
  // output file not among them (shard.json) that an earlier run left in the
  // directory is removed. `shard` ({I, N}, N > 1), when given, says the
  // output is shard I of N of a run: its Group gets an identifier of its own
  // and a name saying so (a conditional update by the worklist's identifier
  // cannot replace the whole list with one shard's), and its MeasureReport
  // the status pending (`screen merge` gives the complete ones).
  Status Finish(const RunFacts& facts, std::string_view issues_ndjson,
                const std::map<std::string, std::string>& extra_files = {},
                std::optional<std::pair<uint32_t, uint32_t>> shard = std::nullopt);

  uint64_t patients() const { return patients_; }

 private:
  explicit OutputWriter(std::string dir) : dir_(std::move(dir)) {}
  Status Write(std::FILE* file, std::string_view text, const char* name);

  std::string dir_;
  std::string partial_;
  std::FILE* ndjson_ = nullptr;
  std::FILE* csv_ = nullptr;
  simdjson::dom::parser parser_;
  uint64_t patients_ = 0;
  std::string last_patient_;
  // Summary counts.
  uint64_t deceased_ = 0, unreadable_ = 0, with_issues_ = 0;
  // Records merged into another (Patient.link replaced-by): excluded from
  // the counts, like deceased patients, and counted.
  uint64_t replaced_ = 0;
  std::map<std::string, uint64_t> stages_;
  std::map<std::string, std::map<std::string, uint64_t>> conditions_;  // id -> stage -> count
  std::map<std::string, std::map<std::string, uint64_t>> options_;     // id -> status -> count
  std::map<std::string, uint64_t> red_flags_, missing_data_;
  std::vector<std::string> candidates_;  // the Group's members
  // Candidates without a Patient resource ("deceased": null): whether they
  // are alive is unknown, so they are on no worklist (counted).
  uint64_t candidates_unknown_vital_status_ = 0;
  // Candidates none of whose regenerative options is open (each recommended
  // against or contraindicated, or none listed): on no worklist (counted).
  uint64_t candidates_no_option_open_ = 0;
  // Candidates whose record is not in active use (Patient.active false):
  // on no worklist (counted).
  uint64_t candidates_inactive_ = 0;
  // Candidates whose id is no FHIR id: a Group member referencing it would
  // make the worklist one a server refuses (counted; the record has the issue).
  uint64_t candidates_invalid_id_ = 0;
};

// Merges files of patients' lines, each in patient order, into one sequence
// in patient order (a k-way merge, streaming). Fails on a line that is not a
// screening line or a file out of order, naming it.
Status MergePatientFiles(const std::vector<std::string>& files,
                         const std::function<Status(std::string_view line)>& visit);

// The patient reference of a screening line (its "patient" member).
Result<std::string> PatientOfLine(std::string_view line);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_OUTPUT_WRITER_H_
