#include "fhir/resource_filter.h"

#include <algorithm>
#include <deque>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "fhir/document.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define REGENPATH_TEDDY 1
#else
#define REGENPATH_TEDDY 0
#endif

namespace regenpath::fhir {
namespace {

unsigned char Lower(unsigned char byte) { return byte >= 'A' && byte <= 'Z' ? byte + ('a' - 'A') : byte; }

bool SimdAvailable() {
#if REGENPATH_TEDDY
  static const bool available = __builtin_cpu_supports("avx2");
  return available;
#else
  return false;
#endif
}

std::vector<std::string> SkeletonElements() {
  std::vector<std::string> names{"id", "reference"};
  names.insert(names.end(), std::begin(kPatientReferenceElements), std::end(kPatientReferenceElements));
  return names;
}

}  // namespace

ResourceFilter::ResourceFilter(const std::map<std::string, std::vector<std::string>>& needles_by_type,
                               Search search)
    : skeleton_(SkeletonElements()) {
  // FNV-1a over each filtered type and its needles, as given.
  uint64_t hash = 14695981039346656037ull;
  auto add = [&](std::string_view text) {
    for (char byte : text) hash = (hash ^ static_cast<unsigned char>(byte)) * 1099511628211ull;
    hash = (hash ^ 0xFFu) * 1099511628211ull;  // a separator no UTF-8 text holds
  };
  for (const auto& [type, needles] : needles_by_type) {
    TypeSearch searches;
    if (!Build(needles, searches.automaton)) continue;
    if (search == Search::kFastest && SimdAvailable()) Build(needles, searches.teddy);
    by_type_.emplace(type, std::move(searches));
    add(type);
    for (const std::string& needle : needles) {
      add(needle);
      if (needle.find_first_of("\",:{}[]") != std::string::npos) needles_span_tokens_ = true;
    }
    add("");
  }
  if (!by_type_.empty()) fingerprint_ = fmt::format("{:016x}", hash);
}

bool ResourceFilter::Build(const std::vector<std::string>& needles, Automaton& out) {
  std::vector<std::string> lowered;
  for (const std::string& needle : needles) {
    if (needle.empty()) return false;
    std::string text;
    for (char byte : needle) text.push_back(static_cast<char>(Lower(static_cast<unsigned char>(byte))));
    lowered.push_back(std::move(text));
  }
  lowered.emplace_back("\\");  // an escape may spell a needle otherwise
  // Classes of bytes: one per byte some needle holds (an upper-case letter
  // shares its lower case's), 0 for every other byte.
  out.byte_class.fill(0);
  size_t classes = 1;
  for (const std::string& needle : lowered) {
    for (char byte : needle) {
      uint8_t& slot = out.byte_class[static_cast<unsigned char>(byte)];
      if (slot == 0) slot = static_cast<uint8_t>(classes++);
      if (classes > 255) return false;
    }
  }
  for (int byte = 'A'; byte <= 'Z'; ++byte) out.byte_class[byte] = out.byte_class[Lower(static_cast<unsigned char>(byte))];
  out.classes = classes;
  // The trie, then the failure links breadth first, then the DFA.
  std::vector<int32_t> trie(classes, -1);
  std::vector<bool> ends(1, false);
  for (const std::string& needle : lowered) {
    size_t state = 0;
    for (char byte : needle) {
      const size_t slot = state * classes + out.byte_class[static_cast<unsigned char>(byte)];
      if (trie[slot] < 0) {
        trie[slot] = static_cast<int32_t>(ends.size());
        ends.push_back(false);
        trie.resize(ends.size() * classes, -1);
      }
      state = static_cast<size_t>(trie[slot]);
    }
    ends[state] = true;
  }
  const size_t states = ends.size();
  if ((states + 1) * classes >= (size_t{1} << 31)) return false;
  std::vector<uint32_t> fail(states, 0);
  std::vector<uint32_t> dfa(states * classes, 0);
  std::deque<uint32_t> queue;
  for (size_t c = 0; c < classes; ++c) {
    if (trie[c] >= 0) {
      dfa[c] = static_cast<uint32_t>(trie[c]);
      queue.push_back(static_cast<uint32_t>(trie[c]));
    }
  }
  while (!queue.empty()) {
    const uint32_t state = queue.front();
    queue.pop_front();
    if (ends[fail[state]]) ends[state] = true;
    for (size_t c = 0; c < classes; ++c) {
      const int32_t child = trie[state * classes + c];
      if (child >= 0) {
        fail[static_cast<size_t>(child)] = dfa[fail[state] * classes + c];
        dfa[state * classes + c] = static_cast<uint32_t>(child);
        queue.push_back(static_cast<uint32_t>(child));
      } else {
        dfa[state * classes + c] = dfa[fail[state] * classes + c];
      }
    }
  }
  // States are stored premultiplied by the number of classes: a step is
  // one addition and one load. Every state that ends a needle becomes one
  // absorbing hit state, the last row.
  const uint32_t hit = static_cast<uint32_t>(states * classes);
  out.next.assign((states + 1) * classes, hit);
  for (size_t slot = 0; slot < dfa.size(); ++slot) {
    out.next[slot] = ends[dfa[slot]] ? hit : static_cast<uint32_t>(dfa[slot] * classes);
  }
  out.hit = hit;
  out.max_needle = 1;
  for (const std::string& needle : lowered) out.max_needle = std::max(out.max_needle, needle.size());
  return true;
}

// Four runs of the DFA over four quarters of the text at once: each step
// of one run waits for its previous load, so interleaving independent runs
// keeps the core busy. Each run starts max_needle - 1 bytes before its
// quarter, so a needle ending in its quarter is found whatever came before.
// The hit state is absorbing, so the runs are checked once per block.
bool ResourceFilter::Contains(const Automaton& automaton, std::string_view text) {
  const uint32_t* next = automaton.next.data();
  const uint8_t* byte_class = automaton.byte_class.data();
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const uint32_t hit = automaton.hit;
  const size_t size = text.size();
  const size_t quarter = size / 4;
  const size_t overlap = automaton.max_needle - 1;
  uint32_t state[4] = {0, 0, 0, 0};
  size_t at[4], end[4];
  size_t steps = 0;
  if (quarter > 4 * overlap) {
    for (size_t k = 0; k < 4; ++k) {
      at[k] = k == 0 ? 0 : k * quarter - overlap;
      end[k] = k == 3 ? size : (k + 1) * quarter;
    }
    // The first run is the shortest (it has no overlap): step all four
    // while it has bytes left, then finish each.
    steps = end[0] - at[0];
    constexpr size_t kBlock = 64;
    for (size_t step = 0; step < steps;) {
      const size_t block_end = std::min(steps, step + kBlock);
      for (; step < block_end; ++step) {
        state[0] = next[state[0] + byte_class[bytes[at[0] + step]]];
        state[1] = next[state[1] + byte_class[bytes[at[1] + step]]];
        state[2] = next[state[2] + byte_class[bytes[at[2] + step]]];
        state[3] = next[state[3] + byte_class[bytes[at[3] + step]]];
      }
      if ((state[0] == hit) | (state[1] == hit) | (state[2] == hit) | (state[3] == hit)) return true;
    }
  } else {
    at[0] = 0;
    end[0] = size;
    at[1] = at[2] = at[3] = end[1] = end[2] = end[3] = 0;
  }
  for (size_t k = 0; k < 4; ++k) {
    uint32_t current = state[k];
    for (size_t position = at[k] + steps; position < end[k]; ++position) {
      current = next[current + byte_class[bytes[position]]];
    }
    if (current == hit) return true;
  }
  return false;
}

// Needles are put in buckets in the order of their first bytes, so that a
// bucket's needles share what they can of their nibbles (fewer false
// candidates); the fingerprint is each needle's first `width` bytes, width
// the shortest needle's length, at most 4.
bool ResourceFilter::Build(const std::vector<std::string>& needles, Teddy& out) {
  out = Teddy{};
  std::vector<std::string> lowered;
  size_t width = 4;
  for (const std::string& needle : needles) {
    if (needle.size() < 3) return false;
    std::string text;
    for (char byte : needle) {
      if (static_cast<unsigned char>(byte) < 0x20) return false;  // a zero byte pads the tail
      text.push_back(static_cast<char>(Lower(static_cast<unsigned char>(byte))));
    }
    width = std::min(width, text.size());
    lowered.push_back(std::move(text));
  }
  if (lowered.empty()) return false;
  std::sort(lowered.begin(), lowered.end());
  lowered.erase(std::unique(lowered.begin(), lowered.end()), lowered.end());
  const size_t buckets = std::min<size_t>(8, lowered.size());
  for (size_t i = 0; i < lowered.size(); ++i) {
    const size_t bucket = i * buckets / lowered.size();
    const std::string& needle = lowered[i];
    for (size_t k = 0; k < width; ++k) {
      const auto byte = static_cast<unsigned char>(needle[k]);
      const unsigned char upper = byte >= 'a' && byte <= 'z' ? byte - ('a' - 'A') : byte;
      for (unsigned char spelled : {byte, upper}) {
        for (size_t lane : {size_t{0}, size_t{16}}) {
          out.low[k][lane + (spelled & 0x0F)] |= static_cast<uint8_t>(1u << bucket);
          out.high[k][lane + (spelled >> 4)] |= static_cast<uint8_t>(1u << bucket);
        }
      }
    }
    out.buckets[bucket].push_back(needle);
  }
  out.width = width;
  return true;
}

#if REGENPATH_TEDDY
namespace {

// The buckets whose fingerprints may start at each of the 32 positions from
// `at` (which must have 32 + kWidth - 1 readable bytes), and whether a
// backslash is among the 32 bytes. kWidth is a template parameter so that
// the tables stay in registers and the steps unroll (measured: a quarter
// fewer instructions per 32 bytes than a loop over a run-time width).
template <size_t kWidth>
__attribute__((target("avx2"), always_inline)) inline __m256i TeddyStep(const uint8_t* at, const __m256i* low,
                                                                        const __m256i* high,
                                                                        uint32_t& backslashes) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
  backslashes = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(first, _mm256_set1_epi8('\\'))));
  __m256i candidates =
      _mm256_and_si256(_mm256_shuffle_epi8(low[0], _mm256_and_si256(first, nibble)),
                       _mm256_shuffle_epi8(high[0], _mm256_and_si256(_mm256_srli_epi16(first, 4), nibble)));
  for (size_t k = 1; k < kWidth; ++k) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + k));
    const __m256i lows = _mm256_shuffle_epi8(low[k], _mm256_and_si256(bytes, nibble));
    const __m256i highs = _mm256_shuffle_epi8(high[k], _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble));
    candidates = _mm256_and_si256(candidates, _mm256_and_si256(lows, highs));
  }
  return candidates;
}

