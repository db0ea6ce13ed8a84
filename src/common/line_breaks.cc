#include "common/line_breaks.h"

namespace regenpath {

std::string LoneCrAsLf(std::string text) {
  for (size_t at = text.find('\r'); at != std::string::npos; at = text.find('\r', at + 1)) {
    if (at + 1 == text.size() || text[at + 1] != '\n') text[at] = '\n';
  }
  return text;
}

}  // namespace regenpath
