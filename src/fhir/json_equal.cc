#include "fhir/json_equal.h"

#include "simdjson.h"

namespace regenpath::fhir {

namespace {

namespace dom = simdjson::dom;

bool Equal(dom::element a, dom::element b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case dom::element_type::ARRAY: {
      dom::array x = a.get_array().value_unsafe();
      dom::array y = b.get_array().value_unsafe();
      if (x.size() != y.size()) return false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
        if (!Equal(*i, *j)) return false;
      }
      return true;
    }
    case dom::element_type::OBJECT: {
      dom::object x = a.get_object().value_unsafe();
      dom::object y = b.get_object().value_unsafe();
      if (x.size() != y.size()) return false;
      for (dom::key_value_pair member : x) {
        dom::element other;
        if (y.at_key(member.key).get(other) != simdjson::SUCCESS || !Equal(member.value, other)) return false;
      }
      return true;
    }
    case dom::element_type::STRING:
      return a.get_string().value_unsafe() == b.get_string().value_unsafe();
    case dom::element_type::INT64:
      return a.get_int64().value_unsafe() == b.get_int64().value_unsafe();
    case dom::element_type::UINT64:
      return a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe();
    case dom::element_type::DOUBLE:
      return a.get_double().value_unsafe() == b.get_double().value_unsafe();
    case dom::element_type::BOOL:
      return a.get_bool().value_unsafe() == b.get_bool().value_unsafe();
    case dom::element_type::NULL_VALUE:
      return true;
  }
  return false;
}

}  // namespace

bool SameJsonValue(std::string_view a, std::string_view b) {
  if (a == b) return true;
  dom::parser first;
  dom::parser second;
  dom::element x;
  dom::element y;
  if (first.parse(a.data(), a.size()).get(x) != simdjson::SUCCESS ||
      second.parse(b.data(), b.size()).get(y) != simdjson::SUCCESS) {
    return false;
  }
  return Equal(x, y);
}

}  // namespace regenpath::fhir
