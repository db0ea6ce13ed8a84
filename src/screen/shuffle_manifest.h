// What a shuffle's map task leaves for the reduce tasks (screen/screener.h,
// ScreenMap): which pieces of the input it read (screen/input_pieces.h;
// each task's share is ShareOfPieces), what it counted and the malformed
// lines it found, as dir/map-MMMM/map.json beside its spill files.
#ifndef REGENPATH_SCREEN_SHUFFLE_MANIFEST_H_
#define REGENPATH_SCREEN_SHUFFLE_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "screen/input_pieces.h"
#include "screen/run_facts.h"
#include "screen/shared_resources.h"

namespace regenpath::screen {

struct MapManifest {
  static constexpr std::string_view kFileName = "map.json";

  uint32_t map = 0, maps = 1, shards = 1;
  uint64_t partitions_per_shard = 1;
  // The pieces of the input this task read (file: an index into
  // facts.inputs), in file order then piece order, each with its bytes of
  // the file and its line count.
  std::vector<PieceLines> pieces;
  // The bytes of each spill file this task wrote: the file (shard s,
  // partition p) at s * partitions_per_shard + p (a reduce task refuses a
  // file of another size).
  std::vector<uint64_t> spill_bytes;
  // inputs and skipped_files: the whole run's; the counts: this task's
  // pieces only; now and the knowledge base are not set (the reduce assesses).
  RunFacts facts;
  // This task's malformed lines, by file then line, numbered in their
  // piece when their file is split (input_pieces.h: NumberInFiles numbers
  // them in the file from every task's pieces).
  std::vector<LineIssue> issues;
  // The fingerprint of the resource filter (fhir/resource_filter.h) whose
  // skeleton lines this task wrote in place of the resources it passes over;
  // "" when it wrote every line whole. A reduce task assesses skeleton lines
  // only with a knowledge base whose filter has this fingerprint.
  std::string skeletons;
  // The types of the shared resources (shared_resources.h) this task kept
  // for the records (its knowledge base's engine's: a reduce task assesses
  // only with the same), and their lines from its pieces, in input order.
  std::vector<std::string> shared_types;
  std::vector<SharedLine> shared;

  // The schema this version writes and reads (its spill files' format goes
  // with it).
  static constexpr std::string_view kSchema = "regenpath.screen-map/4";

  std::string ToJson() const;
  // Fails (kInvalidInput) on anything but a map manifest of kSchema (one of
  // another version is named as such).
  static Result<MapManifest> FromJson(std::string_view json);
};

// dir/map-MMMM.
std::string MapDirectory(const std::string& dir, uint32_t map);

// The manifests of map tasks 0..maps-1 under `dir`, checked to be of one
// run: each present (else the unfinished task is named), of `maps` tasks and
// `shards` shards, the same inputs and partitions, every piece of every
// input file read by exactly one task (the pieces of a file agreeing on how
// many it has, and following one another from its first byte to its last).
Result<std::vector<MapManifest>> ReadMapManifests(const std::string& dir, uint32_t maps, uint32_t shards);

}  // namespace regenpath::screen

#endif  // REGENPATH_SCREEN_SHUFFLE_MANIFEST_H_
