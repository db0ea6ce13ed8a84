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
  // Each piece: [file, ordinal, of, lines].
  for (size_t i = 0; i < pieces.size(); ++i) {
    out += fmt::format("{}[{}, {}, {}, {}]", i == 0 ? "" : ", ", pieces[i].file, pieces[i].ordinal,
                       pieces[i].of, pieces[i].lines);
  }
  out += fmt::format("],\n \"spill_bytes\": [{}],\n \"issues\": [", fmt::join(spill_bytes, ", "));
  for (size_t i = 0; i < issues.size(); ++i) {
    out += fmt::format("{}\n  [{}, {}, ", i == 0 ? "" : ",", issues[i].file, issues[i].line);
    AppendJsonString(issues[i].message, out);
    out += ']';
  }
  out += "],\n \"skeletons\": ";
  AppendJsonString(skeletons, out);
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
  for (simdjson::dom::element piece : pieces) {
    simdjson::dom::array fields;
    uint64_t file = 0, ordinal = 0, of = 0, lines = 0;
    if (piece.get_array().get(fields) || fields.size() != 4 || fields.at(0).get_uint64().get(file) ||
        fields.at(1).get_uint64().get(ordinal) || fields.at(2).get_uint64().get(of) ||
        fields.at(3).get_uint64().get(lines) || file > UINT32_MAX || of == 0 || of > UINT32_MAX ||
        ordinal >= of) {
      return Fail(InvalidInput("a map manifest has a bad piece"));
    }
    manifest.pieces.push_back(PieceLines{static_cast<uint32_t>(file), static_cast<uint32_t>(ordinal),
                                         static_cast<uint32_t>(of), lines});
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
  for (const PieceLines& piece : manifest.pieces) {
    if (piece.file >= manifest.facts.inputs.size())
      return Fail(InvalidInput("a map manifest's piece names no input"));
  }
  return manifest;
}

std::string MapDirectory(const std::string& dir, uint32_t map) { return fmt::format("{}/map-{:04}", dir, map); }

Result<std::vector<MapManifest>> ReadMapManifests(const std::string& dir, uint32_t maps, uint32_t shards) {
  std::vector<MapManifest> manifests;
  // Per input file, the map task that read each of its pieces (UINT32_MAX:
  // none yet); empty until a task names the file.
  std::vector<std::vector<uint32_t>> reader;
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
      reader.resize(manifest->facts.inputs.size());
    }
    for (const PieceLines& piece : manifest->pieces) {
      std::vector<uint32_t>& readers = reader[piece.file];  // (FromJson checked the file is in the run)
      if (readers.empty()) readers.assign(piece.of, UINT32_MAX);
      if (readers.size() != piece.of || readers[piece.ordinal] != UINT32_MAX) {
        return Fail(
            InvalidInput(fmt::format("{}: piece {} of {} of input {} is read twice or split otherwise", path,
                                     piece.ordinal, piece.of, piece.file)));
      }
      readers[piece.ordinal] = map;
    }
    manifests.push_back(std::move(*manifest));
  }
  for (size_t file = 0; file < reader.size(); ++file) {
    const std::vector<uint32_t>& readers = reader[file];
    const auto unread = std::find(readers.begin(), readers.end(), UINT32_MAX);
    if (readers.empty() || unread != readers.end()) {
      return Fail(InvalidInput(fmt::format(
          "{}: input {}{} was read by no map task", dir, manifests.front().facts.inputs[file].first,
          readers.empty() ? std::string()
                          : fmt::format(" (piece {} of {})", unread - readers.begin(), readers.size()))));
    }
  }
  return manifests;
}

}  // namespace regenpath::screen
