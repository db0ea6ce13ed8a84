// NameBundleEntries: a message that names resources by their place in a
// Bundle ("Bundle.entry[3].resource", as Node::Path() writes it) rewritten
// with names a reader can find them by, when the Bundle was assembled by
// regenpath and exists nowhere else: a screened record's lines (the export
// file and line), a CDS Hooks request's record (the prefetch key).
//
// Pure function; thread-safe.
#ifndef REGENPATH_FHIR_ENTRY_NAMES_H_
#define REGENPATH_FHIR_ENTRY_NAMES_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace regenpath::fhir {

// `message` with each "Bundle.entry[N].resource" (or "Bundle.entry[N]" not
// followed by ".resource") replaced by name_of(N); left as it is where
// name_of gives nullopt. What follows the place ("....onsetDateTime") stays.
std::string NameBundleEntries(std::string_view message,
                              const std::function<std::optional<std::string>(size_t entry)>& name_of);

}  // namespace regenpath::fhir

#endif  // REGENPATH_FHIR_ENTRY_NAMES_H_
