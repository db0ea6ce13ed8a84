// The resource types a knowledge base reads, for a Bulk Data export's _type:
// every ofType(<ResourceType>) in its definitions' expressions, plus Patient.
#ifndef REGENPATH_BULK_TYPES_READ_H_
#define REGENPATH_BULK_TYPES_READ_H_

#include <string>
#include <vector>

#include "knowledge/knowledge_base.h"

namespace regenpath::bulk {

// Sorted, without duplicates.
std::vector<std::string> ResourceTypesRead(const knowledge::KnowledgeBase& kb);

}  // namespace regenpath::bulk

#endif  // REGENPATH_BULK_TYPES_READ_H_
