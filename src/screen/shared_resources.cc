#include "screen/shared_resources.h"

#include <simdjson.h>

#include <algorithm>
#include <tuple>

namespace regenpath::screen {

namespace {

// When the decoded string `value` is a relative reference to `type`
// ("T/<id>", or "T/<id>/_history/<v>"), calls found("T/<id>"), as
// fhir::Document::Resolve reads such a reference; `key` is scratch.
template <typename Found>
void RelativeReference(std::string_view value, const std::string& type, std::string& key, Found&& found) {
  if (value.size() <= type.size() + 1 || !value.starts_with(type) || value[type.size()] != '/') return;
  std::string_view id = value.substr(type.size() + 1);
  id = id.substr(0, id.find('/'));  // "/_history/<v>" (anything else after a '/' resolves to nothing)
  if (id.empty()) return;
  key.assign(type).append("/").append(id);
  found(key);
}

// Calls visit(value) on every string value (decoded) under `element`.
template <typename Visit>
void ForEachString(simdjson::dom::element element, Visit&& visit) {
  std::string_view text;
  simdjson::dom::array array;
  simdjson::dom::object object;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    visit(text);
  } else if (element.get_array().get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : array) ForEachString(item, visit);
  } else if (element.get_object().get(object) == simdjson::SUCCESS) {
    for (simdjson::dom::key_value_pair field : object) ForEachString(field.value, visit);
  }
}

}  // namespace

void SharedResources::Add(SharedLine line) {
  std::lock_guard<std::mutex> lock(mutex_);
  bytes_ += line.text.size();
  lines_.push_back(std::move(line));
}

void SharedResources::Finish() {
  std::sort(lines_.begin(), lines_.end(), [](const SharedLine& a, const SharedLine& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  by_reference_.clear();
  types_.clear();
  for (size_t i = 0; i < lines_.size(); ++i) {
    const SharedLine& line = lines_[i];
    by_reference_[line.type + "/" + line.id].push_back(static_cast<uint32_t>(i));
    if (std::find(types_.begin(), types_.end(), line.type) == types_.end()) types_.push_back(line.type);
  }
}

void SharedResources::ReferencedBy(std::string_view text, std::vector<uint32_t>& out) const {
  if (lines_.empty()) return;
  std::string key;
  auto found = [&](const std::string& reference) {
    if (auto lines = by_reference_.find(reference); lines != by_reference_.end()) {
      out.insert(out.end(), lines->second.begin(), lines->second.end());
    }
  };
  if (text.find('\\') == std::string_view::npos) {
    // No escape: a string value is its text between quotes, so a relative
    // reference to T starts at a quote followed by "T/".
    for (const std::string& type : types_) {
      for (size_t at = text.find(type); at != std::string_view::npos; at = text.find(type, at + 1)) {
        if (at == 0 || text[at - 1] != '"') continue;
        const size_t close = text.find('"', at);
        RelativeReference(
            text.substr(at, close == std::string_view::npos ? std::string_view::npos : close - at), type, key,
            found);
      }
    }
    return;
  }
  // Escapes ("Medication\/m1", "\u004dedication/m1"): every string value,
  // decoded. (A line the scan took is valid JSON.)
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) != simdjson::SUCCESS)
    return;
  ForEachString(root, [&](std::string_view value) {
    for (const std::string& type : types_) RelativeReference(value, type, key, found);
  });
}

}  // namespace regenpath::screen
