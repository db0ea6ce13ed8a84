#include "cdshooks/record_assembler.h"

#include <fmt/format.h>

#include <set>
#include <string_view>
#include <vector>

#include "cdshooks/fhir_payload.h"
#include "cdshooks/text.h"
#include "common/json_string.h"
#include "fhir/json_equal.h"
#include "fhir/patient_compartment.h"

namespace regenpath::cdshooks {

namespace {

class Assembler {
 public:
  Assembler(const HookRequest& request, FhirClient* client, const AssemblyLimits& limits)
      : request_(request), client_(client), limits_(limits) {
    bundle_ = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  }

  bool can_fetch() const { return client_ != nullptr && !request_.fhir_server.empty(); }

  // False (with a 400 issue, once) when the client refuses fhirServer itself.
  bool ServerAllowed() {
    if (!server_checked_) {
      server_checked_ = true;
      server_allowed_ = client_->CheckServer(request_.fhir_server).ok();
      if (!server_allowed_) {
        bad_.push_back(OutcomeIssue{"error", "security",
                                    "'fhirServer' is not a FHIR server this service may read for this client",
                                    "", "fhirServer"});
      }
    }
    return server_allowed_;
  }

  // Adds one template's data; problems go to missing_ (412) or bad_ (400).
  void Add(const PrefetchTemplate& query) {
    auto prefetched = request_.prefetch.find(query.key);
    const std::string where = "prefetch." + query.key;
    if (prefetched == request_.prefetch.end()) {
      if (!can_fetch()) {
        Missing(query, fmt::format("prefetch key '{}' ({}) was not provided and {}", query.key, query.query,
                                   NoFetchReason()));
        return;
      }
      Fetch(query, request_.fhir_server + "/" + ExpandQuery(query.query, request_.patient_id), 0);
      return;
    }
    const PrefetchValue& value = prefetched->second;
    if (!value.json) return;  // null: the client has no data for it
    // Read with the request (ParseHookRequest had the service's templates), or now.
    FhirPayload read_now;
    if (!value.payload) read_now = ReadFhirPayload(*value.json, query);
    const FhirPayload& payload = value.payload ? *value.payload : read_now;
    switch (payload.kind) {
      case PayloadKind::kInvalid:
        bad_.push_back(OutcomeIssue{"error", "invalid",
                                    fmt::format("prefetch '{}' is not valid: {}", query.key, payload.message),
                                    "", where});
        return;
      case PayloadKind::kNoData:
        return;
      case PayloadKind::kFailed:
        if (!can_fetch()) {
          Missing(query, fmt::format("the client could not prefetch '{}' ({}) and {}", query.key,
                                     payload.message, NoFetchReason()));
          return;
        }
        Fetch(query, request_.fhir_server + "/" + ExpandQuery(query.query, request_.patient_id), 0);
        return;
      case PayloadKind::kResources:
        if (!AddEntries(query, payload, /*from_prefetch=*/true)) return;
        if (!payload.next_url.empty()) {
          if (!can_fetch()) {
            Missing(query, fmt::format("prefetch '{}' has more pages (Bundle.link next) and {}", query.key,
                                       NoFetchReason()));
            return;
          }
          Fetch(query, payload.next_url, 1);
        }
        return;
    }
  }

  tl::expected<AssembledRecord, CallError> Finish() {
    if (!bad_.empty()) return tl::unexpected(CallError{400, std::move(bad_)});
    if (!missing_.empty()) return tl::unexpected(CallError{412, std::move(missing_)});
    bundle_ += "]}";
    return AssembledRecord{std::move(bundle_), count_, std::move(origins_)};
  }

 private:
  std::string NoFetchReason() const {
    return request_.fhir_server.empty() ? "the request has no fhirServer to fetch it from"
                                        : "this service has no FHIR client to reach fhirServer";
  }

  void Missing(const PrefetchTemplate& query, std::string text) {
    missing_.push_back(OutcomeIssue{
        "error", "processing", fmt::format("Cannot assess the patient: no {} data.", query.resource_type),
        std::move(text), "prefetch." + query.key});
  }

  // GETs `url` and the pages after it; `page` counts pages already read.
  void Fetch(const PrefetchTemplate& query, std::string url, int page) {
    if (!ServerAllowed()) return;
    std::set<std::string> seen;
    const std::string base = request_.fhir_server + "/";
    while (!url.empty()) {
      if (!url.starts_with(base) || !IsAbsoluteHttpUrl(url)) {
        Missing(query, fmt::format("a 'next' link of '{}' leaves fhirServer ({}); it was not followed",
                                   query.key, OneLine(url, 120)));
        return;
      }
      if (!seen.insert(url).second) {
        Missing(query, fmt::format("the pages of '{}' loop (a 'next' link repeats {})", query.key,
                                   OneLine(url, 120)));
        return;
      }
      if (page >= limits_.max_pages_per_query) {
        Missing(query, fmt::format("'{}' has more than {} pages; the record would be incomplete", query.key,
                                   limits_.max_pages_per_query));
        return;
      }
      ++page;
      Result<std::string> body = client_->Get(url, request_.access_token);
      if (!body) {
        // Neutral on purpose: refused, timed out, unreachable or an HTTP error
        // status must not be told apart (a probe of the network behind us).
        // The client logs the reason.
        Missing(query, fmt::format("'{}' could not be obtained from fhirServer", query.key));
        return;
      }
      FhirPayload payload = ReadFhirPayload(*body, query);
      if (payload.kind == PayloadKind::kInvalid || payload.kind == PayloadKind::kFailed) {
        Missing(query, fmt::format("the FHIR server's answer to GET {} {}: {}", OneLine(url, 160),
                                   payload.kind == PayloadKind::kFailed ? "is an error" : "cannot be read",
                                   payload.message));
        return;
      }
      if (!AddEntries(query, payload, /*from_prefetch=*/false)) return;
      url = payload.next_url;
    }
  }

