// The only file of the knowledge module that includes yaml-cpp.
#include "knowledge/yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <strings.h>

#include "common/line_breaks.h"
#include "common/terminal_text.h"

namespace regenpath::knowledge {

YamlTree YamlTree::Null(int line) {
  YamlTree tree;
  tree.kind_ = Kind::kNull;
  tree.line_ = line;
  return tree;
}

YamlTree YamlTree::Scalar(int line, std::string text) {
  YamlTree tree;
  tree.kind_ = Kind::kScalar;
  tree.line_ = line;
  tree.scalar_ = std::move(text);
  return tree;
}

YamlTree YamlTree::Sequence(int line, std::vector<YamlTree> items) {
  YamlTree tree;
  tree.kind_ = Kind::kSequence;
  tree.line_ = line;
  tree.items_ = std::move(items);
  return tree;
}

YamlTree YamlTree::Map(int line, std::vector<std::pair<YamlTree, YamlTree>> entries) {
  YamlTree tree;
  tree.kind_ = Kind::kMap;
  tree.line_ = line;
  tree.entries_ = std::move(entries);
  return tree;
}

const YamlTree& YamlTree::operator[](std::string_view key) const {
  static const YamlTree* missing = new YamlTree();
  for (const auto& [entry_key, value] : entries_) {
    if (entry_key.IsScalar() && entry_key.scalar_ == key) return value;
  }
  return *missing;
}

bool YamlTree::AsDouble(double& value) const {
  if (!IsScalar() || scalar_.empty()) return false;
  const char* begin = scalar_.c_str();
  char* end = nullptr;
  double parsed = std::strtod(begin, &end);
  if (end != begin + scalar_.size()) return false;
  value = parsed;
  return true;
}

bool YamlTree::AsBool(bool& value) const {
  if (!IsScalar()) return false;
  for (const char* yes : {"true", "yes", "on", "y"}) {
    if (strcasecmp(scalar_.c_str(), yes) == 0) {
      value = true;
      return true;
    }
  }
  for (const char* no : {"false", "no", "off", "n"}) {
    if (strcasecmp(scalar_.c_str(), no) == 0) {
      value = false;
      return true;
    }
  }
  return false;
}

namespace {

YamlTree FromNode(const YAML::Node& node) {
  const int line = node.Mark().line;
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return YamlTree::Scalar(line, node.Scalar());
    case YAML::NodeType::Sequence: {
      std::vector<YamlTree> items;
      items.reserve(node.size());
      for (const YAML::Node& item : node) items.push_back(FromNode(item));
      return YamlTree::Sequence(line, std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<YamlTree, YamlTree>> entries;
      entries.reserve(node.size());
      for (const auto& entry : node) entries.emplace_back(FromNode(entry.first), FromNode(entry.second));
      return YamlTree::Map(line, std::move(entries));
    }
    default:
      return YamlTree::Null(line);
  }
}

void Encode(const YamlTree& tree, std::string& out) {
  const int line = tree.GetMark().line;
  switch (tree.kind()) {
    case YamlTree::Kind::kMissing:
    case YamlTree::Kind::kNull:
      out += fmt::format("~{};", line);
      return;
    case YamlTree::Kind::kScalar:
      out += fmt::format("s{}:{}:", line, tree.Scalar().size());
      out += tree.Scalar();
      return;
    case YamlTree::Kind::kSequence:
      out += fmt::format("q{}:{}:", line, tree.size());
      for (const YamlTree& item : tree) Encode(item, out);
      return;
    case YamlTree::Kind::kMap:
      out += fmt::format("m{}:{}:", line, tree.size());
      for (const auto& [key, value] : tree.entries()) {
        Encode(key, out);
        Encode(value, out);
      }
      return;
  }
}

class Decoder {
 public:
  explicit Decoder(std::string_view text) : text_(text) {}

