// String functions. Positions and lengths count Unicode code points; regular
// expressions run on RE2, whose linear-time matching means no pattern can
// hang the process.
#include <re2/re2.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/utf8.h"
#include "fhirpath/function_support.h"

namespace regenpath::fhirpath {

namespace {

// Byte offsets of each code point start in `text`, plus text.size() at the end.
std::vector<size_t> CodePointOffsets(std::string_view text) {
  std::vector<size_t> offsets;
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(text.size());
  return offsets;
}

int64_t CodePointIndex(const std::vector<size_t>& offsets, size_t byte_offset) {
  return static_cast<int64_t>(std::lower_bound(offsets.begin(), offsets.end(), byte_offset) -
                              offsets.begin());
}

// Compiled patterns, shared by threads; bounded so that varied patterns
// (e.g. built from data) cannot grow it without limit.
class RegexCache {
 public:
  Result<std::shared_ptr<const RE2>> Get(std::string_view pattern, bool anchored) {
    std::string key = (anchored ? "A:" : "P:") + std::string(pattern);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = cache_.find(key);
      if (found != cache_.end()) return found->second;
    }
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    options.set_dot_nl(true);
    std::string text = anchored ? "(?:" + std::string(pattern) + ")\\z" : std::string(pattern);
    auto regex = std::make_shared<const RE2>(text, options);
    if (!regex->ok())
      return Fail(
          EvaluationError(fmt::format("invalid regular expression '{}': {}", pattern, regex->error())));
    std::lock_guard<std::mutex> lock(mutex_);
    if (cache_.size() > 512) cache_.clear();
    cache_.emplace(std::move(key), regex);
    return std::shared_ptr<const RE2>(regex);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const RE2>> cache_;
};

RegexCache& Regexes() {
  static RegexCache* cache = new RegexCache();
  return *cache;
}

RP_FHIRPATH_FUNCTION(IndexOf) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> needle, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !needle) return Status();
  size_t at = call.name == "lastIndexOf" ? text->rfind(*needle) : text->find(*needle);
  if (at == std::string_view::npos) {
    out.push_back(Value::Integer(-1));
    return Status();
  }
  out.push_back(Value::Integer(CodePointIndex(CodePointOffsets(*text), at)));
  return Status();
}

RP_FHIRPATH_FUNCTION(Substring) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<int64_t> start, IntegerArg(evaluator, call, 0, focus, scope));
  std::optional<int64_t> length;
  if (call.args.size() > 1) {
    RP_ASSIGN_OR_RETURN(length, IntegerArg(evaluator, call, 1, focus, scope));
  }
  if (!text || !start) return Status();
  std::vector<size_t> offsets = CodePointOffsets(*text);
  const int64_t count = static_cast<int64_t>(offsets.size()) - 1;
  if (*start < 0 || *start >= count) return Status();
  int64_t end = count;
  if (call.args.size() > 1 && length) end = std::min(count, *start + std::max<int64_t>(*length, 0));
  size_t from = offsets[static_cast<size_t>(*start)];
  size_t to = offsets[static_cast<size_t>(end)];
  out.push_back(Value::String(text->substr(from, to - from)));
  return Status();
}

RP_FHIRPATH_FUNCTION(StartsWith) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> prefix, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !prefix) return Status();
  out.push_back(Value::Boolean(text->starts_with(*prefix)));
  return Status();
}

RP_FHIRPATH_FUNCTION(EndsWith) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> suffix, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !suffix) return Status();
  out.push_back(Value::Boolean(text->ends_with(*suffix)));
  return Status();
}

RP_FHIRPATH_FUNCTION(ContainsString) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> part, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !part) return Status();
  out.push_back(Value::Boolean(text->find(*part) != std::string_view::npos));
  return Status();
}

RP_FHIRPATH_FUNCTION(ChangeCase) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  if (!text) return Status();
  std::string result(*text);
  const bool upper = call.name == "upper";
  for (char& c : result) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  out.push_back(Value::String(evaluator.Keep(result)));
  return Status();
}

