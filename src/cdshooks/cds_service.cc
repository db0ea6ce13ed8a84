#include "cdshooks/cds_service.h"

#include <fmt/format.h>

#include <exception>
#include <new>

#include "cdshooks/card_common.h"
#include "cdshooks/correlation_id.h"
#include "cdshooks/feedback_parser.h"
#include "cdshooks/hook_request.h"
#include "cdshooks/order_review_cards.h"
#include "cdshooks/patient_view_cards.h"
#include "cdshooks/record_assembler.h"
#include "cdshooks/regenerative_orders.h"
#include "cdshooks/response_json.h"
#include "cdshooks/service_catalog.h"
#include "cdshooks/text.h"
#include "fhir/entry_names.h"
#include "fhir/parser.h"

namespace regenpath::cdshooks {

struct CdsHooksService::State {
  std::shared_ptr<const engine::Engine> engine;
  const Clock* clock = nullptr;
  std::vector<ServiceDefinition> services;
  std::string discovery;
  AssemblyLimits limits;
  std::function<void(engine::Assessment&, const DateTime&)> annotate;
  std::string smart_launch_url;

  const ServiceDefinition* Find(std::string_view id) const {
    for (const ServiceDefinition& service : services) {
      if (service.id == id) return &service;
    }
    return nullptr;
  }
};

namespace {

CallResult Error(const CallError& error) {
  return CallResult{error.status, OperationOutcomeJson(error.issues), {}, {}};
}

// This thread's parser for assembled records, reading only what `engine`
// lets through. Kept from call to call: its JSON buffers and its cache of
// resolved element names stay warm.
fhir::Parser& RecordParser(const engine::Engine& engine) {
  thread_local uint64_t bound_engine = 0;  // Engine::id(): an address could be reused
  thread_local std::unique_ptr<fhir::Parser> parser;
  if (parser == nullptr || bound_engine != engine.id()) {
    fhir::ParseOptions options = engine.RecordParseOptions();
    options.report_unknown_elements = false;
    // The record is made of text ParseHookRequest / ReadFhirPayload parsed
    // whole with simdjson's validating DOM parser (depth <= kMaxJsonDepth).
    options.check_skipped_json = false;
    parser = std::make_unique<fhir::Parser>(std::move(options));
    bound_engine = engine.id();
  }
  return *parser;
}

}  // namespace

Result<CdsHooksService> CdsHooksService::Create(std::shared_ptr<const engine::Engine> engine,
                                                const Clock* clock) {
  return Create(std::move(engine), clock, CdsHooksServiceOptions{});
}

Result<CdsHooksService> CdsHooksService::Create(std::shared_ptr<const engine::Engine> engine,
                                                const Clock* clock, const CdsHooksServiceOptions& options) {
  if (engine == nullptr || clock == nullptr) {
    return Fail(InvalidArgument("CdsHooksService needs an engine and a clock"));
  }
  auto state = std::make_shared<State>();
  state->services = BuildServiceCatalog(engine->kb());
  state->discovery = DiscoveryJson(state->services);
  state->limits.max_pages_per_query = options.max_pages_per_query;
  state->limits.max_record_bytes = options.max_record_bytes;
  state->annotate = options.annotate;
  state->smart_launch_url = options.smart_launch_url;
  state->engine = std::move(engine);
  state->clock = clock;
  return CdsHooksService(std::move(state));
}

const std::string& CdsHooksService::Discovery() const { return state_->discovery; }

bool CdsHooksService::HasService(std::string_view service_id) const {
  return state_->Find(service_id) != nullptr;
}

CallResult CdsHooksService::Call(std::string_view service_id, std::string_view body, FhirClient* fhir) const {
  const ServiceDefinition* service = state_->Find(service_id);
  if (service == nullptr) {
    return Error(MakeCallError(
        404, "not-found",
        fmt::format("no CDS service '{}' here (see GET /cds-services)", OneLine(service_id, 80))));
  }
  try {
    auto request = ParseHookRequest(body, service->hook, service->prefetch);
    if (!request) return Error(request.error());
    const engine::Engine& engine = *state_->engine;
    const knowledge::KnowledgeBase& kb = engine.kb();

    std::vector<RegenerativeOrder> orders;
    if (service->hook != Hook::kPatientView) {
      orders = FindRegenerativeOrders(*request, kb);
      // Nothing to review: no card, and no need for the patient's record.
      if (orders.empty()) return CallResult{200, CardsResponseJson({}), {}, {}};
    }

    auto record = AssembleRecord(*request, service->prefetch, fhir, state_->limits);
    if (!record) return Error(record.error());

    Result<fhir::Document> document =
        RecordParser(engine).ParseResource(record->bundle_json, "the patient's record");
    if (!document) {
      return Error(MakeCallError(400, "invalid",
                                 "the patient's record assembled from the request cannot be read", "",
                                 OneLine(document.error().message(), 300)));
    }
    const DateTime now = state_->clock->Now();
    // One patient: the context's. The assembler refused data of another
    // patient already; the engine excludes any that remains.
    Result<engine::Assessment> assessment = engine.Assess(*document, now, {request->patient_id});
    if (!assessment) {
      // (The context's patient is not in it, or its Patient comes in copies
      // that differ: named by the prefetch keys they came in, not by the
      // assembled Bundle's entries, which the client never sees.)
      const std::string message = fhir::NameBundleEntries(assessment.error().message(),
                                                          [&](size_t entry) -> std::optional<std::string> {
                                                            if (entry >= record->entry_origins.size())
                                                              return std::nullopt;
                                                            return record->entry_origins[entry];
                                                          });
      return Error(MakeCallError(400, "invalid",
                                 "the patient's record cannot be assessed for the context's patient", "",
                                 OneLine(message, 300)));
    }

    if (state_->annotate) state_->annotate(*assessment, now);

    CallInfo call{service->id, request->hook_instance, request->patient_id, request->encounter_id};
    std::vector<Card> cards;
    if (service->hook == Hook::kPatientView) {
      cards = BuildPatientViewCards(*assessment, state_->smart_launch_url);
    } else {
      cards = BuildOrderReviewCards(orders, *assessment, call);
    }
    AssignIdentifiers(cards, call);
    return CallResult{200, CardsResponseJson(cards), {}, {}};
  } catch (const std::bad_alloc&) {
    return Error(
        MakeCallError(413, "too-costly", "the request needs more memory than the service can give it"));
  } catch (const std::exception& error) {
    CallResult result;
    result.correlation_id = NewCorrelationId();
    result.internal_error = OneLine(error.what(), 300);
    result.status = 500;
    result.body = OperationOutcomeJson(
        MakeCallError(500, "exception",
                      fmt::format("internal error; the service's log has it under correlation id {}",
                                  result.correlation_id))
            .issues);
    return result;
  }
}

Result<std::vector<Feedback>> CdsHooksService::ParseFeedback(std::string_view service_id,
                                                             std::string_view body) const {
  if (!HasService(service_id)) {
    return Fail(NotFound(fmt::format("no CDS service '{}' here", OneLine(service_id, 80))));
  }
  return ParseFeedbackBody(service_id, body);
}

}  // namespace regenpath::cdshooks
