#include "engine/member_path.h"

#include <cctype>

#include "fhir/model.h"
#include "fhirpath/evaluator.h"
#include "fhirpath/expression_parser.h"

namespace regenpath::engine {
namespace {

bool IsIdentifierStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Reads an identifier at `text[at]`; empty when there is none.
std::string_view Identifier(std::string_view text, size_t& at) {
  const size_t start = at;
  if (at >= text.size() || !IsIdentifierStart(text[at])) return {};
  while (at < text.size() && IsIdentifierPart(text[at])) ++at;
  return text.substr(start, at - start);
}

// The evaluator's member rule on one node (fhirpath::Evaluator::EvalMember),
// for a name that is not the first of a path that may name a type.
void Members(const fhir::Node& node, std::string_view name, std::vector<const fhir::Node*>& out) {
  std::span<const fhir::Node> children = node.Children(name);
  if (children.empty() && node.type() != nullptr) {
    fhir::JsonPropertyMatch match = fhir::Model::ResolveJsonProperty(*node.type(), name);
    if (match.element != nullptr && match.element->is_choice) {
      for (const fhir::Node& child : node.Children(match.element->name)) {
        if (child.type() == match.type) out.push_back(&child);
      }
    }
    return;
  }
  for (const fhir::Node& child : children) out.push_back(&child);
}

// Words the grammar reads as literals or operators, not member names.
bool IsKeyword(std::string_view name) {
  for (std::string_view keyword : {"true", "false", "and", "or", "xor", "implies", "div", "mod", "in", "contains",
                                   "is", "as"}) {
    if (name == keyword) return true;
  }
  return false;
}

}  // namespace

std::optional<MemberPath> MemberPath::Parse(std::string_view expression) {
  MemberPath path;
  size_t at = 0;
  while (true) {
    std::string_view name = Identifier(expression, at);
    if (name.empty() || IsKeyword(name)) return std::nullopt;
    if (path.steps_.empty() && std::isupper(static_cast<unsigned char>(name.front())) != 0) return std::nullopt;
    if (name == "ofType" && !path.steps_.empty() && at < expression.size() && expression[at] == '(') {
      ++at;
      std::string_view type = Identifier(expression, at);
      if (type.empty() || at >= expression.size() || expression[at] != ')') return std::nullopt;
      ++at;
      Result<fhirpath::TypeSpecifier> resolved = fhirpath::ResolveTypeSpecifier("", type);
      if (!resolved.has_value()) return std::nullopt;
      path.steps_.push_back(Step{"", std::move(*resolved)});
    } else {
      if (at < expression.size() && expression[at] == '(') return std::nullopt;  // another function
      path.steps_.push_back(Step{std::string(name), std::nullopt});
    }
    if (at == expression.size()) return path;
    if (expression[at] != '.') return std::nullopt;
    ++at;
  }
}

void MemberPath::Select(const fhir::Node& resource, std::vector<const fhir::Node*>& out) const {
  // Each step's nodes are appended after the previous step's, which are then
  // dropped: `out` is the only storage (no allocation once it has grown).
  size_t begin = out.size();
  out.push_back(&resource);
  for (const Step& step : steps_) {
    const size_t end = out.size();
    for (size_t i = begin; i < end; ++i) {
      const fhir::Node* node = out[i];
      if (step.of_type) {
        if (fhirpath::MatchesType(fhirpath::Value::Node(node), *step.of_type, /*exact=*/true)) out.push_back(node);
      } else {
        Members(*node, step.member, out);
      }
    }
    out.erase(out.begin() + static_cast<long>(begin), out.begin() + static_cast<long>(end));
    if (out.size() == begin) return;
  }
}

}  // namespace regenpath::engine