RP_FHIRPATH_FUNCTION(Replace) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> pattern, StringArg(evaluator, call, 0, focus, scope));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> substitution,
                      StringArg(evaluator, call, 1, focus, scope));
  if (!text || !pattern || !substitution) return Status();
  // The result's size, known before it is built (it may be far larger than
  // the input: 'aaa'.replace('', 'bbbb') grows with the product).
  size_t matches = 0;
  std::vector<size_t> offsets;
  if (pattern->empty()) {
    offsets = CodePointOffsets(*text);
    matches = offsets.size();
  } else {
    for (size_t at = text->find(*pattern); at != std::string_view::npos;
         at = text->find(*pattern, at + pattern->size())) {
      ++matches;
    }
  }
  const size_t removed = matches * pattern->size();
  if (substitution->size() != 0 &&
      matches > (std::numeric_limits<size_t>::max() - text->size()) / substitution->size()) {
    return evaluator.StringBudgetExceeded();
  }
  if (!evaluator.FitsStringBudget(text->size() - removed + matches * substitution->size())) {
    return evaluator.StringBudgetExceeded();
  }
  std::string result;
  result.reserve(text->size() - removed + matches * substitution->size());
  if (pattern->empty()) {
    // An empty pattern matches between every character and at both ends.
    result += *substitution;
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      result += text->substr(offsets[i], offsets[i + 1] - offsets[i]);
      result += *substitution;
    }
  } else {
    size_t at = 0;
    while (true) {
      size_t found = text->find(*pattern, at);
      if (found == std::string_view::npos) break;
      result += text->substr(at, found - at);
      result += *substitution;
      at = found + pattern->size();
    }
    result += text->substr(at);
  }
  out.push_back(Value::String(evaluator.Keep(result)));
  return Status();
}

Status Match(Evaluator& evaluator, const Expr& call, std::span<const Value> input,
             std::span<const Value> focus, const Scope& scope, bool full, Collection& out) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> pattern, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !pattern) return Status();
  Result<std::shared_ptr<const RE2>> regex = Regexes().Get(*pattern, full);
  if (!regex.has_value()) return evaluator.Error(call, regex.error().message());
  bool matched = full ? RE2::FullMatch(*text, **regex) : RE2::PartialMatch(*text, **regex);
  out.push_back(Value::Boolean(matched));
  return Status();
}

RP_FHIRPATH_FUNCTION(Matches) { return Match(evaluator, call, input, focus, scope, false, out); }
RP_FHIRPATH_FUNCTION(MatchesFull) { return Match(evaluator, call, input, focus, scope, true, out); }

RP_FHIRPATH_FUNCTION(ReplaceMatches) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> pattern, StringArg(evaluator, call, 0, focus, scope));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> substitution,
                      StringArg(evaluator, call, 1, focus, scope));
  if (!text || !pattern || !substitution) return Status();
  if (pattern->empty()) {
    out.push_back(Value::String(*text));
    return Status();
  }
  Result<std::shared_ptr<const RE2>> regex = Regexes().Get(*pattern, false);
  if (!regex.has_value()) return evaluator.Error(call, regex.error().message());
  // FHIRPath writes group references as $1; RE2 as \1.
  std::string rewritten;
  for (size_t i = 0; i < substitution->size(); ++i) {
    char c = (*substitution)[i];
    if (c == '$' && i + 1 < substitution->size() &&
        std::isdigit(static_cast<unsigned char>((*substitution)[i + 1]))) {
      rewritten += '\\';
    } else if (c == '\\') {
      rewritten += "\\\\";
    } else {
      rewritten += c;
    }
  }
  std::string error;
  if (!(*regex)->CheckRewriteString(rewritten, &error)) {
    return evaluator.Error(call, fmt::format("invalid substitution '{}': {}", *substitution, error));
  }
  // RE2::GlobalReplace, step by step so that the string budget is checked
  // as the result grows ('a'.replaceMatches('a*', ...) substitutes at every
  // position): same matches, same handling of empty ones.
  const RE2& re = **regex;
  const int groups = 1 + std::min(re.MaxSubmatch(rewritten), re.NumberOfCapturingGroups());
  std::vector<re2::StringPiece> match(static_cast<size_t>(groups));
  const re2::StringPiece whole(text->data(), text->size());
  std::string result;
  size_t at = 0;
  const char* last_end = nullptr;
  int count = 0;
  while (at <= text->size()) {
    if (!re.Match(whole, at, text->size(), RE2::UNANCHORED, match.data(), groups)) break;
    const size_t start = static_cast<size_t>(match[0].data() - text->data());
    if (at < start) result.append(*text, at, start - at);
    if (match[0].data() == last_end && match[0].empty()) {
      // No empty match right after the previous match: move one character on.
      if (at >= text->size()) break;
      const size_t length = std::max<size_t>(Utf8SequenceLength(*text, at), 1);
      result.append(*text, at, length);
      at += length;
      continue;
    }
    if (!re.Rewrite(&result, rewritten, match.data(), groups)) {
      return evaluator.Error(call, fmt::format("invalid substitution '{}'", *substitution));
    }
    if (!evaluator.FitsStringBudget(result.size())) return evaluator.StringBudgetExceeded();
    at = start + match[0].size();
    last_end = match[0].data() + match[0].size();
    ++count;
  }
  if (count == 0) {
    out.push_back(Value::String(*text));
    return Status();
  }
  if (at < text->size()) result.append(*text, at, text->size() - at);
  out.push_back(Value::String(evaluator.Keep(result)));
  return Status();
}

