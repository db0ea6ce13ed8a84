// EvaluationContext and Workspace: everything one evaluation reads and writes.
//
// The engine reads no global state: the resource, the clock ("now"), its time
// zone, terminology, variables and trace output are all given here. A
// context is read-only during evaluation and may be shared by threads as long
// as its Terminology and TraceSink are thread-safe.
#ifndef REGENPATH_FHIRPATH_EVALUATION_CONTEXT_H_
#define REGENPATH_FHIRPATH_EVALUATION_CONTEXT_H_

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.h"
#include "common/date_time.h"
#include "fhir/document.h"
#include "fhirpath/terminology.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

// Receives trace() output. Must be thread-safe if the context is shared.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void Trace(std::string_view name, std::span<const Value> values) = 0;
};

// Variables a caller looks up where they live instead of copying them into a
// map (e.g. the definitions evaluated so far for one patient).
class VariableSource {
 public:
  virtual ~VariableSource() = default;
  // The value of %`name`, or nullptr when this source does not define it.
  virtual const std::vector<Value>* Find(std::string_view name) const = 0;
};

struct EvaluationContext {
  // The document holding `resource`; resolve() looks references up in it.
  // May be null (resolve() then finds nothing).
  const fhir::Document* document = nullptr;
  // %resource and %rootResource; when `focus` is empty the expression is
  // evaluated on this node. May be null (then %resource is empty).
  const fhir::Node* resource = nullptr;
  // The input collection (%context). Empty means {resource}.
  std::span<const Value> focus;
  // "Now": now() returns it, today() its date, timeOfDay() its time. Its
  // offset is the time zone of the evaluation. Required: there is no default.
  DateTime now;
  // For memberOf(); null means memberOf() returns empty.
  const Terminology* terminology = nullptr;
  // %name variables supplied by the caller (beyond the built-in ones).
  const std::map<std::string, std::vector<Value>, std::less<>>* variables = nullptr;
  // More %name variables, looked up before `variables`; may be null.
  const VariableSource* variable_source = nullptr;
  // Receives trace(); null discards it.
  TraceSink* trace = nullptr;
  // Upper bound on items any intermediate collection may hold, and on
  // repeat()/aggregate() iterations: protects the process from runaway input.
  size_t max_items = 5'000'000;
  // Upper bound on the bytes of strings one evaluation may create
  // ('ab'.repeat($this + $this) must fail, not exhaust memory).
  size_t max_string_bytes = size_t{256} << 20;
};

// Per-thread scratch memory for evaluations. Strings computed by an
// evaluation live here: results returned by Evaluate() stay valid until
// Reset() or the Workspace's destruction. Not thread-safe: one per thread.
class Workspace {
 public:
  Workspace() : arena_(1 << 14) {}
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // Frees everything results point into; keeps memory for reuse.
  void Reset() {
    arena_.Reset();
  }

  Arena& arena() { return arena_; }

  // Borrow and return cleared scratch collections (avoids allocation in
  // per-item loops). Internal to the evaluator.
  std::vector<Value>* Borrow() {
    if (free_.empty()) {
      owned_.push_back(std::make_unique<std::vector<Value>>());
      return owned_.back().get();
    }
    std::vector<Value>* collection = free_.back();
    free_.pop_back();
    return collection;
  }
  void Return(std::vector<Value>* collection) {
    collection->clear();
    free_.push_back(collection);
  }

 private:
  Arena arena_;
  std::vector<std::unique_ptr<std::vector<Value>>> owned_;
  std::vector<std::vector<Value>*> free_;
};

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_EVALUATION_CONTEXT_H_
