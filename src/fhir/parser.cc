#include "fhir/parser.h"

#include <fmt/format.h>

#include <sys/stat.h>
#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "simdjson.h"

#include "common/date_time.h"
#include "common/decimal.h"
#include "fhir/fhir_id.h"

namespace regenpath::fhir {

namespace od = simdjson::ondemand;

namespace {

// Strict JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  auto digits = [&]() {
    size_t start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  if (i < n && text[i] == '-') ++i;
  if (i < n && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// 1-based line and column of byte `offset` in `text`.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// "source:3:14: message" when the message starts with a line:column,
// "source: message" otherwise.
Status WithSource(std::string_view source, const Status& status) {
  const std::string& message = status.message();
  const bool located = !message.empty() && message[0] >= '0' && message[0] <= '9';
  return Status(status.code(), fmt::format("{}{}{}", source, located ? ":" : ": ", message));
}

// True iff the whole input has been consumed (no trailing content).
bool AtEnd(od::document& json) {
  const char* location = nullptr;
  return json.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

std::string DescribeJsonError(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return "the input is not valid UTF-8";
    case simdjson::DEPTH_ERROR:
      return "JSON nesting is too deep";
    case simdjson::CAPACITY:
      return "the input is too large";
    case simdjson::UNCLOSED_STRING:
      return "a string is not closed";
    case simdjson::EMPTY:
      return "the input is empty";
    case simdjson::STRING_ERROR:
      return "a string has an invalid escape or control character";
    case simdjson::NUMBER_ERROR:
      return "a number is malformed";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "an unquoted word is not true, false or null";
    default:
      return fmt::format("malformed JSON ({})", simdjson::error_message(code));
  }
}

// The hash of a property name for PropertyCache: its bytes eight at a time
// (little-endian words, the last one zero-filled), FNV-1a style.
constexpr uint64_t kKeyHashSeed = 0xCBF29CE484222325ull;
constexpr uint64_t kKeyHashPrime = 0x100000001B3ull;

uint64_t KeyHash(std::string_view key) {
  uint64_t hash = kKeyHashSeed;
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t word;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&word, key.data() + i, 8);
    } else {
      word = 0;
      for (size_t b = 0; b < 8; ++b) word |= uint64_t{static_cast<unsigned char>(key[i + b])} << (8 * b);
    }
    hash = (hash ^ word) * kKeyHashPrime;
  }
  if (i < key.size()) {
    uint64_t word = 0;
    for (size_t b = 0; i + b < key.size(); ++b) word |= uint64_t{static_cast<unsigned char>(key[i + b])} << (8 * b);
    hash = (hash ^ word) * kKeyHashPrime;
  }
  return hash;
}

// A direct-mapped cache of (type, text) -> Value, kept by a Parser across
// documents: a slot holds the last pair that hashed to it; texts longer than
// kMaxText are not cached. Used for the results of CheckTemporalText (a
// record repeats the same timestamps: an encounter's time in each of its
// observations) and of Model::ResolveJsonProperty (documents repeat the same
// few hundred (type, key) pairs thousands of times).
template <typename Value, int kBits>
class TypedTextCache {
 public:
  static constexpr size_t kMaxText = 40;
  struct Entry {
    const TypeInfo* type = nullptr;
    uint8_t length = 0;
    char text[kMaxText];
    Value value{};

    bool Holds(const TypeInfo& of, std::string_view key) const {
      return type == &of && length == key.size() && std::memcmp(text, key.data(), key.size()) == 0;
    }
    void Set(const TypeInfo& of, std::string_view key, const Value& result) {
      type = &of;
      length = static_cast<uint8_t>(key.size());
      std::memcpy(text, key.data(), key.size());
      value = result;
    }
  };

  // The slot of (type, text), or nullptr for a text too long to cache.
  // `text_hash` is KeyHash(text).
  Entry* SlotOf(const TypeInfo& type, std::string_view text, uint64_t text_hash) {
    if (text.size() > kMaxText) return nullptr;
    const uint64_t hash =
        (text_hash ^ (reinterpret_cast<uintptr_t>(&type) * 0x9E3779B97F4A7C15ull)) * 0xFF51AFD7ED558CCDull;
    return &entries_[hash >> (64 - kBits)];
  }

 private:
  Entry entries_[size_t{1} << kBits];
};

using TemporalCache = TypedTextCache<bool, 8>;  // valid or not
// Each byte of `word` equal to `byte` has its high bit set in the result, and
// the lowest set bit is exact (bits above it may be false positives).
inline uint64_t HasByte(uint64_t word, unsigned char byte) {
  const uint64_t x = word ^ (0x0101010101010101ull * byte);
  return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

using PropertyCache = TypedTextCache<JsonPropertyMatch, 10>;

// What a Parser keeps for its DocumentBuilders from one document to the next.
struct BuilderCaches {
  PropertyCache properties;
  TemporalCache temporal;
};

}  // namespace

// Builds the Node tree of one document from a simdjson On-Demand stream.
// Children of an object are gathered on a shared stack (scratch_) and copied
// into the arena as one contiguous array when the object ends; parent
// pointers are set in a last pass, once every node has its final address.
class DocumentBuilder {
 public:
  DocumentBuilder(Document& document, const ParseOptions& options, std::vector<Node>& scratch,
                  std::vector<Node>& extension_scratch, BuilderCaches& caches)
      : document_(document),
        arena_(*document.arena_),
        options_(options),
        scratch_(scratch),
        extension_scratch_(extension_scratch),
        model_(Model::R4()),
        cache_(caches.properties),
        temporal_cache_(caches.temporal) {}

  // Parses the root object. Returns a failure for malformed JSON or a root
  // that is not a resource.
  Status BuildRoot(od::document& json, std::string_view text) {
    json_ = &json;
    text_ = text;
    od::object object;
    simdjson::error_code error = json.get_object().get(object);
    if (error) {
      if (error == simdjson::INCORRECT_TYPE) {
        return InvalidInput("not a FHIR resource: the JSON root is not an object");
      }
      return JsonFailure(error);
    }
    Node* root = arena_.New<Node>();
    path_.push_back({"", -1});
    Status status = BuildObject(object, *root, model_.FindType("Resource"), /*depth=*/1, /*is_root=*/true);
    path_.pop_back();
    if (!status.ok()) return status;
    root->raw_ = RawSince(text.data() + text.find('{'));
    if (!root->is_resource_) return InvalidInput("not a FHIR resource: the JSON object has no resourceType");
    if (!AtEnd(json)) return JsonFailure(simdjson::TRAILING_CONTENT, "unexpected content after the resource");
    root->name_ = root->type_name();
    SetParents(*root);
    document_.root_ = root;
    return Status();
  }

