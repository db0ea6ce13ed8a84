// Helpers shared by the CDS Hooks tests: the engine on the built-in knowledge
// base, file reading, and the prefetch a CDS client would send for a record.
#ifndef REGENPATH_TESTS_CDSHOOKS_TEST_SUPPORT_H_
#define REGENPATH_TESTS_CDSHOOKS_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cdshooks/service_catalog.h"
#include "engine/engine.h"

namespace regenpath::cdshooks {

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// One engine on the built-in knowledge base for the whole test program.
inline std::shared_ptr<const engine::Engine> SharedEngine() {
  static std::shared_ptr<const engine::Engine> engine = [] {
    Result<engine::Engine> created = engine::Engine::Create(knowledge::KnowledgeBase::Embedded());
    EXPECT_TRUE(created.has_value()) << created.error().message();
    return std::make_shared<const engine::Engine>(std::move(*created));
  }();
  return engine;
}

// The prefetch a CDS client would send for `record` (a Bundle holding one
// patient's resources): one value per template of the discovery document,
// the Patient for the read, a searchset of that type for each search (with
// the Medications that _include brings), entries keeping their fullUrl.
// Keys in `omit` are left out, keys in `nulls` are null.
inline boost::json::object PrefetchFor(const boost::json::value& record,
                                       const std::vector<std::string>& omit = {},
                                       const std::vector<std::string>& nulls = {}) {
  namespace json = boost::json;
  json::object prefetch;
  for (const PrefetchTemplate& item : BuildPrefetchTemplates(SharedEngine()->kb())) {
    if (std::find(omit.begin(), omit.end(), item.key) != omit.end()) continue;
    if (std::find(nulls.begin(), nulls.end(), item.key) != nulls.end()) {
      prefetch[item.key] = nullptr;
      continue;
    }
    json::array entries;
    json::value patient = nullptr;
    for (const json::value& entry : record.at("entry").as_array()) {
      const json::object& object = entry.as_object();
      if (!object.contains("resource")) continue;
      const json::value& resource = object.at("resource");
      const std::string type(resource.at("resourceType").as_string());
      if (item.is_read && type == item.resource_type) patient = resource;
      if (!item.is_read && (type == item.resource_type ||
                            (item.resource_type == "MedicationRequest" && type == "Medication"))) {
        json::object copy{{"resource", resource}};
        if (const json::value* full_url = object.if_contains("fullUrl")) copy["fullUrl"] = *full_url;
        entries.push_back(std::move(copy));
      }
    }
    if (item.is_read) {
      prefetch[item.key] = patient;
    } else {
      json::object bundle{{"resourceType", "Bundle"}, {"type", "searchset"}};
      if (!entries.empty()) bundle["entry"] = std::move(entries);
      prefetch[item.key] = std::move(bundle);
    }
  }
  return prefetch;
}

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_TESTS_CDSHOOKS_TEST_SUPPORT_H_
