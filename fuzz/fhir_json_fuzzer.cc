// libFuzzer target for the FHIR JSON layer (src/fhir/).
//
// Each input is read as a resource, as NDJSON and by ParseAuto, with the
// default options and with tight ones (shallow depth, few issues, unknown
// elements not reported). Failing to parse is fine. A document that parses is
// walked completely (every node's accessors, Path(), every reference string
// resolved, every issue read) and must keep these contracts:
//  - the tree is consistent: each child's parent() is its parent, the
//    children of one name form one run, and Child()/Children() find it;
//  - resources() lists resources only;
//  - a Document does not depend on the Parser that made it: reusing the
//    Parser for another input leaves it unchanged;
//  - its JSON form (fhirpath::AppendNodeJson) parses again, and parsing that
//    again gives the same JSON (serialisation is a fixed point);
//  - only valid JSON parses (a resource: one JSON value; NDJSON: every line
//    that became a resource), after an optional UTF-8 byte-order mark;
//  - parsed with an ElementFilter (ParseOptions::filter_for_root), every node
//    that is kept is the same as in the whole document (same path, name,
//    type, kind and text), an incomplete object keeps its source JSON, and
//    the partial document's JSON form parses.
// Crashes, leaks, undefined behaviour and timeouts are bugs.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "fhir/document.h"
#include "fhir/element_filter.h"
#include "fhir/issue.h"
#include "fhir/model.h"
#include "fhir/node.h"
#include "fhir/parser.h"
#include "fhirpath/output.h"
#include "fuzz_support.h"

