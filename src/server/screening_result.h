// ScreeningResult: the latest population-screening output (`regenpath
// screen --output DIR`, docs/screening.md) as the web app's Worklist shows it.
//
// Reads DIR/summary.json, DIR/Group.json (the regenerative candidates) and
// DIR/run.json at each call, so a new screen run written into DIR (screen
// moves its files in only when all are complete) is picked up without a
// restart. The answer carries patient references only (`Patient/<id>` from
// the Group's members): no names, no other patient data.
#ifndef REGENPATH_SERVER_SCREENING_RESULT_H_
#define REGENPATH_SERVER_SCREENING_RESULT_H_

#include <string>

#include "common/status.h"

namespace regenpath::server {

// {"now": <run.json's now or null>, "completed": <summary.json's mtime, UTC
// ISO 8601>, "summary": <summary.json as written>, "candidates":
// ["Patient/...", ...]} (Group.json's member[].entity.reference, in its
// order). kNotFound when DIR or summary.json / Group.json is missing, or
// when DIR holds one shard's output (shard.json: a part of the worklist
// shown as the whole);
// kInvalidInput (naming the file) when one is not the JSON screen writes.
Result<std::string> LatestScreeningJson(const std::string& dir);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_SCREENING_RESULT_H_
