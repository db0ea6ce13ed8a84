// A patient's resource lines, and the order in which a partition's lines are assessed: patient by patient,
// in byte order of the patient id, each patient's lines in input order
// (file, then line), as `regenpath assess` reads that patient's own file.
//
// The work is split so that little of it runs on one thread:
// GroupByPatient (one thread, in time linear in the lines) makes each
// patient's lines adjacent and returns the groups; OrderWithinPatient
// (cheap, run by whichever thread assesses the group) puts one group's lines
// in input order. LargestFirst orders the groups for the assessing threads
// (each result still goes to its patient's place).
#ifndef REGENPATH_SCREEN_PATIENT_ORDER_H_
#define REGENPATH_SCREEN_PATIENT_ORDER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace regenpath::screen {

// One resource line of a patient.
struct PatientLine {
  std::string_view patient_id;
  uint32_t file = 0;  // index of the input file
  uint64_t line = 0;  // 1-based line number in it
  std::string_view text;
};

// One patient's lines: [begin, end) of the grouped lines.
struct PatientGroup {
  std::string_view patient_id;
  size_t begin = 0, end = 0;
};

// Reorders `lines` in place so that each patient's lines are adjacent, the
// patients in byte order of their ids, and returns the patients' ranges in
// that order. A patient's lines keep their relative order (the grouping is
// stable). At most 2^32 - 1 lines (indexes are 32 bits).
std::vector<PatientGroup> GroupByPatient(std::vector<PatientLine>& lines);

// Sorts one patient's lines by (file, line).
void OrderWithinPatient(std::span<PatientLine> lines);

// The order in which to take `groups` (of `lines`) for assessment: indexes
// into `groups`, the patients with the most bytes of line text first (ties
// in group order), so that the last patients taken, which leave the other
// threads waiting at the end of a partition, are the smallest.
std::vector<uint32_t> LargestFirst(const std::vector<PatientLine>& lines,
                                   const std::vector<PatientGroup>& groups);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_PATIENT_ORDER_H_
