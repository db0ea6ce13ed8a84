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
      "\"partitions_per_shard\": {},\n \"files\": [{}],\n \"spill_bytes\": [{}],\n \"issues\": [",
      kSchema, map, maps, shards, partitions_per_shard, fmt::join(files, ", "), fmt::join(spill_bytes, ", "));
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
  simdjson::dom::array files, spill_bytes, issues;
  simdjson::dom::element facts;
  if (root["map"].get_uint64().get(map) || root["maps"].get_uint64().get(maps) ||
      root["shards"].get_uint64().get(shards) || root["partitions_per_shard"].get_uint64().get(per_shard) ||
      root["files"].get_array().get(files) || root["spill_bytes"].get_array().get(spill_bytes) ||
      root["issues"].get_array().get(issues) || root["facts"].get(facts) || maps == 0 || map >= maps ||
      shards == 0 || per_shard == 0 || maps > UINT32_MAX || shards > UINT32_MAX) {
    return Fail(InvalidInput(
        "a map manifest lacks map, maps, shards, partitions_per_shard, files, spill_bytes, issues or facts"));
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
  for (simdjson::dom::element file : files) {
    uint64_t index = 0;
    if (file.get_uint64().get(index) || index > UINT32_MAX) return Fail(InvalidInput("a map manifest has a bad file index"));
    manifest.files.push_back(static_cast<uint32_t>(index));
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
  return manifest;
}

std::vector<uint32_t> ShareOfFiles(const std::vector<InputFile>& files, uint32_t map, uint32_t maps) {
  std::vector<uint32_t> order(files.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return files[a].size > files[b].size; });
  std::vector<uint64_t> load(std::max<uint32_t>(maps, 1), 0);
  std::vector<uint32_t> share;
  for (uint32_t file : order) {
    const size_t task = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[task] += std::max<uint64_t>(files[file].size, 1);
    if (task == map) share.push_back(file);
  }
  std::sort(share.begin(), share.end());
  return share;
}

std::string MapDirectory(const std::string& dir, uint32_t map) { return fmt::format("{}/map-{:04}", dir, map); }

Result<std::vector<MapManifest>> ReadMapManifests(const std::string& dir, uint32_t maps, uint32_t shards) {
  std::vector<MapManifest> manifests;
  std::vector<uint32_t> reader;  // the map task that read each input file
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
      reader.assign(manifest->facts.inputs.size(), UINT32_MAX);
    }
    for (uint32_t file : manifest->files) {
      if (file >= reader.size() || reader[file] != UINT32_MAX) {
        return Fail(InvalidInput(fmt::format("{}: input file {} is not in the run or read twice", path, file)));
      }
      reader[file] = map;
    }
    manifests.push_back(std::move(*manifest));
  }
  for (size_t file = 0; file < reader.size(); ++file) {
    if (reader[file] == UINT32_MAX) {
      return Fail(InvalidInput(fmt::format("{}: input {} was read by no map task", dir, manifests.front().facts.inputs[file].first)));
    }
  }
  return manifests;
}

}  // namespace regenpath::screen
