// The knowledge-base loader: a complete small knowledge base loads without
// problems; broken ones report every problem with its file and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "knowledge/kb_terminology.h"
#include "knowledge/knowledge_base.h"

namespace regenpath::knowledge {
namespace {

using ::testing::HasSubstr;

const std::string kMinimal = std::string(REGENPATH_SOURCE_DIR) + "/tests/knowledge/data/minimal";

std::string ReadMinimal() {
  std::ifstream file(kMinimal + "/kb.yaml");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> Messages(const KnowledgeBase& kb) {
  std::vector<std::string> messages;
  for (const Problem& problem : kb.problems()) messages.push_back(problem.ToString());
  return messages;
}

std::shared_ptr<const KnowledgeBase> LoadText(const std::string& text) {
  return KnowledgeBase::Load({SourceFile{"kb.yaml", text}});
}

// The minimal knowledge base with `from` replaced by `to` (once).
std::shared_ptr<const KnowledgeBase> LoadEdited(const std::string& from, const std::string& to) {
  std::string text = ReadMinimal();
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return LoadText(text);
}

TEST(KnowledgeBaseTest, MinimalLoadsWithoutProblems) {
  Result<std::shared_ptr<const KnowledgeBase>> kb = KnowledgeBase::LoadDirectory(kMinimal);
  ASSERT_TRUE(kb.has_value()) << kb.error().message();
  EXPECT_TRUE((*kb)->usable()) << ::testing::PrintToString(Messages(**kb));
  EXPECT_EQ((*kb)->name(), "test-kb");
  EXPECT_EQ((*kb)->version(), "1.2.3");
  EXPECT_EQ((*kb)->citations().size(), 2u);
  ASSERT_NE((*kb)->FindOption("prp-knee"), nullptr);
  EXPECT_EQ((*kb)->FindOption("prp-knee")->procedure->image_guidance,
            (std::vector<std::string>{"ultrasound", "landmark"}));
  ASSERT_NE((*kb)->FindParameter("chronic-pain-duration"), nullptr);
  EXPECT_EQ((*kb)->FindParameter("chronic-pain-duration")->ValueText(), "3 months");
  EXPECT_EQ((*kb)->FindParameter("adequate-trial")->confidence, Confidence::kU);
}

TEST(KnowledgeBaseTest, DefinitionsComeAfterWhatTheyUse) {
  std::shared_ptr<const KnowledgeBase> kb = LoadText(ReadMinimal());
  ASSERT_TRUE(kb->usable());
  std::vector<std::string> order;
  for (const Definition& definition : kb->definitions()) order.push_back(definition.id);
  auto position = [&](const std::string& id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
  EXPECT_LT(position("pain-onset"), position("chronic"));
  EXPECT_LT(position("active-conditions"), position("cauda-equina-findings"));
  const Definition* chronic = kb->FindDefinition("chronic");
  ASSERT_NE(chronic, nullptr);
  EXPECT_THAT(chronic->uses, ::testing::UnorderedElementsAre("pain-onset", "chronic-pain-duration"));
  EXPECT_TRUE(chronic->compiled.has_value());
  ASSERT_TRUE(chronic->missing_data.has_value());
  EXPECT_EQ(chronic->missing_data->id, "pain-duration");
}

TEST(KnowledgeBaseTest, TerminologyMatchesCodesPrefixesAndNames) {
  std::shared_ptr<const KnowledgeBase> kb = LoadText(ReadMinimal());
  const fhirpath::Terminology& terminology = kb->terminology();
  const std::string icd = "http://hl7.org/fhir/sid/icd-10-cm";
  EXPECT_EQ(terminology.Contains("knee-oa", icd, "M17.11"), true);  // prefix M17.1
  EXPECT_EQ(terminology.Contains("knee-oa", icd, "M17.0"), false);
  EXPECT_EQ(terminology.Contains("knee-oa", "http://snomed.info/sct", "239873007"), true);
  EXPECT_EQ(terminology.Contains("knee-oa", "http://loinc.org", "239873007"), false);  // wrong system
  EXPECT_EQ(terminology.Contains("knee-oa", "", "239873007"), true);                   // any system
  EXPECT_EQ(terminology.Contains(ValueSetUrl("knee-oa"), icd, "M17.12"), true);        // by canonical URL
  EXPECT_EQ(terminology.Contains("no-such-set", icd, "M17.11"), std::nullopt);
  EXPECT_EQ(terminology.ContainsText("apixaban", "Apixaban 5 MG Oral Tablet"), true);
  EXPECT_EQ(terminology.ContainsText("apixaban", "warfarin 5 MG"), false);
  EXPECT_EQ(terminology.ContainsText("knee-oa", "anything"), std::nullopt);  // no names to match
}

// The two-byte index of names against a plain case-insensitive substring
// search: names of one, two and more bytes, shared prefixes, upper case in
// the knowledge base and in the text, non-ASCII bytes, matches at both ends.
TEST(KnowledgeBaseTest, TerminologyNameIndexAgreesWithASubstringSearch) {
  ValueSet value_set;
  value_set.id = "names";
  value_set.text = {"x", "NSAID", "ns", "nsaids", "naproxen", "na", "ibuprofen 200", "é", "\xc3\xa9t\xc3\xa9",
                    "zz", "z"};
  KbTerminology terminology;
  terminology.Add(value_set);
  ValueSet one_byte;  // only a one-byte name
  one_byte.id = "one-byte";
  one_byte.text = {"q"};
  terminology.Add(one_byte);
  const auto lower = [](std::string text) {
    for (char& c : text) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    return text;
  };
  const auto naive = [&](const ValueSet& set, const std::string& text) {
    for (const std::string& name : set.text) {
      if (!name.empty() && lower(text).find(lower(name)) != std::string::npos) return true;
    }
    return false;
  };
  const std::vector<std::string> texts = {"", "N", "n", "NS", "Naproxen 500 MG", "take IBUPROFEN 200 mg",
                                          "ibuprofen 20", "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "fizz", "Q",
                                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa na",
                                          "nothing here", "X marks", "endx", "Qz"};
  for (const std::string& text : texts) {
    EXPECT_EQ(terminology.ContainsText("names", text), naive(value_set, text)) << text;
    EXPECT_EQ(terminology.ContainsText("one-byte", text), naive(one_byte, text)) << text;
  }
  // Every substring of a text made of the names' bytes.
  const std::string soup = "xNsAiDnApRoXeNzZiBuPrOfEn 200\xc3\xa9t\xc3\xa9qz";
  for (size_t from = 0; from < soup.size(); ++from) {
    for (size_t length = 0; from + length <= soup.size(); ++length) {
      const std::string text = soup.substr(from, length);
      ASSERT_EQ(terminology.ContainsText("names", text), naive(value_set, text)) << text;
    }
  }
}

TEST(KnowledgeBaseTest, EmbeddedKnowledgeBaseLoads) {
  std::shared_ptr<const KnowledgeBase> kb = KnowledgeBase::Embedded();
  ASSERT_NE(kb, nullptr);
  EXPECT_FALSE(kb->name().empty());
  EXPECT_TRUE(kb->usable()) << ::testing::PrintToString(Messages(*kb));
}

struct BrokenCase {
  std::string name;
  std::string from;
  std::string to;
  std::string expected;  // substring of one problem
};

class BrokenKnowledgeBaseTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenKnowledgeBaseTest, ReportsTheProblemWithItsLine) {
  const BrokenCase& broken = GetParam();
  std::shared_ptr<const KnowledgeBase> kb = LoadEdited(broken.from, broken.to);
  EXPECT_FALSE(kb->usable());
  std::vector<std::string> messages = Messages(*kb);
  EXPECT_THAT(messages, ::testing::Contains(HasSubstr(broken.expected))) << ::testing::PrintToString(messages);
  for (const std::string& message : messages) {
    if (message.find(broken.expected) != std::string::npos) {
      EXPECT_THAT(message, ::testing::MatchesRegex("kb\\.yaml:[0-9]+: .*")) << "the problem names its line";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Problems, BrokenKnowledgeBaseTest,
    ::testing::Values(
        BrokenCase{"UnresolvedCitation", "sources: [src-a], confidence: H}\n  - {id: adequate-trial",
                   "sources: [src-zzz], confidence: H}\n  - {id: adequate-trial",
                   "citation 'src-zzz' does not resolve"},
        BrokenCase{"CodeWithoutSystem", "- {system: sct, code: \"192970008\", confidence: H}",
                   "- {code: \"192970008\", confidence: H}", "code '192970008' has no system"},
        BrokenCase{"ExpressionDoesNotCompile",
                   "expression: Bundle.entry.resource.ofType(ImagingStudy).exists()",
                   "expression: Bundle.entry.resource.ofType(ImagingStudy).exists(", "does not compile"},
        BrokenCase{"UnknownElement", "expression: Bundle.entry.resource.ofType(ImagingStudy).exists()",
                   "expression: Bundle.entry.resource.ofType(ImagingStudy).sataus.exists()",
                   "has no element 'sataus'"},
        BrokenCase{"UnknownValueSet", "memberOf('physical-therapy')", "memberOf('physio')",
                   "value set 'physio' which does not exist"},
        BrokenCase{"UnknownVariable", "%`chronic-pain-duration`\"", "%`chronic-duration`\"",
                   "uses %chronic-duration which is neither a definition nor a parameter"},
        BrokenCase{"PatientScopeUsesConditionScope", "expression: \"%`active-medications`.count() >= 2\"",
                   "expression: \"%`active-medications`.count() >= 2 and %`chronic`\"",
                   "patient-scope definition 'several-antithrombotics' uses condition-scope 'chronic'"},
        BrokenCase{"PatientScopeEvidenceFromConditionScope",
                   "    expression: \"%`active-conditions`.where(code.memberOf('septicemia'))\"\n",
                   "    expression: \"%`active-conditions`.where(code.memberOf('septicemia'))\"\n    "
                   "evidence: chronic\n",
                   "patient-scope definition 'septicemia-findings' takes its evidence from condition-scope "
                   "'chronic'"},
        BrokenCase{"Cycle", "expression: \"%condition.onset.ofType(dateTime).first()\"",
                   "expression: \"%`chronic`\"", "a cycle"},
        BrokenCase{"UnreachableOption", "regenerative: [prp-knee, prolotherapy-knee]",
                   "regenerative: [prp-knee]", "option 'prolotherapy-knee' is not reachable"},
        BrokenCase{"UnknownField", "    base_status: consider\n",
                   "    base_status: consider\n    colour: red\n", "unknown field 'colour'"},
        BrokenCase{"BadConfidence", "{id: src-b, reference: \"Source B\", says: \"B\", confidence: M}",
                   "{id: src-b, reference: \"Source B\", says: \"B\", confidence: X}",
                   "confidence must be H, M or U"},
        BrokenCase{"BadTherapy", "    therapy: prolotherapy\n", "    therapy: ozone\n",
                   "a regenerative therapy must be one of"},
        BrokenCase{"BadImageGuidance", "image_guidance: [landmark]", "image_guidance: [xray]",
                   "image guidance must be one of"},
        BrokenCase{"DuplicateId", "- {id: src-b,", "- {id: src-a,", "duplicate citation id 'src-a'"},
        BrokenCase{"MissingEvidence",
                   "      - {source: src-b, direction: against, statement: \"conditional against\", "
                   "confidence: M}\n",
                   "", "has no evidence"},
        BrokenCase{"BadStage", "when: {stage_not: regenerative-candidate}", "when: {stage_not: candidate}",
                   "when 'candidate' is not a stage"},
        BrokenCase{"UnknownCriterion", "when: red-flag, on_unknown: skip",
                   "when: red-flags, on_unknown: skip",
                   "criterion 'red-flags' is neither a criterion role nor a definition"},
        BrokenCase{"FallbackStageWithRule", "indicator: info, priority: 5}",
                   "indicator: info, priority: 5, when: always}", "the fallback stage must have no 'when'"},
        BrokenCase{"UnknownRoleBinding", "roles: {conventional-trial: pt-tried,",
                   "roles: {conventional-tried: pt-tried,",
                   "roles: 'conventional-tried' is not a criterion role bound by the condition"},
        BrokenCase{
            "UnboundRoleWithoutDefault",
            "{id: diagnostics-done, bound_by_condition: true, unbound: {met: true, display: none expected}}",
            "{id: diagnostics-done, bound_by_condition: true}", "a bound_by_condition role needs 'unbound'"},
        BrokenCase{"StatusRuleUnknownStatus", "status: contraindicated, reason: absolute",
                   "status: forbidden, reason: absolute",
                   "status 'forbidden' is neither a status, contraindicated nor lower"},
        BrokenCase{"NextStepUnknownStage", "stage: conventional-care, not_done: true",
                   "stage: conventional, not_done: true", "stage 'conventional' is not a stage"},
        BrokenCase{
            "DatumViewDoesNotCompile", "{type: Condition, display: \"code.text | code.coding.display\"",
            "{type: Condition, display: \"code.text |\"", "datum view Condition display does not compile"},
        BrokenCase{"HoldCategoryUnknown", "      low: {days: null, note: shared decision}",
                   "      lowish: {days: null, note: shared decision}", "hold category 'lowish' is neither"},
        BrokenCase{"WrongCategoryInSlot", "first_line: [exercise]", "first_line: [knee-imaging]",
                   "option 'knee-imaging' is diagnostic, not conventional"},
        BrokenCase{"MissingHoldValueSet", "    valueset: apixaban\n    holds:",
                   "    valueset: apixabn\n    holds:", "value set 'apixabn' does not exist"},
        // A comment saved as Latin-1: the file is read on, this its only problem.
        BrokenCase{"NotUtf8", "sources: [src-a], confidence: H}\n  - {id: adequate-trial",
                   "sources: [src-a], confidence: H}  # r\xE9vis\xE9\n  - {id: adequate-trial",
                   "not UTF-8: byte 0xE9 at column"},
        // A YAML escape that would reach a terminal as a sequence it runs,
        // in a value and in a key; an override that reorders what is shown.
        BrokenCase{"ControlCharacterInAText", "reference: \"Source B\"", "reference: \"Source\\e[2J B\"",
                   "a control character (U+001B) in a text; only newline and tab are allowed"},
        BrokenCase{"ControlCharacterInAKey", "    base_status: consider\n",
                   "    base_status: consider\n    \"colour\\a\": red\n", "a control character (U+0007)"},
        BrokenCase{"BidirectionalOverride", "reference: \"Source B\"", "reference: \"Source \\u202EB\"",
                   "a bidirectional override (U+202E) in a text"}),
    [](const ::testing::TestParamInfo<BrokenCase>& info) { return info.param.name; });

TEST(KnowledgeBaseTest, InvalidYamlNamesTheLine) {
  std::shared_ptr<const KnowledgeBase> kb = LoadText("knowledge_base:\n  name: x\n  version: [1\n");
  ASSERT_FALSE(kb->usable());
  EXPECT_THAT(Messages(*kb).front(), ::testing::MatchesRegex("kb\\.yaml:[0-9]+: not valid YAML.*"));
}

TEST(KnowledgeBaseTest, AFileNotInUtf8NamesItsLineAndColumn) {
  // "Évaluation" as Latin-1 (0xC9), as an old editor saves it.
  std::shared_ptr<const KnowledgeBase> kb =
      LoadText("knowledge_base:\n  name: x\n  version: \"1\"\n  description: \"\xC9valuation\"\n");
  ASSERT_FALSE(kb->usable());
  // First: the file's own problem (the others are of a knowledge base without it).
  EXPECT_EQ(
      Messages(*kb).front(),
      "kb.yaml:4: not UTF-8: byte 0xC9 at column 17, counted in bytes (a knowledge base is UTF-8 text)");
}

// Newlines and tabs are text (a folded note, a literal block).
TEST(KnowledgeBaseTest, NewlinesAndTabsInATextAreNoProblem) {
  std::string text = ReadMinimal();
  const std::string from = "reference: \"Source B\"";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "reference: \"Source\\tB\\nsecond line\"");
  std::shared_ptr<const KnowledgeBase> kb = LoadText(text);
  EXPECT_TRUE(kb->usable()) << ::testing::PrintToString(Messages(*kb));
}

// Classic Mac line endings (a lone CR) end lines as LF and CRLF do (YAML
// 1.2): the file is read whole, a problem names the line its author sees.
TEST(KnowledgeBaseTest, AFileWithCrLineEndingsIsReadWithItsLines) {
  const std::string text = ReadMinimal();
  std::string cr = text;
  std::replace(cr.begin(), cr.end(), '\n', '\r');
  std::shared_ptr<const KnowledgeBase> kb = LoadText(cr);
  EXPECT_TRUE(kb->usable()) << ::testing::PrintToString(Messages(*kb));

  const std::string from = "image_guidance: [landmark]";
  ASSERT_NE(text.find(from), std::string::npos);
  std::string broken = text;
  broken.replace(broken.find(from), from.size(), "image_guidance: [xray]");
  const std::vector<std::string> lf_messages = Messages(*LoadText(broken));
  std::replace(broken.begin(), broken.end(), '\n', '\r');
  EXPECT_EQ(Messages(*LoadText(broken)), lf_messages);
  ASSERT_FALSE(lf_messages.empty());

  // The encoding check counts lines alike.
  std::shared_ptr<const KnowledgeBase> latin1 =
      LoadText("knowledge_base:\r  name: x\r  version: \"1\"\r  description: \"\xC9valuation\"\r");
  ASSERT_FALSE(latin1->usable());
  EXPECT_THAT(Messages(*latin1).front(), HasSubstr("kb.yaml:4: not UTF-8"));
}

// The built-in knowledge base's files are checked at build time: kb_embed
// embeds a file with a control character, or not UTF-8, as raw text, which
// the loader then reads as a file, reporting the problem with its line.
TEST(KnowledgeBaseTest, KbEmbedLeavesAFileWithAControlCharacterToTheLoader) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("regenpath-kb-embed-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "control.yaml", std::ios::binary)
      << "citations:\n  - {id: a, reference: \"A\\e[2J\"}\n";
  std::ofstream(dir / "latin1.yaml", std::ios::binary) << "citations:\n  - {id: b, reference: \"r\xE9f\"}\n";
  std::ofstream(dir / "clean.yaml", std::ios::binary) << "citations:\n  - {id: c, reference: \"C\\tD\"}\n";
  const std::string out = (dir / "embedded.cc").string();
  const std::string command = std::string(KB_EMBED_BINARY) + " " + out + " " +
                              (dir / "control.yaml").string() + " " + (dir / "latin1.yaml").string() + " " +
                              (dir / "clean.yaml").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(out, std::ios::binary);
  const std::string generated((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  EXPECT_THAT(generated, HasSubstr("{\"knowledge/control.yaml\", R\"regenpath_kb(!raw"));
  EXPECT_THAT(generated, HasSubstr("{\"knowledge/latin1.yaml\", R\"regenpath_kb(!raw"));
  EXPECT_THAT(generated, HasSubstr("{\"knowledge/clean.yaml\", R\"regenpath_kb(m"));
}

TEST(KnowledgeBaseTest, ReportsEveryProblemAtOnce) {
  std::string text = ReadMinimal();
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"image_guidance: [landmark]", "image_guidance: [xray]"},
           {"first_line: [exercise]", "first_line: [exercize]"},
           {"- {system: sct, code: \"192970008\", confidence: H}", "- {code: \"192970008\", confidence: H}"}}) {
    text.replace(text.find(from), from.size(), to);
  }
  std::shared_ptr<const KnowledgeBase> kb = LoadText(text);
  EXPECT_GE(kb->problems().size(), 3u) << ::testing::PrintToString(Messages(*kb));
}

TEST(KnowledgeBaseTest, MissingDirectoryFails) {
  Result<std::shared_ptr<const KnowledgeBase>> kb = KnowledgeBase::LoadDirectory("/nonexistent/kb");
  ASSERT_FALSE(kb.has_value());
  EXPECT_THAT(kb.error().message(), HasSubstr("/nonexistent/kb"));
}

TEST(KnowledgeBaseTest, EmptyInputReportsMissingHeaderAndRequiredDefinitions) {
  std::shared_ptr<const KnowledgeBase> kb = LoadText("");
  EXPECT_THAT(Messages(*kb), ::testing::Contains(HasSubstr("knowledge_base header")));
  EXPECT_THAT(Messages(*kb), ::testing::Contains(HasSubstr("'active-conditions'")));
}

}  // namespace
}  // namespace regenpath::knowledge
