// The knowledge base compiled into the binary: knowledge/*.yaml at build
// time, each file parsed by tools/kb_embed.cc and stored as an encoded
// YamlTree (generated source).
#ifndef REGENPATH_KNOWLEDGE_EMBEDDED_FILES_H_
#define REGENPATH_KNOWLEDGE_EMBEDDED_FILES_H_

#include <string_view>
#include <vector>

namespace regenpath::knowledge {

struct EmbeddedTree {
  std::string_view name;     // "knowledge/<file>.yaml"
  std::string_view encoded;  // EncodeYamlTree() output, or "!raw" + the text of a file that is not YAML
};

// In file-name order.
std::vector<EmbeddedTree> EmbeddedKnowledgeTrees();

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_EMBEDDED_FILES_H_
