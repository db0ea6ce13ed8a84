#include "fhirpath/output.h"

#include <fmt/format.h>

#include "common/json_string.h"
#include "common/utf8.h"
#include "fhir/model.h"
#include "fhirpath/operations.h"

namespace regenpath::fhirpath {

namespace {

void AppendPrimitiveJson(const fhir::Node& node, std::string& out) {
  switch (node.kind()) {
    case fhir::JsonKind::kString:
      AppendJsonString(node.text(), out);
      return;
    case fhir::JsonKind::kNumber:
    case fhir::JsonKind::kBoolean:
      out += node.text();
      return;
    default:
      out += "null";
  }
}

// The `_name` part of a primitive: {"id": ..., "extension": [...]}.
void AppendElementPart(const fhir::Node& node, std::string& out);

// The JSON property name of `child` within `parent`: choice elements get
// their type suffix back (value -> valueQuantity).
std::string JsonName(const fhir::Node& parent, const fhir::Node& child) {
  if (parent.type() != nullptr && child.type() != nullptr) {
    const fhir::ElementInfo* element = fhir::Model::FindElement(*parent.type(), child.name());
    if (element != nullptr && element->is_choice) {
      std::string name(child.name());
      std::string_view type = child.type()->name;
      if (!type.empty()) {
        name += static_cast<char>(std::toupper(static_cast<unsigned char>(type[0])));
        name += type.substr(1);
      }
      return name;
    }
  }
  return std::string(child.name());
}

void AppendObjectMembers(const fhir::Node& node, std::string& out, bool first) {
  std::span<const fhir::Node> children = node.children();
  size_t i = 0;
  while (i < children.size()) {
    size_t end = i + 1;
    while (end < children.size() && children[end].name() == children[i].name()) ++end;
    const bool is_array = children[i].array_index() >= 0 || end - i > 1;
    const std::string name = JsonName(node, children[i]);
    bool any_value = false;
    bool any_part = false;
    for (size_t j = i; j < end; ++j) {
      const fhir::Node& child = children[j];
      if (child.is_object() || child.has_value()) any_value = true;
      if (!child.is_object() && !child.children().empty()) any_part = true;
    }
    if (any_value) {
      if (!first) out += ',';
      first = false;
      AppendJsonString(name, out);
      out += ':';
      if (is_array) out += '[';
      for (size_t j = i; j < end; ++j) {
        if (j > i) out += ',';
        if (children[j].is_object()) {
          AppendNodeJson(children[j], out);
        } else {
          AppendPrimitiveJson(children[j], out);
        }
      }
      if (is_array) out += ']';
    }
    if (any_part) {
      if (!first) out += ',';
      first = false;
      AppendJsonString("_" + name, out);
      out += ':';
      if (is_array) out += '[';
      for (size_t j = i; j < end; ++j) {
        if (j > i) out += ',';
        if (children[j].children().empty()) {
          out += "null";
        } else {
          AppendElementPart(children[j], out);
        }
      }
      if (is_array) out += ']';
    }
    i = end;
  }
}

void AppendElementPart(const fhir::Node& node, std::string& out) {
  out += '{';
  AppendObjectMembers(node, out, true);
  out += '}';
}

}  // namespace

void AppendMinifiedJson(std::string_view json, std::string& out) {
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < json.size()) {
        out += json[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '"') in_string = true;
    out += c;
  }
}

void AppendNodeJson(const fhir::Node& node, std::string& out) {
  if (node.is_object() && !node.is_complete()) {
    // Some elements were skipped when parsing: the source text is complete.
    AppendMinifiedJson(node.raw_json(), out);
    return;
  }
  if (!node.is_object()) {
    if (node.has_value()) {
      AppendPrimitiveJson(node, out);
    } else {
      AppendElementPart(node, out);
    }
    return;
  }
  out += '{';
  bool first = true;
  if (node.is_resource()) {
    out += "\"resourceType\":";
    AppendJsonString(node.type_name(), out);
    first = false;
  }
  AppendObjectMembers(node, out, first);
  out += '}';
}

void AppendValueJson(const Value& value, std::string& out) {
  switch (value.type()) {
    case ValueType::kNode:
      AppendNodeJson(*value.node(), out);
      return;
    case ValueType::kBoolean:
      out += value.boolean() ? "true" : "false";
      return;
    case ValueType::kInteger:
    case ValueType::kLong:
      out += std::to_string(value.integer());
      return;
    case ValueType::kDecimal:
      out += value.decimal().ToString();
      return;
    case ValueType::kString:
      AppendJsonString(value.string(), out);
      return;
    case ValueType::kDate:
    case ValueType::kDateTime:
    case ValueType::kTime:
      AppendJsonString(value.date_time().ToString(), out);
      return;
    case ValueType::kQuantity:
      out += "{\"value\":";
      out += value.decimal().ToString();
      out += ",\"unit\":";
      AppendJsonString(value.unit(), out);
      out += '}';
      return;
    case ValueType::kTypeInfo: {
      std::string_view qualified = value.string();
      size_t dot = qualified.find('.');
      out += "{\"namespace\":";
      AppendJsonString(qualified.substr(0, dot), out);
      out += ",\"name\":";
      AppendJsonString(qualified.substr(dot + 1), out);
      out += '}';
      return;
    }
  }
}

std::string CollectionToJson(std::span<const Value> values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    AppendValueJson(values[i], out);
  }
  out += ']';
  return out;
}

TypedValue ToTyped(const Value& value) {
  if (value.is_node()) {
    const fhir::Node& node = *value.node();
    TypedValue typed{std::string(TypeNameOf(value).name), ""};
    std::optional<Value> system = IsPrimitiveNode(value) ? ToSystem(value) : std::nullopt;
    // (A primitive written as an object stays a node: print its JSON.)
    if (system && !system->is_node()) {
      typed.value = ToTyped(*system).value;
    } else {
      AppendNodeJson(node, typed.value);
    }
    return typed;
  }
  switch (value.type()) {
    case ValueType::kBoolean:
      return {"boolean", value.boolean() ? "true" : "false"};
    case ValueType::kInteger:
      return {"integer", std::to_string(value.integer())};
    case ValueType::kLong:
      return {"long", std::to_string(value.integer())};
    case ValueType::kDecimal:
      return {"decimal", value.decimal().ToString()};
    case ValueType::kString:
      return {"string", std::string(value.string())};
    case ValueType::kDate:
      return {"date", "@" + value.date_time().ToString()};
    case ValueType::kDateTime:
      return {"dateTime", "@" + value.date_time().ToString()};
    case ValueType::kTime:
      return {"time", "@T" + value.date_time().ToString()};
    case ValueType::kQuantity:
      return {"Quantity", fmt::format("{} '{}'", value.decimal().ToString(), value.unit())};
    case ValueType::kTypeInfo: {
      std::string json;
      AppendValueJson(value, json);
      return {"TypeInfo", json};
    }
    case ValueType::kNode:
      break;
  }
  return {"", ""};
}

std::string CollectionToTypedJson(std::span<const Value> values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    TypedValue typed = ToTyped(values[i]);
    out += "{\"type\":";
    AppendJsonString(typed.type, out);
    out += ",\"value\":";
    AppendJsonString(typed.value, out);
    out += '}';
  }
  out += ']';
  return out;
}

}  // namespace regenpath::fhirpath
