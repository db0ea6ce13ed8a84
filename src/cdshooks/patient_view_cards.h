// Patient-view cards: what regenpath says when a chart is opened.
//
// Rules (docs/cds-hooks.md, "patient-view"):
//  - a deceased patient -> one info card saying so, and nothing else;
//  - no in-scope condition -> no card;
//  - red flags -> one critical card for the whole set of red flags, first;
//  - one card per in-scope condition with its stage's indicator (the
//    knowledge base's stage table: warning for urgent referral and
//    integrative oncology care), raised to warning when one of its
//    regenerative options is contraindicated. Warnings come before infos.
// Each condition card's detail gives the stage and why, the criteria met /
// not met / unknown with their evidence, the next steps, the regenerative
// options with status and every source's evidence side by side (negative
// ones included), contraindications, holds and image guidance, the missing
// data, the sources, and marks facts resting on U entries as unverified.
#ifndef REGENPATH_CDSHOOKS_PATIENT_VIEW_CARDS_H_
#define REGENPATH_CDSHOOKS_PATIENT_VIEW_CARDS_H_

#include <vector>

#include "cdshooks/card.h"
#include "engine/assessment.h"

namespace regenpath::cdshooks {

// The cards for `assessment` (identifiers are assigned later).
// `smart_launch_url` not empty: each condition's card also links the web app
// (type smart, appContext = the condition's knowledge-base id).
std::vector<Card> BuildPatientViewCards(const engine::Assessment& assessment, const std::string& smart_launch_url = "");

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_PATIENT_VIEW_CARDS_H_
