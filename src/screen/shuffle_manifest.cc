#include "screen/shuffle_manifest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/json_string.h"

namespace regenpath::screen {

std::string MapManifest::ToJson() const {
  std::string out = fmt::format(
      "{{\"schema\": \"{}\", \"map\": {}, \"maps\": {}, \"shards\": {}, "
      "\"partitions_per_shard\": {},\n \"pieces\": [",
      kSchema, map, maps, shards, partitions_per_shard);
  // Each piece: [file, ordinal, of, begin, end, lines].
  for (size_t i = 0; i < pieces.size(); ++i) {
    const PieceLines& piece = pieces[i];
    out += fmt::format("{}[{}, {}, {}, {}, {}, {}]", i == 0 ? "" : ", ", piece.file, piece.ordinal, piece.of,
                       piece.begin, piece.end, piece.lines);
  }
  out += fmt::format("],\n \"spill_bytes\": [{}],\n \"issues\": [", fmt::join(spill_bytes, ", "));
  for (size_t i = 0; i < issues.size(); ++i) {
    out += fmt::format("{}\n  [{}, {}, ", i == 0 ? "" : ",", issues[i].file, issues[i].line);
    AppendJsonString(issues[i].message, out);
    out += ']';
  }
  out += "],\n \"skeletons\": ";
  AppendJsonString(skeletons, out);
  out += ",\n \"shared_types\": [";
  for (size_t i = 0; i < shared_types.size(); ++i) {
    if (i > 0) out += ", ";
    AppendJsonString(shared_types[i], out);
  }
  out += "],\n \"shared\": [";
  // Each: [file, line, type, id, text].
  for (size_t i = 0; i < shared.size(); ++i) {
    out += fmt::format("{}\n  [{}, {}, ", i == 0 ? "" : ",", shared[i].file, shared[i].line);
    AppendJsonString(shared[i].type, out);
    out += ", ";
    AppendJsonString(shared[i].id, out);
    out += ", ";
    AppendJsonString(shared[i].text, out);
    out += ']';
  }
  out += ']';
  out += ",\n \"facts\": ";
  out += facts.ToJson();
  out += "}\n";
  return out;
}

Result<MapManifest> MapManifest::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view schema;
  if (parser.parse(json).get(root) || root["schema"].get_string().get(schema) ||
      !schema.starts_with("regenpath.screen-map/")) {
    return Fail(InvalidInput(fmt::format("not a regenpath shuffle map manifest (schema {})", kSchema)));
  }
  if (schema != kSchema) {
    return Fail(InvalidInput(fmt::format("a map manifest of another regenpath version (schema {}; this one "
                                         "reads {}): run the map tasks again with this version",
                                         schema, kSchema)));
  }
  MapManifest manifest;
  uint64_t map = 0, maps = 0, shards = 0, per_shard = 0;
  simdjson::dom::array pieces, spill_bytes, issues;
  simdjson::dom::element facts;
  if (root["map"].get_uint64().get(map) || root["maps"].get_uint64().get(maps) ||
      root["shards"].get_uint64().get(shards) || root["partitions_per_shard"].get_uint64().get(per_shard) ||
      root["pieces"].get_array().get(pieces) || root["spill_bytes"].get_array().get(spill_bytes) ||
      root["issues"].get_array().get(issues) || root["facts"].get(facts) || maps == 0 || map >= maps ||
      shards == 0 || per_shard == 0 || maps > UINT32_MAX || shards > UINT32_MAX) {
    return Fail(
        InvalidInput("a map manifest lacks map, maps, shards, partitions_per_shard, pieces, spill_bytes, "
                     "issues or facts"));
  }
  // A map task writes no more spill files than it may have open
  // (Grouper::ForShuffle): far fewer than this bound, which keeps the
  // product below from overflowing and a reduce from allocating per
  // partition of an absurd count.
  constexpr uint64_t kMostSpillFiles = uint64_t{1} << 20;
  if (per_shard > kMostSpillFiles || shards * per_shard > kMostSpillFiles) {
    return Fail(
        InvalidInput(fmt::format("a map manifest names {} shards × {} partitions: more spill files than "
                                 "any map task writes",
                                 shards, per_shard)));
  }
  if (spill_bytes.size() != shards * per_shard) {
    return Fail(
        InvalidInput(fmt::format("a map manifest gives the sizes of {} spill files, not {} ({} shards × {})",
                                 spill_bytes.size(), shards * per_shard, shards, per_shard)));
  }
  for (simdjson::dom::element size : spill_bytes) {
    uint64_t bytes = 0;
    if (size.get_uint64().get(bytes)) return Fail(InvalidInput("a map manifest has a bad spill file size"));
    manifest.spill_bytes.push_back(bytes);
  }
  manifest.map = static_cast<uint32_t>(map);
  manifest.maps = static_cast<uint32_t>(maps);
  manifest.shards = static_cast<uint32_t>(shards);
  manifest.partitions_per_shard = per_shard;
  std::string_view skeletons;
  if (root["skeletons"].get_string().get(skeletons)) {
    return Fail(InvalidInput("a map manifest lacks skeletons"));
  }
  manifest.skeletons = std::string(skeletons);
  simdjson::dom::array shared_types, shared;
  if (root["shared_types"].get_array().get(shared_types) || root["shared"].get_array().get(shared)) {
    return Fail(InvalidInput("a map manifest lacks shared_types or shared"));
  }
  for (simdjson::dom::element type : shared_types) {
    std::string_view name;
    if (type.get_string().get(name)) return Fail(InvalidInput("a map manifest has a bad shared type"));
    manifest.shared_types.emplace_back(name);
  }
  for (simdjson::dom::element item : shared) {
    simdjson::dom::array fields;
    uint64_t file = 0;
    SharedLine line;
    std::string_view type, id, text;
    if (item.get_array().get(fields) || fields.size() != 5 || fields.at(0).get_uint64().get(file) ||
        fields.at(1).get_uint64().get(line.line) || fields.at(2).get_string().get(type) ||
        fields.at(3).get_string().get(id) || fields.at(4).get_string().get(text) || file > UINT32_MAX ||
        std::find(manifest.shared_types.begin(), manifest.shared_types.end(), type) ==
            manifest.shared_types.end()) {
      return Fail(InvalidInput("a map manifest has a bad shared resource"));
    }
    line.file = static_cast<uint32_t>(file);
    line.type = std::string(type);
    line.id = std::string(id);
    line.text = std::string(text);
    manifest.shared.push_back(std::move(line));
  }
  for (simdjson::dom::element issue : issues) {
    simdjson::dom::array fields;
    LineIssue line_issue;
    uint64_t file = 0;
    std::string_view message;
    if (issue.get_array().get(fields) || fields.size() != 3 || fields.at(0).get_uint64().get(file) ||
        fields.at(1).get_uint64().get(line_issue.line) || fields.at(2).get_string().get(message) ||
        file > UINT32_MAX) {
      return Fail(InvalidInput("a map manifest has a bad issue"));
    }
    line_issue.file = static_cast<uint32_t>(file);
    line_issue.message = std::string(message);
    manifest.issues.push_back(std::move(line_issue));
  }
  RP_ASSIGN_OR_RETURN(manifest.facts, RunFacts::FromJson(simdjson::minify(facts)));
  for (const LineIssue& issue : manifest.issues) {
    if (issue.file >= manifest.facts.inputs.size()) return Fail(InvalidInput("a map manifest's issue names no input"));
  }
  for (const SharedLine& line : manifest.shared) {
    if (line.file >= manifest.facts.inputs.size()) {
      return Fail(InvalidInput("a map manifest's shared resource names no input"));
    }
  }
  for (simdjson::dom::element piece : pieces) {
    simdjson::dom::array fields;
    uint64_t file = 0, ordinal = 0, of = 0, begin = 0, end = 0, lines = 0;
    if (piece.get_array().get(fields) || fields.size() != 6 || fields.at(0).get_uint64().get(file) ||
        fields.at(1).get_uint64().get(ordinal) || fields.at(2).get_uint64().get(of) ||
        fields.at(3).get_uint64().get(begin) || fields.at(4).get_uint64().get(end) ||
        fields.at(5).get_uint64().get(lines) || of == 0 || ordinal >= of || begin > end ||
        (begin == end && lines != 0)) {
      return Fail(InvalidInput("a map manifest has a bad piece"));
    }
    if (file >= manifest.facts.inputs.size())
      return Fail(InvalidInput("a map manifest's piece names no input"));
    // A split file has ceil(size / kPieceBytes) pieces (input_pieces.h): a
    // count of another file, or an absurd one, is refused before anything is
    // sized by it.
    const uint64_t size = manifest.facts.inputs[file].second;
    if ((of != 1 && of != (size + kPieceBytes - 1) / kPieceBytes) || end > size) {
      return Fail(
          InvalidInput(fmt::format("a map manifest splits {} ({} bytes) into {} pieces or past its end",
                                   manifest.facts.inputs[file].first, size, of)));
    }
    manifest.pieces.push_back(PieceLines{static_cast<uint32_t>(file), static_cast<uint32_t>(ordinal),
                                         static_cast<uint32_t>(of), begin, end, lines});
  }
  return manifest;
}

