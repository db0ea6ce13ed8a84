// ResourceGates: which resources of a record an expression can let through,
// per resource type, and the value sets one of which such a resource must
// match.
//
// Most of a patient's record is Observations, Encounters and reports no
// definition of the knowledge base is about: every path an expression takes
// to an Observation starts `...resource.ofType(Observation).where(cond)`,
// and `cond` can only be true when the Observation's code is in one of a
// few value sets. A resource of such a type whose JSON holds no code or name
// of those value sets can therefore never reach the expression's result; a
// parser may build it as a skeleton (fhir::ResourceFilter).
//
// The analysis is conservative: a type is *gated* only when every path to
// resources of that type in the expression is
//     <resources>.ofType(T).where(cond)
// where <resources> is `resource` (Bundle.entry.resource), resolve(),
// descendants(), children(), repeat() or repeatAll(), and `cond` is gating
// (and reads neither $index nor $total): it is true
// only if some memberOf('<value set>') over the resource's own elements is
// true (an `and` with a gating side; an `or` of gating sides;
// `P.memberOf('v')`, `P.where(gating).exists()`, `P.exists(gating)` for a
// path P of the resource's own elements, not through resolve() or a
// variable). Any other path to resources (no ofType, a type that is not one
// resource type, a condition that is not gating, `entry` used otherwise than
// to step into its elements) makes that type, or every type, *whole*.
// Types an expression does not reach are neither.
#ifndef REGENPATH_FHIRPATH_RESOURCE_GATES_H_
#define REGENPATH_FHIRPATH_RESOURCE_GATES_H_

#include <map>
#include <set>
#include <string>

namespace regenpath::fhirpath {

struct Expr;

struct ResourceGates {
  // Every resource type is read whole.
  bool all_whole = false;
  // Types some path reads without a gate.
  std::set<std::string> whole;
  // Per type read only through gates: the value sets (as memberOf names
  // them) one of which a resource must match to pass any of them.
  std::map<std::string, std::set<std::string>> gated;
  // Types the expression reaches through a reference: T in resolve().ofType(T).
  std::set<std::string> resolved;
  // A resolve() not followed by ofType(<one resource type>): it may reach
  // any type.
  bool resolves_untyped = false;

  // The gates of both: a type whole in either is whole; value sets add up.
  void Merge(const ResourceGates& other);
  // True iff resources of `type` are read only through gates (see gated).
  bool IsGated(const std::string& type) const;
};

// The gates of the expression rooted at `root` (see the file comment).
ResourceGates AnalyzeResourceGates(const Expr& root);

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_RESOURCE_GATES_H_
