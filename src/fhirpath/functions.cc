#include "fhirpath/functions.h"

#include <algorithm>
#include <vector>

#include "fhirpath/function_support.h"

namespace regenpath::fhirpath {

namespace {

std::vector<const FunctionInfo*> BuildTable() {
  std::vector<const FunctionInfo*> table;
  for (std::span<const FunctionInfo> part :
       {CollectionFunctions(), StringFunctions(), ConversionFunctions(), MathFunctions(), UtilityFunctions()}) {
    for (const FunctionInfo& function : part) table.push_back(&function);
  }
  std::sort(table.begin(), table.end(),
            [](const FunctionInfo* a, const FunctionInfo* b) { return a->name < b->name; });
  return table;
}

}  // namespace

const FunctionInfo* FindFunction(std::string_view name) {
  static const std::vector<const FunctionInfo*> table = BuildTable();
  auto found = std::lower_bound(table.begin(), table.end(), name,
                                [](const FunctionInfo* function, std::string_view key) { return function->name < key; });
  if (found == table.end() || (*found)->name != name) return nullptr;
  return *found;
}

}  // namespace regenpath::fhirpath