  // Builds a synthetic Bundle (type collection) whose entries hold `resources`
  // (roots of other documents parsed into this document's arena).
  void BuildCollection(const std::vector<Node*>& resources) {
    const TypeInfo* bundle_type = model_.FindType("Bundle");
    const TypeInfo* entry_type = model_.FindType("Bundle.entry");
    const TypeInfo* code_type = model_.FindType("code");
    Node* root = arena_.New<Node>();
    root->type_ = bundle_type;
    root->is_resource_ = true;
    root->text_ = "Bundle";
    root->name_ = "Bundle";
    Node* children = arena_.NewArray<Node>(resources.size() + 1);
    new (&children[0]) Node();
    children[0].name_ = "type";
    children[0].type_ = code_type;
    children[0].kind_ = JsonKind::kString;
    children[0].text_ = "collection";
    for (size_t i = 0; i < resources.size(); ++i) {
      Node* entry = new (&children[i + 1]) Node();
      entry->name_ = "entry";
      entry->type_ = entry_type;
      entry->array_index_ = static_cast<int32_t>(i);
      Node* resource = arena_.New<Node>(*resources[i]);
      resource->name_ = "resource";
      entry->children_ = resource;
      entry->child_count_ = 1;
    }
    root->children_ = children;
    root->child_count_ = static_cast<uint32_t>(resources.size() + 1);
    SetParents(*root);
    document_.root_ = root;
  }

  // Parses one NDJSON line's resource into the arena and returns its root
  // (parents are set later, by BuildCollection).
  Result<Node*> BuildLooseResource(od::document& json, std::string_view text) {
    json_ = &json;
    text_ = text;
    // One builder serves every line: a failed line may have left state.
    path_.clear();
    resource_type_stack_.clear();
    filter_ = nullptr;
    od::object object;
    simdjson::error_code error = json.get_object().get(object);
    if (error) {
      if (error == simdjson::INCORRECT_TYPE) return Fail(InvalidInput("the line is not a JSON object"));
      return Fail(JsonFailure(error));
    }
    Node* root = arena_.New<Node>();
    path_.push_back({"", -1});
    Status status = BuildObject(object, *root, model_.FindType("Resource"), 1, true);
    path_.pop_back();
    if (!status.ok()) return Fail(status);
    root->raw_ = RawSince(text.data() + text.find('{'));
    if (!root->is_resource_) return Fail(InvalidInput("the JSON object has no resourceType"));
    if (!AtEnd(json))
      return Fail(JsonFailure(simdjson::TRAILING_CONTENT, "unexpected content after the resource"));
    return root;
  }

  // Issues' paths start "line N: " (an NDJSON line; 0: no prefix).
  void set_line(size_t line_number) { line_number_ = line_number; }

 private:
  struct PathSegment {
    std::string_view name;
    int index;
  };

  Status JsonFailure(simdjson::error_code error, std::string_view what = {}) {
    std::string message = what.empty() ? DescribeJsonError(error) : std::string(what);
    if (error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
      // Detected at the end of the input, which is where it is wrong.
      auto [line, column] = LineColumn(text_, TrimRight(text_).size());
      return InvalidInput(fmt::format("{}:{}: {}", line, column, message));
    }
    const char* location = nullptr;
    if (json_ != nullptr && json_->current_location().get(location) == simdjson::SUCCESS &&
        location != nullptr && location >= text_.data() && location <= text_.data() + text_.size()) {
      auto [line, column] = LineColumn(text_, static_cast<size_t>(location - text_.data()));
      return InvalidInput(fmt::format("{}:{}: {}", line, column, message));
    }
    return InvalidInput(message);
  }

  std::string CurrentPath() const {
    std::string path = line_number_ > 0 ? fmt::format("line {}: ", line_number_) : std::string();
    for (const PathSegment& segment : path_) {
      if (segment.name.empty()) {
        path += resource_type_stack_.empty() ? std::string_view("$") : resource_type_stack_.front();
        continue;
      }
      path += '.';
      path += segment.name;
      if (segment.index >= 0) path += fmt::format("[{}]", segment.index);
    }
    return path;
  }

  void AddIssue(IssueSeverity severity, std::string message) {
    if (document_.issues_.size() < options_.max_issues) {
      document_.issues_.push_back(Issue{severity, std::move(message), CurrentPath()});
    } else if (document_.issues_.size() == options_.max_issues) {
      document_.issues_.push_back(
          Issue{IssueSeverity::kWarning, "too many issues; the rest are not reported", std::string()});
    }
  }

  // Dates, dateTimes, instants and times must be valid where they are read
  // (a bad date would otherwise just never compare).
  void CheckTemporalText(const TypeInfo& type, std::string_view text) {
    if (type.system_type != SystemType::kDate && type.system_type != SystemType::kDateTime &&
        type.system_type != SystemType::kTime) {
      return;
    }
    TemporalCache::Entry* entry =
        text.size() <= TemporalCache::kMaxText ? temporal_cache_.SlotOf(type, text, KeyHash(text)) : nullptr;
    if (entry != nullptr && entry->Holds(type, text)) {
      if (!entry->value) AddInvalidValueIssue(type, text);
      return;
    }
    const bool valid = IsValidTemporal(type, text);
    if (entry != nullptr) entry->Set(type, text, valid);
    if (!valid) AddInvalidValueIssue(type, text);
  }

  // An id (a resource's own, and any element of type id) must be one: a
  // reference built from an invalid one (a worklist's "Patient/a b") is
  // refused by a FHIR server (fhir/fhir_id.h).
  void CheckIdText(const TypeInfo& type, std::string_view text) {
    static const TypeInfo* const kIdType = Model::R4().FindType("id");
    if (&type == kIdType && !IsFhirId(text)) AddInvalidValueIssue(type, text);
  }

  // A primitive's text that its type does not allow (a date, a time, an id).
  void AddInvalidValueIssue(const TypeInfo& type, std::string_view text) {
    AddIssue(IssueSeverity::kError, fmt::format("'{}' is not a valid FHIR {}", text, type.name));
  }

  // CheckTemporalText's rule, uncached.
  static bool IsValidTemporal(const TypeInfo& type, std::string_view text) {
    bool valid = true;
    switch (type.system_type) {
      case SystemType::kDate:
        valid = DateTime::ParseDate(text).has_value();
        break;
      case SystemType::kDateTime: {
        std::optional<DateTime> value = DateTime::ParseDateTime(text);
        valid = value.has_value();
        // An instant is a complete dateTime with seconds and a time zone.
        if (valid && type.name == "instant") {
          valid = value->precision() >= DateTimePrecision::kSecond && value->has_timezone();
        }
        break;
      }
      case SystemType::kTime:
        valid = DateTime::ParseTime(text).has_value();
        break;
      default:
        break;
    }
    return valid;
  }

  // Scalar readers shared by the builder and SkipChecked: each consumes the
  // value (an unread one would be skipped unchecked) and fails on a
  // malformed one.

