#include "fhir/node.h"

#include <charconv>
#include <vector>

namespace regenpath::fhir {

std::string_view Node::type_name() const {
  if (type_ != nullptr) return type_->name;
  if (is_resource_) return text_;
  return std::string_view();
}

namespace {

// name == other, testing the size and the first byte before memcmp: most
// siblings differ there, and this lookup runs for every FHIRPath member step.
inline bool SameName(std::string_view name, std::string_view other) {
  return name.size() == other.size() && (name.empty() || (name.front() == other.front() && name == other));
}

}  // namespace

std::span<const Node> Node::Children(std::string_view name) const {
  const Node* end = children_ + child_count_;
  for (const Node* child = children_; child != end; ++child) {
    if (!SameName(child->name_, name)) continue;
    // The rest of the run: siblings of one property share their name's
    // storage (the model's element name, or one literal), so a pointer test
    // settles most of them without memcmp (a Bundle has hundreds of entries).
    const Node* last = child + 1;
    while (last != end && ((last->name_.data() == child->name_.data() && last->name_.size() == name.size()) ||
                           SameName(last->name_, name))) {
      ++last;
    }
    return {child, static_cast<size_t>(last - child)};
  }
  return {};
}

const Node* Node::Child(std::string_view name) const {
  std::span<const Node> found = Children(name);
  return found.empty() ? nullptr : &found.front();
}

const Node* Node::EnclosingResource() const {
  const Node* node = this;
  while (node != nullptr && !node->is_resource_) node = node->parent_;
  return node;
}

std::string Node::Path() const {
  // The chain from the root down, on the stack for the usual depths (this
  // runs for every issue an assessment reports).
  constexpr size_t kInline = 32;
  const Node* inline_chain[kInline];
  std::vector<const Node*> long_chain;
  size_t depth = 0;
  size_t length = 0;
  for (const Node* node = this; node != nullptr; node = node->parent_) {
    ++depth;
    length += node->name_.size() + 8;
  }
  const Node** chain = inline_chain;
  if (depth > kInline) {
    long_chain.resize(depth);
    chain = long_chain.data();
  }
  size_t at = depth;
  for (const Node* node = this; node != nullptr; node = node->parent_) chain[--at] = node;
  std::string path;
  path.reserve(length + 16);
  for (size_t i = 0; i < depth; ++i) {
    const Node* node = chain[i];
    if (node->parent_ == nullptr) {
      path += node->type_name().empty() ? node->name_ : node->type_name();
      continue;
    }
    path += '.';
    path += node->name_;
    if (node->array_index_ >= 0) {
      char digits[16];
      const auto [end, error] = std::to_chars(digits, digits + sizeof(digits), node->array_index_);
      path += '[';
      path.append(digits, static_cast<size_t>(end - digits));
      path += ']';
    }
  }
  return path;
}

}  // namespace regenpath::fhir
