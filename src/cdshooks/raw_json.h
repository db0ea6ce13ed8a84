// Raw JSON spans: where values sit in the source text of a JSON document
// that a simdjson DOM parser has already accepted, so they can be passed on
// byte for byte instead of re-serialized. Nothing is re-formatted: numbers
// keep their exact text (FHIR decimals never go through double) and no time
// is spent minifying.
//
// The spans point into the caller's `json`. These functions locate; they do
// not validate (the DOM parse did). On any surprise (a key written with
// escapes, a shape they do not expect) the span is simply not reported and
// callers fall back to serializing their DOM element.
#ifndef REGENPATH_CDSHOOKS_RAW_JSON_H_
#define REGENPATH_CDSHOOKS_RAW_JSON_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace regenpath::cdshooks {

// One object-valued member found by RawObjectMembers.
struct RawMember {
  std::string_view text;  // the member's source text, "{...}"
  // When the member has an "entry" array (a Bundle): per entry, in order,
  // the source text of its "resource" object, or an empty view when the
  // entry has none; entries_known is then true. The first "entry" (and
  // "resource") key counts, as a DOM lookup would find it.
  std::vector<std::string_view> entry_resources;
  bool entries_known = false;
};

// For the root object's member `name` (first occurrence) when it is an
// object: each of its object-valued members, by key, read in one pass.
//   {"prefetch": {"patient": {...}, "x": null}}  ->  {"patient": {"{...}"}}
std::map<std::string, RawMember, std::less<>> RawObjectMembers(std::string_view json, std::string_view name);

// For the root object's "entry" array: per entry, in order, the source text
// of its "resource" object, or an empty view when the entry has none. Empty
// when there is no such array (or it cannot be walked).
std::vector<std::string_view> RawEntryResources(std::string_view json);

// `json` without surrounding JSON whitespace when it is a single object
// ("{...}"); empty otherwise.
std::string_view RawObjectText(std::string_view json);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_RAW_JSON_H_
