// The clinical scenario suite: every tests/scenarios/*.expect.yaml names a
// patient record (a FHIR Bundle beside it) and the assessment facts expected
// from the built-in knowledge base. One driver runs them all; then the safety
// invariants are checked on every scenario and on generated variations of it
// (a red flag, an active cancer, an absolute contraindication, each
// antithrombotic added).
//
// Expectation file format (all keys optional except `record` and `now`):
//   record: knee-oa-candidate.json
//   now: 2026-06-01
//   description: ...
//   stage: regenerative-candidate
//   conditions: {knee-osteoarthritis: {stage: regenerative-candidate, chronic: true,
//                criteria: {conventional-trial: {met: true, evidence: [Procedure/pt1]}}}}
//     (criteria: each listed criterion's `met` (true, false or null) and resources
//      that must be among its evidence, each shown as a datum with a display)
//   conditions_exact: true            # default true: no other condition in scope
//   red_flags: [cauda-equina]         # the exact set (default: none)
//   recommendations:
//     prp-knee: {status: consider, contraindications: [..], image_guidance: [ultrasound],
//                bleeding_risk: low, holds: {apixaban: {days: null, restart: 24}}}
//   absent: [acupuncture-ai-arthralgia]  # options that must not be listed
//   missing_data: [platelet-count]        # must be among missing_data
//   next_steps: [procedure]               # kinds that must be among next_steps
//   next_step_options: [lbp-nsaids]       # options that must be among next_steps
//   no_next_step_options: [lbp-opioids]   # options that must not be
//   next_steps_count: 1                   # exactly this many next steps
//   next_step_text: ["Condition/cf"]      # fragments that must appear in a next step's text
//   no_next_step_text: ["confirmatory"]   # fragments that must appear in no next step's text
//   next_step_orders:                     # the step proposing the option is an order (a draft
//     urgent-evaluation: {category: "3457005", text_contains: "Urgent"}  # ServiceRequest): its
//     lumbar-mri: {code: "72148"}         # category's / code's code, words in its code.text
//   parameters: {source-confirming-blocks: 2}  # the knowledge base (knowledge/*.yaml) with these
//                                          # parameters' values changed, as a clinic would set them
//   no_missing_data: [platelet-count]     # must not be among missing_data
//   (recommendations: also `done: true|false`, `status_reason_contains`,
//    `pre_check_contains` (a pre-check's display), `missing_data` (ids that
//    must be among the option's own missing data), holds' `note_contains`;
//    conditions: also `display_contains`; criteria: also `issues_contain`, a
//    fragment one of the criterion's data issues must say)
// `holds: {}` asserts that the option lists no hold; `conditions: {}` that no
// condition is in scope. An expectation the engine or knowledge base does not
// meet yet stays as it should be, with a `# KNOWN ISSUE: ...` comment saying
// what must change; README.md lists the scenarios and their coverage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "report/assessment_json.h"
#include "engine/engine.h"
#include "fhir/parser.h"
#include "tests/scenarios/safety_invariants.h"

