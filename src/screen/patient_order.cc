#include "screen/patient_order.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <unordered_map>
#include <vector>

namespace regenpath::screen {

std::vector<PatientGroup> GroupByPatient(std::vector<PatientLine>& lines) {
  // Each line's patient, numbered in order of first sight. Lines of one
  // patient mostly come in runs (a bulk export writes a patient's resources
  // together), so the last id is compared before the table is asked.
  std::unordered_map<std::string_view, uint32_t> numbers;
  std::vector<std::string_view> ids;
  std::vector<uint32_t> patient_of(lines.size());
  std::string_view last_id;
  uint32_t last_number = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view id = lines[i].patient_id;
    if (ids.empty() || id != last_id) {
      auto [it, inserted] = numbers.try_emplace(id, static_cast<uint32_t>(ids.size()));
      if (inserted) ids.push_back(id);
      last_id = id;
      last_number = it->second;
    }
    patient_of[i] = last_number;
  }
  // The patients in id order, and where each one's lines start.
  std::vector<uint32_t> by_id(ids.size());
  std::iota(by_id.begin(), by_id.end(), uint32_t{0});
  std::sort(by_id.begin(), by_id.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  std::vector<size_t> count(ids.size(), 0);
  for (uint32_t number : patient_of) ++count[number];
  std::vector<size_t> next(ids.size());
  std::vector<PatientGroup> groups(ids.size());
  size_t at = 0;
  for (size_t rank = 0; rank < by_id.size(); ++rank) {
    const uint32_t number = by_id[rank];
    groups[rank] = {ids[number], at, at + count[number]};
    next[number] = at;
    at += count[number];
  }
  // Line i goes to destination[i] (a stable counting sort), moved there in
  // place cycle by cycle: a sorted copy would cost as many fresh pages as
  // the lines themselves. (The destinations take the patient numbers' place.)
  constexpr uint32_t kPlaced = ~uint32_t{0};
  std::vector<uint32_t>& destination = patient_of;
  for (uint32_t& slot : destination) slot = static_cast<uint32_t>(next[slot]++);
  for (size_t start = 0; start < lines.size(); ++start) {
    if (destination[start] == kPlaced) continue;
    PatientLine carried = lines[start];
    size_t to = destination[start];
    destination[start] = kPlaced;
    while (to != start) {
      std::swap(carried, lines[to]);
      const size_t after = destination[to];
      destination[to] = kPlaced;
      to = after;
    }
    lines[start] = carried;
  }
  return groups;
}

void OrderWithinPatient(std::span<PatientLine> lines) {
  auto before = [](const PatientLine& a, const PatientLine& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  };
  // A patient's lines come as a few ascending runs (one per input file or
  // piece the scan read them from, in the order the scan took the pieces):
  // runs are merged pairwise, log2(runs) passes, instead of a sort that
  // ignores them.
  size_t descent = 1;
  while (descent < lines.size() && !before(lines[descent], lines[descent - 1])) ++descent;
  if (descent >= lines.size()) return;  // one run: in order already
  std::vector<size_t> runs{0, descent};
  for (size_t i = descent + 1; i < lines.size(); ++i) {
    if (before(lines[i], lines[i - 1])) runs.push_back(i);
  }
  runs.push_back(lines.size());
  while (runs.size() > 2) {
    std::vector<size_t> merged{0};
    for (size_t r = 0; r + 2 < runs.size(); r += 2) {
      std::inplace_merge(lines.begin() + runs[r], lines.begin() + runs[r + 1], lines.begin() + runs[r + 2],
                         before);
      merged.push_back(runs[r + 2]);
    }
    if (merged.back() != lines.size()) merged.push_back(lines.size());
    runs = std::move(merged);
  }
}

std::vector<uint32_t> LargestFirst(const std::vector<PatientLine>& lines,
                                   const std::vector<PatientGroup>& groups) {
  std::vector<std::pair<uint64_t, uint32_t>> by_size(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    uint64_t bytes = 0;
    for (size_t i = groups[g].begin; i < groups[g].end; ++i) bytes += lines[i].text.size();
    by_size[g] = {bytes, static_cast<uint32_t>(g)};
  }
  std::sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<uint32_t> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = by_size[i].second;
  return order;
}

}  // namespace regenpath::screen
