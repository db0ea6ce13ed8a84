// The only report file that includes Boost.JSON.
#include "report/assessment_json.h"

#include <boost/json.hpp>

namespace regenpath::report {

namespace json = boost::json;
using engine::Assessment;
using engine::AssessedCondition;
using engine::AssessedRedFlag;
using engine::AssessmentIssue;
using engine::CostInfo;
using engine::Criterion;
using engine::Data;
using engine::Datum;
using engine::EvidenceStatement;
using engine::FollowUpInstrument;
using engine::FoundContraindication;
using engine::MedicationHoldResult;
using engine::MissingDataItem;
using engine::NextStep;
using engine::ProcedurePlan;
using engine::Recommendation;
using engine::SourceInfo;

namespace {

json::array Strings(const std::vector<std::string>& values) {
  json::array array;
  for (const std::string& value : values) array.emplace_back(value);
  return array;
}

json::value OptionalNumber(const std::optional<double>& value) {
  if (!value) return nullptr;
  double number = *value;
  if (number == static_cast<double>(static_cast<int64_t>(number))) return static_cast<int64_t>(number);
  return number;
}

json::value OptionalString(const std::optional<std::string>& value) {
  return value ? json::value(*value) : json::value(nullptr);
}

json::array DataJson(const Data& data) {
  json::array array;
  for (const Datum& datum : data) {
    json::object object;
    object["reference"] = datum.reference;
    object["display"] = datum.display;
    object["date"] = OptionalString(datum.date);
    object["value"] = OptionalString(datum.value);
    array.push_back(std::move(object));
  }
  return array;
}

json::object OrderCodeJson(const engine::OrderCode& code) {
  return json::object{{"system", code.system}, {"code", code.code}, {"display", code.display}};
}

json::object MissingJson(const MissingDataItem& item) {
  json::object object;
  object["id"] = item.id;
  object["display"] = item.display;
  if (item.title != item.display) object["title"] = item.title;
  if (item.order_code) object["order_code"] = OrderCodeJson(*item.order_code);
  return object;
}

json::object CriterionJson(const Criterion& criterion) {
  json::object object;
  object["id"] = criterion.id;
  if (!criterion.display.empty()) object["display"] = criterion.display;
  object["met"] = criterion.met ? json::value(*criterion.met) : json::value(nullptr);
  object["evidence"] = Strings(criterion.evidence);
  object["data"] = DataJson(criterion.data);
  if (!criterion.looked_for.empty()) object["looked_for"] = criterion.looked_for;
  if (criterion.decides_stage) object["decides_stage"] = true;
  if (!criterion.from_record) object["basis"] = "knowledge-base";
  if (criterion.missing) object["missing"] = MissingJson(*criterion.missing);
  if (criterion.unverified) object["unverified"] = true;
  if (!criterion.issues.empty()) object["issues"] = Strings(criterion.issues);
  return object;
}

json::object RecommendationJson(const Recommendation& item) {
  json::object object;
  object["id"] = item.id;
  object["condition"] = item.condition;
  object["category"] = ToString(item.category);
  object["therapy"] = item.therapy;
  object["target"] = item.target ? json::value(*item.target) : json::value(nullptr);
  object["display"] = item.display;
  object["status"] = ToString(item.status);
  object["status_reason"] = item.status_reason;
  object["summary"] = item.summary;
  object["done"] = item.done ? json::value(*item.done) : json::value(nullptr);
  if (!item.done_data.empty()) object["done_data"] = DataJson(item.done_data);
  json::array evidence;
  for (const EvidenceStatement& statement : item.evidence) {
    json::object entry;
    entry["source"] = statement.source;
    if (!statement.level.empty()) entry["level"] = statement.level;
    entry["direction"] = ToString(statement.direction);
    entry["statement"] = statement.statement;
    entry["confidence"] = statement.confidence;
    evidence.push_back(std::move(entry));
  }
  object["evidence"] = std::move(evidence);
  json::array rationale;
  for (const Criterion& criterion : item.rationale) rationale.push_back(CriterionJson(criterion));
  object["rationale"] = std::move(rationale);
  if (!item.pre_checks.empty()) {
    json::array checks;
    for (const Criterion& check : item.pre_checks) checks.push_back(CriterionJson(check));
    object["pre_checks"] = std::move(checks);
  }
  if (item.order_code) object["order_code"] = OrderCodeJson(*item.order_code);
  if (!item.missing_data.empty()) {
    json::array missing;
    for (const MissingDataItem& entry : item.missing_data) missing.push_back(MissingJson(entry));
    object["missing_data"] = std::move(missing);
  }
  json::array contraindications;
  for (const FoundContraindication& found : item.contraindications) {
    json::object entry;
    entry["id"] = found.id;
    entry["kind"] = ToString(found.kind);
    entry["display"] = found.display;
    entry["evidence"] = Strings(found.evidence);
    entry["data"] = DataJson(found.data);
    if (found.unverified) entry["unverified"] = true;
    contraindications.push_back(std::move(entry));
  }
  object["contraindications"] = std::move(contraindications);
  if (item.procedure) {
    const ProcedurePlan& plan = *item.procedure;
    json::object procedure;
    procedure["image_guidance"] = Strings(plan.image_guidance);
    if (plan.bleeding_risk) procedure["bleeding_risk"] = ToString(*plan.bleeding_risk);
    if (!plan.bleeding_risk_note.empty()) procedure["bleeding_risk_note"] = plan.bleeding_risk_note;
    if (!plan.protocol.empty()) procedure["protocol"] = plan.protocol;
    json::array holds;
    for (const MedicationHoldResult& hold : plan.medication_holds) {
      json::object entry;
      entry["medication"] = hold.medication;
      entry["hold_days_before"] = OptionalNumber(hold.hold_days_before);
      entry["restart_hours_after"] = OptionalNumber(hold.restart_hours_after);
      if (hold.stop_on) entry["stop_on"] = *hold.stop_on;
      if (hold.restart_on) entry["restart_on"] = *hold.restart_on;
      if (!hold.note.empty()) entry["note"] = hold.note;
      entry["evidence"] = Strings(hold.evidence);
      entry["data"] = DataJson(hold.data);
      entry["sources"] = Strings(hold.sources);
      if (hold.unverified) entry["unverified"] = true;
      if (hold.check) entry["check"] = CriterionJson(*hold.check);
      holds.push_back(std::move(entry));
    }
    procedure["medication_holds"] = std::move(holds);
    procedure["monitoring"] = Strings(plan.monitoring);
    if (!plan.pre_checks.empty()) procedure["pre_checks"] = Strings(plan.pre_checks);
    object["procedure"] = std::move(procedure);
  }
  if (item.follow_up) {
    json::object follow_up;
    json::array instruments;
    for (const FollowUpInstrument& instrument : item.follow_up->instruments) {
      json::object entry;
      entry["id"] = instrument.id;
      if (!instrument.loinc.empty()) entry["loinc"] = instrument.loinc;
      if (!instrument.mcid.empty()) entry["mcid"] = instrument.mcid;
      if (!instrument.display.empty()) entry["display"] = instrument.display;
      // The baseline before the procedure (the engine judged it).
      json::object baseline;
      baseline["status"] = engine::ToString(instrument.baseline_status);
      if (instrument.baseline) baseline["data"] = DataJson(Data{*instrument.baseline}).front();
      if (!instrument.baseline_flag.empty()) baseline["flag"] = instrument.baseline_flag;
      entry["baseline"] = std::move(baseline);
      instruments.push_back(std::move(entry));
    }
    follow_up["instruments"] = std::move(instruments);
    json::array weeks;
    for (double week : item.follow_up->schedule_weeks) weeks.push_back(OptionalNumber(week));
    follow_up["schedule_weeks"] = std::move(weeks);
    if (!item.follow_up->dates.empty()) follow_up["dates"] = Strings(item.follow_up->dates);
    object["follow_up"] = std::move(follow_up);
  }
  if (item.cost) {
    json::object cost;
    if (item.cost->usd_low) cost["usd_low"] = OptionalNumber(item.cost->usd_low);
    if (item.cost->usd_high) cost["usd_high"] = OptionalNumber(item.cost->usd_high);
    if (!item.cost->per.empty()) cost["per"] = item.cost->per;
    if (!item.cost->coverage.empty()) cost["coverage"] = item.cost->coverage;
    cost["billing_codes"] = Strings(item.cost->billing_codes);
    if (item.cost->unverified) cost["unverified"] = true;
    object["cost"] = std::move(cost);
  }
  if (item.clinic_evidence) {
    const engine::ClinicEvidence& clinic = *item.clinic_evidence;
    json::object evidence;
    evidence["observational"] = true;
    evidence["episodes"] = clinic.episodes;
    evidence["instrument"] = clinic.instrument;
    evidence["weeks"] = OptionalNumber(clinic.weeks);
    evidence["responders"] = clinic.responders;
    evidence["assessed"] = clinic.assessed;
    evidence["rate"] = OptionalNumber(clinic.rate);
    json::array interval;
    interval.push_back(OptionalNumber(clinic.lower));
    interval.push_back(OptionalNumber(clinic.upper));
    evidence["ci95"] = std::move(interval);
    evidence["lost_to_follow_up"] = clinic.lost_to_follow_up;
    evidence["summary"] = clinic.summary;
    object["clinic_evidence"] = std::move(evidence);
  }
  return object;
}

void Pretty(std::string& out, const json::value& value, int indent) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (value.is_object()) {
    const json::object& object = value.as_object();
    if (object.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : object) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      out += json::serialize(json::value(member.key()));
      out += ": ";
      Pretty(out, member.value(), indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (value.is_array()) {
    const json::array& array = value.as_array();
    if (array.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const json::value& item : array) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      Pretty(out, item, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(value);
  }
}

}  // namespace

std::string AssessmentToJson(const Assessment& assessment, bool pretty) {
  json::object root;
  root["schema"] = "regenpath.assessment/1";
  json::object patient;
  patient["reference"] = assessment.patient_reference;
  patient["age"] = assessment.age ? json::value(*assessment.age) : json::value(nullptr);
  patient["sex"] = assessment.sex ? json::value(*assessment.sex) : json::value(nullptr);
  patient["deceased"] = assessment.deceased ? json::value(*assessment.deceased) : json::value(nullptr);
  if (assessment.deceased_on) patient["deceased_on"] = *assessment.deceased_on;
  if (assessment.replaced_by) patient["replaced_by"] = *assessment.replaced_by;
  if (assessment.inactive) patient["active"] = false;  // only when the record says so
  if (!assessment.patient_note.empty()) patient["note"] = assessment.patient_note;
  root["patient"] = std::move(patient);
  root["evaluated_at"] = assessment.evaluated_at;
  if (assessment.procedure_date) root["procedure_date"] = *assessment.procedure_date;
  json::object kb;
  kb["name"] = assessment.kb_name;
  kb["version"] = assessment.kb_version;
  root["knowledge_base"] = std::move(kb);
  root["stage"] = assessment.stage.id;
  root["stage_display"] = assessment.stage.display;
  root["stage_offers_regenerative"] = assessment.stage.offers_regenerative;
  root["regenerative_option_open"] = assessment.regenerative_option_open;
  root["stage_reason"] = assessment.stage_reason;
  json::array conditions;
  for (const AssessedCondition& condition : assessment.conditions) {
    json::object object;
    object["id"] = condition.id;
    object["display"] = condition.display;
    object["stage"] = condition.stage.id;
    object["stage_display"] = condition.stage.display;
    object["stage_reason"] = condition.stage_reason;
    if (!condition.why.empty()) object["why"] = condition.why;
    object["headline"] = condition.headline;
    object["chronic"] = condition.chronic ? json::value(*condition.chronic) : json::value(nullptr);
    object["targets"] = Strings(condition.targets);
    json::array criteria;
    for (const Criterion& criterion : condition.criteria) criteria.push_back(CriterionJson(criterion));
    object["criteria"] = std::move(criteria);
    object["evidence"] = Strings(condition.evidence);
    object["data"] = DataJson(condition.data);
    json::array missing;
    for (const MissingDataItem& item : condition.missing_data) missing.push_back(MissingJson(item));
    object["missing_data"] = std::move(missing);
    object["sources"] = Strings(condition.sources);
    conditions.push_back(std::move(object));
  }
  root["conditions"] = std::move(conditions);
  json::array red_flags;
  for (const AssessedRedFlag& flag : assessment.red_flags) {
    json::object object;
    object["id"] = flag.id;
    object["display"] = flag.display;
    object["evidence"] = Strings(flag.evidence);
    object["data"] = DataJson(flag.data);
    object["sources"] = Strings(flag.sources);
    if (flag.unverified) object["unverified"] = true;
    red_flags.push_back(std::move(object));
  }
  root["red_flags"] = std::move(red_flags);
  json::array recommendations;
  for (const Recommendation& item : assessment.recommendations) recommendations.push_back(RecommendationJson(item));
  root["recommendations"] = std::move(recommendations);
  json::array next_steps;
  for (const NextStep& step : assessment.next_steps) {
    json::object object;
    object["kind"] = step.kind;
    object["display"] = step.display;
    if (!step.condition.empty()) object["condition"] = step.condition;
    if (!step.option.empty()) object["option"] = step.option;
    if (step.order) {
      json::object order;
      if (step.order->code) order["code"] = OrderCodeJson(*step.order->code);
      if (step.order->category) order["category"] = OrderCodeJson(*step.order->category);
      order["text"] = step.order->text;
      if (!step.order->label.empty()) order["label"] = step.order->label;
      if (step.order->unverified) order["unverified"] = true;
      object["order"] = std::move(order);
    }
    next_steps.push_back(std::move(object));
  }
  root["next_steps"] = std::move(next_steps);
  json::array missing;
  for (const MissingDataItem& item : assessment.missing_data) missing.push_back(MissingJson(item));
  root["missing_data"] = std::move(missing);
  json::array issues;
  for (const AssessmentIssue& issue : assessment.issues) {
    json::object object;
    object["severity"] = issue.severity;
    object["message"] = issue.message;
    if (!issue.location.empty()) object["location"] = issue.location;
    issues.push_back(std::move(object));
  }
  root["issues"] = std::move(issues);
  root["unverified_facts"] = Strings(assessment.unverified_facts);
  json::array sources;
  for (const SourceInfo& source : assessment.sources) {
    json::object object;
    object["id"] = source.id;
    object["reference"] = source.reference;
    if (!source.url.empty()) object["url"] = source.url;
    if (!source.doi.empty()) object["doi"] = source.doi;
    if (source.unverified) object["unverified"] = true;
    sources.push_back(std::move(object));
  }
  root["sources"] = std::move(sources);
  json::value value(std::move(root));
  if (!pretty) return json::serialize(value);
  std::string out;
  Pretty(out, value, 0);
  out += "\n";
  return out;
}

}  // namespace regenpath::report