std::string MapDirectory(const std::string& dir, uint32_t map) { return fmt::format("{}/map-{:04}", dir, map); }

Result<std::vector<MapManifest>> ReadMapManifests(const std::string& dir, uint32_t maps, uint32_t shards) {
  std::vector<MapManifest> manifests;
  // Per input file, each of its pieces as a map task gave it (of == 0: none
  // yet); empty until a task names the file.
  std::vector<std::vector<PieceLines>> read;
  for (uint32_t map = 0; map < maps; ++map) {
    const std::string path = MapDirectory(dir, map) + "/" + std::string(MapManifest::kFileName);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Fail(InvalidInput(fmt::format("{}: missing: map task {} of {} has not finished", path, map, maps)));
    }
    std::ostringstream text;
    text << in.rdbuf();
    Result<MapManifest> manifest = MapManifest::FromJson(text.str());
    if (!manifest.has_value()) return Fail(InvalidInput(fmt::format("{}: {}", path, manifest.error().message())));
    if (manifest->map != map || manifest->maps != maps || manifest->shards != shards) {
      return Fail(InvalidInput(fmt::format(
          "{}: map task {} of {} into {} shards, where this reduce expects map {} of {} into {} shards", path,
          manifest->map, manifest->maps, manifest->shards, map, maps, shards)));
    }
    if (!manifests.empty()) {
      const MapManifest& first = manifests.front();
      if (manifest->facts.inputs != first.facts.inputs || manifest->facts.skipped_files != first.facts.skipped_files ||
          manifest->partitions_per_shard != first.partitions_per_shard) {
        return Fail(InvalidInput(fmt::format(
            "{}: another run's map task (its inputs or partitions differ from map task 0's)", path)));
      }
    } else {
      read.resize(manifest->facts.inputs.size());
    }
    for (const PieceLines& piece : manifest->pieces) {
      std::vector<PieceLines>& pieces = read[piece.file];  // (FromJson checked the file is in the run)
      if (pieces.empty()) pieces.resize(piece.of, PieceLines{piece.file, 0, 0, 0, 0, 0});
      if (pieces.size() != piece.of || pieces[piece.ordinal].of != 0) {
        return Fail(
            InvalidInput(fmt::format("{}: piece {} of {} of {} is read twice or split otherwise", path,
                                     piece.ordinal, piece.of, manifest->facts.inputs[piece.file].first)));
      }
      pieces[piece.ordinal] = piece;
    }
    manifests.push_back(std::move(*manifest));
  }
  for (size_t file = 0; file < read.size(); ++file) {
    const auto& [name, size] = manifests.front().facts.inputs[file];
    const std::vector<PieceLines>& pieces = read[file];
    if (pieces.empty())
      return Fail(InvalidInput(fmt::format("{}: input {} was read by no map task", dir, name)));
    // The pieces that hold lines follow one another from the file's first
    // byte to its last (a piece inside a long line is empty).
    uint64_t next = 0;
    for (size_t k = 0; k < pieces.size(); ++k) {
      if (pieces[k].of == 0) {
        return Fail(InvalidInput(fmt::format("{}: input {} (piece {} of {}) was read by no map task", dir,
                                             name, k, pieces.size())));
      }
      if (pieces[k].begin == pieces[k].end) continue;
      if (pieces[k].begin != next) {
        return Fail(
            InvalidInput(fmt::format("{}: the map tasks split input {} otherwise (piece {} of {} begins "
                                     "at byte {}, not {})",
                                     dir, name, k, pieces.size(), pieces[k].begin, next)));
      }
      next = pieces[k].end;
    }
    if (next != size) {
      return Fail(InvalidInput(
          fmt::format("{}: the map tasks' pieces of input {} end at byte {}, not at its end ({})", dir, name,
                      next, size)));
    }
  }
  return manifests;
}

}  // namespace regenpath::screen
