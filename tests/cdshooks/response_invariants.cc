#include "tests/cdshooks/response_invariants.h"

#include <fmt/format.h>

#include <set>

#include "cdshooks/text.h"
#include "cdshooks/uuid.h"
#include "simdjson.h"

namespace regenpath::cdshooks {

namespace {

namespace dom = simdjson::dom;

class Checker {
 public:
  explicit Checker(const ResponseCheckOptions& options) : options_(options) {}

  std::vector<std::string> Run(std::string_view json) {
    dom::parser parser;
    dom::element root;
    if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
      return {"the response is not valid JSON"};
    }
    dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS) return {"the response is not a JSON object"};
    NoEmptyValues(root, "", 0);
    dom::element cards_value;
    dom::array cards;
    if (object["cards"].get(cards_value) != simdjson::SUCCESS) {
      Problem("cards", "required");
    } else if (cards_value.get_array().get(cards) != simdjson::SUCCESS) {
      Problem("cards", "must be an array");
    } else {
      size_t index = 0;
      for (dom::element card : cards) Card(card, fmt::format("cards[{}]", index++));
    }
    dom::element system_actions;
    if (object["systemActions"].get(system_actions) == simdjson::SUCCESS) {
      dom::array actions;
      if (system_actions.get_array().get(actions) != simdjson::SUCCESS) {
        Problem("systemActions", "must be an array");
      } else {
        size_t index = 0;
        for (dom::element action : actions) Action(action, fmt::format("systemActions[{}]", index++), false);
      }
    }
    return std::move(problems_);
  }

 private:
  void Problem(const std::string& path, std::string_view what) {
    problems_.push_back(fmt::format("{}: {}", path, what));
  }

  // "Use of JSON": no null, "", [] or {} (the cards array may be empty).
  void NoEmptyValues(dom::element value, const std::string& path, int depth) {
    if (depth > 256) return;
    switch (value.type()) {
      case dom::element_type::NULL_VALUE:
        Problem(path, "null is not allowed");
        break;
      case dom::element_type::STRING:
        if (std::string_view(value.get_string().value_unsafe()).empty()) Problem(path, "\"\" is not allowed");
        break;
      case dom::element_type::ARRAY: {
        dom::array array = value.get_array().value_unsafe();
        if (array.size() == 0 && path != "cards") Problem(path, "[] is not allowed");
        size_t index = 0;
        for (dom::element item : array) NoEmptyValues(item, fmt::format("{}[{}]", path, index++), depth + 1);
        break;
      }
      case dom::element_type::OBJECT: {
        dom::object object = value.get_object().value_unsafe();
        if (object.size() == 0) Problem(path.empty() ? std::string("(root)") : path, "{} is not allowed");
        for (dom::key_value_pair member : object) {
          NoEmptyValues(member.value,
                        path.empty() ? std::string(member.key) : fmt::format("{}.{}", path, member.key),
                        depth + 1);
        }
        break;
      }
      default:
        break;
    }
  }

