// The Python module `regenpath`: population screening for Python drivers
// (Dask, Spark, scripts). Each call runs the C++ screening with the GIL
// released, so threads of the calling process (and Dask's worker threads)
// keep running meanwhile.
//
//   import regenpath
//   regenpath.screen_shard(["/data/export"], 0, 4, {"output": "/shared/run/shard-0", "now": "2025-06-01"})
//   regenpath.merge(["/shared/run/shard-0", ...], "/shared/run/merged")
//
// Failures raise ValueError (bad options) or OSError (unreadable input,
// unwritable output) with regenpath's one-line message.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "common/now_option.h"
#include "knowledge/knowledge_base.h"
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
  return result;
}

// options: output (required), now, jobs, memory ("512M" or bytes), kb (a directory).
py::dict ScreenShard(const std::vector<std::string>& files, uint32_t shard, uint32_t shards, const py::dict& options) {
  regenpath::screen::ScreenOptions screen_options;
  if (shards == 0 || shard >= shards) throw py::value_error("shard must be in [0, shards)");
  if (!options.contains("output")) throw py::value_error("options['output'] (a directory) is required");
  screen_options.output_dir = py::str(options["output"]);
  std::optional<std::string> now;
  if (options.contains("now") && !options["now"].is_none()) now = py::str(options["now"]).cast<std::string>();
  Result<regenpath::DateTime> parsed_now = regenpath::ParseNowOption(now);
  if (!parsed_now.has_value()) Raise(parsed_now.error());
  screen_options.now = *parsed_now;
  screen_options.now_text = parsed_now->ToString();
  if (options.contains("jobs")) screen_options.jobs = options["jobs"].cast<size_t>();
  if (options.contains("memory")) {
    py::object memory = options["memory"];
    if (py::isinstance<py::int_>(memory)) {
      screen_options.memory_bytes = memory.cast<size_t>();
    } else {
      Result<size_t> size = regenpath::screen::ParseSize(py::str(memory).cast<std::string>());
      if (!size.has_value()) Raise(size.error());
      screen_options.memory_bytes = *size;
    }
  }
  Result<std::shared_ptr<const regenpath::knowledge::KnowledgeBase>> kb =
      options.contains("kb") ? regenpath::knowledge::KnowledgeBase::LoadDirectory(py::str(options["kb"]))
                             : Result<std::shared_ptr<const regenpath::knowledge::KnowledgeBase>>(
                                   regenpath::knowledge::KnowledgeBase::Embedded());
  if (!kb.has_value()) Raise(kb.error());
  screen_options.kb = *kb;
  screen_options.inputs = files;
  screen_options.shard = shard;
  screen_options.shards = shards;
  Result<regenpath::screen::ScreenReport> report;
  {
    py::gil_scoped_release release;
    report = regenpath::screen::Screen(screen_options);
  }
  if (!report.has_value()) Raise(report.error());
  return ReportDict(*report, screen_options.output_dir);
}

py::dict Merge(const std::vector<std::string>& shard_dirs, const std::string& output) {
  Result<regenpath::screen::ScreenReport> report;
  {
    py::gil_scoped_release release;
    report = regenpath::screen::MergeShards(shard_dirs, output);
  }
  if (!report.has_value()) Raise(report.error());
  return ReportDict(*report, output);
}

}  // namespace

PYBIND11_MODULE(regenpath, module) {
  module.doc() = "regenpath population screening over FHIR Bulk Data (docs/screening.md)";
  module.def("screen_shard", &ScreenShard, py::arg("files"), py::arg("shard"), py::arg("shards"), py::arg("options"),
             "Screen the patients of shard `shard` of `shards` (by patient id hash) in `files` (Bulk Data "
             "directories or NDJSON files) into options['output']; options: now, jobs, memory, kb. Returns the "
             "counts. Releases the GIL while it runs.");
  module.def("merge", &Merge, py::arg("shard_dirs"), py::arg("output"),
             "Merge the outputs of shards 0..N-1 into `output`: byte for byte the unsharded run's output.");
}
