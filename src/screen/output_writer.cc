#include "screen/output_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <queue>
#include <span>

#include "common/json_string.h"
#include "fhir/fhir_id.h"
#include "knowledge/fhir_export.h"

namespace regenpath::screen {

namespace {

namespace fs = std::filesystem;

constexpr const char* kOutputFiles[] = {"patients.ndjson", "patients.csv",       "summary.json", "summary.txt",
                                        "MeasureReport.json", "Group.json", "run.json",     "issues.ndjson"};
// Written by some runs only (Finish's extra_files).
constexpr const char* kOptionalOutputFiles[] = {"shard.json"};

Status WriteWhole(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) return InvalidInput(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  return Status();
}

void AppendCountsJson(std::string& out, const std::map<std::string, uint64_t>& counts) {
  out += '{';
  bool first = true;
  for (const auto& [key, count] : counts) {
    if (!first) out += ", ";
    first = false;
    AppendJsonString(key, out);
    out += fmt::format(": {}", count);
  }
  out += '}';
}

void AppendNestedCountsJson(std::string& out, const std::map<std::string, std::map<std::string, uint64_t>>& counts,
                            std::string_view indent) {
  out += '{';
  bool first = true;
  for (const auto& [key, inner] : counts) {
    out += first ? "\n" : ",\n";
    first = false;
    out += indent;
    out += "  ";
    AppendJsonString(key, out);
    out += ": ";
    AppendCountsJson(out, inner);
  }
  if (!first) {
    out += '\n';
    out += indent;
  }
  out += '}';
}

uint64_t Sum(const std::map<std::string, uint64_t>& counts) {
  uint64_t total = 0;
  for (const auto& [key, count] : counts) total += count;
  return total;
}

// MeasureReport.measure: the canonical URL of the Measure that
// `regenpath kb export --fhir` writes for this knowledge base, with its
// version. A knowledge base whose name is no FHIR id has no exported
// Measure (the export refuses it): then a URN that names the knowledge base.
std::string MeasureCanonical(std::string_view kb_name, std::string_view kb_version) {
  const bool versioned =
      !kb_version.empty() && kb_version.find_first_of(" \t\r\n|") == std::string_view::npos;
  if (!fhir::IsFhirId(kb_name)) return "urn:regenpath:measure:population-screening";
  return knowledge::CanonicalUrl("Measure", kb_name) + (versioned ? fmt::format("|{}", kb_version) : "");
}

// A MeasureReport stratum list: one stratum per key with its count.
std::string Strata(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  for (const auto& [key, count] : counts) {
    if (!out.empty()) out += ",";
    out += "\n          {\"value\": {\"text\": ";
    AppendJsonString(key, out);
    out += fmt::format(
        "}}, \"population\": [{{\"code\": {{\"coding\": [{{\"system\": "
        "\"http://terminology.hl7.org/CodeSystem/measure-population\", \"code\": \"initial-population\"}}]}}, "
        "\"count\": {}}}]}}",
        count);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<OutputWriter>> OutputWriter::Open(const std::string& dir) {
  std::unique_ptr<OutputWriter> writer(new OutputWriter(dir));
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return Fail(InvalidInput(fmt::format("{}: cannot create the output directory: {}", dir, error.message())));
  writer->partial_ = dir + "/.partial";
  fs::remove_all(writer->partial_, error);
  fs::create_directories(writer->partial_, error);
  if (error) return Fail(InvalidInput(fmt::format("{}: cannot create: {}", writer->partial_, error.message())));
  writer->ndjson_ = std::fopen((writer->partial_ + "/patients.ndjson").c_str(), "wb");
  writer->csv_ = std::fopen((writer->partial_ + "/patients.csv").c_str(), "wb");
  if (writer->ndjson_ == nullptr || writer->csv_ == nullptr) {
    return Fail(InvalidInput(fmt::format("{}: cannot write: {}", writer->partial_, std::strerror(errno))));
  }
  RP_RETURN_IF_ERROR(writer->Write(writer->csv_, CsvHeader(), "patients.csv"));
  return writer;
}

OutputWriter::~OutputWriter() {
  if (ndjson_ != nullptr) std::fclose(ndjson_);
  if (csv_ != nullptr) std::fclose(csv_);
  std::error_code error;
  if (!partial_.empty()) fs::remove_all(partial_, error);
}

Status OutputWriter::Write(std::FILE* file, std::string_view text, const char* name) {
  if (std::fwrite(text.data(), 1, text.size(), file) != text.size()) {
    return InvalidInput(fmt::format("{}/{}: cannot write: {}", partial_, name, std::strerror(errno)));
  }
  return Status();
}

Status OutputWriter::AddPatient(std::string_view line) {
  RP_ASSIGN_OR_RETURN(PatientSummary patient, ReadPatientLine(line, parser_));
  if (patients_ > 0 && !(last_patient_ < patient.patient)) {
    return Internal(fmt::format("screening line {} is out of patient order", patients_ + 1));
  }
  last_patient_ = patient.patient;
  ++patients_;
  RP_RETURN_IF_ERROR(Write(ndjson_, line, "patients.ndjson"));
  RP_RETURN_IF_ERROR(Write(ndjson_, "\n", "patients.ndjson"));
  RP_RETURN_IF_ERROR(Write(csv_, CsvRow(patient), "patients.csv"));
  if (!patient.error.empty()) {
    ++unreadable_;
    return Status();
  }
  // A record merged into another (Patient.link replaced-by) must no longer
  // be used (FHIR): the person is counted through the record that replaced
  // it, so this one is excluded from the counts, like a deceased patient's,
  // and counted.
  if (patient.replaced_by) {
    ++replaced_;
    return Status();
  }
  if (patient.deceased == "true") {
    ++deceased_;
    return Status();
  }
  if (patient.issues > 0) ++with_issues_;
  ++stages_[patient.stage];
  for (const auto& [id, stage] : patient.conditions) ++conditions_[id][stage];
  for (const PatientSummary::Option& option : patient.options) ++options_[option.id][option.status];
  for (const std::string& id : patient.red_flags) ++red_flags_[id];
  for (const std::string& id : patient.missing_data) ++missing_data_[id];
  // The worklist (Group.json) holds the candidates (their stage offers
  // regenerative options) with a regenerative option open for a shared
  // decision (the assessment's regenerative_option_open: recommended or
  // consider; not when each is recommended against or contraindicated, or
  // none is listed), in a record in active use
  // (FHIR: patient lists leave out a Patient.active false), known to be alive (a
  // Patient resource that does not say they died; without one the export
  // cannot tell, and the reference may resolve to nothing on the server),
  // and named by an id a server accepts in a reference. The others are
  // counted by reason: those reasons split the assessed candidates.
  constexpr std::string_view kPatientPrefix = "Patient/";
  const std::string_view reference = patient.patient;
  const bool valid_id =
      reference.starts_with(kPatientPrefix) && fhir::IsFhirId(reference.substr(kPatientPrefix.size()));
  if (patient.candidate && !patient.option_open) {
    ++candidates_no_option_open_;
  } else if (patient.candidate && patient.inactive) {
    ++candidates_inactive_;
  } else if (patient.candidate && patient.deceased != "false") {
    ++candidates_unknown_vital_status_;
  } else if (patient.candidate && !valid_id) {
    ++candidates_invalid_id_;
  } else if (patient.candidate) {
    candidates_.push_back(patient.patient);
  }
  return Status();
}

Status OutputWriter::Finish(const RunFacts& facts, std::string_view issues_ndjson,
                            const std::map<std::string, std::string>& extra_files,
                            std::optional<std::pair<uint32_t, uint32_t>> shard) {
  if (std::fclose(ndjson_) != 0 || std::fclose(csv_) != 0) {
    ndjson_ = csv_ = nullptr;
    return InvalidInput(fmt::format("{}: cannot write: {}", partial_, std::strerror(errno)));
  }
  ndjson_ = csv_ = nullptr;
  const uint64_t assessed = patients_ - deceased_ - replaced_ - unreadable_;
  const uint64_t outside = Sum(facts.outside_compartment);
  const uint64_t no_patient = Sum(facts.no_patient);

  // summary.json
  std::string json = "{\n  \"schema\": \"regenpath.screen-summary/1\",\n  \"evaluated_at\": ";
  AppendJsonString(facts.now, json);
  json += ",\n  \"knowledge_base\": {\"name\": ";
  AppendJsonString(facts.kb_name, json);
  json += ", \"version\": ";
  AppendJsonString(facts.kb_version, json);
  json += fmt::format(
      "}},\n  \"patients\": {},\n  \"assessed\": {},\n  \"excluded\": {{\"deceased\": {}, "
      "\"replaced_record\": {}, "
      "\"unreadable_record\": {}}},\n  \"patients_with_record_issues\": {},\n",
      patients_, assessed, deceased_, replaced_, unreadable_, with_issues_);
  json += "  \"stages\": ";
  AppendCountsJson(json, stages_);
  json += ",\n  \"conditions\": ";
  AppendNestedCountsJson(json, conditions_, "  ");
  json += ",\n  \"regenerative_options\": ";
  AppendNestedCountsJson(json, options_, "  ");
  json += ",\n  \"red_flags\": ";
  AppendCountsJson(json, red_flags_);
  json += ",\n  \"missing_data\": ";
  AppendCountsJson(json, missing_data_);
  json += fmt::format(
      ",\n  \"regenerative_candidates\": {},\n"
      "  \"candidates_not_in_group\": {{\"no_regenerative_option_open\": {}, \"inactive_record\": {}, "
      "\"no_patient_resource\": {}, \"invalid_id\": {}}},\n",
      candidates_.size(), candidates_no_option_open_, candidates_inactive_, candidates_unknown_vital_status_,
      candidates_invalid_id_);
  json += fmt::format(
      "  \"lines\": {{\"read\": {}, \"patient_resources\": {}, \"malformed\": {}, \"outside_patient_compartment\": {}, "
      "\"naming_no_patient\": {}}},\n",
      facts.lines, facts.patient_resources, facts.malformed_lines, outside, no_patient);
  json += "  \"outside_patient_compartment\": ";
  AppendCountsJson(json, facts.outside_compartment);
  json += ",\n  \"naming_no_patient\": ";
  AppendCountsJson(json, facts.no_patient);
  json += fmt::format(",\n  \"files\": {},\n  \"skipped_files\": {}\n}}\n", facts.inputs.size(),
                      facts.skipped_files.size());

  // summary.txt
  std::string text = fmt::format("regenpath screen — {} {} — evaluated at {}\n\n", facts.kb_name, facts.kb_version,
                                 facts.now);
  text += fmt::format(
      "Patients: {} ({} assessed; excluded: {} deceased, {} replaced by another record, {} unreadable "
      "record)\n",
      patients_, assessed, deceased_, replaced_, unreadable_);
  text += fmt::format("Regenerative candidates: {} (Group.json)\n", candidates_.size());
  if (candidates_no_option_open_ > 0) {
    text += fmt::format(
        "  and {} more whose stage offers regenerative options but none is open (each recommended against or "
        "contraindicated, or none listed), not in the Group\n",
        candidates_no_option_open_);
  }
  if (candidates_inactive_ > 0) {
    text += fmt::format(
        "  and {} more whose record is not in active use (Patient.active false), not in the Group\n",
        candidates_inactive_);
  }
  if (candidates_unknown_vital_status_ > 0) {
    text += fmt::format(
        "  and {} more without a Patient resource in the export (vital status unknown), not in the Group\n",
        candidates_unknown_vital_status_);
  }
  if (candidates_invalid_id_ > 0) {
    text +=
        fmt::format("  and {} more whose id is not a valid FHIR id (see their issues), not in the Group\n",
                    candidates_invalid_id_);
  }
  text += "\nStage (assessed patients)\n";
  for (const auto& [stage, count] : stages_) text += fmt::format("  {:<28} {}\n", stage, count);
  text += "\nConditions in scope (patients, by condition stage)\n";
  for (const auto& [id, by_stage] : conditions_) {
    text += fmt::format("  {:<40} {}\n", id, Sum(by_stage));
    for (const auto& [stage, count] : by_stage) text += fmt::format("    {:<38} {}\n", stage, count);
  }
  text += "\nRegenerative options (patients, by status)\n";
  for (const auto& [id, by_status] : options_) {
    std::string statuses;
    for (const auto& [status, count] : by_status)
      statuses += fmt::format("{}{} {}", statuses.empty() ? " " : "; ", status, count);
    text += fmt::format("  {:<40}{}\n", id, statuses);
  }
  text += "\nRed flags (patients)\n";
  if (red_flags_.empty()) text += "  none\n";
  for (const auto& [id, count] : red_flags_) text += fmt::format("  {:<40} {}\n", id, count);
  text += "\nMissing data (patients)\n";
  if (missing_data_.empty()) text += "  none\n";
  for (const auto& [id, count] : missing_data_) text += fmt::format("  {:<40} {}\n", id, count);
  text += fmt::format("\nInput: {} files ({} skipped), {} lines: {} patient resources, {} malformed (issues.ndjson), "
                      "{} outside the patient compartment, {} naming no patient\n",
                      facts.inputs.size(), facts.skipped_files.size(), facts.lines, facts.patient_resources,
                      facts.malformed_lines, outside, no_patient);
  for (const auto& [type, count] : facts.no_patient) text += fmt::format("  no patient: {:<30} {}\n", type, count);

  // MeasureReport.json
  std::map<std::string, uint64_t> condition_totals, option_status, stage_counts = stages_;
  for (const auto& [id, by_stage] : conditions_) condition_totals[id] = Sum(by_stage);
  for (const auto& [id, by_status] : options_) {
    for (const auto& [status, count] : by_status) option_status[id + ":" + status] = count;
  }
  std::string measure = fmt::format(
      "{{\n  \"resourceType\": \"MeasureReport\",\n  \"status\": \"{}\",\n  \"type\": \"summary\",\n"
      "  \"measure\": ",
      shard ? "pending" : "complete");
  AppendJsonString(MeasureCanonical(facts.kb_name, facts.kb_version), measure);
  measure += ",\n  \"date\": ";
  AppendJsonString(facts.now, measure);
  measure += ",\n  \"period\": {\"start\": ";
  AppendJsonString(facts.now, measure);
  measure += ", \"end\": ";
  AppendJsonString(facts.now, measure);
  measure += fmt::format(
      "}},\n  \"group\": [\n    {{\n      \"code\": {{\"text\": \"{}\"}},\n"
      "      \"population\": [{{\"code\": {{\"coding\": [{{\"system\": "
      "\"http://terminology.hl7.org/CodeSystem/measure-population\", \"code\": \"initial-population\"}}]}}, "
      "\"count\": {}}}],\n      \"stratifier\": [",
      knowledge::kScreeningGroup, assessed);
  // The Measure's stratifiers, in its order (knowledge/fhir_export.h).
  const std::map<std::string, uint64_t>* counts_of[] = {&stage_counts, &condition_totals, &option_status,
                                                        &red_flags_};
  const std::span<const knowledge::ScreeningStratifier> stratifiers = knowledge::ScreeningStratifiers();
  static_assert(std::size(counts_of) == 4);
  if (stratifiers.size() != std::size(counts_of))
    return Internal("the screening measure's stratifiers changed");
  bool first = true;
  for (size_t i = 0; i < stratifiers.size(); ++i) {
    const std::string_view name = stratifiers[i].code;
    const std::map<std::string, uint64_t>* counts = counts_of[i];
    measure += first ? "\n" : ",\n";
    first = false;
    // FHIR arrays are never empty: a stratifier without strata has no "stratum".
    measure += counts->empty()
                   ? fmt::format("        {{\"code\": [{{\"text\": \"{}\"}}]}}", name)
                   : fmt::format("        {{\"code\": [{{\"text\": \"{}\"}}], \"stratum\": [{}]}}", name, Strata(*counts));
  }
  measure += "\n      ]\n    }\n  ]\n}\n";

  // Group.json. Its identifier is the same from run to run (the worklist of
  // this knowledge base), so that an EHR can replace last night's list with
  // a conditional update; its name says as of when.
  std::string group =
      "{\n  \"resourceType\": \"Group\",\n  \"identifier\": [{\"system\": \"urn:regenpath:worklist\", "
      "\"value\": ";
  AppendJsonString(facts.kb_name + "/regenerative-candidates" +
                       (shard ? fmt::format("/shard-{}-of-{}", shard->first, shard->second) : ""),
                   group);
  group += "}],\n  \"type\": \"person\",\n  \"actual\": true,\n  \"name\": ";
  AppendJsonString(
      fmt::format("regenerative candidates as of {} ({} {}){}", facts.now, facts.kb_name, facts.kb_version,
                  shard ? fmt::format(", shard {}/{} only: `regenpath screen merge` gives the whole list",
                                      shard->first, shard->second)
                        : ""),
      group);
  group += fmt::format(",\n  \"quantity\": {}", candidates_.size());
  if (!candidates_.empty()) group += ",\n  \"member\": [";
  for (size_t i = 0; i < candidates_.size(); ++i) {
    group += i == 0 ? "\n    {\"entity\": {\"reference\": " : ",\n    {\"entity\": {\"reference\": ";
    AppendJsonString(candidates_[i], group);
    group += "}}";
  }
  group += candidates_.empty() ? "\n}\n" : "\n  ]\n}\n";

  RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/summary.json", json));
  RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/summary.txt", text));
  RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/MeasureReport.json", measure));
  RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/Group.json", group));
  RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/run.json", facts.ToJson()));
  RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/issues.ndjson", issues_ndjson));
  for (const auto& [name, content] : extra_files) RP_RETURN_IF_ERROR(WriteWhole(partial_ + "/" + name, content));
  std::vector<std::string> names(std::begin(kOutputFiles), std::end(kOutputFiles));
  for (const auto& [name, content] : extra_files) names.push_back(name);
  // All or nothing: a name in the way that a file cannot replace (a
  // directory) stops the run before any file is moved, so DIR never holds
  // this run's files beside an earlier run's.
  for (const std::string& name : names) {
    std::error_code error;
    const fs::file_status status = fs::symlink_status(dir_ + "/" + name, error);
    if (fs::exists(status) && fs::is_directory(status)) {
      return InvalidInput(
          fmt::format("{}/{}: a directory is in the way; no output was moved into {}", dir_, name, dir_));
    }
  }
  // An optional file an earlier run left (a shard's shard.json in a
  // directory now holding a whole run's output) would misdescribe this one.
  for (const char* optional : kOptionalOutputFiles) {
    if (extra_files.count(optional) != 0) continue;
    std::error_code error;
    fs::remove(dir_ + "/" + optional, error);
    if (error) return InvalidInput(fmt::format("{}/{}: cannot remove: {}", dir_, optional, error.message()));
  }
  for (const std::string& name : names) {
    std::error_code error;
    fs::rename(partial_ + "/" + name, dir_ + "/" + name, error);
    if (error) return InvalidInput(fmt::format("{}/{}: cannot move into place: {}", dir_, name, error.message()));
  }
  std::error_code error;
  fs::remove_all(partial_, error);
  partial_.clear();
  return Status();
}

Result<std::string> PatientOfLine(std::string_view line) {
  // Every screening line starts {"patient":"...": read that string.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view patient;
  if (parser.parse(line).get(root) || root["patient"].get_string().get(patient)) {
    return Fail(InvalidInput("not a screening line"));
  }
  return std::string(patient);
}

namespace {

struct MergeSource {
  std::ifstream in;
  std::string path;
  std::string line;
  std::string patient;
  uint64_t line_number = 0;
};

}  // namespace

Status MergePatientFiles(const std::vector<std::string>& files,
                         const std::function<Status(std::string_view line)>& visit) {
  std::vector<std::unique_ptr<MergeSource>> sources;
  auto advance = [](MergeSource& source) -> Result<bool> {
    std::string previous = source.patient;
    while (std::getline(source.in, source.line)) {
      ++source.line_number;
      if (source.line.empty()) continue;
      Result<std::string> patient = PatientOfLine(source.line);
      if (!patient.has_value()) {
        return Fail(InvalidInput(fmt::format("{}:{}: {}", source.path, source.line_number, patient.error().message())));
      }
      if (source.line_number > 1 && !previous.empty() && !(previous < *patient)) {
        return Fail(InvalidInput(fmt::format("{}:{}: patients out of order", source.path, source.line_number)));
      }
      source.patient = std::move(*patient);
      return true;
    }
    if (source.in.bad()) return Fail(InvalidInput(fmt::format("{}: read error", source.path)));
    return false;
  };
  auto later = [&](size_t a, size_t b) { return sources[a]->patient > sources[b]->patient; };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (const std::string& path : files) {
    auto source = std::make_unique<MergeSource>();
    source->path = path;
    source->in.open(path, std::ios::binary);
    if (!source->in) return InvalidInput(fmt::format("{}: cannot open", path));
    sources.push_back(std::move(source));
    RP_ASSIGN_OR_RETURN(bool has_line, advance(*sources.back()));
    if (has_line) heap.push(sources.size() - 1);
  }
  std::string previous;
  while (!heap.empty()) {
    size_t index = heap.top();
    heap.pop();
    MergeSource& source = *sources[index];
    if (!previous.empty() && source.patient == previous) {
      return InvalidInput(fmt::format("{}:{}: {} appears in more than one input", source.path, source.line_number,
                                      "a patient"));
    }
    previous = source.patient;
    RP_RETURN_IF_ERROR(visit(source.line));
    RP_ASSIGN_OR_RETURN(bool has_line, advance(source));
    if (has_line) heap.push(index);
  }
  return Status();
}

}  // namespace regenpath::screen