RP_FHIRPATH_FUNCTION(Length) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  if (!text) return Status();
  out.push_back(Value::Integer(static_cast<int64_t>(CodePointOffsets(*text).size() - 1)));
  return Status();
}

RP_FHIRPATH_FUNCTION(ToChars) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  if (!text) return Status();
  std::vector<size_t> offsets = CodePointOffsets(*text);
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    out.push_back(Value::String(text->substr(offsets[i], offsets[i + 1] - offsets[i])));
  }
  return Status();
}

RP_FHIRPATH_FUNCTION(Trim) {
  (void)focus, (void)scope;
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  if (!text) return Status();
  std::string_view trimmed = *text;
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!trimmed.empty() && is_space(trimmed.front())) trimmed.remove_prefix(1);
  while (!trimmed.empty() && is_space(trimmed.back())) trimmed.remove_suffix(1);
  out.push_back(Value::String(trimmed));
  return Status();
}

RP_FHIRPATH_FUNCTION(Split) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> separator, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !separator) return Status();
  if (separator->empty()) {
    std::vector<size_t> offsets = CodePointOffsets(*text);
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      out.push_back(Value::String(text->substr(offsets[i], offsets[i + 1] - offsets[i])));
    }
    return Status();
  }
  size_t at = 0;
  while (true) {
    size_t found = text->find(*separator, at);
    if (found == std::string_view::npos) {
      out.push_back(Value::String(text->substr(at)));
      break;
    }
    out.push_back(Value::String(text->substr(at, found - at)));
    at = found + separator->size();
  }
  return evaluator.CheckSize(call, out.size());
}

RP_FHIRPATH_FUNCTION(Join) {
  std::string_view separator;
  if (!call.args.empty()) {
    RP_ASSIGN_OR_RETURN(std::optional<std::string_view> given, StringArg(evaluator, call, 0, focus, scope));
    if (given) separator = *given;
  }
  // The size first: the items may all view one long string.
  size_t size = 0;
  bool first = true;
  for (const Value& item : input) {
    std::optional<Value> value = ToSystem(item);
    if (!value) continue;
    if (value->type() != ValueType::kString) return evaluator.Error(call, "the input must hold only Strings");
    size += (first ? 0 : separator.size()) + value->string().size();
    if (!evaluator.FitsStringBudget(size)) return evaluator.StringBudgetExceeded();
    first = false;
  }
  std::string result;
  result.reserve(size);
  first = true;
  for (const Value& item : input) {
    std::optional<Value> value = ToSystem(item);
    if (!value) continue;
    if (!first) result += separator;
    result += value->string();
    first = false;
  }
  out.push_back(Value::String(evaluator.Keep(result)));
  return Status();
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Encode(std::string_view data, std::string_view alphabet) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t chunk = (static_cast<unsigned char>(data[i]) << 16) |
                     (static_cast<unsigned char>(data[i + 1]) << 8) | static_cast<unsigned char>(data[i + 2]);
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    out += alphabet[(chunk >> 6) & 63];
    out += alphabet[chunk & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t chunk = static_cast<unsigned char>(data[i]) << 16;
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t chunk =
        (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8);
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    out += alphabet[(chunk >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text, std::string_view alphabet) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    size_t value = alphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

RP_FHIRPATH_FUNCTION(Encode) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> format, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !format) return Status();
  const bool encode = call.name == "encode";
  // Encoding grows the text (hex: 2x, base64: 4/3); decoding shrinks it.
  if (encode &&
      !evaluator.FitsStringBudget(text->size() / 3 * 4 + 4 + (*format == "hex" ? text->size() : 0))) {
    return evaluator.StringBudgetExceeded();
  }
  std::optional<std::string> result;
  if (*format == "base64" || *format == "urlbase64") {
    std::string_view alphabet = *format == "base64" ? kBase64Alphabet : kUrlBase64Alphabet;
    result = encode ? Base64Encode(*text, alphabet) : Base64Decode(*text, alphabet);
  } else if (*format == "hex") {
    if (encode) {
      std::string hex;
      for (unsigned char c : *text) hex += fmt::format("{:02x}", c);
      result = hex;
    } else if (text->size() % 2 == 0) {
      std::string bytes;
      for (size_t i = 0; i < text->size(); i += 2) {
        int high = std::isxdigit(static_cast<unsigned char>((*text)[i]))
                       ? std::stoi(std::string(1, (*text)[i]), nullptr, 16)
                       : -1;
        int low = std::isxdigit(static_cast<unsigned char>((*text)[i + 1]))
                      ? std::stoi(std::string(1, (*text)[i + 1]), nullptr, 16)
                      : -1;
        if (high < 0 || low < 0) return Status();
        bytes += static_cast<char>(high * 16 + low);
      }
      result = bytes;
    }
  } else {
    return evaluator.Error(call, fmt::format("unknown format '{}' (use base64, urlbase64 or hex)", *format));
  }
  if (result) out.push_back(Value::String(evaluator.Keep(*result)));
  return Status();
}

// What escape('html') / escape('json') writes for `c`: its escape, or
// empty when `c` stays as it is.
std::string_view HtmlEscapeOf(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    default:
      return {};
  }
}