namespace regenpath::engine {
namespace {

const std::string kScenarioDir = std::string(REGENPATH_SOURCE_DIR) + "/tests/scenarios";

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> names;
  DIR* dir = opendir(kScenarioDir.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.ends_with(".expect.yaml")) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ListOf(const YAML::Node& node) {
  std::vector<std::string> values;
  if (!node) return values;
  if (node.IsScalar()) return {node.Scalar()};
  for (const YAML::Node& item : node) values.push_back(item.Scalar());
  return values;
}

std::string Show(const std::vector<std::string>& values) { return ::testing::PrintToString(values); }

const Recommendation* FindRecommendation(const Assessment& assessment, const std::string& id) {
  for (const Recommendation& item : assessment.recommendations) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

// Compares the assessment with the expectations; returns the differences.
std::vector<std::string> Compare(const YAML::Node& expect, const Assessment& assessment) {
  std::vector<std::string> problems;
  auto fail = [&](std::string message) { problems.push_back(std::move(message)); };
  if (expect["stage"] && expect["stage"].Scalar() != assessment.stage.id) {
    fail("stage: expected " + expect["stage"].Scalar() + ", got " + assessment.stage.id);
  }
  std::set<std::string> got_conditions;
  for (const AssessedCondition& condition : assessment.conditions) got_conditions.insert(condition.id);
  if (YAML::Node conditions = expect["conditions"]) {
    std::set<std::string> expected_conditions;
    for (const auto& entry : conditions) {
      const std::string id = entry.first.Scalar();
      expected_conditions.insert(id);
      auto found = std::find_if(assessment.conditions.begin(), assessment.conditions.end(),
                                [&](const AssessedCondition& condition) { return condition.id == id; });
      if (found == assessment.conditions.end()) {
        fail("condition " + id + " is not in scope");
        continue;
      }
      const YAML::Node& facts = entry.second;
      if (facts["stage"] && facts["stage"].Scalar() != found->stage.id) {
        fail("condition " + id + " stage: expected " + facts["stage"].Scalar() + ", got " + found->stage.id);
      }
      if (facts["display_contains"] && found->display.find(facts["display_contains"].Scalar()) == std::string::npos) {
        fail("condition " + id + " display '" + found->display + "' lacks '" + facts["display_contains"].Scalar() + "'");
      }
      if (YAML::Node criteria = facts["criteria"]) {
        for (const auto& criterion_entry : criteria) {
          const std::string criterion_id = criterion_entry.first.Scalar();
          auto criterion = std::find_if(found->criteria.begin(), found->criteria.end(),
                                        [&](const Criterion& c) { return c.id == criterion_id; });
          if (criterion == found->criteria.end()) {
            fail("condition " + id + " has no criterion " + criterion_id);
            continue;
          }
          const YAML::Node& want = criterion_entry.second;
          if (want["met"]) {
            std::optional<bool> expected =
                want["met"].IsNull() ? std::nullopt : std::optional<bool>(want["met"].as<bool>());
            if (expected != criterion->met) fail("condition " + id + " criterion " + criterion_id + ": met differs");
          }
          for (const std::string& reference : ListOf(want["evidence"])) {
            auto datum = std::find_if(criterion->data.begin(), criterion->data.end(),
                                      [&](const Datum& d) { return d.reference == reference; });
            if (datum == criterion->data.end()) {
              fail("condition " + id + " criterion " + criterion_id + ": evidence lacks " + reference + " (has " +
                   Show(criterion->evidence) + ")");
            } else if (datum->display.empty()) {
              fail("condition " + id + " criterion " + criterion_id + ": " + reference + " shown without a display");
            }
          }
          for (const std::string& fragment : ListOf(want["issues_contain"])) {
            if (std::none_of(criterion->issues.begin(), criterion->issues.end(),
                             [&](const std::string& issue) { return issue.find(fragment) != std::string::npos; })) {
              fail("condition " + id + " criterion " + criterion_id + ": no data issue says '" + fragment + "' (has " +
                   Show(criterion->issues) + ")");
            }
          }
        }
      }
      if (facts["chronic"]) {
        std::optional<bool> expected =
            facts["chronic"].IsNull() ? std::nullopt : std::optional<bool>(facts["chronic"].as<bool>());
        auto show = [](const std::optional<bool>& value) { return value ? (*value ? "true" : "false") : "null"; };
        if (expected != found->chronic) {
          fail("condition " + id + " chronic: expected " + show(expected) + ", got " + show(found->chronic));
        }
      }
    }
    const bool exact = !expect["conditions_exact"] || expect["conditions_exact"].as<bool>();
    if (exact && expected_conditions != got_conditions) {
      fail("conditions: expected " + Show({expected_conditions.begin(), expected_conditions.end()}) + ", got " +
           Show({got_conditions.begin(), got_conditions.end()}));
    }
  }
  std::vector<std::string> flags;
  for (const AssessedRedFlag& flag : assessment.red_flags) flags.push_back(flag.id);
  std::vector<std::string> expected_flags = ListOf(expect["red_flags"]);
  std::sort(flags.begin(), flags.end());
  std::sort(expected_flags.begin(), expected_flags.end());
  if (flags != expected_flags) fail("red_flags: expected " + Show(expected_flags) + ", got " + Show(flags));

  if (YAML::Node recommendations = expect["recommendations"]) {
    for (const auto& entry : recommendations) {
      const std::string id = entry.first.Scalar();
      const Recommendation* item = FindRecommendation(assessment, id);
      if (item == nullptr) {
        fail("recommendation " + id + " is not listed");
        continue;
      }
      const YAML::Node& facts = entry.second;
      if (facts["status"] && facts["status"].Scalar() != ToString(item->status)) {
        fail("recommendation " + id + " status: expected " + facts["status"].Scalar() + ", got " +
             std::string(ToString(item->status)));
      }
      if (facts["done"]) {
        const bool expected = facts["done"].as<bool>();
        if (item->done.value_or(false) != expected) {
          fail("recommendation " + id + " done: expected " + facts["done"].Scalar() + ", got " +
               (item->done.value_or(false) ? "true" : "false"));
        }
      }
      if (facts["status_reason_contains"] &&
          item->status_reason.find(facts["status_reason_contains"].Scalar()) == std::string::npos) {
        fail("recommendation " + id + " status_reason '" + item->status_reason + "' lacks '" +
             facts["status_reason_contains"].Scalar() + "'");
      }
      if (facts["pre_check_contains"]) {
        const std::string wanted = facts["pre_check_contains"].Scalar();
        bool found_text = std::any_of(item->pre_checks.begin(), item->pre_checks.end(), [&](const Criterion& check) {
          return check.display.find(wanted) != std::string::npos;
        });
        if (!found_text) fail("recommendation " + id + " has no pre-check saying '" + wanted + "'");
      }
      for (const std::string& wanted : ListOf(facts["missing_data"])) {
        if (std::none_of(item->missing_data.begin(), item->missing_data.end(),
                         [&](const MissingDataItem& missing) { return missing.id == wanted; })) {
          fail("recommendation " + id + " missing_data lacks " + wanted);
        }
      }
      if (facts["contraindications"]) {
        std::vector<std::string> got;
        for (const FoundContraindication& found : item->contraindications) got.push_back(found.id);
        std::vector<std::string> expected = ListOf(facts["contraindications"]);
        std::sort(got.begin(), got.end());
        std::sort(expected.begin(), expected.end());
        if (got != expected) fail("recommendation " + id + " contraindications: expected " + Show(expected) + ", got " + Show(got));
      }
      if (facts["image_guidance"]) {
        std::vector<std::string> got = item->procedure ? item->procedure->image_guidance : std::vector<std::string>{};
        if (got != ListOf(facts["image_guidance"])) {
          fail("recommendation " + id + " image_guidance: expected " + Show(ListOf(facts["image_guidance"])) + ", got " +
               Show(got));
        }
      }
      if (facts["bleeding_risk"]) {
        std::string got(item->procedure && item->procedure->bleeding_risk ? ToString(*item->procedure->bleeding_risk) : "");
        if (got != facts["bleeding_risk"].Scalar()) {
          fail("recommendation " + id + " bleeding_risk: expected " + facts["bleeding_risk"].Scalar() + ", got " + got);
        }
      }
      if (YAML::Node holds = facts["holds"]) {
        std::vector<MedicationHoldResult> got = item->procedure ? item->procedure->medication_holds
                                                                : std::vector<MedicationHoldResult>{};
        std::set<std::string> expected_medications;
        for (const auto& hold : holds) {
          const std::string medication = hold.first.Scalar();
          expected_medications.insert(medication);
          auto found = std::find_if(got.begin(), got.end(),
                                    [&](const MedicationHoldResult& result) { return result.medication == medication; });
          if (found == got.end()) {
            fail("recommendation " + id + " has no hold for " + medication);
            continue;
          }
          auto check_number = [&](const char* key, const std::optional<double>& value) {
            if (!hold.second[key]) return;
            std::optional<double> expected =
                hold.second[key].IsNull() ? std::nullopt : std::optional<double>(hold.second[key].as<double>());
            if (expected != value) {
              fail("recommendation " + id + " hold " + medication + " " + key + ": expected " +
                   (expected ? std::to_string(*expected) : "null") + ", got " +
                   (value ? std::to_string(*value) : "null"));
            }
          };
          check_number("days", found->hold_days_before);
          check_number("restart", found->restart_hours_after);
          if (hold.second["note_contains"] &&
              found->note.find(hold.second["note_contains"].Scalar()) == std::string::npos) {
            fail("recommendation " + id + " hold " + medication + " note '" + found->note + "' lacks '" +
                 hold.second["note_contains"].Scalar() + "'");
          }
        }
        for (const MedicationHoldResult& result : got) {
          if (expected_medications.count(result.medication) == 0) {
            fail("recommendation " + id + " has an unexpected hold for " + result.medication);
          }
        }
      }
    }
  }
  for (const std::string& id : ListOf(expect["absent"])) {
    if (FindRecommendation(assessment, id) != nullptr) fail("recommendation " + id + " should not be listed");
  }
  for (const std::string& id : ListOf(expect["missing_data"])) {
    bool found = std::any_of(assessment.missing_data.begin(), assessment.missing_data.end(),
                             [&](const MissingDataItem& item) { return item.id == id; });
    if (!found) {
      std::vector<std::string> got;
      for (const MissingDataItem& item : assessment.missing_data) got.push_back(item.id);
      fail("missing_data lacks " + id + " (has " + Show(got) + ")");
    }
  }
  for (const std::string& id : ListOf(expect["no_missing_data"])) {
    if (std::any_of(assessment.missing_data.begin(), assessment.missing_data.end(),
                    [&](const MissingDataItem& item) { return item.id == id; })) {
      fail("missing_data should not list " + id);
    }
  }
  auto proposes = [&](const std::string& option) {
    return std::any_of(assessment.next_steps.begin(), assessment.next_steps.end(),
                       [&](const NextStep& step) { return step.option == option; });
  };
  for (const std::string& option : ListOf(expect["next_step_options"])) {
    if (!proposes(option)) fail("next_steps lack option " + option);
  }
  for (const std::string& option : ListOf(expect["no_next_step_options"])) {
    if (proposes(option)) fail("next_steps should not propose " + option);
  }
  if (expect["next_steps_count"] && assessment.next_steps.size() != expect["next_steps_count"].as<size_t>()) {
    std::vector<std::string> got;
    for (const NextStep& step : assessment.next_steps) got.push_back(step.display);
    fail("next_steps: expected " + expect["next_steps_count"].Scalar() + ", got " + Show(got));
  }
  for (const std::string& text : ListOf(expect["next_step_text"])) {
    if (std::none_of(assessment.next_steps.begin(), assessment.next_steps.end(),
                     [&](const NextStep& step) { return step.display.find(text) != std::string::npos; })) {
      fail("no next step says '" + text + "'");
    }
  }
  if (YAML::Node orders = expect["next_step_orders"]) {
    for (const auto& entry : orders) {
      const std::string option = entry.first.Scalar();
      auto step = std::find_if(assessment.next_steps.begin(), assessment.next_steps.end(),
                               [&](const NextStep& s) { return s.option == option; });
      if (step == assessment.next_steps.end()) {
        fail("next_step_orders: no next step proposes " + option);
        continue;
      }
      if (!step->order) {
        fail("next step for " + option + " is not an order");
        continue;
      }
      const YAML::Node& want = entry.second;
      if (want["category"] && (!step->order->category || step->order->category->code != want["category"].Scalar())) {
        fail("next step for " + option + ": order category is not " + want["category"].Scalar());
      }
      if (want["code"] && (!step->order->code || step->order->code->code != want["code"].Scalar())) {
        fail("next step for " + option + ": order code is not " + want["code"].Scalar());
      }
      if (want["text_contains"] && step->order->text.find(want["text_contains"].Scalar()) == std::string::npos) {
        fail("next step for " + option + ": order text '" + step->order->text + "' lacks '" +
             want["text_contains"].Scalar() + "'");
      }
    }
  }
  for (const std::string& text : ListOf(expect["no_next_step_text"])) {
    for (const NextStep& step : assessment.next_steps) {
      if (step.display.find(text) != std::string::npos) fail("next step '" + step.display + "' says '" + text + "'");
    }
  }
  for (const std::string& kind : ListOf(expect["next_steps"])) {
    bool found = std::any_of(assessment.next_steps.begin(), assessment.next_steps.end(),
                             [&](const NextStep& step) { return step.kind == kind; });
    if (!found) fail("next_steps lacks a " + kind + " step");
  }
  return problems;
}

class ScenarioSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<Engine> engine = Engine::Create(knowledge::KnowledgeBase::Embedded());
    ASSERT_TRUE(engine.has_value()) << engine.error().message();
    engine_ = new Engine(std::move(*engine));
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Engine* engine_;
};

Engine* ScenarioSuite::engine_ = nullptr;

// The knowledge base of knowledge/*.yaml with some parameters' values
// changed (a scenario's `parameters`); fails the test when a parameter does
// not exist or the result does not load cleanly.
std::optional<Engine> EngineWithParameters(const YAML::Node& overrides) {
  const std::string directory = std::string(REGENPATH_SOURCE_DIR) + "/knowledge";
  std::vector<knowledge::SourceFile> files;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) {
    ADD_FAILURE() << "cannot read " << directory;
    return std::nullopt;
  }
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.ends_with(".yaml")) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  std::set<std::string> changed;
  for (const std::string& name : names) {
    std::string text = ReadFile(directory + "/" + name);
    YAML::Node tree = YAML::Load(text);
    if (tree["parameters"]) {
      for (YAML::Node parameter : tree["parameters"]) {
        const std::string id = parameter["id"].Scalar();
        if (!overrides[id]) continue;
        parameter["value"] = overrides[id];
        changed.insert(id);
      }
      YAML::Emitter out;
      out << tree;
      text = out.c_str();
    }
    files.push_back(knowledge::SourceFile{directory + "/" + name, text});
  }
  for (const auto& entry : overrides) {
    if (changed.count(entry.first.Scalar()) == 0) ADD_FAILURE() << "no parameter " << entry.first.Scalar();
  }
  std::shared_ptr<const knowledge::KnowledgeBase> kb = knowledge::KnowledgeBase::Load(files);
  Result<Engine> engine = Engine::Create(kb);
  if (!engine.has_value()) {
    ADD_FAILURE() << engine.error().message();
    return std::nullopt;
  }
  return std::move(*engine);
}

