// The Python module `regenpath`: population screening for Python drivers
// (Dask, Spark, scripts). Each call runs the C++ screening with the GIL
// released, so threads of the calling process (and Dask's worker threads)
// keep running meanwhile.
//
//   import regenpath
//   regenpath.screen_shard(["/data/export"], 0, 4, {"output": "/shared/run/shard-0", "now": "2025-06-01"})
//   regenpath.merge(["/shared/run/shard-0", ...], "/shared/run/merged")
//   # or shuffled: every line read once in the whole cluster
//   regenpath.screen_map(["/data/export"], 0, 2, 4, {"shuffle_dir": "/shared/run/shuffle"})  # and map 1 of 2
//   regenpath.screen_reduce(0, 4, 2, {"shuffle_dir": "/shared/run/shuffle", "output": "/shared/run/shard-0"})
//
// Failures raise ValueError (bad options) or OSError (unreadable input,
// unwritable output) with regenpath's one-line message.
//
// The knowledge base and its compiled engine are loaded once per process
// (python/engine_cache.h) and shared by the calls of every thread: the
// tasks a Dask worker runs do not each load and compile their own. A
// screening call's result says whether it found them loaded
// ("engine_reused").
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "common/now_option.h"
#include "knowledge/knowledge_base.h"
#include "python/engine_cache.h"
#include "screen/screener.h"

namespace py = pybind11;

namespace {

using regenpath::Result;
using regenpath::StatusCode;

[[noreturn]] void Raise(const regenpath::Status& status) {
  if (status.code() == StatusCode::kInvalidArgument) throw py::value_error(status.message());
  PyErr_SetString(PyExc_OSError, status.message().c_str());
  throw py::error_already_set();
}

py::dict ReportDict(const regenpath::screen::ScreenReport& report, const std::string& output) {
  py::dict result;
  result["output"] = output;
  result["patients"] = report.patients;
  result["files"] = report.files;
  result["bytes"] = report.bytes;
  result["lines"] = report.lines;
  result["malformed_lines"] = report.malformed_lines;
  result["partitions"] = report.partitions;
  result["seconds"] = report.seconds;
  result["cpu_seconds"] = report.cpu_seconds;
  result["threads_not_started"] = report.threads_not_started;
  result["held_bytes_peak"] = report.held_bytes_peak;
  return result;
}

// A path option: a str or an os.PathLike (not None, not a number: str()
// would make a directory named "None"). `required`: ValueError when absent.
std::optional<std::string> PathOption(const py::dict& options, const char* key, const char* what,
                                      bool required) {
  if (!options.contains(key) || (!required && options[key].is_none())) {
    if (required) throw py::value_error(std::string("options['") + key + "'] (" + what + ") is required");
    return std::nullopt;
  }
  py::object value = options[key];
  if (!py::isinstance<py::str>(value) && !py::hasattr(value, "__fspath__")) {
    throw py::value_error(std::string("options['") + key + "'] (" + what +
                          ") must be a path (str or os.PathLike)");
  }
  return py::str(py::module_::import("os").attr("fspath")(value)).cast<std::string>();
}

std::string RequiredText(const py::dict& options, const char* key, const char* what) {
  return *PathOption(options, key, what, true);
}

// Status's message for the option `key` of the binding: a message written
// for the command line's flag ("--now: 'x' is not a date") names the option.
[[noreturn]] void RaiseFor(const char* key, const regenpath::Status& status) {
  std::string message = status.message();
  if (const size_t colon = message.find(": "); message.starts_with("--") && colon != std::string::npos) {
    message = message.substr(colon + 2);
  }
  Raise(regenpath::Status(status.code(), std::string("options['") + key + "']: " + message));
}

// options["now"]: omitted or None for the current instant.
regenpath::DateTime NowOption(const py::dict& options) {
  std::optional<std::string> now;
  if (options.contains("now") && !options["now"].is_none()) {
    if (!py::isinstance<py::str>(options["now"]))
      throw py::value_error("options['now'] must be a str (YYYY-MM-DD or a dateTime)");
    now = options["now"].cast<std::string>();
  }
  Result<regenpath::DateTime> parsed_now = regenpath::ParseNowOption(now);
  if (!parsed_now.has_value()) RaiseFor("now", parsed_now.error());
  return *parsed_now;
}

// The knowledge bases and engines of this process: every task it runs (on
// any thread) shares them, instead of loading and compiling its own.
regenpath::python::EngineCache engines;

// ValueError for a key of `options` that `call` does not take (a misspelt
// option would otherwise be ignored, and the run go on with its default).
void CheckKeys(const py::dict& options, const char* call, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : options) {
    const std::string name = py::str(key);
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; }) !=
        allowed.end())
      continue;
    std::string known;
    for (const char* a : allowed) known += known.empty() ? a : std::string(", ") + a;
    throw py::value_error(std::string(call) + ": options['" + name + "'] is not an option (" + known + ")");
  }
}

