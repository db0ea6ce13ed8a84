#include "cdshooks/json_parsers.h"

#include <algorithm>

#include "cdshooks/hook_request.h"

namespace regenpath::cdshooks {

namespace {

// Buffers larger than this are released once a smaller input comes.
constexpr size_t kKeptCapacity = size_t{4} << 20;

template <typename Parser>
Parser* Ready(Parser& parser, size_t input_size) {
  const size_t wanted = std::max<size_t>(input_size, 4096);
  const bool too_small = parser.capacity() < wanted;
  const bool oversized = parser.capacity() > kKeptCapacity && wanted <= kKeptCapacity;
  if (too_small || oversized || parser.max_depth() != kMaxJsonDepth) {
    if (parser.allocate(wanted, kMaxJsonDepth) != simdjson::SUCCESS) return nullptr;
  }
  return &parser;
}

}  // namespace

simdjson::dom::parser* ThreadDomParser(size_t input_size) {
  thread_local simdjson::dom::parser parser;
  return Ready(parser, input_size);
}

simdjson::ondemand::parser* ThreadOnDemandParser(size_t input_size) {
  thread_local simdjson::ondemand::parser parser;
  return Ready(parser, input_size);
}

}  // namespace regenpath::cdshooks