// True iff a needle of the buckets `bucket_bits` starts at text[position].
bool TeddyVerify(const std::array<std::vector<std::string>, 8>& buckets, uint8_t bucket_bits, std::string_view text,
                 size_t position) {
  for (; bucket_bits != 0; bucket_bits &= static_cast<uint8_t>(bucket_bits - 1)) {
    for (const std::string& needle : buckets[static_cast<size_t>(__builtin_ctz(bucket_bits))]) {
      if (needle.size() > text.size() - position) continue;
      size_t i = 0;
      while (i < needle.size() && Lower(static_cast<unsigned char>(text[position + i])) ==
                                      static_cast<unsigned char>(needle[i])) {
        ++i;
      }
      if (i == needle.size()) return true;
    }
  }
  return false;
}

// True iff one of the 32 positions from text[base] that TeddyStep gave as
// `candidates` (not all zero) starts a needle. Out of line: most steps have
// no candidate and never call it.
__attribute__((target("avx2"), noinline)) bool TeddyCheck(
    const std::array<std::vector<std::string>, 8>& buckets, const __m256i& candidates, std::string_view text,
    size_t base) {
  uint32_t hits =
      ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(candidates, _mm256_setzero_si256())));
  alignas(32) uint8_t bucket_of[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(bucket_of), candidates);
  for (; hits != 0; hits &= hits - 1) {
    const size_t offset = static_cast<size_t>(__builtin_ctz(hits));
    if (base + offset >= text.size()) break;
    if (TeddyVerify(buckets, bucket_of[offset], text, base + offset)) return true;
  }
  return false;
}

