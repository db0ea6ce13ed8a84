// Per-thread simdjson parsers for the CDS Hooks request path.
//
// A parser's buffers cost an allocation (and, for a large request, fresh
// pages and their faults) every time one is made; a service thread keeps one
// of each kind instead and reuses it from call to call. Its buffers grow to
// the largest input the thread has read (bounded by the server's body limit)
// and are given back when a later input is small again.
//
// The two kinds are independent, so an on-demand walk may run while a DOM
// document of the same thread is still in use; a caller must not hold a DOM
// document (or on-demand document) across a call that uses the same kind.
#ifndef REGENPATH_CDSHOOKS_JSON_PARSERS_H_
#define REGENPATH_CDSHOOKS_JSON_PARSERS_H_

#include <cstddef>

#include "simdjson.h"

namespace regenpath::cdshooks {

// This thread's DOM parser, ready for `input_size` bytes nested at most
// kMaxJsonDepth deep; nullptr when the memory cannot be had.
simdjson::dom::parser* ThreadDomParser(size_t input_size);

// This thread's On-Demand parser, likewise.
simdjson::ondemand::parser* ThreadOnDemandParser(size_t input_size);

}  // namespace regenpath::cdshooks

#endif  // REGENPATH_CDSHOOKS_JSON_PARSERS_H_