  Result<YamlTree> Node(int depth) {
    if (depth > 256) return Fail(InvalidInput("encoded YAML tree nested too deeply"));
    if (pos_ >= text_.size()) return Fail(InvalidInput("encoded YAML tree ends early"));
    char kind = text_[pos_++];
    RP_ASSIGN_OR_RETURN(long line, Number(kind == '~' ? ';' : ':'));
    switch (kind) {
      case '~':
        return YamlTree::Null(static_cast<int>(line));
      case 's': {
        RP_ASSIGN_OR_RETURN(long size, Number(':'));
        if (size < 0 || static_cast<size_t>(size) > text_.size() - pos_) {
          return Fail(InvalidInput("encoded YAML scalar runs past the end"));
        }
        std::string scalar(text_.substr(pos_, static_cast<size_t>(size)));
        pos_ += static_cast<size_t>(size);
        return YamlTree::Scalar(static_cast<int>(line), std::move(scalar));
      }
      case 'q': {
        RP_ASSIGN_OR_RETURN(long count, Number(':'));
        if (count < 0) return Fail(InvalidInput("encoded YAML tree: negative count"));
        std::vector<YamlTree> items;
        // Each item takes at least 3 bytes ("~0;"): a count beyond that is refused below, not reserved.
        items.reserve(std::min(static_cast<size_t>(count), (text_.size() - pos_) / 3));
        for (long i = 0; i < count; ++i) {
          RP_ASSIGN_OR_RETURN(YamlTree item, Node(depth + 1));
          items.push_back(std::move(item));
        }
        return YamlTree::Sequence(static_cast<int>(line), std::move(items));
      }
      case 'm': {
        RP_ASSIGN_OR_RETURN(long count, Number(':'));
        if (count < 0) return Fail(InvalidInput("encoded YAML tree: negative count"));
        std::vector<std::pair<YamlTree, YamlTree>> entries;
        entries.reserve(std::min(static_cast<size_t>(count), (text_.size() - pos_) / 6));
        for (long i = 0; i < count; ++i) {
          RP_ASSIGN_OR_RETURN(YamlTree key, Node(depth + 1));
          RP_ASSIGN_OR_RETURN(YamlTree value, Node(depth + 1));
          entries.emplace_back(std::move(key), std::move(value));
        }
        return YamlTree::Map(static_cast<int>(line), std::move(entries));
      }
      default:
        return Fail(InvalidInput(fmt::format("encoded YAML tree: unexpected '{}'", kind)));
    }
  }

  bool AtEnd() const { return pos_ == text_.size(); }

 private:
  Result<long> Number(char terminator) {
    size_t end = text_.find(terminator, pos_);
    if (end == std::string_view::npos || end == pos_ || end - pos_ > 12) {
      return Fail(InvalidInput("encoded YAML tree: bad number"));
    }
    long value = 0;
    const char* first = text_.data() + pos_;
    const char* last = text_.data() + end;
    auto [parsed_end, error] = std::from_chars(first, last, value);
    if (error != std::errc() || parsed_end != last) return Fail(InvalidInput("encoded YAML tree: bad number"));
    pos_ = end + 1;
    return value;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<YamlTree> ParseYaml(std::string_view text, int* error_line) {
  try {
    YAML::Node root = YAML::Load(LoneCrAsLf(std::string(text)));
    return FromNode(root);
  } catch (const YAML::Exception& error) {
    if (error_line != nullptr) *error_line = error.mark.line >= 0 ? error.mark.line + 1 : 0;
    return Fail(InvalidInput(error.msg));
  }
}

void ForEachControlCharacter(const YamlTree& tree,
                             const std::function<void(const YamlTree&, uint32_t)>& visit) {
  if (tree.IsScalar()) {
    if (std::optional<uint32_t> control = FirstTerminalControl(tree.Scalar())) visit(tree, *control);
    return;
  }
  for (const YamlTree& item : tree) ForEachControlCharacter(item, visit);
  for (const auto& [key, value] : tree.entries()) {
    ForEachControlCharacter(key, visit);
    ForEachControlCharacter(value, visit);
  }
}

std::string EncodeYamlTree(const YamlTree& tree) {
  std::string out;
  Encode(tree, out);
  return out;
}

Result<YamlTree> DecodeYamlTree(std::string_view encoded) {
  Decoder decoder(encoded);
  RP_ASSIGN_OR_RETURN(YamlTree tree, decoder.Node(0));
  if (!decoder.AtEnd()) return Fail(InvalidInput("encoded YAML tree: trailing text"));
  return tree;
}

}  // namespace regenpath::knowledge