  // A number's text, checked against the JSON grammar (the text is kept, not
  // a double: decimals keep their digits).
  Result<std::string_view> ReadNumber(od::value& value) {
    const std::string_view token = TrimRight(value.raw_json_token());
    if (!IsJsonNumber(token)) return Fail(JsonFailure(simdjson::NUMBER_ERROR));
    double ignored = 0;
    simdjson::error_code consumed = value.get_double().get(ignored);
    // NUMBER_ERROR here only means beyond a double's range (1E400).
    if (consumed && consumed != simdjson::NUMBER_ERROR) return Fail(JsonFailure(consumed));
    return token;
  }

  Result<bool> ReadBoolean(od::value& value) {
    bool flag = false;
    if (value.get_bool().get(flag) != simdjson::SUCCESS) return Fail(JsonFailure(simdjson::T_ATOM_ERROR));
    return flag;
  }

  Status ReadNull(od::value& value) {
    bool is_null = false;
    if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
      return JsonFailure(simdjson::N_ATOM_ERROR);
    }
    return Status();
  }

  // Reads past `value` without building it, enforcing the depth limit (a
  // plain On-Demand skip would accept any nesting) and reading every scalar
  // (a plain skip would accept a malformed one: tru, 1x, a bad escape).
  // Depths count as when the value is built (only arrays and objects are
  // held to the limit), so a filtered parse fails where the whole one does.
  Status SkipChecked(od::value& value, size_t depth) {
    od::json_type json_type;
    simdjson::error_code error = value.type().get(json_type);
    if (error) return JsonFailure(error);
    if ((json_type == od::json_type::array || json_type == od::json_type::object) &&
        depth >= options_.max_depth) {
      return JsonFailure(simdjson::DEPTH_ERROR);
    }
    if (json_type == od::json_type::string) {
      std::string_view text;  // unescaped in simdjson's buffer, not copied
      error = value.get_string().get(text);
      if (error) return JsonFailure(error);
    } else if (json_type == od::json_type::number) {
      if (Result<std::string_view> number = ReadNumber(value); !number) return number.error();
    } else if (json_type == od::json_type::boolean) {
      if (Result<bool> flag = ReadBoolean(value); !flag) return flag.error();
    } else if (json_type == od::json_type::null) {
      RP_RETURN_IF_ERROR(ReadNull(value));
    } else if (json_type == od::json_type::array) {
      od::array array;
      error = value.get_array().get(array);
      if (error) return JsonFailure(error);
      for (auto item_result : array) {
        od::value item;
        error = std::move(item_result).get(item);
        if (error) return JsonFailure(error);
        RP_RETURN_IF_ERROR(SkipChecked(item, depth + 1));
      }
    } else if (json_type == od::json_type::object) {
      od::object object;
      error = value.get_object().get(object);
      if (error) return JsonFailure(error);
      for (auto field_result : object) {
        od::field field;
        error = std::move(field_result).get(field);
        if (error) return JsonFailure(error);
        Result<std::string_view> key = ReadKey(field);  // a key's escapes are checked too
        if (!key) return key.error();
        od::value item = field.value();
        RP_RETURN_IF_ERROR(SkipChecked(item, depth + 1));
      }
    }
    return Status();
  }

  // The source text of the value that began at `start` and has just been
  // read: up to the next token, without the whitespace before it.
  std::string_view RawSince(const char* start) {
    const char* end = text_.data() + text_.size();
    const char* next = nullptr;
    if (json_ != nullptr && json_->current_location().get(next) == simdjson::SUCCESS && next != nullptr &&
        next >= start && next <= end) {
      end = next;
    }
    while (end > start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t')) --end;
    return std::string_view(start, static_cast<size_t>(end - start));
  }

  // A string value's text: a view into the document when it has no escape
  // sequence (the common case), else unescaped into the arena.
  Result<std::string_view> ReadString(od::value& value) {
    // The token is the quoted string, possibly followed by whitespace.
    std::string_view token = value.raw_json_token();
    size_t close = token.rfind('"');
    if (token.size() >= 2 && token.front() == '"' && close > 0) {
      std::string_view content = token.substr(1, close - 1);
      if (std::memchr(content.data(), '\\', content.size()) == nullptr) {
        // Consume the value: an unread one would be skipped without checking
        // that what follows it is well-formed.
        od::raw_json_string raw;
        simdjson::error_code error = value.get_raw_json_string().get(raw);
        if (error) return Fail(JsonFailure(error));
        return content;
      }
    }
    std::string_view unescaped;
    simdjson::error_code error = value.get_string().get(unescaped);
    if (error) return Fail(JsonFailure(error));
    return arena_.CopyString(unescaped);
  }

  // A key's text, as ReadString. `hash`, when given, gets KeyHash(key).
  Result<std::string_view> ReadKey(od::field& field, uint64_t* hash = nullptr) {
    const char* start = field.key().raw();
    const char* end = text_.data() + text_.size();
    if constexpr (std::endian::native == std::endian::little) {
      // Eight bytes at a time, hashing as it goes: the text is followed by
      // at least kPadding readable bytes, so a load that starts inside it is
      // safe. Only the first '"' or '\\' in a word counts (HasByte's false
      // positives lie above a true one).
      uint64_t key_hash = kKeyHashSeed;
      for (const char* at = start; at < end; at += 8) {
        uint64_t word;
        std::memcpy(&word, at, 8);
        const uint64_t stops = HasByte(word, '"') | HasByte(word, '\\');
        if (stops == 0) {
          key_hash = (key_hash ^ word) * kKeyHashPrime;
          continue;
        }
        const size_t n = static_cast<size_t>(std::countr_zero(stops)) / 8;
        if (at + n >= end || at[n] != '"') break;  // an escape (or no end): unescaped below
        if (n > 0) key_hash = (key_hash ^ (word & ((uint64_t{1} << (8 * n)) - 1))) * kKeyHashPrime;
        if (hash != nullptr) *hash = key_hash;
        return std::string_view(start, static_cast<size_t>(at + n - start));
      }
    } else {
      const char* at = start;
      while (at < end && *at != '"' && *at != '\\') ++at;
      if (at < end && *at == '"') {
        std::string_view key(start, static_cast<size_t>(at - start));
        if (hash != nullptr) *hash = KeyHash(key);
        return key;
      }
    }
    std::string_view unescaped;
    simdjson::error_code error = field.unescaped_key().get(unescaped);
    if (error) return Fail(JsonFailure(error));
    std::string_view key = arena_.CopyString(unescaped);
    if (hash != nullptr) *hash = KeyHash(key);
    return key;
  }

  // Model::ResolveJsonProperty behind a small direct-mapped cache: documents
  // repeat the same few hundred (type, key) pairs thousands of times.
  // `key_hash` is KeyHash(key).
  JsonPropertyMatch ResolveProperty(const TypeInfo& type, std::string_view key, uint64_t key_hash) {
    PropertyCache::Entry* entry = cache_.SlotOf(type, key, key_hash);
    if (entry == nullptr) return Model::ResolveJsonProperty(type, key);
    if (entry->Holds(type, key)) return entry->value;
    JsonPropertyMatch match = Model::ResolveJsonProperty(type, key);
    entry->Set(type, key, match);
    return match;
  }

  // Reads `resourceType` before the other fields (it may come anywhere).
  Result<std::string_view> FindResourceType(od::object& object) {
    od::value value;
    simdjson::error_code error = object.find_field_unordered("resourceType").get(value);
    std::string_view resource_type;
    if (error == simdjson::NO_SUCH_FIELD) {
      resource_type = std::string_view();
    } else if (error) {
      return Fail(JsonFailure(error));
    } else {
      od::json_type json_type;
      error = value.type().get(json_type);
      if (error) return Fail(JsonFailure(error));
      if (json_type != od::json_type::string) {
        AddIssue(IssueSeverity::kError, "resourceType is not a string");
        resource_type = std::string_view();
      } else {
        RP_ASSIGN_OR_RETURN(resource_type, ReadString(value));
      }
    }
    error = object.reset().error();
    if (error) return Fail(JsonFailure(error));
    return resource_type;
  }

  // True when options_.resource_filter passes over this resource (an object
  // whose resourceType was just read, and pushed on resource_type_stack_):
  // one of the record's own resources — an NDJSON line, or an entry of a
  // Bundle document — whose JSON text holds none of its type's needles.
  // Never a contained resource, the entry of a Bundle inside the record, or a
  // document that is one resource: the knowledge base's analysis
  // (fhirpath/resource_gates.h) covers only the paths to the record's own
  // resources. Leaves `object` at its start.
  Result<bool> SkeletonOnly(od::object& object, std::string_view resource_type, size_t depth) {
    const ResourceFilter* filter = options_.resource_filter;
    if (filter == nullptr || !filter->Filters(resource_type)) return false;
    const bool ndjson_line = line_number_ > 0 && resource_type_stack_.size() == 1;
    const bool bundle_entry = line_number_ == 0 && resource_type_stack_.size() == 2 &&
                              resource_type_stack_[0] == "Bundle" && !path_.empty() && path_.back().name == "resource";
    if (!ndjson_line && !bundle_entry) return false;
    if (depth == 1) return filter->Skips(resource_type, text_);  // the whole text is this resource
    std::string_view json;
    simdjson::error_code error = object.raw_json().get(json);
    if (!error) error = object.reset().error();
    if (error) return Fail(JsonFailure(error));
    return filter->Skips(resource_type, json);
  }

  // Fills `out` (an object node) from `object`, typed as `type` (may be null).
  Status BuildObject(od::object& object, Node& out, const TypeInfo* type, size_t depth,
                     bool expect_resource) {
    if (depth >= options_.max_depth) return JsonFailure(simdjson::DEPTH_ERROR);
    out.kind_ = JsonKind::kObject;
    out.type_ = type;
    bool pushed_resource = false;
    bool skeleton = false;
    if (expect_resource) {
      RP_ASSIGN_OR_RETURN(std::string_view resource_type, FindResourceType(object));
      if (!resource_type.empty()) {
        out.is_resource_ = true;
        out.text_ = resource_type;
        out.type_ = model_.FindResourceType(resource_type);
        if (out.type_ == nullptr) {
          AddIssue(IssueSeverity::kError, fmt::format("unknown resource type '{}'", resource_type));
        }
        resource_type_stack_.push_back(resource_type);
        pushed_resource = true;
        if (depth == 1 && options_.filter_for_root) filter_ = options_.filter_for_root(resource_type);
        RP_ASSIGN_OR_RETURN(skeleton, SkeletonOnly(object, resource_type, depth));
      } else if (type != nullptr && depth > 1) {
        // (At the root, the caller fails instead.)
        AddIssue(IssueSeverity::kError, "a resource is expected here but the object has no resourceType");
        out.type_ = nullptr;
      }
    }
    const size_t scratch_start = scratch_.size();
    const size_t extension_start = extension_scratch_.size();
    const ElementFilter* saved_filter = filter_;
    if (skeleton) {
      filter_ = &options_.resource_filter->skeleton();
      out.skeleton_ = true;
      out.complete_ = false;  // whatever its text held besides the skeleton
    }
    Status status = BuildFields(object, out, depth);
    filter_ = saved_filter;
    if (status.ok()) {
      // (Most objects have no `_name` part: no call for them.)
      if (extension_scratch_.size() != extension_start) MergeExtensions(scratch_start, extension_start);
      const size_t count = scratch_.size() - scratch_start;
      if (count > 0) {
        Node* children = arena_.NewArray<Node>(count);
        std::copy(scratch_.begin() + static_cast<std::ptrdiff_t>(scratch_start), scratch_.end(), children);
        out.children_ = children;
        out.child_count_ = static_cast<uint32_t>(count);
        for (size_t i = 0; i < count; ++i) {
          if (!children[i].complete_) out.complete_ = false;
        }
      } else if (!out.is_resource_ && out.complete_) {
        AddIssue(IssueSeverity::kWarning, "empty object");
      }
    }
    scratch_.resize(scratch_start);
    extension_scratch_.resize(extension_start);
    if (pushed_resource) resource_type_stack_.pop_back();
    return status;
  }

  // The names an object has already given, to drop a repeated key (or a
  // second variant of a choice) with an issue instead of splitting a property.
  class SeenNames {
   public:
    // False if `name` was seen before.
    // The first names live in a fixed array: most objects have a handful of
    // properties, and one is built per JSON object, so no allocation here.
    bool Insert(std::string_view name) {
      if (large_.empty()) {
        for (size_t i = 0; i < small_count_; ++i) {
          if (small_size_[i] == name.size() && std::memcmp(small_data_[i], name.data(), name.size()) == 0) {
            return false;
          }
        }
        if (small_count_ < kSmall) {
          small_data_[small_count_] = name.data();
          small_size_[small_count_++] = name.size();
          return true;
        }
        for (size_t i = 0; i < kSmall; ++i) large_.emplace(small_data_[i], small_size_[i]);
      }
      return large_.insert(name).second;
    }

   private:
    static constexpr size_t kSmall = 16;
    // Left uninitialized (only the first small_count_ are read): one
    // SeenNames is made per JSON object, and zeroing them showed in profiles.
    const char* small_data_[kSmall];
    size_t small_size_[kSmall];
    size_t small_count_ = 0;
    std::unordered_set<std::string_view> large_;
  };

  Status BuildFields(od::object& object, Node& out, size_t depth) {
    SeenNames values;
    SeenNames parts;
    for (auto field_result : object) {
      od::field field;
      simdjson::error_code error = std::move(field_result).get(field);
      if (error) return JsonFailure(error);
      uint64_t key_hash = 0;
      RP_ASSIGN_OR_RETURN(std::string_view key, ReadKey(field, &key_hash));
      if (out.is_resource_ && key == "resourceType") {
        // Already read by FindResourceType; read again here, not skipped,
        // so that what follows it is checked (fuzz finding 13).
        od::value again = field.value();
        RP_RETURN_IF_ERROR(SkipChecked(again, depth + 1));
        continue;
      }
      const bool is_extension_part = key.size() > 1 && key.front() == '_';
      std::string_view json_name = is_extension_part ? key.substr(1) : key;
      JsonPropertyMatch match;
      if (out.type_ != nullptr) {
        match = ResolveProperty(*out.type_, json_name, is_extension_part ? KeyHash(json_name) : key_hash);
      }
      std::string_view name = match.element != nullptr ? match.element->name : json_name;
      if (filter_ != nullptr &&
          !filter_->Keeps(match.element != nullptr ? match.element->name : std::string_view(), json_name)) {
        out.complete_ = false;
        if (!options_.check_skipped_json) continue;  // On-Demand skips the unread value.
        // Checked, not built: the input is refused or accepted whatever the
        // filter reads of it (fuzz finding 14).
        path_.push_back({name, -1});
        od::value skipped = field.value();
        Status status = SkipChecked(skipped, depth + 1);
        path_.pop_back();
        if (!status.ok()) return status;
        continue;
      }
      path_.push_back({name, -1});
      if (!(is_extension_part ? parts : values).Insert(name)) {
        AddIssue(IssueSeverity::kError,
                 name == json_name ? fmt::format("'{}' is given twice: the repeat is ignored", key)
                                   : fmt::format("a second value for {}[x] ('{}') is ignored", name, key));
        od::value repeated = field.value();
        Status status = SkipChecked(repeated, depth + 1);
        path_.pop_back();
        if (!status.ok()) return status;
        continue;
      }
      if (match.element == nullptr && out.type_ != nullptr && options_.report_unknown_elements) {
        AddIssue(IssueSeverity::kWarning, fmt::format("unknown element '{}' in {}", key, out.type_->name));
      }
      od::value value = field.value();
      Status status = is_extension_part ? BuildExtensionPart(value, name, match, depth + 1)
                                        : BuildProperty(value, name, match, depth + 1);
      path_.pop_back();
      if (!status.ok()) return status;
    }
    return Status();
  }

  // Calls visit(item, item_type, index) on each item of the array `value`
  // but nulls (they only align a primitive array with its `_name` twin, and
  // are consumed), with the item's index on the current path. `count` gets
  // the number of items, nulls included.
  template <typename Visit>
  Status ForEachItem(od::value& value, Visit&& visit, int& count) {
    od::array array;
    simdjson::error_code error = value.get_array().get(array);
    if (error) return JsonFailure(error);
    int index = 0;
    for (auto item_result : array) {
      od::value item;
      error = std::move(item_result).get(item);
      if (error) return JsonFailure(error);
      od::json_type item_type;
      error = item.type().get(item_type);
      if (error) return JsonFailure(error);
      path_.back().index = index;
      if (item_type == od::json_type::null) {
        RP_RETURN_IF_ERROR(ReadNull(item));
      } else {
        RP_RETURN_IF_ERROR(visit(item, item_type, index));
      }
      ++index;
    }
    path_.back().index = -1;
    count = index;
    return Status();
  }

  // A property's value: one node, or one per array item.
  Status BuildProperty(od::value& value, std::string_view name, const JsonPropertyMatch& match,
                       size_t depth) {
    od::json_type json_type;
    simdjson::error_code error = value.type().get(json_type);
    if (error) return JsonFailure(error);
    if (json_type == od::json_type::array) {
      if (depth >= options_.max_depth) return JsonFailure(simdjson::DEPTH_ERROR);
      if (match.element != nullptr && !match.element->is_array) {
        AddIssue(IssueSeverity::kWarning, "an array is given but the element allows one value");
      }
      int count = 0;
      auto build_item = [&](od::value& item, od::json_type item_type, int index) -> Status {
        if (item_type == od::json_type::array) {
          AddIssue(IssueSeverity::kError, "nested arrays are not FHIR");
          return SkipChecked(item, depth + 1);
        }
        return BuildValue(item, item_type, name, match, index, depth + 1);
      };
      RP_RETURN_IF_ERROR(ForEachItem(value, build_item, count));
      if (count == 0) AddIssue(IssueSeverity::kWarning, "empty array");
      return Status();
    }
    if (match.element != nullptr && match.element->is_array) {
      AddIssue(IssueSeverity::kWarning, "a single value is given but the element is an array");
    }
    if (json_type == od::json_type::null) {
      RP_RETURN_IF_ERROR(ReadNull(value));
      AddIssue(IssueSeverity::kError, "null is not a valid FHIR value");
      return Status();
    }
    return BuildValue(value, json_type, name, match, -1, depth);
  }

  Status BuildValue(od::value& value, od::json_type json_type, std::string_view name,
                    const JsonPropertyMatch& match, int index, size_t depth) {
    Node node;
    node.name_ = name;
    node.type_ = match.type;
    node.array_index_ = index;
    const TypeInfo* type = match.type;
    const bool expects_primitive = type != nullptr && type->kind == TypeKind::kPrimitive;
    simdjson::error_code error;
    switch (json_type) {
      case od::json_type::object: {
        const char* start = value.raw_json_token().data();
        od::object object;
        error = value.get_object().get(object);
        if (error) return JsonFailure(error);
        if (expects_primitive) {
          // The element keeps its declared type (it is a uuid wherever it is
          // written), but its content is read untyped.
          AddIssue(IssueSeverity::kError, fmt::format("expected a {} value, found an object", type->name));
          RP_RETURN_IF_ERROR(BuildObject(object, node, nullptr, depth, false));
          node.type_ = type;
          node.raw_ = RawSince(start);
          break;
        }
        const bool expect_resource = type != nullptr && type->kind == TypeKind::kResource;
        RP_RETURN_IF_ERROR(BuildObject(object, node, type, depth, expect_resource));
        node.raw_ = RawSince(start);
        break;
      }
      case od::json_type::string: {
        RP_ASSIGN_OR_RETURN(node.text_, ReadString(value));
        node.kind_ = JsonKind::kString;
        if (type != nullptr && !expects_primitive) {
          AddIssue(IssueSeverity::kError, fmt::format("expected a {} object, found a string", type->name));
          node.type_ = nullptr;
        } else if (expects_primitive &&
                   (type->system_type == SystemType::kBoolean || type->system_type == SystemType::kInteger ||
                    type->system_type == SystemType::kDecimal)) {
          AddIssue(IssueSeverity::kError,
                   fmt::format("expected a JSON {} for {}, found a string",
                               type->system_type == SystemType::kBoolean ? "boolean" : "number", type->name));
        } else if (expects_primitive) {
          CheckTemporalText(*type, node.text_);
          CheckIdText(*type, node.text_);
        }
        break;
      }
      case od::json_type::number: {
        RP_ASSIGN_OR_RETURN(std::string_view token, ReadNumber(value));
        node.kind_ = JsonKind::kNumber;
        node.text_ = token;  // a view into the document's text
        if (type != nullptr && (!expects_primitive || (type->system_type != SystemType::kInteger &&
                                                       type->system_type != SystemType::kDecimal))) {
          AddIssue(IssueSeverity::kError, fmt::format("expected a {} value, found a number", type->name));
        } else if (expects_primitive && type->system_type == SystemType::kInteger &&
                   token.find_first_of(".eE") != std::string_view::npos) {
          AddIssue(IssueSeverity::kError,
                   fmt::format("{} must be a whole number, not {}", type->name, token));
        } else if (expects_primitive && type->system_type == SystemType::kDecimal && !Decimal::Parse(token)) {
          AddIssue(IssueSeverity::kError,
                   fmt::format("decimal {} has more digits than regenpath keeps exactly", token));
        }
        break;
      }
      case od::json_type::boolean: {
        RP_ASSIGN_OR_RETURN(bool flag, ReadBoolean(value));
        node.kind_ = JsonKind::kBoolean;
        node.text_ = flag ? "true" : "false";
        if (type != nullptr && (!expects_primitive || type->system_type != SystemType::kBoolean)) {
          AddIssue(IssueSeverity::kError, fmt::format("expected a {} value, found a boolean", type->name));
        }
        break;
      }
      default:
        return JsonFailure(simdjson::INCORRECT_TYPE);
    }
    scratch_.push_back(node);
    return Status();
  }

  // A `_name` property: the id/extension part of primitive(s) `name`.
  Status BuildExtensionPart(od::value& value, std::string_view name, const JsonPropertyMatch& match,
                            size_t depth) {
    od::json_type json_type;
    simdjson::error_code error = value.type().get(json_type);
    if (error) return JsonFailure(error);
    const TypeInfo* element_type = model_.FindType("Element");
    auto build_one = [&](od::value& item, int index) -> Status {
      od::object object;
      simdjson::error_code item_error = item.get_object().get(object);
      if (item_error == simdjson::INCORRECT_TYPE) {
        AddIssue(IssueSeverity::kError, "the '_' part of a primitive must be an object");
        return SkipChecked(item, depth);  // not built, but well-formed (fuzz finding 13)
      }
      if (item_error) return JsonFailure(item_error);
      Node part;
      // Built whole, filter or not: whether the part carries anything (it
      // is dropped below when it does not) must not depend on the filter.
      const ElementFilter* filter = std::exchange(filter_, nullptr);
      Status status = BuildObject(object, part, element_type, depth, false);
      filter_ = filter;
      RP_RETURN_IF_ERROR(status);
      if (part.child_count_ == 0 && part.complete_) {
        // `{}` carries nothing (FHIR JSON allows no empty object); as a
        // place holder in a `_name` array, null is the way to write it.
        AddIssue(
            IssueSeverity::kError,
            fmt::format("an item of '_{}' with no id and no extension carries nothing: it is ignored", name));
        return Status();
      }
      part.name_ = name;
      part.type_ = match.type;
      part.kind_ = JsonKind::kNone;
      part.array_index_ = index;
      extension_scratch_.push_back(part);
      return Status();
    };
    if (json_type == od::json_type::array) {
      int count = 0;
      return ForEachItem(
          value, [&](od::value& item, od::json_type, int index) { return build_one(item, index); }, count);
    }
    return build_one(value, -1);
  }

  // Attaches each `_name` part to its primitive among the object's children
  // [scratch_start, end), or adds it as a value-less primitive.
  void MergeExtensions(size_t scratch_start, size_t extension_start) {
    if (extension_start == extension_scratch_.size()) return;
    // Each property's children form one run, in array order (repeated keys
    // are dropped by BuildFields). Find the runs once.
    std::unordered_map<std::string_view, std::pair<size_t, size_t>> runs;
    for (size_t c = scratch_start; c < scratch_.size(); ++c) {
      auto [it, inserted] = runs.try_emplace(scratch_[c].name_, c, c + 1);
      if (!inserted) it->second.second = c + 1;
    }
    // Parts with no primitive to join become value-less primitives.
    std::unordered_map<std::string_view, std::vector<Node>> orphans;
    std::vector<std::string_view> orphan_order;
    for (size_t e = extension_start; e < extension_scratch_.size(); ++e) {
      const Node& part = extension_scratch_[e];
      auto run = runs.find(part.name_);
      Node* target = nullptr;
      if (run != runs.end()) {
        auto begin = scratch_.begin() + static_cast<std::ptrdiff_t>(run->second.first);
        auto end = scratch_.begin() + static_cast<std::ptrdiff_t>(run->second.second);
        auto found = std::lower_bound(begin, end, part.array_index_, [](const Node& child, int index) {
          return child.array_index_ < index;
        });
        if (found != end && found->array_index_ == part.array_index_) target = &*found;
      }
      if (target != nullptr && target->is_object()) {
        AddIssue(IssueSeverity::kError,
                 fmt::format("'_{}' belongs beside a primitive, but '{}' is an object: it is ignored",
                             part.name_, part.name_));
        continue;
      }
      if (target != nullptr) {
        target->children_ = part.children_;
        target->child_count_ = part.child_count_;
        continue;
      }
      std::vector<Node>& pending = orphans[part.name_];
      if (pending.empty()) orphan_order.push_back(part.name_);
      pending.push_back(part);
    }
    if (orphans.empty()) return;
    // Rebuild the children with the orphans in place: inside their property's
    // run by array index, or after everything for a property with no value.
    std::vector<Node> merged;
    merged.reserve(scratch_.size() - scratch_start + extension_scratch_.size() - extension_start);
    size_t c = scratch_start;
    while (c < scratch_.size()) {
      std::string_view name = scratch_[c].name_;
      size_t end = runs[name].second;
      auto pending = orphans.find(name);
      if (pending == orphans.end()) {
        merged.insert(merged.end(), scratch_.begin() + static_cast<std::ptrdiff_t>(c),
                      scratch_.begin() + static_cast<std::ptrdiff_t>(end));
      } else {
        std::vector<Node>& parts = pending->second;
        std::stable_sort(parts.begin(), parts.end(),
                         [](const Node& a, const Node& b) { return a.array_index_ < b.array_index_; });
        std::merge(scratch_.begin() + static_cast<std::ptrdiff_t>(c),
                   scratch_.begin() + static_cast<std::ptrdiff_t>(end), parts.begin(), parts.end(),
                   std::back_inserter(merged),
                   [](const Node& a, const Node& b) { return a.array_index_ < b.array_index_; });
        orphans.erase(pending);
      }
      c = end;
    }
    for (std::string_view name : orphan_order) {
      auto pending = orphans.find(name);
      if (pending == orphans.end()) continue;
      std::stable_sort(pending->second.begin(), pending->second.end(),
                       [](const Node& a, const Node& b) { return a.array_index_ < b.array_index_; });
      merged.insert(merged.end(), pending->second.begin(), pending->second.end());
    }
    scratch_.resize(scratch_start);
    scratch_.insert(scratch_.end(), merged.begin(), merged.end());
  }

  static void SetParents(Node& node) {
    for (uint32_t i = 0; i < node.child_count_; ++i) {
      Node& child = const_cast<Node&>(node.children_[i]);
      child.parent_ = &node;
      SetParents(child);
    }
  }

  Document& document_;
  Arena& arena_;
  const ParseOptions& options_;
  std::vector<Node>& scratch_;
  std::vector<Node>& extension_scratch_;
  const Model& model_;
  od::document* json_ = nullptr;
  std::string_view text_;
  std::vector<PathSegment> path_;
  std::vector<std::string_view> resource_type_stack_;
  size_t line_number_ = 0;
  PropertyCache& cache_;
  TemporalCache& temporal_cache_;
  const ElementFilter* filter_ = nullptr;
};

