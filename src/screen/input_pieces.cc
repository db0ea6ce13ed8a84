#include "screen/input_pieces.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "screen/line_reader.h"

namespace regenpath::screen {

std::vector<InputPiece> PlanPieces(const InputListing& listing) {
  std::vector<InputPiece> pieces;
  for (uint32_t index = 0; index < listing.files.size(); ++index) {
    const InputFile& file = listing.files[index];
    // (A file compressed but not named so is found by its first bytes.)
    const bool gzip = file.gzip || (file.size > kPieceBytes && IsGzip(file.path));
    if (gzip || file.size <= kPieceBytes) {
      pieces.push_back(InputPiece{index, 0, 1, 0, file.size, gzip});
      continue;
    }
    const auto of = static_cast<uint32_t>((file.size + kPieceBytes - 1) / kPieceBytes);
    for (uint32_t k = 0; k < of; ++k) {
      pieces.push_back(InputPiece{index, k, of, k * kPieceBytes, std::min(file.size, (k + 1) * kPieceBytes)});
    }
  }
  return pieces;
}

std::vector<size_t> ScanOrder(const std::vector<InputPiece>& pieces) {
  std::vector<size_t> order(pieces.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const InputPiece& x = pieces[a];
    const InputPiece& y = pieces[b];
    // (Only a compressed file, whole, can be large, nominal or resolved.)
    const bool x_large = x.gzip && x.text() > kPieceBytes, y_large = y.gzip && y.text() > kPieceBytes;
    if (x_large != y_large) return x_large;
    if (x_large) return x.text() > y.text();
    // (2k + 1) / 2n, compared without division (no overflow below 2^31
    // pieces a file; line numbers within pieces allow 2^24).
    const uint64_t x_place = (2 * uint64_t{x.ordinal} + 1) * y.of,
                   y_place = (2 * uint64_t{y.ordinal} + 1) * x.of;
    if (x_place != y_place) return x_place < y_place;
    return x.file < y.file;
  });
  return order;
}

Status ResolvePiece(const InputFile& file, InputPiece& piece) {
  if (piece.whole()) return Status();
  RP_ASSIGN_OR_RETURN(auto bytes, LinesStartingIn(file.path, file.size, piece.begin, piece.end));
  piece.begin = bytes.first;
  piece.end = bytes.second;
  return Status();
}

std::vector<uint32_t> ShareOfPieces(const std::vector<InputPiece>& pieces, uint32_t map, uint32_t maps) {
  std::vector<uint32_t> order(pieces.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return pieces[a].text() > pieces[b].text(); });
  std::vector<uint64_t> load(std::max<uint32_t>(maps, 1), 0);
  std::vector<uint32_t> share;
  for (uint32_t piece : order) {
    const size_t task = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[task] += std::max<uint64_t>(pieces[piece].text(), 1);
    if (task == map) share.push_back(piece);
  }
  std::sort(share.begin(), share.end());
  return share;
}

Status NumberInFiles(std::vector<LineIssue>& issues, const std::vector<PieceLines>& pieces) {
  // Per split file, the lines each of its pieces held, then (once) the lines
  // before each piece: nullopt from the first piece missing on.
  std::map<uint32_t, std::vector<std::optional<uint64_t>>> before;
  for (const PieceLines& piece : pieces) {
    if (piece.of <= 1) continue;
    std::vector<std::optional<uint64_t>>& counts = before[piece.file];
    if (counts.empty()) counts.resize(piece.of);
    if (counts.size() != piece.of || piece.ordinal >= piece.of || counts[piece.ordinal]) {
      return InvalidInput(
          fmt::format("input {}: its pieces do not agree (split in {} and in {}, or piece {} twice)",
                      piece.file, counts.size(), piece.of, piece.ordinal));
    }
    counts[piece.ordinal] = piece.lines;
  }
  for (auto& [file, counts] : before) {
    std::optional<uint64_t> sum = 0;
    for (std::optional<uint64_t>& count : counts) {
      const std::optional<uint64_t> lines = count;
      count = sum;
      sum = sum && lines ? std::optional<uint64_t>(*sum + *lines) : std::nullopt;
    }
  }
  constexpr uint64_t kWithin = (uint64_t{1} << kPieceShift) - 1;
  for (LineIssue& issue : issues) {
    auto found = before.find(issue.file);
    if (found == before.end()) continue;  // a whole file: numbered in it already
    const uint64_t ordinal = issue.line >> kPieceShift;
    if (ordinal >= found->second.size()) {
      return InvalidInput(
          fmt::format("input {}: an issue in piece {} of {}", issue.file, ordinal, found->second.size()));
    }
    const std::optional<uint64_t>& lines_before = found->second[ordinal];
    if (!lines_before) {
      return InvalidInput(fmt::format("input {}: a piece before piece {} of {} was read by no task",
                                      issue.file, ordinal, found->second.size()));
    }
    issue.line = *lines_before + (issue.line & kWithin);
  }
  std::stable_sort(issues.begin(), issues.end(), [](const LineIssue& a, const LineIssue& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  });
  return Status();
}

}  // namespace regenpath::screen