// ResourceFilter::Contains for a Teddy of width kWidth: true iff a step
// finds a backslash or a candidate that starts a needle.
template <size_t kWidth>
__attribute__((target("avx2"))) bool TeddyContains(const std::array<std::array<uint8_t, 32>, 4>& low_tables,
                                                   const std::array<std::array<uint8_t, 32>, 4>& high_tables,
                                                   const std::array<std::vector<std::string>, 8>& buckets,
                                                   std::string_view text) {
  __m256i low[kWidth], high[kWidth];
  for (size_t k = 0; k < kWidth; ++k) {
    low[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(low_tables[k].data()));
    high[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(high_tables[k].data()));
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t size = text.size();
  constexpr size_t kReach = 32 + kWidth - 1;  // bytes a step reads
  size_t at = 0;
  for (; at + kReach <= size; at += 32) {
    uint32_t backslashes = 0;
    const __m256i candidates = TeddyStep<kWidth>(bytes + at, low, high, backslashes);
    if (backslashes != 0) return true;
    if (!_mm256_testz_si256(candidates, candidates) && TeddyCheck(buckets, candidates, text, at)) return true;
  }
  // The tail (fewer than kReach bytes), copied after zeros: a zero byte is
  // in no bucket (no needle byte is below 0x20), and no zero is a backslash.
  while (at < size) {
    alignas(32) uint8_t tail[96] = {};
    const size_t count = std::min<size_t>(size - at, 64);
    std::memcpy(tail, bytes + at, count);
    for (size_t step = 0; step < count; step += 32) {
      uint32_t backslashes = 0;
      const __m256i candidates = TeddyStep<kWidth>(tail + step, low, high, backslashes);
      if (backslashes != 0) return true;
      if (!_mm256_testz_si256(candidates, candidates) && TeddyCheck(buckets, candidates, text, at + step)) {
        return true;
      }
    }
    at += count;
  }
  return false;
}

}  // namespace

bool ResourceFilter::Contains(const Teddy& teddy, std::string_view text) {
  // Build makes the width 3 or 4 (every needle has at least 3 bytes).
  return teddy.width == 3 ? TeddyContains<3>(teddy.low, teddy.high, teddy.buckets, text)
                          : TeddyContains<4>(teddy.low, teddy.high, teddy.buckets, text);
}
#else
bool ResourceFilter::Contains(const Teddy&, std::string_view) { return false; }  // never built
#endif

bool ResourceFilter::Skips(std::string_view type, std::string_view json) const {
  auto found = by_type_.find(type);
  if (found == by_type_.end()) return false;
  const TypeSearch& search = found->second;
  return !(search.teddy.width != 0 ? Contains(search.teddy, json) : Contains(search.automaton, json));
}

bool ResourceFilter::Filters(std::string_view type) const { return by_type_.contains(type); }

bool ResourceFilter::SearchesWithSimd(std::string_view type) const {
  auto found = by_type_.find(type);
  return found != by_type_.end() && found->second.teddy.width != 0;
}

}  // namespace regenpath::fhir
