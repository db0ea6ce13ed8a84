#include "cli/kb_export_command.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <set>

#include "cli/exit_codes.h"
#include "knowledge/fhir_export.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCommand = "regenpath kb export";

// Creates a new, empty directory `<parent>/<prefix>-<pid>-<n>` with the
// default permissions (0777 less the umask, as OUTDIR itself would get).
Result<fs::path> MakeStagingDirectory(const fs::path& parent, const std::string& prefix) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = parent / fmt::format("{}-{}-{}", prefix, static_cast<long>(getpid()), attempt);
    if (mkdir(candidate.c_str(), 0777) == 0) return candidate;
    if (errno != EEXIST) {
      return Fail(
          InvalidArgument(fmt::format("cannot write in '{}': {}", parent.string(), std::strerror(errno))));
    }
  }
  return Fail(InvalidArgument(fmt::format("cannot write in '{}': no free temporary name", parent.string())));
}

Status WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream << content;
  stream.close();
  if (!stream) return InvalidArgument(fmt::format("cannot write '{}'", path.string()));
  return Status::Ok();
}

bool IsExportedName(const std::string& name) {
  for (std::string_view type : {"PlanDefinition-", "ActivityDefinition-", "Library-", "ValueSet-"}) {
    if (name.rfind(type, 0) == 0 && name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0)
      return true;
  }
  return false;
}

// Writes every resource into `target` (see RunKbExport). Failures are
// kInvalidArgument: a problem with the output path.
Status WriteExport(const fs::path& target, const std::vector<knowledge::ExportedResource>& resources,
                   std::ostream& err) {
  std::error_code error;
  fs::file_status status = fs::status(target, error);
  const bool exists = fs::exists(status);
  if (exists && !fs::is_directory(status)) {
    return InvalidArgument(fmt::format("'{}' exists and is not a directory", target.string()));
  }
  fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!exists && !fs::is_directory(parent, error)) {
    return InvalidArgument(fmt::format("cannot create '{}': '{}' is not an existing directory",
                                       target.string(), parent.string()));
  }
  // Inside an existing OUTDIR the renames below stay on its file system.
  Result<fs::path> staging =
      exists ? MakeStagingDirectory(target, ".regenpath-export")
             : MakeStagingDirectory(parent, fmt::format(".{}.tmp", target.filename().string()));
  if (!staging.has_value()) return staging.error();
  const auto abandon = [&](Status failure) {
    std::error_code ignored;
    fs::remove_all(*staging, ignored);
    return failure;
  };
  for (const knowledge::ExportedResource& resource : resources) {
    Status written = WriteFile(*staging / resource.file_name, resource.json);
    if (!written.ok()) return abandon(written);
  }
  if (!exists) {
    fs::rename(*staging, target, error);
    if (error) {
      return abandon(
          InvalidArgument(fmt::format("cannot create '{}': {}", target.string(), error.message())));
    }
    return Status::Ok();
  }
  std::set<std::string> names;
  for (const knowledge::ExportedResource& resource : resources) {
    names.insert(resource.file_name);
    fs::rename(*staging / resource.file_name, target / resource.file_name, error);
    if (error) {
      return abandon(InvalidArgument(
          fmt::format("cannot replace '{}': {}", (target / resource.file_name).string(), error.message())));
    }
  }
  abandon(Status::Ok());
  for (const fs::directory_entry& entry : fs::directory_iterator(target, error)) {
    std::string name = entry.path().filename().string();
    if (IsExportedName(name) && names.count(name) == 0) {
      err << fmt::format("{}: warning: '{}' is not part of this export (left in place)\n", kCommand,
                         entry.path().string());
    }
  }
  return Status::Ok();
}

}  // namespace

int RunKbExport(const KbOptions& options, std::ostream& out, std::ostream& err) {
  if (options.fhir_dir.empty()) {
    err << kCommand << ": --fhir OUTDIR is required\n";
    return kExitUsage;
  }
  Result<std::shared_ptr<const knowledge::KnowledgeBase>> kb =
      options.kb_dir
          ? knowledge::KnowledgeBase::LoadDirectory(*options.kb_dir)
          : Result<std::shared_ptr<const knowledge::KnowledgeBase>>(knowledge::KnowledgeBase::Embedded());
  if (!kb.has_value()) {
    err << kCommand << ": " << kb.error().message() << "\n";
    return kExitInvalidInput;
  }
  const knowledge::KnowledgeBase& base = **kb;
  if (!base.usable()) {
    err << fmt::format("{}: the knowledge base has {} problem(s); run `regenpath kb check{}` to list them\n",
                       kCommand, base.problems().size(), options.kb_dir ? " --kb " + *options.kb_dir : "");
    return kExitInvalidInput;
  }
  Result<std::vector<knowledge::ExportedResource>> resources = knowledge::ExportFhir(base);
  if (!resources.has_value()) {
    err << kCommand << ": " << resources.error().message() << "\n";
    return kExitInvalidInput;
  }
  fs::path target = fs::path(options.fhir_dir).lexically_normal();
  if (target.filename().empty() && target.has_parent_path()) target = target.parent_path();  // "out/"
  Status written = WriteExport(target, *resources, err);
  if (!written.ok()) {
    err << kCommand << ": " << written.message() << "\n";
    return kExitUsage;
  }
  std::map<std::string, int> counts;
  for (const knowledge::ExportedResource& resource : *resources) ++counts[resource.resource_type];
  out << fmt::format(
      "{} {}: wrote {} resources to {} ({} PlanDefinition, {} Library, {} Measure, {} ActivityDefinition, {} "
      "ValueSet)\n",
      base.name(), base.version(), resources->size(), target.string(), counts["PlanDefinition"],
      counts["Library"], counts["Measure"], counts["ActivityDefinition"], counts["ValueSet"]);
  return kExitOk;
}

}  // namespace regenpath::cli