struct Parser::Impl {
  od::parser json_parser;
  std::vector<Node> scratch;
  std::vector<Node> extension_scratch;
  std::unique_ptr<BuilderCaches> cache = std::make_unique<BuilderCaches>();
};

Parser::Parser(ParseOptions options) : impl_(std::make_unique<Impl>()), options_(options) {
  // simdjson enforces the depth limit itself, before we recurse.
  impl_->json_parser = od::parser(options_.max_bytes);
  // Sets the depth limit; buffers grow with the first input.
  // A failure here only means a later iterate() allocates instead.
  // simdjson's own limit sits above ours so that ours always fires first, with
  // our message (simdjson asserts on reaching its limit in debug builds).
  simdjson::error_code error = impl_->json_parser.allocate(1 << 16, options_.max_depth + 16);
  (void)error;
}

Parser::~Parser() = default;

namespace {

constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

// A buffer of `size` bytes followed by simdjson's padding.
std::unique_ptr<char[]> NewPaddedBuffer(size_t size) {
  std::unique_ptr<char[]> buffer(new char[size + kPadding]);
  std::memset(buffer.get() + size, ' ', kPadding);
  return buffer;
}

std::unique_ptr<char[]> CopyToPaddedBuffer(std::string_view text) {
  std::unique_ptr<char[]> buffer = NewPaddedBuffer(text.size());
  if (!text.empty()) std::memcpy(buffer.get(), text.data(), text.size());
  return buffer;
}

}  // namespace

