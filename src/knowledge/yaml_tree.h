// YamlTree: a YAML document as plain data, with the line of every node.
//
// The knowledge-base loader reads YamlTrees. ParseYaml() makes one from YAML
// text (yaml-cpp, whose exceptions stay in yaml_tree.cc); EncodeYamlTree()
// and DecodeYamlTree() turn one into a compact text and back, so the
// knowledge base built into the binary is decoded at start-up instead of
// being parsed as YAML again (yaml-cpp is slow: ~20 ms for the whole base).
//
// The accessors mirror the part of YAML::Node the loader needs: a missing
// map key yields a node that converts to false. Immutable after
// construction; thread-safe to read.
#ifndef REGENPATH_KNOWLEDGE_YAML_TREE_H_
#define REGENPATH_KNOWLEDGE_YAML_TREE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace regenpath::knowledge {

class YamlTree {
 public:
  enum class Kind : unsigned char { kMissing, kNull, kScalar, kSequence, kMap };

  struct Mark {
    int line = -1;  // 0-based, -1 when unknown
  };

  YamlTree() = default;
  static YamlTree Null(int line);
  static YamlTree Scalar(int line, std::string text);
  static YamlTree Sequence(int line, std::vector<YamlTree> items);
  static YamlTree Map(int line, std::vector<std::pair<YamlTree, YamlTree>> entries);

  // False only for the node returned for an absent map key.
  explicit operator bool() const { return kind_ != Kind::kMissing; }
  bool IsNull() const { return kind_ == Kind::kNull || kind_ == Kind::kMissing; }
  bool IsScalar() const { return kind_ == Kind::kScalar; }
  bool IsSequence() const { return kind_ == Kind::kSequence; }
  bool IsMap() const { return kind_ == Kind::kMap; }
  Kind kind() const { return kind_; }

  // The scalar's text ("" for other kinds).
  const std::string& Scalar() const { return scalar_; }
  Mark GetMark() const { return Mark{line_}; }
  // Items of a sequence, entries of a map.
  size_t size() const { return kind_ == Kind::kMap ? entries_.size() : items_.size(); }

  // The value of `key` in a map; a missing node (false) when absent.
  const YamlTree& operator[](std::string_view key) const;

  // A sequence's items (empty for other kinds).
  std::vector<YamlTree>::const_iterator begin() const { return items_.begin(); }
  std::vector<YamlTree>::const_iterator end() const { return items_.end(); }
  // A map's (key, value) entries in document order.
  const std::vector<std::pair<YamlTree, YamlTree>>& entries() const { return entries_; }

  // Scalar conversions with YAML's spelling: numbers as strtod reads them;
  // true/false/yes/no/on/off (any case). False when the text is not one.
  bool AsDouble(double& value) const;
  bool AsBool(bool& value) const;

 private:
  Kind kind_ = Kind::kMissing;
  int line_ = -1;
  std::string scalar_;
  std::vector<YamlTree> items_;
  std::vector<std::pair<YamlTree, YamlTree>> entries_;
};

// Parses one YAML document. Fails with "line N: <what yaml-cpp says>"
// (1-based line) for text that is not YAML. An empty document is a null node.
// A line ends at LF, CRLF or a lone CR, as YAML 1.2 says (common/line_breaks.h).
// `error_line` (optional) receives the 1-based line of a syntax error.
Result<YamlTree> ParseYaml(std::string_view text, int* error_line = nullptr);

// Calls `visit` with each scalar of `tree` (map keys included), in document
// order, that holds a character TerminalSafe would replace (a control
// character but newline and tab, a bidirectional override;
// common/terminal_text.h), and the first such character's code point.
void ForEachControlCharacter(const YamlTree& tree,
                             const std::function<void(const YamlTree&, uint32_t)>& visit);

// A compact, lossless text form of `tree` (lines included).
std::string EncodeYamlTree(const YamlTree& tree);
// The inverse of EncodeYamlTree; fails on text it did not produce.
Result<YamlTree> DecodeYamlTree(std::string_view encoded);

}  // namespace regenpath::knowledge

#endif  // REGENPATH_KNOWLEDGE_YAML_TREE_H_
