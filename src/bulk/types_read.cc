#include "bulk/types_read.h"

#include <algorithm>
#include <string_view>

#include "fhir/model.h"

namespace regenpath::bulk {

std::vector<std::string> ResourceTypesRead(const knowledge::KnowledgeBase& kb) {
  std::vector<std::string> types = {"Patient"};
  const fhir::Model& model = fhir::Model::R4();
  constexpr std::string_view kOfType = "ofType(";
  for (const knowledge::Definition& definition : kb.definitions()) {
    std::string_view text = definition.expression;
    for (size_t at = text.find(kOfType); at != std::string_view::npos; at = text.find(kOfType, at + 1)) {
      size_t begin = at + kOfType.size();
      size_t end = text.find(')', begin);
      if (end == std::string_view::npos) break;
      std::string_view name = text.substr(begin, end - begin);
      if (name.starts_with("FHIR.")) name.remove_prefix(5);
      const fhir::TypeInfo* type = model.FindType(name);
      if (type != nullptr && type->kind == fhir::TypeKind::kResource) types.emplace_back(name);
    }
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

}  // namespace regenpath::bulk
