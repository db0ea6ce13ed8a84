// MemberPath: a FHIRPath expression that only names members and filters by
// type (`code.coding.display`, `onset.ofType(dateTime)`), read straight off
// the parsed tree without the evaluator.
//
// Used for the datum views (knowledge/datum-views.yaml), which are read for
// every resource shown as data: their alternatives are mostly such paths,
// and evaluating them through the FHIRPath evaluator cost more than the rest
// of the evidence. The result is exactly what the evaluator gives (the same
// member rule, choice names and ofType test; a test compares both on every
// resource of the test data); anything else is left to the evaluator.
#ifndef REGENPATH_ENGINE_MEMBER_PATH_H_
#define REGENPATH_ENGINE_MEMBER_PATH_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/node.h"
#include "fhirpath/ast.h"

namespace regenpath::engine {

class MemberPath {
 public:
  // The path of `expression`, or nullopt when it is anything but
  // `name(.name | .ofType(Type))*` starting with a lower-case member (an
  // upper-case first name may name the focus's type).
  static std::optional<MemberPath> Parse(std::string_view expression);

  // The nodes the expression yields on `resource`, in order (appended).
  void Select(const fhir::Node& resource, std::vector<const fhir::Node*>& out) const;

 private:
  struct Step {
    std::string member;                             // a member name, or
    std::optional<fhirpath::TypeSpecifier> of_type;  // ofType(Type)
  };
  std::vector<Step> steps_;
};

}  // namespace regenpath::engine

#endif  // REGENPATH_ENGINE_MEMBER_PATH_H_
