// Checks of a CDS Hooks 2.0 card response against the specification: the
// invariants of the CDSHooksResponse logical model (cds-resp-1 .. cds-resp-7)
// and the field rules of "Card Attributes" and "Use of JSON". Used by the
// tests on every response the service gives; cheap enough for a debug check.
#ifndef REGENPATH_CDSHOOKS_RESPONSE_INVARIANTS_H_
#define REGENPATH_CDSHOOKS_RESPONSE_INVARIANTS_H_

#include <string>
#include <string_view>
#include <vector>

namespace regenpath::cdshooks {

struct ResponseCheckOptions {
  // Every card and suggestion must have a uuid (regenpath always gives them;
  // the specification makes them optional).
  bool require_uuids = true;
  // uuids must be RFC 9562 UUIDs (the logical model types them as uuid).
  bool uuid_format = true;
};

// Every violation found in `json`, one line each, prefixed with the element
// path and, where one applies, the invariant ("cards[1].selectionBehavior:
// required when suggestions are present (cds-resp-6)"). Empty when the
// response conforms.
//  - cds-resp-1: selectionBehavior at-most-one -> at most one isRecommended;
//  - cds-resp-2: a delete action has resourceId and no resource;
//  - cds-resp-3: appContext only on smart links;
//  - cds-resp-4: every override reason has a display;
//  - cds-resp-5: every suggestion action has a description;
//  - cds-resp-6: suggestions -> selectionBehavior;
//  - cds-resp-7: actionSelectionBehavior is all, any or at-most-one;
// plus: cards is an array; summary present and under 140 characters;
// indicator info|warning|critical; source.label; selectionBehavior any or
// at-most-one; action type create|update|delete and resource for create /
// update; link label, absolute url and type absolute|smart; Codings with code
// and system; uuids unique; no null, "", [] or {} anywhere (except an empty
// cards array).
std::vector<std::string> CheckCardsResponse(std::string_view json, const ResponseCheckOptions& options = {});

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_RESPONSE_INVARIANTS_H_
