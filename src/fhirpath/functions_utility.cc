// Utility, date/time, boundary and FHIR-specific functions.
#include "fhir/model.h"
#include "fhirpath/function_support.h"
#include "fhirpath/ucum.h"

namespace regenpath::fhirpath {

namespace {

RP_FHIRPATH_FUNCTION(Trace) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> name, StringArg(evaluator, call, 0, focus, scope));
  out.insert(out.end(), input.begin(), input.end());
  TraceSink* sink = evaluator.context().trace;
  if (sink == nullptr) return Status();
  if (call.args.size() > 1) {
    Evaluator::Scratch projected(evaluator);
    for (size_t i = 0; i < input.size(); ++i) {
      RP_RETURN_IF_ERROR(evaluator.EvalArgForItem(call, 1, input[i], static_cast<int64_t>(i), scope, *projected));
    }
    sink->Trace(name.value_or(""), *projected);
  } else {
    sink->Trace(name.value_or(""), input);
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Now) {
  (void)call, (void)input, (void)focus, (void)scope;
  out.push_back(Value::Temporal(evaluator.context().now));
  return Status();
}

RP_FHIRPATH_FUNCTION(Today) {
  (void)call, (void)input, (void)focus, (void)scope;
  const DateTime& now = evaluator.context().now;
  std::optional<DateTime> today = DateTime::FromFields(DateTimeKind::kDate, DateTimePrecision::kDay, now.year(),
                                                       now.month(), now.day(), 0, 0, 0, 0, std::nullopt);
  if (today) out.push_back(Value::Temporal(*today));
  return Status();
}

RP_FHIRPATH_FUNCTION(TimeOfDay) {
  (void)call, (void)input, (void)focus, (void)scope;
  const DateTime& now = evaluator.context().now;
  std::optional<DateTime> time =
      DateTime::FromFields(DateTimeKind::kTime, DateTimePrecision::kMillisecond, 0, 1, 1, now.hour(), now.minute(),
                           now.second(), now.millisecond(), std::nullopt);
  if (time) out.push_back(Value::Temporal(*time));
  return Status();
}

Status Boundary(Evaluator& evaluator, const Expr& call, std::span<const Value> input, std::span<const Value> focus,
                const Scope& scope, Collection& out) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  std::optional<int64_t> precision;
  if (!call.args.empty()) {
    RP_ASSIGN_OR_RETURN(precision, IntegerArg(evaluator, call, 0, focus, scope));
  }
  if (!value) return Status();
  const bool low = call.name == "lowBoundary";
  switch (value->type()) {
    case ValueType::kInteger:
    case ValueType::kLong:
    case ValueType::kDecimal:
    case ValueType::kQuantity: {
      Decimal number = value->type() == ValueType::kDecimal || value->type() == ValueType::kQuantity
                           ? value->decimal()
                           : Decimal::FromInt(value->integer());
      int digits = static_cast<int>(precision.value_or(8));
      if (precision && (*precision < 0 || *precision > Decimal::kMaxBoundaryPrecision)) return Status();
      std::optional<Decimal> bound = low ? number.LowBoundary(digits) : number.HighBoundary(digits);
      if (!bound) return Status();
      out.push_back(value->type() == ValueType::kQuantity ? Value::Quantity(*bound, value->unit())
                                                          : Value::MakeDecimal(*bound));
      return Status();
    }
    case ValueType::kDate:
    case ValueType::kDateTime:
    case ValueType::kTime: {
      int default_digits = value->type() == ValueType::kDate ? 8 : value->type() == ValueType::kTime ? 9 : 17;
      int digits = static_cast<int>(precision.value_or(default_digits));
      if (precision && (*precision < 0 || *precision > 17)) return Status();
      std::optional<DateTime> bound =
          low ? value->date_time().LowBoundary(digits) : value->date_time().HighBoundary(digits);
      if (bound) out.push_back(Value::Temporal(*bound));
      return Status();
    }
    default:
      return evaluator.Error(call, fmt::format("cannot take the boundary of {}", TypeNameOf(*value).name));
  }
}

