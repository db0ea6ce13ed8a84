// RequestFraming: the checks on a request's header that decide whether its
// message boundaries (RFC 9112 section 6) and its identity-bearing fields are
// unambiguous. A request that fails them is answered 400 and its connection
// closed: a proxy in front of us might have framed it differently (request
// smuggling), or a second copy of a field might be read by someone else.
#ifndef REGENPATH_SERVER_REQUEST_FRAMING_H_
#define REGENPATH_SERVER_REQUEST_FRAMING_H_

#include <optional>
#include <string>

#include "server/http_types.h"

namespace regenpath::server {

// Returns nullopt when `request` (its method, headers, announced length and
// chunked flag as parsed; `http_version` 10 or 11) is framed unambiguously,
// else the reason (one short sentence, no header values in it). Refused:
//  - any Transfer-Encoding but exactly "chunked" (gzip, identity, xchunked,
//    "chunked, identity", "gzip, chunked", several fields) -- we decode no
//    other coding, and a non-final chunked leaves the length undefined;
//  - Transfer-Encoding in an HTTP/1.0 request, or with Content-Length;
//  - more than one Content-Length field;
//  - an HTTP/1.1 request without exactly one Host field;
//  - more than one Authorization field.
std::optional<std::string> CheckRequestFraming(const HttpRequest& request, unsigned http_version);

}  // namespace regenpath::server

#endif  // REGENPATH_SERVER_REQUEST_FRAMING_H_