  // A required (or optional) string member; returns it ("" when absent or wrong).
  std::string String(dom::object object, std::string_view name, const std::string& path, bool required,
                     std::string_view invariant = {}) {
    dom::element value;
    if (object[name].get(value) != simdjson::SUCCESS) {
      if (required)
        Problem(fmt::format("{}.{}", path, name),
                invariant.empty() ? "required" : fmt::format("required ({})", invariant));
      return std::string();
    }
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      Problem(fmt::format("{}.{}", path, name), "must be a string");
      return std::string();
    }
    return std::string(text);
  }

  void Uuid(dom::object object, const std::string& path) {
    std::string uuid = String(object, "uuid", path, options_.require_uuids);
    if (uuid.empty()) return;
    if (options_.uuid_format && !IsUuid(uuid)) Problem(path + ".uuid", "must be a UUID");
    if (!uuids_.insert(uuid).second) Problem(path + ".uuid", "is not unique in the response");
  }

  void CodingOf(dom::element value, const std::string& path, bool display_required,
                std::string_view invariant) {
    dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) {
      Problem(path, "must be a Coding object");
      return;
    }
    String(object, "code", path, true);
    String(object, "system", path, true);
    if (display_required) {
      String(object, "display", path, true, invariant);
    } else {
      String(object, "display", path, false);
    }
  }

  bool Boolean(dom::object object, std::string_view name, const std::string& path) {
    dom::element value;
    if (object[name].get(value) != simdjson::SUCCESS) return false;
    bool flag = false;
    if (value.get_bool().get(flag) != simdjson::SUCCESS)
      Problem(fmt::format("{}.{}", path, name), "must be a boolean");
    return flag;
  }

  bool ArrayMember(dom::object object, std::string_view name, const std::string& path, dom::array& array) {
    dom::element value;
    if (object[name].get(value) != simdjson::SUCCESS) return false;
    if (value.get_array().get(array) != simdjson::SUCCESS) {
      Problem(fmt::format("{}.{}", path, name), "must be an array");
      return false;
    }
    return true;
  }

  void Action(dom::element value, const std::string& path, bool in_card) {
    dom::object action;
    if (value.get_object().get(action) != simdjson::SUCCESS) {
      Problem(path, "must be an object");
      return;
    }
    std::string type = String(action, "type", path, true);
    if (!type.empty() && type != "create" && type != "update" && type != "delete") {
      Problem(path + ".type", "must be create, update or delete");
    }
    if (in_card) {
      String(action, "description", path, true, "cds-resp-5");
    } else {
      String(action, "description", path, false);
    }
    dom::element resource;
    const bool has_resource = action["resource"].get(resource) == simdjson::SUCCESS;
    std::string resource_id = String(action, "resourceId", path, false);
    if (type == "delete" && (resource_id.empty() || has_resource)) {
      Problem(path, "a delete action has a resourceId and no resource (cds-resp-2)");
    }
    if ((type == "create" || type == "update")) {
      std::string_view resource_type;
      if (!has_resource || resource["resourceType"].get_string().get(resource_type) != simdjson::SUCCESS ||
          resource_type.empty()) {
        Problem(path + ".resource", "a create or update action carries a FHIR resource");
      }
    }
  }

  void Card(dom::element value, const std::string& path) {
    dom::object card;
    if (value.get_object().get(card) != simdjson::SUCCESS) {
      Problem(path, "must be an object");
      return;
    }
    Uuid(card, path);
    std::string summary = String(card, "summary", path, true);
    if (CountChars(summary) >= 140) Problem(path + ".summary", "must be under 140 characters");
    std::string indicator = String(card, "indicator", path, true);
    if (!indicator.empty() && indicator != "info" && indicator != "warning" && indicator != "critical") {
      Problem(path + ".indicator", "must be info, warning or critical");
    }
    String(card, "detail", path, false);
    dom::element source_value;
    dom::object source;
    if (card["source"].get(source_value) != simdjson::SUCCESS) {
      Problem(path + ".source", "required");
    } else if (source_value.get_object().get(source) != simdjson::SUCCESS) {
      Problem(path + ".source", "must be an object");
    } else {
      String(source, "label", path + ".source", true);
      std::string url = String(source, "url", path + ".source", false);
      if (!url.empty() && !IsAbsoluteHttpUrl(url)) Problem(path + ".source.url", "must be an absolute URL");
      std::string icon = String(source, "icon", path + ".source", false);
      if (!icon.empty() && !IsAbsoluteHttpUrl(icon))
        Problem(path + ".source.icon", "must be an absolute URL");
      dom::element topic;
      if (source["topic"].get(topic) == simdjson::SUCCESS) CodingOf(topic, path + ".source.topic", false, {});
    }

    dom::array suggestions;
    const bool has_suggestions = ArrayMember(card, "suggestions", path, suggestions);
    std::string behavior = String(card, "selectionBehavior", path, has_suggestions, "cds-resp-6");
    if (!behavior.empty() && behavior != "at-most-one" && behavior != "any") {
      Problem(path + ".selectionBehavior", "must be at-most-one or any");
    }
    if (has_suggestions) {
      size_t index = 0;
      size_t recommended = 0;
      for (dom::element item : suggestions) {
        const std::string item_path = fmt::format("{}.suggestions[{}]", path, index++);
        dom::object suggestion;
        if (item.get_object().get(suggestion) != simdjson::SUCCESS) {
          Problem(item_path, "must be an object");
          continue;
        }
        String(suggestion, "label", item_path, true);
        Uuid(suggestion, item_path);
        if (Boolean(suggestion, "isRecommended", item_path)) ++recommended;
        std::string action_behavior = String(suggestion, "actionSelectionBehavior", item_path, false);
        if (!action_behavior.empty() && action_behavior != "all" && action_behavior != "any" &&
            action_behavior != "at-most-one") {
          Problem(item_path + ".actionSelectionBehavior", "must be all, any or at-most-one (cds-resp-7)");
        }
        dom::array actions;
        if (ArrayMember(suggestion, "actions", item_path, actions)) {
          size_t action_index = 0;
          for (dom::element action : actions)
            Action(action, fmt::format("{}.actions[{}]", item_path, action_index++), true);
        }
      }
      if (behavior == "at-most-one" && recommended > 1) {
        Problem(path,
                "at most one suggestion is recommended when selectionBehavior is at-most-one (cds-resp-1)");
      }
    }
    dom::array reasons;
    if (ArrayMember(card, "overrideReasons", path, reasons)) {
      size_t index = 0;
      for (dom::element reason : reasons) {
        CodingOf(reason, fmt::format("{}.overrideReasons[{}]", path, index++), true, "cds-resp-4");
      }
    }
    dom::array links;
    if (ArrayMember(card, "links", path, links)) {
      size_t index = 0;
      for (dom::element item : links) {
        const std::string link_path = fmt::format("{}.links[{}]", path, index++);
        dom::object link;
        if (item.get_object().get(link) != simdjson::SUCCESS) {
          Problem(link_path, "must be an object");
          continue;
        }
        String(link, "label", link_path, true);
        std::string url = String(link, "url", link_path, true);
        std::string type = String(link, "type", link_path, true);
        if (!type.empty() && type != "absolute" && type != "smart")
          Problem(link_path + ".type", "must be absolute or smart");
        if (type == "absolute" && !url.empty() && !IsAbsoluteHttpUrl(url)) {
          Problem(link_path + ".url", "must be an absolute URL");
        }
        dom::element app_context;
        if (type != "smart" && link["appContext"].get(app_context) == simdjson::SUCCESS) {
          Problem(link_path, "appContext only for smart links (cds-resp-3)");
        }
        Boolean(link, "autolaunchable", link_path);
      }
    }
  }

  const ResponseCheckOptions& options_;
  std::vector<std::string> problems_;
  std::set<std::string> uuids_;
};

}  // namespace

std::vector<std::string> CheckCardsResponse(std::string_view json, const ResponseCheckOptions& options) {
  return Checker(options).Run(json);
}

}  // namespace regenpath::cdshooks