RP_FHIRPATH_FUNCTION(LowBoundary) { return Boundary(evaluator, call, input, focus, scope, out); }

RP_FHIRPATH_FUNCTION(Precision) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  if (!value) return Status();
  switch (value->type()) {
    case ValueType::kDecimal:
      out.push_back(Value::Integer(value->decimal().Precision()));
      return Status();
    case ValueType::kInteger:
    case ValueType::kLong:
      out.push_back(Value::Integer(0));
      return Status();
    case ValueType::kDate:
    case ValueType::kDateTime:
    case ValueType::kTime:
      out.push_back(Value::Integer(value->date_time().PrecisionDigits()));
      return Status();
    default:
      return evaluator.Error(call, fmt::format("{} has no precision", TypeNameOf(*value).name));
  }
}

// yearOf(), monthOf(), ... : a component of a date/time; empty when the value
// is not that precise.
RP_FHIRPATH_FUNCTION(ComponentOf) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  if (!value) return Status();
  if (value->type() != ValueType::kDate && value->type() != ValueType::kDateTime && value->type() != ValueType::kTime) {
    return evaluator.Error(call, "the input must be a Date, DateTime or Time");
  }
  const DateTime& dt = value->date_time();
  const bool is_time = dt.kind() == DateTimeKind::kTime;
  const DateTimePrecision p = dt.precision();
  auto has = [&](DateTimePrecision needed) { return p >= needed; };
  const std::string& name = call.name;
  if (name == "yearOf" && !is_time) {
    out.push_back(Value::Integer(dt.year()));
  } else if (name == "monthOf" && !is_time && has(DateTimePrecision::kMonth)) {
    out.push_back(Value::Integer(dt.month()));
  } else if (name == "dayOf" && !is_time && has(DateTimePrecision::kDay)) {
    out.push_back(Value::Integer(dt.day()));
  } else if (name == "hourOf" && (is_time || has(DateTimePrecision::kHour))) {
    out.push_back(Value::Integer(dt.hour()));
  } else if (name == "minuteOf" && has(DateTimePrecision::kMinute)) {
    out.push_back(Value::Integer(dt.minute()));
  } else if (name == "secondOf" && has(DateTimePrecision::kSecond)) {
    out.push_back(Value::Integer(dt.second()));
  } else if (name == "millisecondOf" && has(DateTimePrecision::kMillisecond)) {
    out.push_back(Value::Integer(dt.millisecond()));
  } else if (name == "timezoneOffsetOf" && dt.kind() == DateTimeKind::kDateTime && dt.has_timezone()) {
    std::optional<Decimal> hours = Decimal::Divide(Decimal::FromInt(dt.tz_offset_minutes()), Decimal::FromInt(60));
    if (hours) out.push_back(Value::MakeDecimal(*hours));
  } else if (name == "dateOf" && !is_time) {
    std::optional<DateTime> date = DateTime::FromFields(DateTimeKind::kDate, std::min(p, DateTimePrecision::kDay),
                                                        dt.year(), dt.month(), dt.day(), 0, 0, 0, 0, std::nullopt);
    if (date) out.push_back(Value::Temporal(*date));
  } else if (name == "timeOf" && dt.kind() == DateTimeKind::kDateTime && has(DateTimePrecision::kHour)) {
    std::optional<DateTime> time = DateTime::FromFields(DateTimeKind::kTime, p, 0, 1, 1, dt.hour(), dt.minute(),
                                                        dt.second(), dt.millisecond(), std::nullopt);
    if (time) out.push_back(Value::Temporal(*time));
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Comparable) {
  RP_ASSIGN_OR_RETURN(std::optional<Value> value, SingleInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<Value> other, SingleArg(evaluator, call, 0, focus, scope));
  if (!value || !other) return Status();
  if (value->type() != ValueType::kQuantity || other->type() != ValueType::kQuantity) {
    return evaluator.Error(call, "the input and the argument must be Quantities");
  }
  out.push_back(Value::Boolean(ConvertQuantity(Decimal::FromInt(1), other->unit(), value->unit()).has_value()));
  return Status();
}