// An integer option (a Python int, or anything with __index__, as numpy's
// are; not a bool) as int64_t; nullopt when it is not one. ValueError when
// it is beyond 64 bits.
std::optional<int64_t> AsInteger(const py::handle& value, const char* what) {
  if (py::isinstance<py::bool_>(value) || !PyIndex_Check(value.ptr())) return std::nullopt;
  py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!index) throw py::error_already_set();
  int overflow = 0;
  const long long number = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0) throw py::value_error(std::string(what) + " is out of range");
  return static_cast<int64_t>(number);
}

// An int argument within [low, high) as uint32_t, else ValueError naming it.
uint32_t Index(int64_t value, int64_t low, int64_t high, const char* what) {
  if (value < low || value >= high) {
    throw py::value_error(std::string(what) + " must be in [" + std::to_string(low) + ", " +
                          std::to_string(high) + "), not " + std::to_string(value));
  }
  return static_cast<uint32_t>(value);
}

// The same for an argument given from Python (an int, not a bool).
uint32_t Index(const py::object& value, int64_t low, int64_t high, const char* what) {
  const std::optional<int64_t> number = AsInteger(value, what);
  if (!number) throw py::value_error(std::string(what) + " must be an int");
  return Index(*number, low, high, what);
}

// Reads jobs and memory ("512M" or bytes), checked as the command line
// checks --jobs and --memory; with `assessing`, also now; with `assessing`
// or `with_kb`, kb (from `engines`; `engine_reused` tells whether it was
// there already).
void ReadOptions(const py::dict& options, bool assessing, bool with_kb,
                 regenpath::screen::ScreenOptions& screen_options, bool& engine_reused) {
  if (options.contains("jobs")) {
    const std::optional<int64_t> count = AsInteger(options["jobs"], "options['jobs']");
    if (!count) throw py::value_error("options['jobs'] must be an int (0: every core)");
    if (regenpath::Status valid = regenpath::screen::CheckJobs(*count); !valid.ok()) RaiseFor("jobs", valid);
    screen_options.jobs = static_cast<size_t>(*count);
  }
  if (options.contains("memory")) {
    py::object memory = options["memory"];
    if (const std::optional<int64_t> bytes = AsInteger(memory, "options['memory']")) {
      if (*bytes <= 0) throw py::value_error("options['memory'] must be positive");
      screen_options.memory_bytes = static_cast<size_t>(*bytes);
    } else if (py::isinstance<py::str>(memory)) {
      Result<size_t> size = regenpath::screen::ParseSize(memory.cast<std::string>());
      if (!size.has_value()) RaiseFor("memory", size.error());
      screen_options.memory_bytes = *size;
    } else {
      throw py::value_error("options['memory'] must be a size (\"512M\") or a number of bytes");
    }
    if (regenpath::Status enough = regenpath::screen::CheckMemory(screen_options.memory_bytes);
        !enough.ok()) {
      RaiseFor("memory", enough);
    }
  }
  if (assessing) {
    screen_options.now = NowOption(options);
    screen_options.now_text = screen_options.now.ToString();
  } else if (options.contains("now")) {
    NowOption(options);  // checked though unused (a map task's), as a reduce task would check it
  }
  if (!assessing && !with_kb) return;
  const std::optional<std::string> kb_directory =
      PathOption(options, "kb", "a knowledge-base directory", false);
  Result<regenpath::python::EngineCache::Entry> entry;
  {
    py::gil_scoped_release release;  // a load takes milliseconds: other Python threads go on meanwhile
    entry = engines.Get(kb_directory);
  }
  if (!entry.has_value()) Raise(entry.error());
  screen_options.kb = entry->kb;
  screen_options.engine = entry->engine;
  engine_reused = entry->reused;
}

// Runs `run` with the GIL released; raises on failure.
template <typename Run>
regenpath::screen::ScreenReport Released(Run run) {
  Result<regenpath::screen::ScreenReport> report;
  {
    py::gil_scoped_release release;
    report = run();
  }
  if (!report.has_value()) Raise(report.error());
  return *report;
}

// options: output (required), now, jobs, memory ("512M" or bytes), kb (a directory).
py::dict ScreenShard(const std::vector<std::string>& files, const py::object& shard_arg,
                     const py::object& shards_arg, const py::dict& options) {
  CheckKeys(options, "screen_shard", {"output", "now", "jobs", "memory", "kb"});
  regenpath::screen::ScreenOptions screen_options;
  const uint32_t shards = Index(shards_arg, 1, int64_t{1} << 31, "shards");
  const uint32_t shard = Index(shard_arg, 0, shards, "shard");
  screen_options.output_dir = RequiredText(options, "output", "a directory");
  bool engine_reused = false;
  ReadOptions(options, true, true, screen_options, engine_reused);
  screen_options.inputs = files;
  screen_options.shard = shard;
  screen_options.shards = shards;
  py::dict result =
      ReportDict(Released([&] { return regenpath::screen::Screen(screen_options); }), screen_options.output_dir);
  result["engine_reused"] = engine_reused;
  return result;
}