std::string_view JsonEscapeOf(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return {};
  }
}

RP_FHIRPATH_FUNCTION(Escape) {
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> text, StringInput(evaluator, call, input));
  RP_ASSIGN_OR_RETURN(std::optional<std::string_view> target, StringArg(evaluator, call, 0, focus, scope));
  if (!text || !target) return Status();
  if (*target != "html" && *target != "json") {
    return evaluator.Error(call, fmt::format("unknown target '{}' (use html or json)", *target));
  }
  std::string result;
  if (call.name == "escape") {
    std::string_view (*escape_of)(char) = *target == "html" ? HtmlEscapeOf : JsonEscapeOf;
    // The escaped size first (up to 6 bytes a character), against the budget.
    size_t size = 0;
    for (char c : *text) size += std::max<size_t>(escape_of(c).size(), 1);
    if (!evaluator.FitsStringBudget(size)) return evaluator.StringBudgetExceeded();
    result.reserve(size);
    for (char c : *text) {
      const std::string_view escaped = escape_of(c);
      if (escaped.empty()) {
        result += c;
      } else {
        result += escaped;
      }
    }
  } else if (*target == "html") {
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}};
    for (size_t i = 0; i < text->size();) {
      bool replaced = false;
      for (const auto& [entity, c] : kEntities) {
        if (text->substr(i).starts_with(entity)) {
          result += c;
          i += entity.size();
          replaced = true;
          break;
        }
      }
      if (!replaced) result += (*text)[i++];
    }
  } else {
    for (size_t i = 0; i < text->size(); ++i) {
      char c = (*text)[i];
      if (c != '\\' || i + 1 == text->size()) {
        result += c;
        continue;
      }
      char next = (*text)[++i];
      result += next == 'n' ? '\n' : next == 'r' ? '\r' : next == 't' ? '\t' : next;
    }
  }
  out.push_back(Value::String(evaluator.Keep(result)));
  return Status();
}

constexpr FunctionInfo kFunctions[] = {
    {"indexOf", 1, 1, IndexOf},
    {"lastIndexOf", 1, 1, IndexOf},
    {"substring", 1, 2, Substring},
    {"startsWith", 1, 1, StartsWith},
    {"endsWith", 1, 1, EndsWith},
    {"contains", 1, 1, ContainsString},
    {"upper", 0, 0, ChangeCase},
    {"lower", 0, 0, ChangeCase},
    {"replace", 2, 2, Replace},
    {"matches", 1, 1, Matches},
    {"matchesFull", 1, 1, MatchesFull},
    {"replaceMatches", 2, 2, ReplaceMatches},
    {"length", 0, 0, Length},
    {"toChars", 0, 0, ToChars},
    {"trim", 0, 0, Trim},
    {"split", 1, 1, Split},
    {"join", 0, 1, Join},
    {"encode", 1, 1, Encode},
    {"decode", 1, 1, Encode},
    {"escape", 1, 1, Escape},
    {"unescape", 1, 1, Escape},
};

}  // namespace

std::span<const FunctionInfo> StringFunctions() { return kFunctions; }

}  // namespace regenpath::fhirpath