  // Adds the payload's resources; false when it must stop (a problem was recorded).
  bool AddEntries(const PrefetchTemplate& query, const FhirPayload& payload, bool from_prefetch) {
    for (const PayloadEntry& entry : payload.entries) {
      std::string_view other;
      if (entry.resource_type == "Patient" && entry.id != request_.patient_id) {
        other = entry.id;
      } else if (std::string_view id = fhir::PatientIdInReference(entry.patient_reference);
                 !id.empty() && id != request_.patient_id) {
        other = id;
      }
      if (!other.empty() || (entry.resource_type == "Patient" && entry.id.empty())) {
        std::string text = fmt::format("'{}' holds a {} of another patient ({}) than context.patientId ({})",
                                       query.key, entry.resource_type,
                                       OneLine(other.empty() ? "no id" : other, 64), request_.patient_id);
        if (from_prefetch) {
          bad_.push_back(OutcomeIssue{"error", "invalid", std::move(text), "", "prefetch." + query.key});
        } else {
          Missing(query, "the FHIR server's answer " + text);
        }
        return false;
      }
      // A resource met twice (two prefetch keys, two pages) is added once;
      // but a second copy of the patient's Patient that differs goes in too,
      // so that the engine refuses the record (nothing says which copy is
      // current: one may say the patient died) instead of this one keeping
      // whichever came first.
      if (!entry.id.empty() && !seen_.insert(entry.resource_type + "/" + entry.id).second &&
          (entry.resource_type != "Patient" || IsPatientCopyAdded(entry.resource_json))) {
        continue;
      }
      if (entry.resource_type == "Patient") patient_copies_.push_back(entry.resource_json);
      if (bundle_.size() + entry.resource_json.size() + entry.full_url.size() > limits_.max_record_bytes) {
        Missing(query, fmt::format("the patient's record exceeds {} MiB", limits_.max_record_bytes >> 20));
        return false;
      }
      if (count_ > 0) bundle_.push_back(',');
      bundle_ += '{';
      if (!entry.full_url.empty()) {
        bundle_ += R"("fullUrl":)";
        AppendJsonString(entry.full_url, bundle_);
        bundle_ += ',';
      }
      bundle_ += R"("resource":)";
      bundle_ += entry.resource_json;
      bundle_ += '}';
      ++count_;
      // Named by its place in what the client sent (Bundle.entry[k] counts
      // every entry, search outcomes included).
      if (!from_prefetch) {
        origins_.push_back(fmt::format("'{}' as fetched from fhirServer", query.key));
      } else if (!entry.bundle_entry) {
        origins_.push_back(fmt::format("prefetch '{}'", query.key));
      } else {
        origins_.push_back(fmt::format("prefetch '{}' entry[{}]", query.key, *entry.bundle_entry));
      }
    }
    return true;
  }

  // Whether a copy of the same JSON value (fhir::SameJsonValue: member
  // order, escapes and whitespace aside) is among patient_copies_.
  bool IsPatientCopyAdded(std::string_view json) const {
    for (const std::string& copy : patient_copies_) {
      if (fhir::SameJsonValue(copy, json)) return true;
    }
    return false;
  }

  const HookRequest& request_;
  FhirClient* client_;
  const AssemblyLimits& limits_;
  std::string bundle_;
  size_t count_ = 0;
  std::vector<std::string> origins_;  // per entry: where it came from (AssembledRecord::entry_origins)
  std::set<std::string> seen_;
  std::vector<std::string> patient_copies_;  // the Patient resources added (their JSON)
  std::vector<OutcomeIssue> missing_;
  std::vector<OutcomeIssue> bad_;
  bool server_checked_ = false;
  bool server_allowed_ = false;
};

}  // namespace

tl::expected<AssembledRecord, CallError> AssembleRecord(const HookRequest& request,
                                                        const std::vector<PrefetchTemplate>& templates,
                                                        FhirClient* client, const AssemblyLimits& limits) {
  Assembler assembler(request, client, limits);
  for (const PrefetchTemplate& query : templates) assembler.Add(query);
  return assembler.Finish();
}

}  // namespace regenpath::cdshooks
