// The safety invariants every assessment must satisfy, and the record
// variations used to test them as properties (tests only).
#ifndef REGENPATH_TESTS_SCENARIOS_SAFETY_INVARIANTS_H_
#define REGENPATH_TESTS_SCENARIOS_SAFETY_INVARIANTS_H_

#include <string>
#include <vector>

#include "engine/assessment.h"

namespace regenpath::engine {

// What a variation put into the record (an oracle independent of the engine).
struct RecordFacts {
  bool red_flag = false;
  bool active_cancer = false;
  // Therapies an added finding absolutely contraindicates (facts §2c).
  std::vector<std::string> contraindicated_therapies;
  // Antithrombotic / NSAID ingredients the record now has active orders for.
  std::vector<std::string> antithrombotics;
  // The record codes an indication for secondary-prevention antiplatelet
  // therapy (coronary disease, stent, stroke/TIA, PAD).
  bool secondary_prevention = false;
};

// Returns a description of every violated invariant:
//  - a red flag: no regenerative option and no other elective injection is
//    recommended or consider (and an added red flag is recognized);
//  - active-cancer pain: no regenerative option recommended or consider;
//  - an absolute contraindication: the option is contraindicated;
//  - a relative one: listed, and the status is never recommended;
//  - every regenerative option not contraindicated carries image guidance and
//    a hold entry for each of the patient's current antithrombotics;
//  - no next step proposes an option that is not recommended or
//    contraindicated;
//  - at urgent referral no manual or procedural therapy (spinal manipulation,
//    massage, any injection) is recommended or consider;
//  - with a coded secondary-prevention indication, no aspirin hold has a
//    positive number of days (it is a shared decision; "no hold" stays 0).
std::vector<std::string> CheckSafetyInvariants(const Assessment& assessment, const RecordFacts& facts);

// Returns a description of every finding whose patient data is missing:
//  - every criterion (stage criteria, option rationale, pre-checks) that is
//    met or not met carries at least one datum or says what was looked for;
//  - every met criterion that rests on the record carries at least one
//    resource reference, and its references are exactly its data's;
//  - every red flag, contraindication and medication hold carries its data.
// `counts` (optional) receives [criteria checked, met criteria from the
// record].
std::vector<std::string> CheckEvidenceCoverage(const Assessment& assessment, size_t* counts = nullptr);

// A change to a record's Bundle JSON and what it implies.
struct Variation {
  std::string name;
  std::vector<std::string> resources;  // JSON resources appended to Bundle.entry
  RecordFacts facts;
  std::string Apply(const std::string& bundle_json) const;
};

// The variations applied to every scenario.
const std::vector<Variation>& Variations();

}  // namespace regenpath::engine

#endif  // REGENPATH_TESTS_SCENARIOS_SAFETY_INVARIANTS_H_
