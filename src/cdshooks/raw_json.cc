#include "cdshooks/raw_json.h"

#include <algorithm>

#include "cdshooks/json_parsers.h"
#include "simdjson.h"

namespace regenpath::cdshooks {

namespace {

namespace od = simdjson::ondemand;

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// One on-demand pass over a padded copy of `json`; spans found in the copy
// are translated back into `json`.
class RawWalker {
 public:
  explicit RawWalker(std::string_view json)
      : json_(json), padded_(json), parser_(ThreadOnDemandParser(json.size())) {}

  bool Root(od::object& root) {
    return parser_ != nullptr && parser_->iterate(padded_).get(document_) == simdjson::SUCCESS &&
           document_.get_object().get(root) == simdjson::SUCCESS;
  }

  // The source text of `object` (consumed), in `json`; empty on error.
  std::string_view Raw(od::object& object) {
    std::string_view raw;
    if (object.raw_json().get(raw) != simdjson::SUCCESS) return {};
    return Translate(raw.data(), raw.data() + raw.size());
  }

  // The source text from `start` (in the padded copy) to where the walk is
  // now (just past a value it has finished), in `json`; empty on error.
  std::string_view Since(const char* start) {
    const char* end = nullptr;
    if (document_.current_location().get(end) != simdjson::SUCCESS) return {};
    return Translate(start, end);
  }

 private:
  // [begin, end) of the padded copy as a view of `json`, without trailing
  // whitespace; empty when it is not inside the copy's text.
  std::string_view Translate(const char* begin, const char* end) {
    const char* base = padded_.data();
    if (begin == nullptr || end == nullptr || begin < base || end < begin || end > base + json_.size())
      return {};
    while (end > begin && IsJsonSpace(end[-1])) --end;
    return json_.substr(static_cast<size_t>(begin - base), static_cast<size_t>(end - begin));
  }

  std::string_view json_;
  simdjson::padded_string padded_;
  od::parser* parser_;
  od::document document_;
};

// Appends the source text of each entry's "resource" object (empty for an
// entry without one) of the Bundle.entry array `entries`; false on a
// surprise (an entry that is not an object, a span it cannot map).
bool ReadEntryResources(RawWalker& walker, od::array& entries, std::vector<std::string_view>& out) {
  for (auto item : entries) {
    od::object entry;
    if (item.get_object().get(entry) != simdjson::SUCCESS) return false;
    std::string_view found;
    od::object resource;
    if (entry.find_field_unordered("resource").get_object().get(resource) == simdjson::SUCCESS) {
      found = walker.Raw(resource);
      if (found.empty()) return false;
    }
    out.push_back(found);
  }
  return true;
}

// Reads the object `value` into `member`: its entry resources while
// walking it, then its whole text.
bool ReadMember(RawWalker& walker, od::value& value, RawMember& member) {
  const std::string_view token = value.raw_json_token();
  if (token.empty()) return false;
  const char* start = token.data();
  od::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return false;
  bool entry_seen = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    if (key != "entry" || entry_seen) continue;  // the value is skipped as the loop moves on
    entry_seen = true;
    od::array entries;
    if (field.value().get_array().get(entries) != simdjson::SUCCESS) continue;
    member.entries_known = true;
    if (!ReadEntryResources(walker, entries, member.entry_resources)) return false;
  }
  member.text = walker.Since(start);
  return !member.text.empty();
}

}  // namespace

std::map<std::string, RawMember, std::less<>> RawObjectMembers(std::string_view json, std::string_view name) {
  std::map<std::string, RawMember, std::less<>> members;
  RawWalker walker(json);
  od::object root;
  od::object holder;
  if (!walker.Root(root) || root.find_field_unordered(name).get_object().get(holder) != simdjson::SUCCESS) {
    return members;
  }
  for (auto field : holder) {
    std::string_view key;
    od::value value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return {};
    std::string owned_key(key);
    if (field.value().get(value) != simdjson::SUCCESS) return {};
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return {};
    if (type != od::json_type::object) continue;  // skipped as the loop moves on
    RawMember member;
    if (!ReadMember(walker, value, member)) return {};
    members.emplace(std::move(owned_key), std::move(member));
  }
  return members;
}

std::vector<std::string_view> RawEntryResources(std::string_view json) {
  std::vector<std::string_view> resources;
  RawWalker walker(json);
  od::object root;
  od::array entries;
  if (!walker.Root(root) ||
      root.find_field_unordered("entry").get_array().get(entries) != simdjson::SUCCESS) {
    return resources;
  }
  if (!ReadEntryResources(walker, entries, resources)) return {};
  return resources;
}

std::string_view RawObjectText(std::string_view json) {
  while (!json.empty() && IsJsonSpace(json.front())) json.remove_prefix(1);
  while (!json.empty() && IsJsonSpace(json.back())) json.remove_suffix(1);
  if (json.size() < 2 || json.front() != '{' || json.back() != '}') return {};
  return json;
}

}  // namespace regenpath::cdshooks