Result<Document> Parser::ParseResource(std::string_view json, std::string_view source_name) {
  if (json.size() > options_.max_bytes) {
    return Fail(ResourceExhausted(
        fmt::format("{}: the input is larger than {} bytes", source_name, options_.max_bytes)));
  }
  return ParseBuffer(CopyToPaddedBuffer(json), json.size(), source_name, Format::kResource);
}

Result<Document> Parser::ParseNdjson(std::string_view text, std::string_view source_name) {
  if (text.size() > options_.max_bytes) {
    return Fail(ResourceExhausted(
        fmt::format("{}: the input is larger than {} bytes", source_name, options_.max_bytes)));
  }
  return ParseBuffer(CopyToPaddedBuffer(text), text.size(), source_name, Format::kNdjson);
}

static_assert(Parser::kBufferPadding >= kPadding, "a caller's buffer needs simdjson's padding");

Result<Document> Parser::ParseNdjson(std::unique_ptr<char[]> buffer, size_t size, std::string_view source_name) {
  if (size > options_.max_bytes) {
    return Fail(ResourceExhausted(
        fmt::format("{}: the input is larger than {} bytes", source_name, options_.max_bytes)));
  }
  return ParseBuffer(std::move(buffer), size, source_name, Format::kNdjson);
}

Result<Document> Parser::ParseAuto(std::string_view text, std::string_view source_name) {
  if (text.size() > options_.max_bytes) {
    return Fail(ResourceExhausted(
        fmt::format("{}: the input is larger than {} bytes", source_name, options_.max_bytes)));
  }
  return ParseBuffer(CopyToPaddedBuffer(text), text.size(), source_name, Format::kAuto);
}

