// Calendar days as integers (days since 1970-01-01, proleptic Gregorian), for
// the registry's date arithmetic: follow-up weeks, windows, worklists. Pure
// functions; thread-safe.
#ifndef REGENPATH_REGISTRY_CIVIL_DAY_H_
#define REGENPATH_REGISTRY_CIVIL_DAY_H_

#include <optional>
#include <string>
#include <string_view>

namespace regenpath::registry {

// The day of a FHIR date or dateTime ("2026-01-31", "2026-01-31T10:00:00Z"):
// its first ten characters, which must be a real calendar date. nullopt for
// anything else (a partial date such as "2026-01" included).
std::optional<int> ParseCivilDay(std::string_view text);
// "YYYY-MM-DD".
std::string FormatCivilDay(int day);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_CIVIL_DAY_H_
