#include "fhir/element_filter.h"

#include <algorithm>

namespace regenpath::fhir {

ElementFilter::ElementFilter(std::vector<std::string> names) : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  for (const std::string& name : names_) {
    if (name.empty()) {
      first_bytes_.fill(true);  // every name starts with it
    } else {
      first_bytes_[static_cast<unsigned char>(name.front())] = true;
    }
  }
}

bool ElementFilter::Contains(std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

bool ElementFilter::MayKeep(std::string_view json_name) const {
  if (json_name.empty()) return std::binary_search(names_.begin(), names_.end(), json_name);
  if (!first_bytes_[static_cast<unsigned char>(json_name.front())]) return false;
  for (const std::string& name : names_) {
    if (json_name.starts_with(name)) return true;
  }
  return false;
}

bool ElementFilter::Keeps(std::string_view element_name, std::string_view json_name) const {
  if (!element_name.empty() && Contains(element_name)) return true;
  return element_name != json_name && Contains(json_name);
}

}  // namespace regenpath::fhir