Result<Document> Parser::ParseFile(const std::string& path) {
  const std::string source_name = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    RP_ASSIGN_OR_RETURN(std::string content, ReadFileToString(path, options_.max_bytes));
    return ParseAuto(content, source_name);
  }
  // Read straight into the padded buffer the document will keep.
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return Fail(InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  }
  if (S_ISDIR(info.st_mode)) return Fail(InvalidInput(fmt::format("{}: is a directory, not a file", path)));
  if (!S_ISREG(info.st_mode)) {
    RP_ASSIGN_OR_RETURN(std::string content, ReadFileToString(path, options_.max_bytes));
    return ParseAuto(content, source_name);
  }
  const size_t size = static_cast<size_t>(info.st_size);
  if (size > options_.max_bytes) {
    return Fail(
        ResourceExhausted(fmt::format("{}: the file is larger than {} bytes", path, options_.max_bytes)));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return Fail(InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  std::unique_ptr<char[]> buffer = NewPaddedBuffer(size);
  size_t read = size == 0 ? 0 : std::fread(buffer.get(), 1, size, file);
  bool failed = std::ferror(file) != 0 || read != size;
  std::fclose(file);
  if (failed)
    return Fail(InvalidInput(fmt::format("{}: read error (the file changed while being read?)", path)));
  // A file named *.ndjson is NDJSON whatever its first lines look like.
  const bool ndjson_name = path.size() > 7 && path.compare(path.size() - 7, 7, ".ndjson") == 0;
  return ParseBuffer(std::move(buffer), size, source_name, ndjson_name ? Format::kNdjson : Format::kAuto);
}

bool Parser::LooksLikeNdjson(const char* data, size_t size) {
  // NDJSON when the text has two or more non-blank lines and line 1 is a
  // whole JSON object; or line 2 is, or both begin with '{' and end with
  // '}', and the text is not one valid JSON document. A single
  // resource spread over lines does neither: its second line starts with a
  // key or '}', and a first line holding a whole object would leave the rest
  // as trailing content. So a malformed first line does not turn an NDJSON
  // file into a failed single resource: every line follows the same rule (a
  // bad line is an issue and is skipped).
  std::string_view text(data, size);
  std::string_view lines[2];
  int count = 0;
  size_t position = 0;
  while (count < 2 && position < text.size()) {
    size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = NdjsonLineContent(text.substr(position, end - position));
    if (!line.empty()) lines[count++] = line;
    position = end + 1;
  }
  if (count < 2) return false;
  // A whole object on line 1 settles it: a single document could not go on
  // after it.
  const auto whole_object = [&](std::string_view line) {
    if (line.front() != '{') return false;
    od::document probe;
    const size_t capacity = size - static_cast<size_t>(line.data() - data) + kPadding;
    if (impl_->json_parser.iterate(line.data(), line.size(), capacity).get(probe)) return false;
    od::object object;
    std::string_view raw;
    if (probe.get_object().get(object) || object.raw_json().get(raw)) return false;
    return AtEnd(probe);
  };
  if (whole_object(lines[0])) return true;
  // Otherwise line 1 is malformed NDJSON, or opens a document spread over
  // lines ({"resourceType": "Bundle", "entry": [ then one entry per line).
  // Two lines that each look like an object (a brace at both ends), or a
  // whole object on line 2, point to NDJSON, unless the text is one valid
  // JSON document.
  const bool both_look_whole =
      lines[0].front() == '{' && lines[1].front() == '{' && lines[0].back() == '}' && lines[1].back() == '}';
  if (!both_look_whole && !whole_object(lines[1])) return false;
  simdjson::dom::parser validator;
  return validator.parse(reinterpret_cast<const uint8_t*>(data), size, false).error() != simdjson::SUCCESS;
}

bool Parser::IsNdjson(std::string_view text) {
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
  // LooksLikeNdjson reads up to kPadding bytes past a line: give it a padded copy.
  std::unique_ptr<char[]> buffer = CopyToPaddedBuffer(text);
  return LooksLikeNdjson(buffer.get(), text.size());
}

Result<Document> Parser::ParseBuffer(std::unique_ptr<char[]> buffer, size_t size,
                                     std::string_view source_name, Format format) {
  Document document;
  document.source_name_ = std::string(source_name);
  const char* data = buffer.get();
  // The document keeps the text: strings and numbers without escapes are
  // views into it rather than copies.
  document.input_ = std::move(buffer);
  // A UTF-8 byte-order mark is allowed before the JSON.
  if (size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
    data += 3;
    size -= 3;
  }
  if (format == Format::kAuto) format = LooksLikeNdjson(data, size) ? Format::kNdjson : Format::kResource;
  if (format == Format::kResource) {
    // One document, maybe with lines of nothing but byte-order marks before
    // or after it (files concatenated, one of them empty): left out, as
    // NDJSON's blank lines are.
    const char* const end = data + size;
    for (;;) {
      while (data < end && (*data == ' ' || *data == '\t' || *data == '\r' || *data == '\n')) ++data;
      if (end - data >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        continue;
      }
      break;
    }
    const char* last = end;
    for (;;) {
      while (last > data && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r' || last[-1] == '\n'))
        --last;
      if (last - data >= 3 && std::memcmp(last - 3, "\xEF\xBB\xBF", 3) == 0) {
        last -= 3;
        continue;
      }
      break;
    }
    size = static_cast<size_t>(last - data);
    od::document json_document;
    simdjson::error_code error =
        impl_->json_parser.iterate(data, size, static_cast<size_t>(end - data) + kPadding).get(json_document);
    if (error) return Fail(InvalidInput(fmt::format("{}: {}", source_name, DescribeJsonError(error))));
    DocumentBuilder builder(document, options_, impl_->scratch, impl_->extension_scratch, *impl_->cache);
    Status status = builder.BuildRoot(json_document, std::string_view(data, size));
    impl_->scratch.clear();
    impl_->extension_scratch.clear();
    if (!status.ok()) return Fail(WithSource(source_name, status));
    document.IndexResources();
    return document;
  }

  std::string_view text(data, size);
  std::vector<Node*> resources;
  size_t line_number = 0;
  size_t start = 0;
  std::string first_error;
  DocumentBuilder line_builder(document, options_, impl_->scratch, impl_->extension_scratch, *impl_->cache);
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    // (A byte-order mark before a line is not part of it: files that each
    // began with one, concatenated, keep every resource.)
    const std::string_view line = NdjsonLineContent(text.substr(start, end - start));
    ++line_number;
    start = end + 1;
    if (line.empty()) {
      if (end == text.size()) break;
      continue;
    }
    // Each line is parsed in place; the rest of the buffer is its padding.
    od::document json_document;
    simdjson::error_code error =
        impl_->json_parser.iterate(line.data(), line.size(), size - (line.data() - data) + kPadding)
            .get(json_document);
    if (error) {
      if (first_error.empty())
        first_error = fmt::format("line {}: {}", line_number, DescribeJsonError(error));
      document.issues_.push_back(
          Issue{IssueSeverity::kError, DescribeJsonError(error), fmt::format("line {}", line_number)});
    } else {
      line_builder.set_line(line_number);
      Result<Node*> resource = line_builder.BuildLooseResource(json_document, line);
      impl_->scratch.clear();
      impl_->extension_scratch.clear();
      if (resource.has_value()) {
        resources.push_back(*resource);
      } else {
        if (first_error.empty())
          first_error = fmt::format("line {}: {}", line_number, resource.error().message());
        document.issues_.push_back(
            Issue{IssueSeverity::kError, resource.error().message(), fmt::format("line {}", line_number)});
      }
    }
    if (end == text.size()) break;
  }
  if (resources.empty()) {
    if (first_error.empty())
      return Fail(InvalidInput(fmt::format("{}: no resource in the input", source_name)));
    return Fail(InvalidInput(fmt::format("{}: {}", source_name, first_error)));
  }
  DocumentBuilder builder(document, options_, impl_->scratch, impl_->extension_scratch, *impl_->cache);
  builder.BuildCollection(resources);
  document.IndexResources();
  return document;
}

std::string_view NdjsonLineContent(std::string_view line) {
  constexpr std::string_view kMark = "\xEF\xBB\xBF";
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  for (;;) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    line.remove_prefix(first);
    if (!line.starts_with(kMark)) return line;
    line.remove_prefix(kMark.size());
  }
}

Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  if (path == "-") {
    std::string content((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (content.size() > max_bytes) return Fail(ResourceExhausted("<stdin>: the input is too large"));
    return content;
  }
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return Fail(InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  }
  if (S_ISDIR(info.st_mode)) return Fail(InvalidInput(fmt::format("{}: is a directory, not a file", path)));
  if (S_ISREG(info.st_mode) && static_cast<size_t>(info.st_size) > max_bytes) {
    return Fail(ResourceExhausted(fmt::format("{}: the file is larger than {} bytes", path, max_bytes)));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return Fail(InvalidInput(fmt::format("{}: cannot open: {}", path, std::strerror(errno))));
  std::string content;
  char chunk[1 << 16];
  size_t read = 0;
  while ((read = std::fread(chunk, 1, sizeof(chunk), file)) > 0) {
    content.append(chunk, read);
    if (content.size() > max_bytes) {
      std::fclose(file);
      return Fail(ResourceExhausted(fmt::format("{}: the file is larger than {} bytes", path, max_bytes)));
    }
  }
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return Fail(InvalidInput(fmt::format("{}: read error", path)));
  return content;
}

}  // namespace regenpath::fhir
