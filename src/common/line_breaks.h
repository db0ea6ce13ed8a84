// Line breaks as YAML 1.2 reads them (§5.4: LF, CRLF, or a lone CR), for
// readers that know only LF and CRLF: yaml-cpp takes a lone CR for white
// space, so a file saved with classic Mac line endings reads as one line,
// whose first comment swallows the rest of the file without a word.
#ifndef REGENPATH_COMMON_LINE_BREAKS_H_
#define REGENPATH_COMMON_LINE_BREAKS_H_

#include <string>

namespace regenpath {

// `text` with each CR not followed by LF made LF; CRLF and the rest stay as
// they are (so line numbers are those its author sees). Pure.
std::string LoneCrAsLf(std::string text);

}  // namespace regenpath

#endif  // REGENPATH_COMMON_LINE_BREAKS_H_
