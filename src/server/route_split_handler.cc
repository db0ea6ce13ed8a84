#include "server/route_split_handler.h"

#include "server/registry_http_handler.h"
#include "server/web_http_handler.h"

namespace regenpath::server {

HttpHandler& RouteSplitHandler::For(const HttpRequest& request) const {
  std::string_view path = request.Path();
  if (RegistryHttpHandler::Owns(path)) return *registry_;
  if (web_ != nullptr && WebHttpHandler::Owns(path)) return *web_;
  return *main_;
}

}  // namespace regenpath::server
