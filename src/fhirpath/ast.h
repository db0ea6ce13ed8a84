// The syntax tree of a compiled FHIRPath expression (internal to fhirpath/).
//
// Built once by the parser, never modified afterwards, shared by every
// evaluation (and thread) of the CompiledExpression that owns it. Strings a
// literal Value points at are owned by the Expr node itself; nodes live in
// unique_ptrs and never move, so those views stay valid.
#ifndef REGENPATH_FHIRPATH_AST_H_
#define REGENPATH_FHIRPATH_AST_H_

#include <memory>
#include <string>
#include <vector>

#include "fhir/model.h"
#include "fhirpath/value.h"

namespace regenpath::fhirpath {

struct FunctionInfo;

enum class ExprKind : unsigned char {
  kEmpty,      // {}
  kLiteral,    // 'text', 12, 1.5, 12L, true, @2014, 4 'mg'
  kMember,     // name   (receiver.name, or name on the focus)
  kFunction,   // name(args)
  kThis,       // $this
  kIndex,      // $index
  kTotal,      // $total
  kVariable,   // %name
  kUnary,      // +x, -x
  kBinary,     // x op y
  kTypeOp,     // x is T, x as T
  kIndexer,    // x[i]
};

enum class BinaryOp : unsigned char {
  kMultiply,
  kDivide,
  kIntegerDivide,  // div
  kModulo,         // mod
  kAdd,
  kSubtract,
  kConcatenate,  // &
  kUnion,        // |
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kEqual,
  kEquivalent,
  kNotEqual,
  kNotEquivalent,
  kIn,
  kContains,
  kAnd,
  kOr,
  kXor,
  kImplies,
};

// The text of an operator as written ("div", "!=").
std::string_view BinaryOpText(BinaryOp op);

// A type named in `is`, `as`, `ofType(...)`: System.X, FHIR.X, or unqualified.
struct TypeSpecifier {
  std::string namespace_name;  // "System", "FHIR", or "" when unqualified
  std::string name;            // "String", "Patient", "code"
  // Resolved at compile time: the FHIR model type, if the name is one.
  const fhir::TypeInfo* fhir_type = nullptr;
  // Resolved at compile time: the System type, if the name is one
  // (kNode when it is not a System type).
  ValueType system_type = ValueType::kNode;
  bool is_system = false;
  // "System.Any"/"FHIR.Base"-like roots that match everything.
  bool matches_any = false;
};

struct Expr {
  Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  // Dismantles the subtree without recursion: a left-associative chain of
  // 50,000 operators is as deep as it is long, and must not exhaust the stack
  // when the parser rejects it (or its CompiledExpression goes away).
  ~Expr();

  ExprKind kind = ExprKind::kEmpty;
  size_t offset = 0;  // position in the expression text, for messages
  BinaryOp op = BinaryOp::kAdd;  // kBinary; kUnary uses kAdd / kSubtract
  std::string name;              // member, function or variable name
  std::string text;              // owns a string literal's text or a quantity's unit
  Value literal;                 // kLiteral
  // kMember/kFunction/kIndexer/kTypeOp/kUnary: the expression before '.' (or
  // the operand); nullptr means "the focus".
  std::unique_ptr<Expr> receiver;
  // kFunction: the arguments; kBinary: [left, right]; kIndexer: [index].
  std::vector<std::unique_ptr<Expr>> args;
  // kTypeOp, and functions taking a type (is, as, ofType).
  TypeSpecifier type;
  const FunctionInfo* function = nullptr;  // kFunction
  // sort(): per argument, true for descending. A key written -key (the
  // FHIRPath 2.0 form) sorts by the negated key, so its empty keys still come
  // first; `key desc` puts them last.
  std::vector<bool> descending;
  std::vector<bool> negated_key;
  // kMember at the start of a path whose name could be a type ("Patient"):
  // matches the focus itself when its type has that name.
  bool may_name_type = false;
  // kFunction ofType(T) whose receiver is `Bundle.entry.resource` from the
  // focus (set by CompiledExpression::Compile): on the document's root
  // Bundle it is evaluated from fhir::Document::entry_resources().
  bool of_record_resources = false;
  // Set by FoldConstants: the node always evaluates to `constant` (its
  // literal values, de-duplicated), whatever the focus.
  bool is_constant = false;
  Collection constant;
};

}  // namespace regenpath::fhirpath

#endif  // REGENPATH_FHIRPATH_AST_H_
