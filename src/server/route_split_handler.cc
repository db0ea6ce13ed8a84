#include "server/route_split_handler.h"

#include "server/registry_http_handler.h"

namespace regenpath::server {

HttpHandler& RouteSplitHandler::For(const HttpRequest& request) const {
  return RegistryHttpHandler::Owns(request.Path()) ? *registry_ : *main_;
}

}  // namespace regenpath::server
