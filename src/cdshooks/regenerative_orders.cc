#include "cdshooks/regenerative_orders.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "cdshooks/text.h"

namespace regenpath::cdshooks {

namespace {

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// True iff a coding or text is a member of the knowledge-base value set `id`.
bool IsMember(const knowledge::KnowledgeBase& kb, const std::string& id,
              const std::vector<CodeValue>& codings, const std::vector<std::string>& texts) {
  if (kb.FindValueSet(id) == nullptr) return false;
  const fhirpath::Terminology& terminology = kb.terminology();
  for (const CodeValue& coding : codings) {
    if (!coding.code.empty() && terminology.Contains(id, coding.system, coding.code) == true) return true;
  }
  for (const CodeValue& coding : codings) {
    if (!coding.display.empty() && terminology.ContainsText(id, coding.display) == true) return true;
  }
  for (const std::string& text : texts) {
    if (terminology.ContainsText(id, text) == true) return true;
  }
  return false;
}

std::set<std::string> Words(const DraftOrder& order) {
  std::set<std::string> words;
  auto add = [&](std::string_view text) {
    std::string word;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      } else if (!word.empty()) {
        words.insert(word);
        word.clear();
      }
    }
    if (!word.empty()) words.insert(word);
  };
  for (const CodeValue& coding : order.body_site_codings) add(coding.display);
  for (const std::string& text : order.body_site_texts) add(text);
  return words;
}

bool WordsMatch(const std::set<std::string>& words, std::string_view target) {
  size_t start = 0;
  bool any = false;
  while (start <= target.size()) {
    size_t end = target.find('-', start);
    if (end == std::string_view::npos) end = target.size();
    std::string_view part = target.substr(start, end - start);
    if (!part.empty()) {
      if (words.count(std::string(part)) == 0) return false;
      any = true;
    }
    start = end + 1;
  }
  return any;
}

std::string LabelOf(const DraftOrder& order) {
  if (!order.texts.empty()) return OneLine(order.texts.front(), 80);
  for (const CodeValue& coding : order.codings) {
    if (!coding.display.empty()) return OneLine(coding.display, 80);
  }
  for (const CodeValue& coding : order.codings) {
    if (!coding.code.empty()) return OneLine(coding.code, 80);
  }
  return order.resource_type;
}

bool IsSelected(const HookRequest& request, const DraftOrder& order) {
  if (request.hook != Hook::kOrderSelect) return true;
  if (order.id.empty()) return false;
  return Contains(request.selections, order.resource_type + "/" + order.id);
}

}  // namespace

std::vector<RegenerativeOrder> FindRegenerativeOrders(const HookRequest& request,
                                                      const knowledge::KnowledgeBase& kb) {
  const std::string cpt = knowledge::CanonicalSystem("cpt");
  const std::string hcpcs = knowledge::CanonicalSystem("hcpcs");
  std::vector<std::string> therapies;
  std::vector<std::string> targets;
  for (const knowledge::Option& option : kb.options()) {
    if (option.category != "regenerative") continue;
    if (!option.therapy.empty() && !Contains(therapies, option.therapy)) therapies.push_back(option.therapy);
    if (!option.target.empty() && !Contains(targets, option.target)) targets.push_back(option.target);
  }

  std::vector<RegenerativeOrder> found;
  for (const DraftOrder& order : request.draft_orders) {
    if (!IsSelected(request, order)) continue;
    RegenerativeOrder result;
    result.order = &order;
    for (const knowledge::Option& option : kb.options()) {
      if (option.category != "regenerative" || !option.cost) continue;
      for (const std::string& billing : option.cost->billing_codes) {
        for (const CodeValue& coding : order.codings) {
          if (coding.code != billing ||
              !(coding.system.empty() || coding.system == cpt || coding.system == hcpcs)) {
            continue;
          }
          if (!Contains(result.therapies, option.therapy)) result.therapies.push_back(option.therapy);
          if (!Contains(result.matched_codes, billing)) result.matched_codes.push_back(billing);
        }
      }
    }
    for (const std::string& therapy : therapies) {
      if (!Contains(result.therapies, therapy) &&
          IsMember(kb, therapy + "-procedure", order.codings, order.texts)) {
        result.therapies.push_back(therapy);
      }
    }
    const bool regenerative =
        !result.therapies.empty() ||
        IsMember(kb, std::string(kRegenerativeProceduresValueSet), order.codings, order.texts);
    if (!regenerative) continue;
    for (const CodeValue& coding : order.codings) {
      if (!coding.code.empty() && !Contains(result.matched_codes, coding.code) &&
          kb.terminology().Contains(kRegenerativeProceduresValueSet, coding.system, coding.code) == true) {
        result.matched_codes.push_back(coding.code);
      }
    }
    result.body_site_given = !order.body_site_codings.empty() || !order.body_site_texts.empty();
    if (result.body_site_given) {
      const std::set<std::string> words = Words(order);
      for (const std::string& target : targets) {
        if (IsMember(kb, target + "-body-site", order.body_site_codings, order.body_site_texts) ||
            WordsMatch(words, target)) {
          result.targets.push_back(target);
        }
      }
    }
    result.label = LabelOf(order);
    found.push_back(std::move(result));
  }
  return found;
}

}  // namespace regenpath::cdshooks
