#include "fhir/entry_names.h"

#include <cctype>

namespace regenpath::fhir {

std::string NameBundleEntries(std::string_view message,
                              const std::function<std::optional<std::string>(size_t entry)>& name_of) {
  constexpr std::string_view kEntry = "Bundle.entry[";
  constexpr std::string_view kResource = ".resource";
  std::string out;
  size_t from = 0;
  for (size_t at; (at = message.find(kEntry, from)) != std::string_view::npos;) {
    const size_t digits = at + kEntry.size();
    size_t end = digits;
    size_t index = 0;
    // (At most 9 digits: no overflow, and no Bundle has more entries.)
    while (end < message.size() && end - digits < 9 && message[end] >= '0' && message[end] <= '9') {
      index = index * 10 + static_cast<size_t>(message[end] - '0');
      ++end;
    }
    std::optional<std::string> name;
    if (end > digits && end < message.size() && message[end] == ']') name = name_of(index);
    if (!name) {
      out += message.substr(from, digits - from);
      from = digits;
      continue;
    }
    out += message.substr(from, at - from);
    out += *name;
    from = end + 1;  // past ']'
    // ".resource", not the start of a longer name.
    if (message.substr(from).starts_with(kResource)) {
      const size_t after = from + kResource.size();
      const bool longer = after < message.size() &&
                          (std::isalnum(static_cast<unsigned char>(message[after])) || message[after] == '_');
      if (!longer) from = after;
    }
  }
  out += message.substr(from);
  return out;
}

}  // namespace regenpath::fhir
