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
  explicit RawWalker(std::string_view json) : json_(json), padded_(json), parser_(ThreadOnDemandParser(json.size())) {}

  bool Root(od::object& root) {
    return parser_ != nullptr && parser_->iterate(padded_).get(document_) == simdjson::SUCCESS &&
           document_.get_object().get(root) == simdjson::SUCCESS;
  }

  // The source text of `object` (consumed), in `json`; empty on error.
  std::string_view Raw(od::object& object) {
    std::string_view raw;
    if (object.raw_json().get(raw) != simdjson::SUCCESS) return {};
    const char* base = padded_.data();
    if (raw.data() < base || raw.data() + raw.size() > base + json_.size()) return {};
    while (!raw.empty() && IsJsonSpace(raw.back())) raw.remove_suffix(1);
    return json_.substr(static_cast<size_t>(raw.data() - base), raw.size());
  }

 private:
  std::string_view json_;
  simdjson::padded_string padded_;
  od::parser* parser_;
  od::document document_;
};

}  // namespace

std::map<std::string, std::string_view, std::less<>> RawObjectMembers(std::string_view json, std::string_view name) {
  std::map<std::string, std::string_view, std::less<>> members;
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
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return {};
    std::string_view raw = walker.Raw(object);
    if (raw.empty()) return {};
    members.emplace(std::move(owned_key), raw);
  }
  return members;
}

std::vector<std::string_view> RawEntryResources(std::string_view json) {
  std::vector<std::string_view> resources;
  RawWalker walker(json);
  od::object root;
  od::array entries;
  if (!walker.Root(root) || root.find_field_unordered("entry").get_array().get(entries) != simdjson::SUCCESS) {
    return resources;
  }
  for (auto item : entries) {
    od::object entry;
    if (item.get_object().get(entry) != simdjson::SUCCESS) return {};
    std::string_view found;
    od::object resource;
    if (entry.find_field_unordered("resource").get_object().get(resource) == simdjson::SUCCESS) {
      found = walker.Raw(resource);
      if (found.empty()) return {};
    }
    resources.push_back(found);
  }
  return resources;
}

std::string_view RawObjectText(std::string_view json) {
  while (!json.empty() && IsJsonSpace(json.front())) json.remove_prefix(1);
  while (!json.empty() && IsJsonSpace(json.back())) json.remove_suffix(1);
  if (json.size() < 2 || json.front() != '{' || json.back() != '}') return {};
  return json;
}

}  // namespace regenpath::cdshooks
