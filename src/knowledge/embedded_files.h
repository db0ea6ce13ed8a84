// The knowledge base compiled into the binary: the YAML files of knowledge/
// at build time (generated source, see cmake/EmbedFiles.cmake).
#ifndef REGENPATH_KNOWLEDGE_EMBEDDED_FILES_H_
#define REGENPATH_KNOWLEDGE_EMBEDDED_FILES_H_

#include <vector>

#include "knowledge/knowledge_base.h"

namespace regenpath::knowledge {

// The files as {"knowledge/<name>.yaml", content}, in name order.
std::vector<SourceFile> EmbeddedKnowledgeFiles();

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_EMBEDDED_FILES_H_