// options: shuffle_dir (required), jobs, memory (the reduce tasks' budget), kb.
py::dict ScreenMap(const std::vector<std::string>& files, const py::object& map_arg,
                   const py::object& maps_arg, const py::object& shards_arg, const py::dict& options) {
  // (now is taken and unused: a driver gives its map and reduce tasks one dict.)
  CheckKeys(options, "screen_map", {"shuffle_dir", "now", "jobs", "memory", "kb"});
  const uint32_t maps = Index(maps_arg, 1, int64_t{1} << 31, "maps");
  const uint32_t map = Index(map_arg, 0, maps, "map");
  const uint32_t shards = Index(shards_arg, 1, int64_t{1} << 31, "shards");
  regenpath::screen::ScreenOptions screen_options;
  const regenpath::screen::ShuffleTask task{RequiredText(options, "shuffle_dir", "a shared directory"), map, maps};
  bool engine_reused = false;
  // The knowledge base (kb, default the built-in one) decides which
  // resources go to the reduce tasks as skeletons: theirs must be the same.
  ReadOptions(options, false, true, screen_options, engine_reused);
  screen_options.inputs = files;
  screen_options.shards = shards;
  return ReportDict(Released([&] { return regenpath::screen::ScreenMap(screen_options, task); }), task.dir);
}

// options: shuffle_dir and output (required), now, jobs, memory, kb.
py::dict ScreenReduce(const py::object& shard_arg, const py::object& shards_arg, const py::object& maps_arg,
                      const py::dict& options) {
  CheckKeys(options, "screen_reduce", {"shuffle_dir", "output", "now", "jobs", "memory", "kb"});
  const uint32_t shards = Index(shards_arg, 1, int64_t{1} << 31, "shards");
  const uint32_t shard = Index(shard_arg, 0, shards, "shard");
  const uint32_t maps = Index(maps_arg, 1, int64_t{1} << 31, "maps");
  regenpath::screen::ScreenOptions screen_options;
  const regenpath::screen::ShuffleTask task{RequiredText(options, "shuffle_dir", "a shared directory"), 0, maps};
  screen_options.output_dir = RequiredText(options, "output", "a directory");
  bool engine_reused = false;
  ReadOptions(options, true, true, screen_options, engine_reused);
  screen_options.shard = shard;
  screen_options.shards = shards;
  py::dict result = ReportDict(Released([&] { return regenpath::screen::ScreenReduce(screen_options, task); }),
                               screen_options.output_dir);
  result["engine_reused"] = engine_reused;
  return result;
}

// The options a driver will give its tasks, checked before any runs (a bad
// --now found by the reduce tasks only after every map task had run):
// ValueError as those calls would raise it. Returns the instant the tasks
// will assess as of ("now" as given, or now).
std::string CheckOptions(const py::dict& options) {
  CheckKeys(options, "check_options", {"now", "jobs", "memory", "kb"});
  regenpath::screen::ScreenOptions screen_options;
  bool engine_reused = false;
  // jobs and memory; the knowledge base only when one is named (loading
  // the built-in one here would cost a driver that runs no task).
  ReadOptions(options, false, options.contains("kb") && !options["kb"].is_none(), screen_options,
              engine_reused);
  return NowOption(options).ToString();
}

py::dict Merge(const std::vector<std::string>& shard_dirs, const std::string& output) {
  return ReportDict(Released([&] { return regenpath::screen::MergeShards(shard_dirs, output); }), output);
}

}  // namespace

PYBIND11_MODULE(regenpath, module) {
  module.doc() = "regenpath population screening over FHIR Bulk Data (docs/screening.md)";
  module.def("screen_shard", &ScreenShard, py::arg("files"), py::arg("shard"), py::arg("shards"), py::arg("options"),
             "Screen the patients of shard `shard` of `shards` (by patient id hash) in `files` (Bulk Data "
             "directories or NDJSON files) into options['output']; options: now, jobs, memory, kb. Returns the "
             "counts. Releases the GIL while it runs.");
  module.def("screen_map", &ScreenMap, py::arg("files"), py::arg("map"), py::arg("maps"), py::arg("shards"),
             py::arg("options"),
             "A shuffle's map task `map` of `maps`: route its share of `files` (by 8 MB pieces) into per-shard "
             "files under options['shuffle_dir'] for `shards` reduce tasks; options: jobs, memory (the reduce "
             "tasks' budget). "
             "Releases the GIL while it runs.");
  module.def("screen_reduce", &ScreenReduce, py::arg("shard"), py::arg("shards"), py::arg("maps"), py::arg("options"),
             "A shuffle's reduce task: screen shard `shard` of `shards` from the `maps` map tasks' files under "
             "options['shuffle_dir'] into options['output'] (merge those with `merge`); options: now, jobs, memory, "
             "kb. Run it once every map task has finished. Releases the GIL while it runs.");
  module.def(
      "check_options", &CheckOptions, py::arg("options"),
      "Check the options tasks will be given (now, jobs, memory, kb) as screen_shard, screen_map and "
      "screen_reduce check them, before any task runs; raises ValueError (OSError for an unreadable kb). "
      "Returns the instant they assess as of (options['now'], or now).");
  module.def("merge", &Merge, py::arg("shard_dirs"), py::arg("output"),
             "Merge the outputs of shards 0..N-1 into `output`: byte for byte the unsharded run's output.");
}
