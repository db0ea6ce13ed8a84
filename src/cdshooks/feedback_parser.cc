#include "cdshooks/feedback_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cdshooks/hook_request.h"
#include "cdshooks/text.h"
#include "cdshooks/uuid.h"
#include "common/date_time.h"
#include "simdjson.h"

namespace regenpath::cdshooks {

namespace {

namespace dom = simdjson::dom;

Status Bad(const std::string& path, std::string_view what) {
  return InvalidArgument(fmt::format("{}: {}", path, what));
}

Status CheckUnique(dom::object object, const std::string& path) {
  std::set<std::string_view> seen;
  for (dom::key_value_pair member : object) {
    if (!seen.insert(member.key).second) {
      return Bad(path.empty() ? std::string(member.key) : path + "." + std::string(member.key),
                 "appears twice");
    }
  }
  return Status::Ok();
}

// A string member: required or optional, never null or "".
Result<std::string> StringMember(dom::object object, std::string_view name, const std::string& path,
                                 bool required, std::string_view invariant = {}) {
  const std::string where = fmt::format("{}.{}", path, name);
  dom::element value;
  if (object[name].get(value) != simdjson::SUCCESS) {
    if (required)
      return Fail(Bad(where, invariant.empty() ? "required" : fmt::format("required ({})", invariant)));
    return std::string();
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return Fail(Bad(where, "must be a string"));
  if (text.empty()) return Fail(Bad(where, "must not be empty"));
  return std::string(text);
}

bool IsInstant(std::string_view text) {
  std::optional<DateTime> value = DateTime::ParseDateTime(text);
  return value && value->precision() >= DateTimePrecision::kSecond && value->has_timezone();
}

Result<Feedback> ReadItem(dom::element value, const std::string& path, std::string_view service_id) {
  dom::object item;
  if (value.get_object().get(item) != simdjson::SUCCESS) return Fail(Bad(path, "must be an object"));
  RP_RETURN_IF_ERROR(CheckUnique(item, path));
  Feedback feedback;
  feedback.service_id = std::string(service_id);
  RP_ASSIGN_OR_RETURN(feedback.card, StringMember(item, "card", path, true));
  if (!IsUuid(feedback.card)) return Fail(Bad(path + ".card", "must be the card's uuid"));
  RP_ASSIGN_OR_RETURN(feedback.outcome, StringMember(item, "outcome", path, true, "cds-fb-1"));
  if (feedback.outcome != "accepted" && feedback.outcome != "overridden") {
    return Fail(Bad(path + ".outcome", "must be 'accepted' or 'overridden' (cds-fb-1)"));
  }
  RP_ASSIGN_OR_RETURN(feedback.outcome_timestamp, StringMember(item, "outcomeTimestamp", path, true));
  if (!IsInstant(feedback.outcome_timestamp)) {
    return Fail(Bad(path + ".outcomeTimestamp",
                    "must be an RFC 3339 date-time with seconds and a time zone "
                    "(e.g. 2021-12-11T10:05:31Z)"));
  }
  dom::element accepted;
  if (item["acceptedSuggestions"].get(accepted) == simdjson::SUCCESS) {
    dom::array array;
    if (accepted.get_array().get(array) != simdjson::SUCCESS) {
      return Fail(Bad(path + ".acceptedSuggestions", "must be an array"));
    }
    size_t index = 0;
    for (dom::element suggestion : array) {
      const std::string suggestion_path = fmt::format("{}.acceptedSuggestions[{}]", path, index++);
      dom::object object;
      if (suggestion.get_object().get(object) != simdjson::SUCCESS)
        return Fail(Bad(suggestion_path, "must be an object"));
      RP_ASSIGN_OR_RETURN(std::string id, StringMember(object, "id", suggestion_path, true));
      if (!IsUuid(id)) return Fail(Bad(suggestion_path + ".id", "must be the suggestion's uuid"));
      feedback.accepted_suggestions.push_back(std::move(id));
    }
    if (feedback.accepted_suggestions.empty())
      return Fail(Bad(path + ".acceptedSuggestions", "must not be empty"));
  }
  if (feedback.outcome == "accepted" && feedback.accepted_suggestions.empty()) {
    return Fail(Bad(path + ".acceptedSuggestions", "required when the outcome is accepted (cds-fb-2)"));
  }
  dom::element reason_value;
  if (item["overrideReason"].get(reason_value) == simdjson::SUCCESS) {
    const std::string reason_path = path + ".overrideReason";
    dom::object reason;
    if (reason_value.get_object().get(reason) != simdjson::SUCCESS)
      return Fail(Bad(reason_path, "must be an object"));
    RP_RETURN_IF_ERROR(CheckUnique(reason, reason_path));
    OverrideReason result;
    dom::element coding_value;
    if (reason["reason"].get(coding_value) == simdjson::SUCCESS) {
      dom::object coding;
      if (coding_value.get_object().get(coding) != simdjson::SUCCESS) {
        return Fail(Bad(reason_path + ".reason", "must be a Coding"));
      }
      RP_ASSIGN_OR_RETURN(result.code, StringMember(coding, "code", reason_path + ".reason", true));
      RP_ASSIGN_OR_RETURN(result.system, StringMember(coding, "system", reason_path + ".reason", true));
      RP_ASSIGN_OR_RETURN(result.display, StringMember(coding, "display", reason_path + ".reason", false));
    }
    RP_ASSIGN_OR_RETURN(result.user_comment, StringMember(reason, "userComment", reason_path, false));
    if (result.code.empty() && result.user_comment.empty()) {
      return Fail(Bad(reason_path, "needs a reason, a userComment or both (cds-fb-3)"));
    }
    feedback.override_reason = std::move(result);
  }
  dom::element extension;
  if (item["extension"].get(extension) == simdjson::SUCCESS && !extension.is_object()) {
    return Fail(Bad(path + ".extension", "must be an object"));
  }
  feedback.raw_json = simdjson::minify(value);
  return feedback;
}

}  // namespace

Result<std::vector<Feedback>> ParseFeedbackBody(std::string_view service_id, std::string_view body) {
  dom::parser parser;
  if (parser.allocate(std::max<size_t>(body.size(), 64), kMaxJsonDepth) != simdjson::SUCCESS) {
    return Fail(InvalidArgument("the feedback body is too large to read"));
  }
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return Fail(InvalidArgument("the feedback body is not valid JSON"));
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Fail(InvalidArgument("the feedback body must be a JSON object"));
  }
  RP_RETURN_IF_ERROR(CheckUnique(object, ""));
  dom::element feedback_value;
  if (object["feedback"].get(feedback_value) != simdjson::SUCCESS) return Fail(Bad("feedback", "required"));
  dom::array array;
  if (feedback_value.get_array().get(array) != simdjson::SUCCESS)
    return Fail(Bad("feedback", "must be an array"));
  if (array.size() == 0) return Fail(Bad("feedback", "must not be empty (nothing to record)"));
  std::vector<Feedback> items;
  size_t index = 0;
  for (dom::element item : array) {
    RP_ASSIGN_OR_RETURN(Feedback feedback, ReadItem(item, fmt::format("feedback[{}]", index++), service_id));
    items.push_back(std::move(feedback));
  }
  return items;
}

}  // namespace regenpath::cdshooks