namespace regenpath::fhir {
namespace {

// A different, valid document parsed between two walks of the same
// document to overwrite any buffer the Parser reuses.
constexpr std::string_view kOtherInput =
    R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":)"
    R"({"resourceType":"Patient","id":"zz","name":[{"given":["Overwritten","Buffer","Contents"]}]}}]})";

// Reference strings resolved against every node, besides those in the data.
constexpr std::string_view kFixedReferences[] = {
    "#", "#p1", "Patient/example", "Patient/example/_history/1", "urn:uuid:1", "http://x.org/fhir/Patient/1",
    "",
};

// Appends `node` and everything below it to `digest`, checking the tree's
// shape, and resolves every reference string found.
void Walk(const Document& document, const Node& node, std::string& digest, size_t depth, bool first_of_run) {
  digest.append(node.name());
  digest.push_back('|');
  digest.append(node.type_name());
  if (node.type() != nullptr) digest.push_back('T');
  digest.push_back(node.is_resource() ? 'R' : '-');
  digest.push_back(static_cast<char>('0' + static_cast<int>(node.kind())));
  if (node.has_value()) {
    digest.push_back('=');
    digest.append(node.text());
    if (node.bool_value()) digest.push_back('!');
  } else {
    FUZZ_CHECK(node.is_object() || node.text().empty(), node.Path());
  }
  digest.append(std::to_string(node.array_index()));
  digest.push_back('\n');
  digest.append(node.Path());
  digest.push_back('\n');

  const Node* resource = node.EnclosingResource();
  FUZZ_CHECK(resource == nullptr || resource->is_resource(), node.Path());
  if (node.is_resource()) FUZZ_CHECK(resource == &node, node.Path());

  if (node.has_value() && (node.name() == "reference" || node.name() == "fullUrl" || node.name() == "url")) {
    const Node* target = document.Resolve(node.text(), &node);
    if (target != nullptr) digest.append(target->Path());
    target = document.Resolve(node.text(), nullptr);
    if (target != nullptr) digest.append(target->Path());
  }
  // Only for resources and the first node of each run of names: resolving a
  // "#id" scans the container's children, so doing it for every item of a
  // wide array would make the harness quadratic.
  if (first_of_run && (depth < 2 || node.is_resource())) {
    for (std::string_view reference : kFixedReferences) {
      const Node* target = document.Resolve(reference, &node);
      if (target != nullptr) digest.append(target->Path());
    }
  }

  const Node* run_start = nullptr;
  for (const Node& child : node.children()) {
    FUZZ_CHECK(child.parent() == &node, child.Path());
    // Looked up once per run of equal names: Children() is linear, and
    // checking every child would make wide arrays quadratic.
    if (run_start == nullptr || run_start->name() != child.name()) {
      run_start = &child;
      const Node* first = node.Child(child.name());
      FUZZ_CHECK(first != nullptr, child.Path());
      std::span<const Node> named = node.Children(child.name());
      FUZZ_CHECK(!named.empty() && first == named.data(), child.Path());
      // One run per name: a repeated JSON key or a second choice variant is
      // dropped with an issue, not split into two runs (finding 1).
      FUZZ_CHECK(named.data() == &child, child.Path());
    }
    Walk(document, child, digest, depth + 1, run_start == &child || child.is_resource());
  }
}

// The digest of a whole document: its tree, resources and issues.
std::string Digest(const Document& document) {
  std::string digest;
  digest.append(document.source_name());
  Walk(document, document.root(), digest, 0, /*first_of_run=*/true);
  for (const Node* resource : document.resources()) {
    // Never an entry.resource without resourceType (finding 2).
    FUZZ_CHECK(resource != nullptr && resource->is_resource(), document.source_name());
    digest.append(resource->Path());
  }
  for (const Issue& issue : document.issues()) {
    digest.append(IssueSeverityName(issue.severity));
    digest.append(issue.message);
    digest.append(issue.location);
  }
  digest.append(std::to_string(document.memory_bytes() > 0));
  return digest;
}

// The JSON form of a document's root.
std::string ToJson(const Document& document) {
  std::string json;
  fhirpath::AppendNodeJson(document.root(), json);
  return json;
}

// True iff some element below `node` has neither a value nor children: what
// a `_name` part `{}` without a value made (finding 16, fixed: the parser
// now drops such a part with an issue).
bool HasEmptyElement(const Node& node) {
  for (const Node& child : node.children()) {
    if (!child.is_object() && !child.has_value() && child.children().empty()) return true;
    if (HasEmptyElement(child)) return true;
  }
  return false;
}

// Checks that a parsed document's JSON parses again to the same JSON.
void CheckRoundTrip(const Document& document) {
  // An empty element would print as null in its `_name` array and parse back
  // as nothing (finding 16).
  FUZZ_CHECK(!HasEmptyElement(document.root()), "an element with neither a value nor children");
  std::string json = ToJson(document);
  Parser parser;
  Result<Document> again = parser.ParseResource(json, "round-trip");
  FUZZ_CHECK(again.has_value(), json + "\n-> " + (again.has_value() ? "" : again.error().message()));
  std::string json_again = ToJson(*again);
  FUZZ_CHECK(json_again == json, json + "\n-> " + json_again);
}

// Walks a parsed document and checks the contracts above. `parser` made the
// document and may be reused here.
void Exercise(const Result<Document>& result, Parser& parser, bool round_trip) {
  if (!result.has_value()) {
    FUZZ_CHECK(!result.error().message().empty(), "a failure without a message");
    return;
  }
  const Document& document = *result;
  std::string digest = Digest(document);
  Result<Document> other = parser.ParseResource(kOtherInput, "other");
  FUZZ_CHECK(other.has_value(), "the fixed input did not parse");
  FUZZ_CHECK(Digest(document) == digest, "the document changed when its parser was reused");
  if (round_trip) CheckRoundTrip(document);
}

// The elements a typical expression reads, for the filtered parse.
const ElementFilter& FixedFilter() {
  static const ElementFilter* filter = new ElementFilter(
      {"name", "given", "family", "value", "valueQuantity", "code", "coding", "system", "entry", "resource",
       "fullUrl", "reference", "id", "extension", "url", "contained", "subject", "status", "component"});
  return *filter;
}

// One line per node: its path and what it holds.
std::string Signature(const Node& node) {
  std::string signature(node.name());
  signature += '|';
  signature += node.type_name();
  signature += node.is_resource() ? "|R|" : "|-|";
  signature += std::to_string(static_cast<int>(node.kind()));
  signature += '|';
  signature += node.text();
  return signature;
}

void IndexSignatures(const Node& node, std::map<std::string, std::set<std::string>>& out) {
  out[node.Path()].insert(Signature(node));
  for (const Node& child : node.children()) IndexSignatures(child, out);
}

void CheckKept(const Node& node, const std::map<std::string, std::set<std::string>>& whole) {
  std::string path = node.Path();
  auto found = whole.find(path);
  FUZZ_CHECK(found != whole.end() && found->second.contains(Signature(node)),
             path + " " + Signature(node) + " is not in the whole document");
  // Also an object written where a primitive belongs (finding 10).
  if (node.is_object() && !node.is_complete()) FUZZ_CHECK(!node.raw_json().empty(), path);
  for (const Node& child : node.children()) CheckKept(child, whole);
}

// Parses `input` again with a fixed ElementFilter and compares with `whole`,
// the same input parsed without one.
void CheckFiltered(std::string_view input, const Document& whole) {
  ParseOptions options;
  options.filter_for_root = [](std::string_view) { return &FixedFilter(); };
  Parser parser(options);
  Result<Document> filtered = parser.ParseAuto(input, "auto.json");
  FUZZ_CHECK(filtered.has_value(), "parsed whole but not filtered: " +
                                       (filtered.has_value() ? std::string() : filtered.error().message()));
  Digest(*filtered);
  // NDJSON: the filtered parse keeps the lines the whole parse keeps, and
  // no other (it checks what it skips: finding 14).
  std::set<size_t> whole_skipped = regenpath::fuzz::SkippedLines(whole);
  std::set<size_t> filtered_skipped = regenpath::fuzz::SkippedLines(*filtered);
  FUZZ_CHECK(filtered_skipped == whole_skipped, "the whole and the filtered parse keep different lines");
  std::map<std::string, std::set<std::string>> signatures;
  IndexSignatures(whole.root(), signatures);
  CheckKept(filtered->root(), signatures);
  std::string json = ToJson(*filtered);
  Parser again_parser;
  Result<Document> again = again_parser.ParseResource(json, "partial-round-trip");
  FUZZ_CHECK(again.has_value(), json + "\n-> " + (again.has_value() ? "" : again.error().message()));
}

// Only valid JSON parses (finding 8): after an optional byte-order mark, the
// input is one JSON value, or (`ndjson`) every non-blank line the parser did
// not skip (a skipped line has an issue located "line N") is one.
void CheckOnlyJson(std::string_view input, const Result<Document>& result, bool ndjson) {
  if (!result.has_value()) return;
  std::string_view json = regenpath::fuzz::WithoutBom(input);
  if (regenpath::fuzz::IsJson(json)) return;
  FUZZ_CHECK(ndjson, "malformed JSON was accepted");
  size_t bad = regenpath::fuzz::FirstNonJsonLine(json, regenpath::fuzz::SkippedLines(*result));
  FUZZ_CHECK(bad == 0, "malformed JSON was accepted on line " + std::to_string(bad));
}

}  // namespace
}  // namespace regenpath::fhir

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using regenpath::fhir::ParseOptions;
  using regenpath::fhir::Parser;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // One long-lived parser, as in the CLI and the batch runner: buffers are
  // reused between inputs.
  static Parser* shared_parser = new Parser();
  {
    regenpath::Result<regenpath::fhir::Document> document = shared_parser->ParseAuto(input, "auto.json");
    regenpath::fhir::CheckOnlyJson(input, document, /*ndjson=*/true);
    regenpath::fhir::Exercise(document, *shared_parser, /*round_trip=*/true);
    if (document.has_value()) regenpath::fhir::CheckFiltered(input, *document);
  }

  ParseOptions tight;
  tight.max_depth = 8;
  tight.max_issues = 3;
  tight.max_bytes = 2048;
  tight.report_unknown_elements = false;
  Parser tight_parser(tight);
  {
    regenpath::Result<regenpath::fhir::Document> document =
        tight_parser.ParseResource(input, "resource.json");
    regenpath::fhir::CheckOnlyJson(input, document, /*ndjson=*/false);
    regenpath::fhir::Exercise(document, tight_parser, /*round_trip=*/false);
  }

  Parser ndjson_parser;
  regenpath::Result<regenpath::fhir::Document> lines = ndjson_parser.ParseNdjson(input, "lines.ndjson");
  regenpath::fhir::CheckOnlyJson(input, lines, /*ndjson=*/true);
  regenpath::fhir::Exercise(lines, ndjson_parser, /*round_trip=*/false);
  return 0;
}