RP_FHIRPATH_FUNCTION(Extension) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> url, StringArg(evaluator, call, 0, focus, scope));
  if (!url) return Status();
  for (const Value& item : input) {
    if (!item.is_node()) continue;
    for (const fhir::Node& extension : item.node()->Children("extension")) {
      const fhir::Node* extension_url = extension.Child("url");
      if (extension_url != nullptr && extension_url->text() == *url) out.push_back(Value::Node(&extension));
    }
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(HasValue) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  bool has_value = input.size() == 1 && IsPrimitiveNode(input.front()) && input.front().node()->has_value();
  out.push_back(Value::Boolean(has_value));
  return Status();
}

RP_FHIRPATH_FUNCTION(GetValue) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  if (input.size() != 1 || !IsPrimitiveNode(input.front())) return Status();
  std::optional<Value> value = ToSystem(input.front());
  if (value) out.push_back(*value);
  return Status();
}

RP_FHIRPATH_FUNCTION(Resolve) {
  (void)call, (void)focus, (void)scope;
  const fhir::Document* document = evaluator.context().document;
  if (document == nullptr) return Status();
  for (const Value& item : input) {
    std::string_view reference;
    const fhir::Node* from = nullptr;
    if (item.is_node()) {
      from = item.node();
      if (from->is_object()) {
        const fhir::Node* reference_node = from->Child("reference");
        if (reference_node == nullptr || !reference_node->has_value()) continue;
        reference = reference_node->text();
      } else {
        reference = from->text();
      }
    } else if (item.type() == ValueType::kString) {
      reference = item.string();
    } else {
      continue;
    }
    const fhir::Node* target = document->Resolve(reference, from);
    if (target != nullptr) out.push_back(Value::Node(target));
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(MemberOf) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> url, StringArg(evaluator, call, 0, focus, scope));
  if (input.empty() || !url) return Status();
  if (input.size() > 1) return evaluator.Error(call, fmt::format("the input must be a single item, not {} items", input.size()));
  const Terminology* terminology = evaluator.context().terminology;
  if (terminology == nullptr) return Status();
  const Value& item = input.front();
  // A code, a Coding, or a CodeableConcept (member if any coding is). This
  // runs inside where() over whole records: the lists are this thread's,
  // reused from call to call (nothing below evaluates FHIRPath again).
  thread_local std::vector<Terminology::CodingRef> codings;
  thread_local std::vector<std::string_view> names;
  codings.clear();
  names.clear();
  if (item.is_node() && item.node()->is_object()) {
    const fhir::Node& node = *item.node();
    // One pass over the children each (as Child() and Children() would find
    // them: the first `text`, the first run of `coding`).
    const fhir::Node* concept_text = nullptr;
    std::span<const fhir::Node> concept_codings;
    std::span<const fhir::Node> children = node.children();
    for (size_t i = 0; i < children.size(); ++i) {
      std::string_view name = children[i].name();
      if (concept_text == nullptr && name == "text") {
        concept_text = &children[i];
      } else if (concept_codings.empty() && name == "coding") {
        size_t end = i + 1;
        while (end < children.size() && children[end].name() == "coding") ++end;
        concept_codings = children.subspan(i, end - i);
        i = end - 1;
      }
    }
    const bool is_concept = concept_text != nullptr || !concept_codings.empty();
    std::span<const fhir::Node> coding_nodes = is_concept ? concept_codings : std::span<const fhir::Node>(&node, 1);
    for (const fhir::Node& coding : coding_nodes) {
      const fhir::Node* code = nullptr;
      const fhir::Node* system = nullptr;
      const fhir::Node* display = nullptr;
      for (const fhir::Node& part : coding.children()) {
        std::string_view name = part.name();
        if (code == nullptr && name == "code") {
          code = &part;
        } else if (system == nullptr && name == "system") {
          system = &part;
        } else if (display == nullptr && name == "display") {
          display = &part;
        }
      }
      if (code != nullptr && code->has_value()) {
        codings.push_back({system != nullptr ? system->text() : std::string_view(), code->text()});
      }
      if (display != nullptr && display->has_value()) names.push_back(display->text());
    }
    if (concept_text != nullptr && concept_text->has_value()) names.push_back(concept_text->text());
  } else {
    std::optional<Value> value = ToSystem(item);
    if (!value || value->type() != ValueType::kString) return Status();
    codings.push_back({std::string_view(), value->string()});
  }
  std::optional<bool> member = terminology->MemberOf(*url, codings, names);
  if (member) out.push_back(Value::Boolean(*member));
  return Status();
}