TEST_F(ScenarioSuite, EveryScenarioMeetsItsExpectationsAndTheSafetyInvariants) {
  std::vector<std::string> files = ScenarioFiles();
  ASSERT_GE(files.size(), 40u) << "the suite needs at least 40 scenarios";
  std::vector<std::string> outputs;
  std::vector<std::string> failed;  // scenarios whose expectations are not met
  int variations = 0;
  int scenarios_with_evidence = 0;
  size_t coverage[2] = {0, 0};
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    YAML::Node expect = YAML::LoadFile(kScenarioDir + "/" + name);
    ASSERT_TRUE(expect["record"] && expect["now"]) << name << ": needs record and now";
    const std::string record_text = ReadFile(kScenarioDir + "/" + expect["record"].Scalar());
    std::optional<DateTime> now = DateTime::ParseDateTime(expect["now"].Scalar());
    ASSERT_TRUE(now.has_value()) << name << ": bad now";
    fhir::Parser parser;
    Result<fhir::Document> record = parser.ParseAuto(record_text, expect["record"].Scalar());
    ASSERT_TRUE(record.has_value()) << record.error().message();
    std::optional<Engine> own_engine;
    if (expect["parameters"]) {
      own_engine = EngineWithParameters(expect["parameters"]);
      ASSERT_TRUE(own_engine.has_value()) << name;
    }
    const Engine& engine = own_engine ? *own_engine : *engine_;
    Assessment assessment = *engine.Assess(*record, *now);
    std::vector<std::string> problems = Compare(expect, assessment);
    if (ReadFile(kScenarioDir + "/" + name).find("evidence:") != std::string::npos) ++scenarios_with_evidence;
    for (const std::string& gap : CheckEvidenceCoverage(assessment, coverage)) {
      ADD_FAILURE() << name << ": evidence: " << gap;
    }
    for (const std::string& problem : problems) ADD_FAILURE() << name << ": " << problem;
    if (!problems.empty()) failed.push_back(name);
    for (const std::string& violation : CheckSafetyInvariants(assessment, RecordFacts{})) {
      ADD_FAILURE() << name << ": safety invariant: " << violation;
    }
    outputs.push_back(report::AssessmentToJson(assessment));
    for (const Variation& variation : Variations()) {
      Result<fhir::Document> varied = parser.ParseAuto(variation.Apply(record_text), name + " + " + variation.name);
      ASSERT_TRUE(varied.has_value()) << varied.error().message();
      Assessment varied_assessment = *engine.Assess(*varied, *now);
      ++variations;
      for (const std::string& violation : CheckSafetyInvariants(varied_assessment, variation.facts)) {
        ADD_FAILURE() << name << " + " << variation.name << ": safety invariant: " << violation;
      }
      for (const std::string& gap : CheckEvidenceCoverage(varied_assessment, coverage)) {
        ADD_FAILURE() << name << " + " << variation.name << ": evidence: " << gap;
      }
      outputs.push_back(report::AssessmentToJson(varied_assessment));
    }
  }
  // Every output, scenarios and variations, validates against the schema.
  std::string directory = ::testing::TempDir() + "/scenario-outputs";
  std::string command = "mkdir -p " + directory;
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string files_arg;
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string path = directory + "/" + std::to_string(i) + ".json";
    std::ofstream(path) << outputs[i];
    files_arg += " " + path;
  }
  command = std::string("/usr/bin/python3 ") + REGENPATH_SOURCE_DIR + "/tools/validate_json_schema.py " +
            REGENPATH_SHARED_DIR + "/spec/assessment.schema.json" + files_arg;
  EXPECT_EQ(std::system(command.c_str()), 0) << "assessment JSON does not validate";
  std::cout << files.size() << " scenarios, " << variations << " generated variations checked; " << coverage[0]
            << " met / not-met criteria with their data or what was looked for, " << coverage[1]
            << " met criteria with their resources; " << scenarios_with_evidence << " scenarios assert evidence\n";
  EXPECT_GE(scenarios_with_evidence, 20) << "at least 20 scenarios assert the evidence behind criteria";
  if (!failed.empty()) {
    // Expectations marked "# KNOWN ISSUE" in their file describe what the engine or knowledge base must change.
    std::cout << failed.size() << " scenario(s) do not meet their expectations:";
    for (const std::string& name : failed) std::cout << " " << name;
    std::cout << "\n";
  }
}

}  // namespace
}  // namespace regenpath::engine
