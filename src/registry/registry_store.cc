#include "registry/registry_store.h"

#include <algorithm>
#include <tuple>

namespace regenpath::registry {

Status RegistryStore::ForEachFacts(const std::string& option_id,
                                   const std::function<Status(const FactsRowView&)>& visit) {
  RP_ASSIGN_OR_RETURN(std::vector<FactsRow> rows, LoadFacts(option_id));
  std::sort(rows.begin(), rows.end(), [](const FactsRow& a, const FactsRow& b) {
    return std::tie(a.option_id, a.episode_key) < std::tie(b.option_id, b.episode_key);
  });
  for (const FactsRow& row : rows) {
    RP_RETURN_IF_ERROR(visit(FactsRowView{row.option_id, row.episode_key, row.patient, row.synthetic, row.groups, row.data}));
  }
  return Status::Ok();
}

Status RegistryStore::ScanFacts(const std::string& option_id, const FactsScan& /*scan*/,
                                const std::function<Status(const FactsRowView&)>& visit) {
  return ForEachFacts(option_id, visit);
}

}  // namespace regenpath::registry
