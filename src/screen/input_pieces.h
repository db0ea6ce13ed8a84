// The pieces a screening run reads its input in: a whole file, or (a plain
// file larger than kPieceBytes) the lines that start in each kPieceBytes of
// it, so that threads, and a shuffle's map tasks, share one large file (an
// export's Observation file is most of it).
//
// While a piece is scanned its lines are numbered on their own: line n of
// piece k of a split file is k << kPieceShift | n, which orders lines as
// their numbers in the file do. NumberInFiles gives malformed lines their
// numbers in the file once every piece's line count is known (after the
// scan, or in a reduce task from every map task's manifest).
//
// Pure functions but ResolvePiece, which reads its file near its bounds,
// and PlanPieces, which reads the first bytes of a file over kPieceBytes not
// named .gz; thread-safe.
#ifndef REGENPATH_SCREEN_INPUT_PIECES_H_
#define REGENPATH_SCREEN_INPUT_PIECES_H_

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "screen/input_files.h"
#include "screen/run_facts.h"

namespace regenpath::screen {

inline constexpr uint64_t kPieceBytes = uint64_t{8} << 20;
inline constexpr int kPieceShift = 40;
// About how many bytes of text a compressed file's byte holds (for planning
// only: shares, order, the early spill's expected input).
inline constexpr uint64_t kGzipTextRatio = 8;

struct InputPiece {
  uint32_t file = 0;            // index into the listing's files
  uint32_t ordinal = 0;         // within its file
  uint32_t of = 1;              // its file's pieces (1: the whole file)
  // Bytes of the file (a compressed file: 0 and its size on disk); of a
  // split file's piece, nominal until ResolvePiece.
  uint64_t begin = 0, end = 0;
  bool gzip = false;            // named .gz, or over kPieceBytes and found compressed (read whole)
  bool whole() const { return of == 1; }
  // About the bytes of text it holds.
  uint64_t text() const { return (end - begin) * (gzip ? kGzipTextRatio : 1); }
};

// Every file of `listing` in pieces, in file order then piece order; the
// same for every caller given the same files: a file whole, or a plain file
// over kPieceBytes in ceil(size / kPieceBytes) pieces whose bounds are
// nominal (k * kPieceBytes) until ResolvePiece gives them their lines.
std::vector<InputPiece> PlanPieces(const InputListing& listing);

// Gives a piece of a split file (`file`) the bytes of the lines that start
// within its nominal bounds (LinesStartingIn): the non-empty pieces of one
// file, resolved by any task, follow one another from its first byte to its
// last; a piece inside a line longer than kPieceBytes comes out empty. A
// whole file's piece is left as it is. Fails (naming the file) when it
// cannot be read.
Status ResolvePiece(const InputFile& file, InputPiece& piece);

// The pieces (indices into `pieces`) map task `map` of `maps` reads:
// biggest first, each to the task with the fewest bytes so far (the lowest
// index on a tie), so every task computes the same shares; in `pieces`'
// order. Each piece weighs its text (InputPiece::text).
std::vector<uint32_t> ShareOfPieces(const std::vector<InputPiece>& pieces, uint32_t map, uint32_t maps);

// The order a scan reads `pieces` in (indices into it), nominal or
// resolved: a compressed file of more text than kPieceBytes (read whole;
// InputPiece::text) first, the largest first, so that none runs alone at
// the end; then every other piece at its place across its file (piece k of
// n at (k + 1/2) / n; a whole file at 1/2), ties in file order, so that what
// has been scanned at any time is about the same share of every file: the
// early spill (Grouper::Add) takes the lines held so far, scaled to the
// whole input, for a sample of it.
std::vector<size_t> ScanOrder(const std::vector<InputPiece>& pieces);

// A piece and how many lines (blank ones included) it held.
struct PieceLines {
  uint32_t file = 0;
  uint32_t ordinal = 0;
  uint32_t of = 1;
  uint64_t begin = 0, end = 0;
  uint64_t lines = 0;
};

// Numbers `issues` (lines numbered while their pieces were scanned, above)
// in their files, from `pieces`, which must hold every piece of each split
// file an issue names, and sorts them by file then line; files are named by
// their index. Fails (kInvalidInput; `issues` then partly numbered) when two
// pieces of a file disagree on its piece count, a piece is given twice, an
// issue names a piece beyond its file's count, or a piece before an issue's
// is missing.
Status NumberInFiles(std::vector<LineIssue>& issues, const std::vector<PieceLines>& pieces);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_INPUT_PIECES_H_
