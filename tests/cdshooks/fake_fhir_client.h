// FakeFhirClient: a FHIR server in memory for the CDS Hooks tests. It answers
// reads (Patient/<id>) and type searches (<Type>?patient=...) from one
// patient's record, pages results with `next` links when asked, and injects
// the failures a real server or network gives: a timeout, 4xx / 5xx statuses,
// garbage bodies, bodies over the size limit, `next` links that loop, leave
// the server or never end. It records every GET with its bearer token.
#ifndef REGENPATH_TESTS_CDSHOOKS_FAKE_FHIR_CLIENT_H_
#define REGENPATH_TESTS_CDSHOOKS_FAKE_FHIR_CLIENT_H_

#include <boost/json.hpp>

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cdshooks/fhir_client.h"

namespace regenpath::cdshooks {

class FakeFhirClient : public FhirClient {
 public:
  enum class FailureKind { kNone, kTimeout, kStatus, kBody, kTooLarge, kNextLoop, kNextForeign, kEndless };
  struct Failure {
    FailureKind kind = FailureKind::kNone;
    int status = 0;
    std::string body;
  };

  // `base`: the fhirServer URL (no trailing '/'); `record`: a Bundle.
  FakeFhirClient(std::string base, boost::json::value record)
      : base_(std::move(base)), record_(std::move(record)) {}

  void set_page_size(size_t page_size) { page_size_ = page_size; }
  // Fails every request for `resource_type` ("*" for all) this way.
  void Fail(const std::string& resource_type, Failure failure) {
    failures_[resource_type] = std::move(failure);
  }

  Result<std::string> Get(const std::string& url, const std::string& bearer_token) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.emplace_back(url, bearer_token);
    }
    if (url.rfind(base_ + "/", 0) != 0) return ::regenpath::Fail(Unavailable("could not connect to " + url));
    const std::string path = url.substr(base_.size() + 1);
    const std::string type = path.substr(0, path.find_first_of("/?"));
    const Failure* failure = FailureFor(type);
    if (failure != nullptr) {
      switch (failure->kind) {
        case FailureKind::kTimeout:
          return ::regenpath::Fail(Unavailable("timed out after 5000 ms"));
        case FailureKind::kStatus:
          if (failure->status >= 500)
            return ::regenpath::Fail(Unavailable("HTTP " + std::to_string(failure->status)));
          return ::regenpath::Fail(InvalidArgument("HTTP " + std::to_string(failure->status)));
        case FailureKind::kBody:
          return failure->body;
        case FailureKind::kTooLarge:
          return ::regenpath::Fail(ResourceExhausted("the response body exceeds 16 MiB"));
        case FailureKind::kNextLoop:
          return Page(type, 0, url);
        case FailureKind::kNextForeign:
          return Page(type, 0, "https://attacker.example.net/steal?from=" + type);
        case FailureKind::kEndless:
          return Page(type, 0, url + "&_page=" + std::to_string(++endless_));
        case FailureKind::kNone:
          break;
      }
    }
    if (path.find('?') == std::string::npos) {  // a read: Type/id
      for (const boost::json::value& resource : Resources(type)) {
        if (path == type + "/" + std::string(resource.at("id").as_string()))
          return boost::json::serialize(resource);
      }
      return ::regenpath::Fail(InvalidArgument("HTTP 404"));
    }
    size_t page = 0;
    if (size_t at = path.find("_page="); at != std::string::npos) page = std::stoul(path.substr(at + 6)) - 1;
    std::vector<boost::json::value> all = Resources(type);
    const size_t size = page_size_ == 0 ? all.size() : page_size_;
    std::string next;
    if (page_size_ != 0 && (page + 1) * size < all.size()) {
      next = base_ + "/" + path.substr(0, path.find("&_page=")) + "&_page=" + std::to_string(page + 2);
    }
    return Page(type, page, next);
  }

  std::vector<std::pair<std::string, std::string>> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  const Failure* FailureFor(const std::string& type) const {
    auto found = failures_.find(type);
    if (found == failures_.end()) found = failures_.find("*");
    return found == failures_.end() ? nullptr : &found->second;
  }

  // The record's resources of `type` (with the Medications a
  // MedicationRequest search includes).
  std::vector<boost::json::value> Resources(const std::string& type) const {
    std::vector<boost::json::value> found;
    for (const boost::json::value& entry : record_.at("entry").as_array()) {
      const boost::json::value& resource = entry.at("resource");
      const std::string resource_type(resource.at("resourceType").as_string());
      if (resource_type == type || (type == "MedicationRequest" && resource_type == "Medication")) {
        found.push_back(resource);
      }
    }
    return found;
  }

  std::string Page(const std::string& type, size_t page, const std::string& next) const {
    std::vector<boost::json::value> all = Resources(type);
    const size_t size = page_size_ == 0 ? all.size() : page_size_;
    boost::json::array entries;
    for (size_t index = page * size; index < all.size() && index < (page + 1) * size; ++index) {
      entries.push_back(boost::json::object{{"resource", all[index]}});
    }
    boost::json::object bundle{{"resourceType", "Bundle"}, {"type", "searchset"}};
    if (!entries.empty()) bundle["entry"] = std::move(entries);
    if (!next.empty()) {
      bundle["link"] = boost::json::array{boost::json::object{{"relation", "next"}, {"url", next}}};
    }
    return boost::json::serialize(bundle);
  }

  std::string base_;
  boost::json::value record_;
  size_t page_size_ = 0;
  std::map<std::string, Failure> failures_;
  int endless_ = 1;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> requests_;
};

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_TESTS_CDSHOOKS_FAKE_FHIR_CLIENT_H_
