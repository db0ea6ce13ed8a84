#include "fhir/resource_filter.h"

#include <algorithm>
#include <deque>
#include <iterator>

#include <fmt/format.h>

#include "fhir/document.h"

namespace regenpath::fhir {
namespace {

unsigned char Lower(unsigned char byte) { return byte >= 'A' && byte <= 'Z' ? byte + ('a' - 'A') : byte; }

std::vector<std::string> SkeletonElements() {
  std::vector<std::string> names{"id", "reference"};
  names.insert(names.end(), std::begin(kPatientReferenceElements), std::end(kPatientReferenceElements));
  return names;
}

}  // namespace

ResourceFilter::ResourceFilter(const std::map<std::string, std::vector<std::string>>& needles_by_type)
    : skeleton_(SkeletonElements()) {
  // FNV-1a over each filtered type and its needles, as given.
  uint64_t hash = 14695981039346656037ull;
  auto add = [&](std::string_view text) {
    for (char byte : text) hash = (hash ^ static_cast<unsigned char>(byte)) * 1099511628211ull;
    hash = (hash ^ 0xFFu) * 1099511628211ull;  // a separator no UTF-8 text holds
  };
  for (const auto& [type, needles] : needles_by_type) {
    Automaton automaton;
    if (!Build(needles, automaton)) continue;
    by_type_.emplace(type, std::move(automaton));
    add(type);
    for (const std::string& needle : needles) add(needle);
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

bool ResourceFilter::Skips(std::string_view type, std::string_view json) const {
  auto found = by_type_.find(type);
  return found != by_type_.end() && !Contains(found->second, json);
}

bool ResourceFilter::Filters(std::string_view type) const { return by_type_.contains(type); }

}  // namespace regenpath::fhir
