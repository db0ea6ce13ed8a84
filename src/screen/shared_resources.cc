#include "screen/shared_resources.h"

#include <algorithm>
#include <tuple>

namespace regenpath::screen {

namespace {

// The characters of a FHIR id.
bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// The id that starts at `at` in `text` (possibly empty).
std::string_view IdAt(std::string_view text, size_t at) {
  size_t end = at;
  while (end < text.size() && IsIdChar(text[end])) ++end;
  return text.substr(at, end - at);
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
  by_id_.clear();
  types_.clear();
  for (size_t i = 0; i < lines_.size(); ++i) {
    const SharedLine& line = lines_[i];
    by_reference_[line.type + "/" + line.id].push_back(static_cast<uint32_t>(i));
    by_id_[line.id].push_back(static_cast<uint32_t>(i));
    if (std::find(types_.begin(), types_.end(), line.type) == types_.end()) types_.push_back(line.type);
  }
}

void SharedResources::ReferencedBy(std::string_view text, std::vector<uint32_t>& out) const {
  if (lines_.empty()) return;
  std::string key;
  for (const std::string& type : types_) {
    for (size_t at = text.find(type); at != std::string_view::npos; at = text.find(type, at + 1)) {
      const size_t slash = at + type.size();
      if (at == 0 || (text[at - 1] != '"' && text[at - 1] != '/') || slash >= text.size() ||
          text[slash] != '/') {
        continue;
      }
      const std::string_view id = IdAt(text, slash + 1);
      if (id.empty()) continue;
      key.assign(type).append("/").append(id);
      if (auto found = by_reference_.find(key); found != by_reference_.end()) {
        out.insert(out.end(), found->second.begin(), found->second.end());
      }
    }
  }
  constexpr std::string_view kUrnUuid = "urn:uuid:";
  for (size_t at = text.find(kUrnUuid); at != std::string_view::npos; at = text.find(kUrnUuid, at + 1)) {
    const std::string_view id = IdAt(text, at + kUrnUuid.size());
    if (id.empty()) continue;
    if (auto found = by_id_.find(std::string(id)); found != by_id_.end()) {
      out.insert(out.end(), found->second.begin(), found->second.end());
    }
  }
}

}  // namespace regenpath::screen
