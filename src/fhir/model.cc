#include "fhir/model.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

namespace regenpath::fhir {
namespace {

// A run of entries in one of the flat tables of r4_model_data.inc.
struct R4Range {
  uint32_t offset;
  uint32_t count;
};

// A JSON property name of a choice element ("valueQuantity") with the element
// and value type it stands for, as indices into kR4Elements and kR4Types.
struct R4JsonName {
  std::string_view name;
  uint16_t element;
  uint16_t type;
};

constexpr uint16_t kR4HashEmpty = 0xFFFF;

// Everything below is constant-initialized: no code runs at startup.
#include "fhir/r4_model_data.inc"

// FNV-1a, 32 bits; must match fnv1a() in tools/gen_fhir_model.py.
constexpr uint32_t HashName(std::string_view name) {
  uint32_t hash = 0x811C9DC5u;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x01000193u;
  }
  return hash;
}

template <std::size_t... kIndex>
constexpr std::array<const TypeInfo*, sizeof...(kIndex)> MakeTypePointers(
    std::index_sequence<kIndex...>) {
  return {&kR4Types[kIndex]...};
}

constexpr std::array<const TypeInfo*, kR4TypeCount> kR4TypePointers =
    MakeTypePointers(std::make_index_sequence<kR4TypeCount>{});

static_assert((kR4TypeHashSize & (kR4TypeHashSize - 1)) == 0, "hash size must be a power of 2");

// The index of `type` in kR4Types, or -1 if it is not one of the R4 types
// (a caller may build its own TypeInfo).
std::ptrdiff_t R4Index(const TypeInfo& type) {
  const std::less<const TypeInfo*> less;
  if (less(&type, kR4Types) || !less(&type, kR4Types + kR4TypeCount)) return -1;
  return &type - kR4Types;
}

// True iff `suffix` is `type_name` with its first letter upper-cased, as in
// the JSON names of choice elements ("valueDateTime" for dateTime).
bool IsCapitalizedTypeName(std::string_view suffix, std::string_view type_name) {
  if (suffix.size() != type_name.size() || suffix.empty()) return false;
  char first = type_name.front();
  if (first >= 'a' && first <= 'z') first = static_cast<char>(first - 'a' + 'A');
  return suffix.front() == first && suffix.substr(1) == type_name.substr(1);
}

// ResolveJsonProperty for a choice name on a type outside the generated
// tables: tries every split of `json_name` before an upper-case letter.
JsonPropertyMatch ResolveChoiceSlow(const TypeInfo& parent, std::string_view json_name) {
  for (std::size_t split = json_name.size() - 1; split > 0; --split) {
    if (json_name[split] < 'A' || json_name[split] > 'Z') continue;
    const ElementInfo* element = Model::FindElement(parent, json_name.substr(0, split));
    if (element == nullptr || !element->is_choice) continue;
    for (const TypeInfo* type : element->types) {
      if (IsCapitalizedTypeName(json_name.substr(split), type->name)) return {element, type};
    }
  }
  return {};
}

}  // namespace

const Model& Model::R4() {
  static constexpr Model kModel;
  return kModel;
}

const TypeInfo* Model::FindType(std::string_view name) const {
  constexpr std::size_t kMask = kR4TypeHashSize - 1;
  for (std::size_t slot = HashName(name) & kMask;; slot = (slot + 1) & kMask) {
    const uint16_t index = kR4TypeHash[slot];
    if (index == kR4HashEmpty) return nullptr;
    if (kR4Types[index].name == name) return &kR4Types[index];
  }
}

const TypeInfo* Model::FindResourceType(std::string_view name) const {
  const TypeInfo* type = FindType(name);
  return type != nullptr && type->kind == TypeKind::kResource ? type : nullptr;
}

const ElementInfo* Model::FindElement(const TypeInfo& type, std::string_view name) {
  const auto it = std::lower_bound(
      type.elements.begin(), type.elements.end(), name,
      [](const ElementInfo& element, std::string_view key) { return element.name < key; });
  if (it == type.elements.end() || it->name != name) return nullptr;
  return &*it;
}

JsonPropertyMatch Model::ResolveJsonProperty(const TypeInfo& parent, std::string_view json_name) {
  // Most keys name a plain element; a choice element's base name ("value")
  // never appears bare in JSON, so it falls through to the choice names.
  const ElementInfo* element = FindElement(parent, json_name);
  if (element != nullptr && !element->is_choice) {
    return {element, element->types.empty() ? nullptr : element->types.front()};
  }
  if (json_name.empty()) return {};
  const std::ptrdiff_t index = R4Index(parent);
  if (index < 0) return ResolveChoiceSlow(parent, json_name);
  const R4Range range = kR4TypeJsonNames[index];
  const R4JsonName* begin = kR4JsonNames + range.offset;
  const R4JsonName* end = begin + range.count;
  const R4JsonName* it =
      std::lower_bound(begin, end, json_name, [](const R4JsonName& entry, std::string_view key) {
        return entry.name < key;
      });
  if (it == end || it->name != json_name) return {};
  return {&kR4Elements[it->element], &kR4Types[it->type]};
}

bool Model::IsSubtypeOf(const TypeInfo& type, const TypeInfo& ancestor) {
  for (const TypeInfo* current = &type; current != nullptr; current = current->base) {
    if (current == &ancestor) return true;
  }
  return false;
}

std::span<const TypeInfo* const> Model::types() const { return kR4TypePointers; }

}  // namespace regenpath::fhir
