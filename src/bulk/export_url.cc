#include "bulk/export_url.h"

#include <utility>

namespace regenpath::bulk {

namespace {

std::string_view WithoutTrailingSlashes(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return url;
}

// The last path segment of `url` (after its last '/'), and the url before that '/'.
std::pair<std::string_view, std::string_view> SplitLast(std::string_view url) {
  const size_t slash = url.rfind('/');
  if (slash == std::string_view::npos) return {url, std::string_view()};
  return {url.substr(0, slash), url.substr(slash + 1)};
}

}  // namespace

std::string KickoffUrl(std::string_view export_url, const std::vector<std::string>& types) {
  std::string url(WithoutTrailingSlashes(export_url));
  url += "/$export?_outputFormat=application%2Ffhir%2Bndjson";
  for (size_t index = 0; index < types.size(); ++index) url += (index == 0 ? "&_type=" : ",") + types[index];
  return url;
}

std::string FhirBase(std::string_view export_url) {
  std::string_view url = WithoutTrailingSlashes(export_url);
  auto [before_last, last] = SplitLast(url);
  if (last == "Patient") return std::string(WithoutTrailingSlashes(before_last));
  auto [before_type, type] = SplitLast(before_last);
  if (type == "Group" && !last.empty()) return std::string(WithoutTrailingSlashes(before_type));
  return std::string(url);
}

}  // namespace regenpath::bulk
