// The only file of the registry that includes yaml-cpp; its exceptions end
// here as kInvalidInput.
#include "registry/instrument_catalog.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace regenpath::registry {

namespace {

Status Bad(const YAML::Node& node, std::string_view message) {
  return InvalidInput(fmt::format("knowledge/registry/instrument-scoring.yaml:{}: {}", node.Mark().line + 1, message));
}

std::optional<double> OptionalNumber(const YAML::Node& node, const char* key) {
  if (!node[key]) return std::nullopt;
  return node[key].as<double>();
}

Result<double> Parameter(const knowledge::KnowledgeBase& kb, std::string_view id) {
  const knowledge::Parameter* parameter = kb.FindParameter(id);
  if (parameter == nullptr) {
    return Fail(InvalidInput(fmt::format("the knowledge base has no parameter '{}' (knowledge/parameters.yaml)", id)));
  }
  return parameter->value.ToDouble();
}

std::string ConfidenceText(const YAML::Node& node) { return node["confidence"] ? node["confidence"].as<std::string>() : "U"; }

}  // namespace

Result<std::shared_ptr<const InstrumentCatalog>> InstrumentCatalog::Load(
    std::shared_ptr<const knowledge::KnowledgeBase> kb, std::string_view scoring_yaml) {
  auto catalog = std::make_shared<InstrumentCatalog>();
  catalog->kb_ = kb;
  try {
    YAML::Node root = YAML::Load(std::string(scoring_yaml));
    YAML::Node list = root["instruments"];
    if (!list || !list.IsSequence()) return Fail(Bad(root, "missing the 'instruments' list"));
    for (const YAML::Node& node : list) {
      InstrumentScoring scoring;
      if (!node["id"]) return Fail(Bad(node, "an instrument without 'id'"));
      scoring.id = node["id"].as<std::string>();
      const knowledge::Instrument* instrument = kb->FindInstrument(scoring.id);
      if (instrument == nullptr) {
        return Fail(Bad(node, fmt::format("'{}' is not an instrument of the knowledge base (instruments.yaml)", scoring.id)));
      }
      scoring.display = instrument->display;
      if (!instrument->loinc.empty()) scoring.loinc.push_back(instrument->loinc);
      if (node["extra_loinc"]) {
        for (const YAML::Node& code : node["extra_loinc"]) scoring.loinc.push_back(code.as<std::string>());
      }
      std::string direction = node["direction"] ? node["direction"].as<std::string>() : "";
      if (direction == "lower-is-better") {
        scoring.direction = Direction::kLowerIsBetter;
      } else if (direction == "higher-is-better") {
        scoring.direction = Direction::kHigherIsBetter;
      } else {
        return Fail(Bad(node, fmt::format("{}: direction must be lower-is-better or higher-is-better", scoring.id)));
      }
      if (!node["min"] || !node["max"]) return Fail(Bad(node, fmt::format("{}: min and max are required", scoring.id)));
      scoring.min = node["min"].as<double>();
      scoring.max = node["max"].as<double>();
      if (!(scoring.min < scoring.max)) return Fail(Bad(node, fmt::format("{}: min must be below max", scoring.id)));
      scoring.mcid_points = OptionalNumber(node, "mcid_points");
      scoring.mcid_percent = OptionalNumber(node, "mcid_percent");
      scoring.responder_max = OptionalNumber(node, "responder_max");
      scoring.immpact = node["immpact"] && node["immpact"].as<bool>();
      if (YAML::Node questionnaire = node["questionnaire"]) {
        QuestionnaireScoring q;
        q.url = questionnaire["url"].as<std::string>();
        std::string method = questionnaire["method"].as<std::string>();
        if (method == "item") {
          q.method = ScoringMethod::kItem;
        } else if (method == "mean") {
          q.method = ScoringMethod::kMean;
        } else if (method == "table") {
          q.method = ScoringMethod::kTable;
          for (const YAML::Node& value : questionnaire["table"]) q.table.push_back(value.as<double>());
          if (q.table.empty()) return Fail(Bad(node, fmt::format("{}: a table scoring needs 'table'", scoring.id)));
          if (!questionnaire["item_min"] || !questionnaire["item_max"]) {
            return Fail(Bad(node, fmt::format("{}: a table scoring needs item_min and item_max", scoring.id)));
          }
          q.item_min = questionnaire["item_min"].as<double>();
          q.item_max = questionnaire["item_max"].as<double>();
          if (!(q.item_min < q.item_max)) return Fail(Bad(node, fmt::format("{}: item_min must be below item_max", scoring.id)));
        } else {
          return Fail(Bad(node, fmt::format("{}: questionnaire method must be item, mean or table", scoring.id)));
        }
        for (const YAML::Node& item : questionnaire["items"]) q.items.push_back(item.as<std::string>());
        if (q.items.empty() || (q.method == ScoringMethod::kItem && q.items.size() != 1)) {
          return Fail(Bad(node, fmt::format("{}: questionnaire items missing (item: exactly one)", scoring.id)));
        }
        scoring.questionnaire = std::move(q);
      }
      scoring.confidence = ConfidenceText(node);
      scoring.note = node["note"] ? node["note"].as<std::string>() : "";
      if (catalog->ById(scoring.id) != nullptr) return Fail(Bad(node, fmt::format("{} listed twice", scoring.id)));
      catalog->instruments_.push_back(std::move(scoring));
    }
  } catch (const YAML::Exception& error) {
    return Fail(InvalidInput(fmt::format("knowledge/registry/instrument-scoring.yaml: {}", error.what())));
  }
  RP_ASSIGN_OR_RETURN(catalog->timepoint_window_fraction_, Parameter(*kb, "registry-timepoint-window"));
  RP_ASSIGN_OR_RETURN(double baseline, Parameter(*kb, "registry-baseline-window"));
  catalog->baseline_window_days_ = static_cast<int>(baseline);
  RP_ASSIGN_OR_RETURN(double min_episodes, Parameter(*kb, "registry-min-episodes"));
  catalog->min_episodes_ = static_cast<int>(min_episodes);
  return std::shared_ptr<const InstrumentCatalog>(std::move(catalog));
}

Result<std::shared_ptr<const InstrumentCatalog>> InstrumentCatalog::Embedded() {
  return Load(knowledge::KnowledgeBase::Embedded(), EmbeddedInstrumentScoring());
}

const InstrumentScoring* InstrumentCatalog::ById(std::string_view id) const {
  for (const InstrumentScoring& instrument : instruments_) {
    if (instrument.id == id) return &instrument;
  }
  return nullptr;
}

const InstrumentScoring* InstrumentCatalog::ByCoding(std::string_view system, std::string_view code) const {
  if (system == kInstrumentSystem) return ById(code);
  if (system != kLoincSystem) return nullptr;
  for (const InstrumentScoring& instrument : instruments_) {
    for (const std::string& loinc : instrument.loinc) {
      if (loinc == code) return &instrument;
    }
  }
  return nullptr;
}

const InstrumentScoring* InstrumentCatalog::ByQuestionnaire(std::string_view url) const {
  // A canonical may carry a version: "url|1.0".
  std::string_view bare = url.substr(0, url.find('|'));
  for (const InstrumentScoring& instrument : instruments_) {
    if (instrument.questionnaire && instrument.questionnaire->url == bare) return &instrument;
  }
  return nullptr;
}

}  // namespace regenpath::registry
