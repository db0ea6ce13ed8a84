#include "registry/cohort_export.h"

#include <fmt/format.h>

#include <map>
#include <vector>

#include "common/csv_field.h"
#include "common/json_string.h"
#include "registry/civil_day.h"
#include "registry/fhir_codes.h"
#include "registry/instrument_catalog.h"

namespace regenpath::registry {

namespace {

namespace codes = fhir_codes;

// The part of a registry key after "Type|": the source identifier.
std::string Identifier(const std::string& key) {
  size_t bar = key.find('|');
  return bar == std::string::npos ? key : key.substr(bar + 1);
}

std::string Subject(const std::string& pseudonym) {
  std::string out = R"("subject":{"identifier":{"system":)";
  AppendJsonString(kPseudonymSystem, out);
  out += R"(,"value":)";
  AppendJsonString(pseudonym, out);
  return out + "}}";
}

std::string Meta(bool synthetic) {
  if (!synthetic) return "";
  return fmt::format(R"("meta":{{"tag":[{{"system":"{}","code":"synthetic"}}]}},)", codes::kSyntheticTagSystem);
}

std::string IdentifierJson(const std::string& key, bool list) {
  std::string out = list ? R"("identifier":[{"system":"urn:regenpath:registry-key","value":)"
                         : R"("identifier":{"system":"urn:regenpath:registry-key","value":)";
  AppendJsonString(Identifier(key), out);
  return out + (list ? "}]," : "},");
}

std::vector<std::string> Resources(const Cohort& cohort) {
  std::map<std::string, const Episode*> episodes;
  std::map<std::string, bool> synthetic_patient;
  for (const Episode& episode : cohort.episodes) {
    episodes[episode.key] = &episode;
    synthetic_patient[episode.patient] = episode.synthetic;
  }
  std::vector<std::string> out;
  for (const ProcedureRecord& procedure : cohort.procedures) {
    auto found = episodes.find(procedure.episode_key);
    if (found == episodes.end()) continue;
    const Episode& episode = *found->second;
    std::string json = R"({"resourceType":"Procedure",)" + Meta(episode.synthetic) + IdentifierJson(procedure.key, true);
    json += fmt::format(R"("status":"completed","code":{{"coding":[{{"system":"{}","code":)", codes::kOptionSystem);
    AppendJsonString(episode.option_id, json);
    json += "}]},";
    if (procedure.kind == "surgery") {
      json += fmt::format(R"("category":{{"coding":[{{"system":"{}","code":"surgery"}}]}},)", codes::kProcedureKindSystem);
    }
    json += Subject(procedure.patient) + R"(,"performedDateTime":)";
    AppendJsonString(procedure.date, json);
    std::vector<std::string> extensions;
    auto code_extension = [&](std::string_view name, const std::string& value) {
      if (value.empty()) return;
      std::string text = fmt::format(R"({{"url":"{}{}","valueCode":)", codes::kExtensionPrefix, name);
      AppendJsonString(value, text);
      extensions.push_back(text + "}");
    };
    auto number_extension = [&](std::string_view name, const std::optional<double>& value) {
      if (value) extensions.push_back(fmt::format(R"({{"url":"{}{}","valueDecimal":{}}})", codes::kExtensionPrefix, name, *value));
    };
    code_extension(codes::kLaterality, episode.side);
    code_extension(codes::kImageGuidance, procedure.image_guidance);
    code_extension(codes::kPrpLeukocytes, procedure.prp_leukocytes);
    number_extension(codes::kInjectateVolume, procedure.volume_ml);
    number_extension(codes::kPlateletConcentration, procedure.platelet_concentration);
    number_extension(codes::kNucleatedCells, procedure.bmc_nucleated_cells);
    number_extension(codes::kDextrosePercent, procedure.dextrose_percent);
    extensions.push_back(fmt::format(R"({{"url":"{}{}","valuePositiveInt":{}}})", codes::kExtensionPrefix,
                                     codes::kSeriesNumber, procedure.series_number));
    json += R"(,"extension":[)";
    for (size_t index = 0; index < extensions.size(); ++index) {
      if (index > 0) json += ",";
      json += extensions[index];
    }
    json += "]}";
    out.push_back(std::move(json));
  }
  for (const OutcomeRecord& outcome : cohort.outcomes) {
    std::string json = R"({"resourceType":"Observation",)" + Meta(synthetic_patient[outcome.patient]) +
                       IdentifierJson(outcome.key, true);
    json += fmt::format(R"("status":"final","code":{{"coding":[{{"system":"{}","code":)", kInstrumentSystem);
    AppendJsonString(outcome.instrument, json);
    json += "}]}," + Subject(outcome.patient) + R"(,"effectiveDateTime":)";
    AppendJsonString(outcome.date, json);
    json += fmt::format(R"(,"valueQuantity":{{"value":{}}}}})", outcome.value);
    out.push_back(std::move(json));
  }
  for (const AdverseEventRecord& event : cohort.adverse_events) {
    std::string json = R"({"resourceType":"AdverseEvent",)" + Meta(synthetic_patient[event.patient]) +
                       IdentifierJson(event.key, false);
    json += fmt::format(R"("actuality":"actual","event":{{"coding":[{{"system":"{}","code":"{}"}}]}},)",
                        codes::kAdverseEventSystem, AdverseEventCategoryCode(event.category));
    json += fmt::format(R"("seriousness":{{"coding":[{{"system":"{}","code":"{}"}}]}},)", codes::kSeveritySystem,
                        event.serious ? "serious" : "non-serious");
    json += Subject(event.patient) + R"(,"date":)";
    AppendJsonString(event.onset, json);
    json += "}";
    out.push_back(std::move(json));
  }
  return out;
}

}  // namespace

std::string CohortNdjson(const Cohort& cohort) {
  std::string out;
  for (const std::string& resource : Resources(cohort)) out += resource + "\n";
  return out;
}

std::string CohortBundle(const Cohort& cohort) {
  std::string out = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  bool first = true;
  for (const std::string& resource : Resources(cohort)) {
    if (!first) out += ",";
    out += R"({"resource":)";
    out += resource;
    out += "}";
    first = false;
  }
  return out + "]}\n";
}

std::string CohortCsv(const Cohort& cohort) {
  std::map<std::string, std::vector<const OutcomeRecord*>> by_patient;
  for (const OutcomeRecord& outcome : cohort.outcomes) by_patient[outcome.patient].push_back(&outcome);
  std::string out =
      "patient,episode,option,therapy,target,condition,side,start_date,kb_version,feedback,synthetic,instrument,date,day,value\n";
  for (const Episode& episode : cohort.episodes) {
    std::optional<int> start = ParseCivilDay(episode.start_date);
    for (const OutcomeRecord* outcome : by_patient[episode.patient]) {
      std::optional<int> day = ParseCivilDay(outcome->date);
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", CsvField(episode.patient),
                         CsvField(episode.key), CsvField(episode.option_id), CsvField(episode.therapy),
                         CsvField(episode.target), CsvField(episode.condition), CsvField(episode.side),
                         episode.start_date, CsvField(episode.kb_version), CsvField(episode.feedback),
                         episode.synthetic ? 1 : 0, CsvField(outcome->instrument), outcome->date,
                         start && day ? std::to_string(*day - *start) : "", outcome->value);
    }
  }
  return out;
}

}  // namespace regenpath::registry