RP_FHIRPATH_FUNCTION(ConformsTo) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> url, StringArg(evaluator, call, 0, focus, scope));
  if (input.empty() || !url) return Status();
  if (input.size() > 1) return evaluator.Error(call, fmt::format("the input must be a single item, not {} items", input.size()));
  constexpr std::string_view kCore = "http://hl7.org/fhir/StructureDefinition/";
  const fhir::TypeInfo* profile = url->starts_with(kCore) ? fhir::Model::R4().FindType(url->substr(kCore.size())) : nullptr;
  if (profile == nullptr) {
    return evaluator.Error(call, fmt::format("unknown profile '{}' (only the core FHIR R4 types are known)", *url));
  }
  const Value& item = input.front();
  bool conforms = item.is_node() && item.node()->type() != nullptr &&
                  fhir::Model::IsSubtypeOf(*item.node()->type(), *profile);
  out.push_back(Value::Boolean(conforms));
  return Status();
}

RP_FHIRPATH_FUNCTION(HtmlChecks) {
  (void)evaluator, (void)call, (void)focus, (void)scope;
  // The FHIR narrative rules: no scripts, forms, or event handlers.
  bool ok = true;
  for (const Value& item : input) {
    std::optional<Value> value = ToSystem(item);
    if (!value || value->type() != ValueType::kString) continue;
    std::string_view text = value->string();
    for (std::string_view banned : {"<script", "<form", "<iframe", " onclick=", " onload=", "javascript:"}) {
      if (text.find(banned) != std::string_view::npos) ok = false;
    }
  }
  out.push_back(Value::Boolean(ok));
  return Status();
}

RP_FHIRPATH_FUNCTION(DefineVariable) {
  // Evaluated by Evaluator::Eval, which owns the scope it extends.
  (void)evaluator, (void)input, (void)focus, (void)scope, (void)out;
  return Internal(fmt::format("{}() must be evaluated by the evaluator", call.name));
}

constexpr FunctionInfo kFunctions[] = {
    {"trace", 1, 2, Trace},
    {"now", 0, 0, Now},
    {"today", 0, 0, Today},
    {"timeOfDay", 0, 0, TimeOfDay},
    {"lowBoundary", 0, 1, LowBoundary},
    {"highBoundary", 0, 1, LowBoundary},
    {"precision", 0, 0, Precision},
    {"yearOf", 0, 0, ComponentOf},
    {"monthOf", 0, 0, ComponentOf},
    {"dayOf", 0, 0, ComponentOf},
    {"hourOf", 0, 0, ComponentOf},
    {"minuteOf", 0, 0, ComponentOf},
    {"secondOf", 0, 0, ComponentOf},
    {"millisecondOf", 0, 0, ComponentOf},
    {"timezoneOffsetOf", 0, 0, ComponentOf},
    {"dateOf", 0, 0, ComponentOf},
    {"timeOf", 0, 0, ComponentOf},
    {"comparable", 1, 1, Comparable},
    {"extension", 1, 1, Extension},
    {"hasValue", 0, 0, HasValue},
    {"getValue", 0, 0, GetValue},
    {"resolve", 0, 0, Resolve},
    {"memberOf", 1, 1, MemberOf},
    {"conformsTo", 1, 1, ConformsTo},
    {"htmlChecks", 0, 0, HtmlChecks},
    {"defineVariable", 1, 2, DefineVariable, false, false, true},
};

}  // namespace

std::span<const FunctionInfo> UtilityFunctions() { return kFunctions; }

}  // namespace regenpath::fhirpath
