// RouteSplitHandler: one HttpHandler in front of two or three — the
// registry's routes (RegistryHttpHandler::Owns) go to `registry`, the web
// app's (WebHttpHandler::Owns) to `web` when given, everything else to `main`
// (the CDS Hooks handler). None is owned. Thread-safe as they are.
#ifndef REGENPATH_SERVER_ROUTE_SPLIT_HANDLER_H_
#define REGENPATH_SERVER_ROUTE_SPLIT_HANDLER_H_

#include "server/http_types.h"

namespace regenpath::server {

class RouteSplitHandler : public HttpHandler {
 public:
  RouteSplitHandler(HttpHandler* main, HttpHandler* registry, HttpHandler* web = nullptr)
      : main_(main), registry_(registry), web_(web) {}

  std::optional<HttpResponse> OnHeader(HttpRequest& request) override { return For(request).OnHeader(request); }
  HttpResponse Handle(HttpRequest& request) override { return For(request).Handle(request); }
  // The CDS handler answers fallback calls off the request threads: keep its HandleAsync.
  void HandleAsync(HttpRequest& request, std::function<void(HttpResponse)> done) override {
    For(request).HandleAsync(request, std::move(done));
  }
  HttpResponse OnBadFraming(HttpRequest& request, std::string_view reason) override {
    return For(request).OnBadFraming(request, reason);
  }
  HttpResponse OnBodyError(HttpRequest& request, TransportError error) override {
    return For(request).OnBodyError(request, error);
  }
  void Completed(const HttpRequest& request, int status, double seconds) override {
    For(request).Completed(request, status, seconds);
  }
  // Not tied to a request: the main handler counts it.
  void OnTransportError(TransportError error) override { main_->OnTransportError(error); }

 private:
  HttpHandler& For(const HttpRequest& request) const;
  HttpHandler* main_;
  HttpHandler* registry_;
  HttpHandler* web_;
};

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_ROUTE_SPLIT_HANDLER_H_
