#include "fhirpath/expression_parser.h"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <utility>

#include "fhir/model.h"
#include "fhirpath/functions.h"
#include "fhirpath/lexer.h"

namespace regenpath::fhirpath {

std::string_view BinaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kMultiply:
      return "*";
    case BinaryOp::kDivide:
      return "/";
    case BinaryOp::kIntegerDivide:
      return "div";
    case BinaryOp::kModulo:
      return "mod";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSubtract:
      return "-";
    case BinaryOp::kConcatenate:
      return "&";
    case BinaryOp::kUnion:
      return "|";
    case BinaryOp::kLess:
      return "<";
    case BinaryOp::kLessOrEqual:
      return "<=";
    case BinaryOp::kGreater:
      return ">";
    case BinaryOp::kGreaterOrEqual:
      return ">=";
    case BinaryOp::kEqual:
      return "=";
    case BinaryOp::kEquivalent:
      return "~";
    case BinaryOp::kNotEqual:
      return "!=";
    case BinaryOp::kNotEquivalent:
      return "!~";
    case BinaryOp::kIn:
      return "in";
    case BinaryOp::kContains:
      return "contains";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kXor:
      return "xor";
    case BinaryOp::kImplies:
      return "implies";
  }
  return "?";
}

namespace {

// Binding powers, loosest first (fhirpath.g4 lists them tightest first).
enum Precedence : int {
  kImpliesLevel = 1,
  kOrLevel,
  kAndLevel,
  kMembershipLevel,
  kEqualityLevel,
  kInequalityLevel,
  kUnionLevel,
  kTypeLevel,
  kAdditiveLevel,
  kMultiplicativeLevel,
  kPolarityLevel,
};

struct OperatorInfo {
  BinaryOp op;
  int precedence;
};

std::optional<OperatorInfo> BinaryOperator(const Token& token) {
  if (token.kind == TokenKind::kPunct) {
    const std::string& t = token.text;
    if (t == "*") return OperatorInfo{BinaryOp::kMultiply, kMultiplicativeLevel};
    if (t == "/") return OperatorInfo{BinaryOp::kDivide, kMultiplicativeLevel};
    if (t == "+") return OperatorInfo{BinaryOp::kAdd, kAdditiveLevel};
    if (t == "-") return OperatorInfo{BinaryOp::kSubtract, kAdditiveLevel};
    if (t == "&") return OperatorInfo{BinaryOp::kConcatenate, kAdditiveLevel};
    if (t == "|") return OperatorInfo{BinaryOp::kUnion, kUnionLevel};
    if (t == "<") return OperatorInfo{BinaryOp::kLess, kInequalityLevel};
    if (t == "<=") return OperatorInfo{BinaryOp::kLessOrEqual, kInequalityLevel};
    if (t == ">") return OperatorInfo{BinaryOp::kGreater, kInequalityLevel};
    if (t == ">=") return OperatorInfo{BinaryOp::kGreaterOrEqual, kInequalityLevel};
    if (t == "=") return OperatorInfo{BinaryOp::kEqual, kEqualityLevel};
    if (t == "~") return OperatorInfo{BinaryOp::kEquivalent, kEqualityLevel};
    if (t == "!=") return OperatorInfo{BinaryOp::kNotEqual, kEqualityLevel};
    if (t == "!~") return OperatorInfo{BinaryOp::kNotEquivalent, kEqualityLevel};
    return std::nullopt;
  }
  if (token.kind != TokenKind::kIdentifier) return std::nullopt;
  const std::string& t = token.text;
  if (t == "div") return OperatorInfo{BinaryOp::kIntegerDivide, kMultiplicativeLevel};
  if (t == "mod") return OperatorInfo{BinaryOp::kModulo, kMultiplicativeLevel};
  if (t == "in") return OperatorInfo{BinaryOp::kIn, kMembershipLevel};
  if (t == "contains") return OperatorInfo{BinaryOp::kContains, kMembershipLevel};
  if (t == "and") return OperatorInfo{BinaryOp::kAnd, kAndLevel};
  if (t == "or") return OperatorInfo{BinaryOp::kOr, kOrLevel};
  if (t == "xor") return OperatorInfo{BinaryOp::kXor, kOrLevel};
  if (t == "implies") return OperatorInfo{BinaryOp::kImplies, kImpliesLevel};
  return std::nullopt;
}

// Words that cannot name an element without backticks (`as`, `is`, `in`,
// `contains`, `asc`, `desc` and `sort` can).
bool IsReservedWord(std::string_view word) {
  static constexpr std::array<std::string_view, 8> kReserved = {"and", "or",   "xor",  "implies",
                                                               "div", "mod",  "true", "false"};
  for (std::string_view reserved : kReserved) {
    if (word == reserved) return true;
  }
  return false;
}

bool IsCalendarKeyword(std::string_view word) {
  static constexpr std::array<std::string_view, 16> kWords = {
      "year",  "month",  "week",  "day",  "hour",  "minute",  "second",  "millisecond",
      "years", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds"};
  for (std::string_view keyword : kWords) {
    if (word == keyword) return true;
  }
  return false;
}

bool IsSystemTypeName(std::string_view name, ValueType* type, bool* any) {
  *any = false;
  if (name == "Boolean") {
    *type = ValueType::kBoolean;
  } else if (name == "String") {
    *type = ValueType::kString;
  } else if (name == "Integer") {
    *type = ValueType::kInteger;
  } else if (name == "Long") {
    *type = ValueType::kLong;
  } else if (name == "Decimal") {
    *type = ValueType::kDecimal;
  } else if (name == "Date") {
    *type = ValueType::kDate;
  } else if (name == "DateTime") {
    *type = ValueType::kDateTime;
  } else if (name == "Time") {
    *type = ValueType::kTime;
  } else if (name == "Quantity") {
    *type = ValueType::kQuantity;
  } else if (name == "Any") {
    *type = ValueType::kNode;
    *any = true;
  } else {
    return false;
  }
  return true;
}

class ExpressionParser {
 public:
  ExpressionParser(std::string_view text, std::vector<Token> tokens) : text_(text), tokens_(std::move(tokens)) {}

  Result<std::unique_ptr<Expr>> Run() {
    RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, ParseExpression(0));
    if (Current().kind != TokenKind::kEnd) return Fail(SyntaxError(Current(), "unexpected " + Describe(Current())));
    // Left-associative chains (1+1+1..., a.b.c...) nest without recursing
    // here; the evaluator and the checker recurse, so the tree's depth is capped.
    if (size_t depth = TreeDepth(*root); depth > kMaxTreeDepth) {
      return Fail(SyntaxError(tokens_.front(), fmt::format("the expression is nested too deeply ({} levels; at most {})",
                                                           depth, kMaxTreeDepth)));
    }
    return root;
  }

  // The depth of the tree, computed without recursion.
  static size_t TreeDepth(const Expr& root) {
    size_t deepest = 0;
    std::vector<std::pair<const Expr*, size_t>> stack = {{&root, 1}};
    while (!stack.empty()) {
      auto [expr, depth] = stack.back();
      stack.pop_back();
      deepest = std::max(deepest, depth);
      if (expr->receiver != nullptr) stack.push_back({expr->receiver.get(), depth + 1});
      for (const auto& arg : expr->args) stack.push_back({arg.get(), depth + 1});
    }
    return deepest;
  }

 private:
  const Token& Current() const { return tokens_[pos_]; }
  const Token& Ahead(size_t n) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
  bool IsPunct(const Token& token, std::string_view text) const {
    return token.kind == TokenKind::kPunct && token.text == text;
  }

  static std::string Describe(const Token& token) {
    switch (token.kind) {
      case TokenKind::kEnd:
        return "end of expression";
      case TokenKind::kString:
        return "string '" + token.text + "'";
      default:
        return "'" + token.text + "'";
    }
  }

  Status SyntaxError(const Token& token, std::string_view what) const {
    return InvalidArgument(fmt::format("syntax error at {}: {}", DescribePosition(text_, token.offset), what));
  }
  Status SemanticError(size_t offset, std::string_view what) const {
    return InvalidArgument(fmt::format("semantic error at {}: {}", DescribePosition(text_, offset), what));
  }

  Status Expect(std::string_view punct) {
    if (!IsPunct(Current(), punct)) {
      return SyntaxError(Current(), fmt::format("expected '{}' but found {}", punct, Describe(Current())));
    }
    ++pos_;
    return Status();
  }

  static std::unique_ptr<Expr> MakeNode(ExprKind kind, size_t offset) {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->offset = offset;
    return expr;
  }

  Result<std::unique_ptr<Expr>> ParseExpression(int min_precedence) {
    if (++depth_ > kMaxDepth) return Fail(SyntaxError(Current(), "the expression is nested too deeply"));
    RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> left, ParseUnary());
    while (true) {
      const Token& token = Current();
      // `is` / `as` take a type name, not an expression.
      if (token.kind == TokenKind::kIdentifier && (token.text == "is" || token.text == "as") &&
          kTypeLevel >= min_precedence) {
        size_t offset = token.offset;
        bool is_as = token.text == "as";
        ++pos_;
        RP_ASSIGN_OR_RETURN(TypeSpecifier type, ParseTypeSpecifier());
        auto node = MakeNode(ExprKind::kTypeOp, offset);
        node->name = is_as ? "as" : "is";
        node->type = std::move(type);
        node->receiver = std::move(left);
        left = std::move(node);
        continue;
      }
      std::optional<OperatorInfo> op = BinaryOperator(token);
      if (!op || op->precedence < min_precedence) break;
      size_t offset = token.offset;
      ++pos_;
      RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> right, ParseExpression(op->precedence + 1));
      auto node = MakeNode(ExprKind::kBinary, offset);
      node->op = op->op;
      node->args.push_back(std::move(left));
      node->args.push_back(std::move(right));
      left = std::move(node);
    }
    --depth_;
    return left;
  }

  Result<std::unique_ptr<Expr>> ParseUnary() {
    const Token& token = Current();
    if (IsPunct(token, "+") || IsPunct(token, "-")) {
      size_t offset = token.offset;
      bool negate = token.text == "-";
      ++pos_;
      if (++depth_ > kMaxDepth) return Fail(SyntaxError(Current(), "the expression is nested too deeply"));
      RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> operand, ParseUnary());
      --depth_;
      auto node = MakeNode(ExprKind::kUnary, offset);
      node->op = negate ? BinaryOp::kSubtract : BinaryOp::kAdd;
      node->receiver = std::move(operand);
      return node;
    }
    RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> term, ParseTerm());
    return ParsePostfix(std::move(term));
  }

  Result<std::unique_ptr<Expr>> ParsePostfix(std::unique_ptr<Expr> left) {
    while (true) {
      if (IsPunct(Current(), ".")) {
        ++pos_;
        RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> invocation, ParseInvocation(/*at_start=*/false));
        invocation->receiver = std::move(left);
        left = std::move(invocation);
      } else if (IsPunct(Current(), "[")) {
        size_t offset = Current().offset;
        ++pos_;
        RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> index, ParseExpression(0));
        RP_RETURN_IF_ERROR(Expect("]"));
        auto node = MakeNode(ExprKind::kIndexer, offset);
        node->receiver = std::move(left);
        node->args.push_back(std::move(index));
        left = std::move(node);
      } else {
        return left;
      }
    }
  }

  Result<std::unique_ptr<Expr>> ParseTerm() {
    const Token& token = Current();
    switch (token.kind) {
      case TokenKind::kEnd:
        return Fail(SyntaxError(token, "the expression ends too early"));
      case TokenKind::kString: {
        auto node = MakeNode(ExprKind::kLiteral, token.offset);
        node->text = token.text;
        node->literal = Value::String(node->text);
        ++pos_;
        return node;
      }
      case TokenKind::kInteger:
      case TokenKind::kDecimal:
        return ParseNumber();
      case TokenKind::kLong: {
        auto node = MakeNode(ExprKind::kLiteral, token.offset);
        std::optional<Decimal> number = Decimal::Parse(token.text);
        std::optional<int64_t> value = number ? number->ToInt64() : std::nullopt;
        if (!value) return Fail(SyntaxError(token, "long literal out of range"));
        node->literal = Value::Long(*value);
        ++pos_;
        return node;
      }
      case TokenKind::kDate:
      case TokenKind::kDateTime:
      case TokenKind::kTime: {
        std::optional<DateTime> value = token.kind == TokenKind::kDate       ? DateTime::ParseDate(token.text)
                                        : token.kind == TokenKind::kDateTime ? DateTime::ParseDateTime(token.text)
                                                                             : DateTime::ParseTime(token.text);
        if (!value) return Fail(SyntaxError(token, fmt::format("invalid date/time literal @{}{}",
                                                               token.kind == TokenKind::kTime ? "T" : "",
                                                               token.text)));
        auto node = MakeNode(ExprKind::kLiteral, token.offset);
        node->literal = Value::Temporal(*value);
        ++pos_;
        return node;
      }
      case TokenKind::kSpecial: {
        auto node = MakeNode(token.text == "this"    ? ExprKind::kThis
                             : token.text == "index" ? ExprKind::kIndex
                                                     : ExprKind::kTotal,
                             token.offset);
        ++pos_;
        return node;
      }
      case TokenKind::kPunct:
        if (token.text == "(") {
          ++pos_;
          RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> inner, ParseExpression(0));
          RP_RETURN_IF_ERROR(Expect(")"));
          return inner;
        }
        if (token.text == "{") {
          size_t offset = token.offset;
          ++pos_;
          RP_RETURN_IF_ERROR(Expect("}"));
          return MakeNode(ExprKind::kEmpty, offset);
        }
        if (token.text == "%") {
          size_t offset = token.offset;
          ++pos_;
          const Token& name = Current();
          if (name.kind != TokenKind::kIdentifier && name.kind != TokenKind::kDelimitedIdentifier &&
              name.kind != TokenKind::kString) {
            return Fail(SyntaxError(name, "expected a variable name after %"));
          }
          auto node = MakeNode(ExprKind::kVariable, offset);
          node->name = name.text;
          ++pos_;
          return node;
        }
        return Fail(SyntaxError(token, "unexpected " + Describe(token)));
      case TokenKind::kIdentifier:
        if (token.text == "true" || token.text == "false") {
          auto node = MakeNode(ExprKind::kLiteral, token.offset);
          node->literal = Value::Boolean(token.text == "true");
          ++pos_;
          return node;
        }
        return ParseInvocation(/*at_start=*/true);
      case TokenKind::kDelimitedIdentifier:
        return ParseInvocation(/*at_start=*/true);
    }
    return Fail(SyntaxError(token, "unexpected " + Describe(token)));
  }

  Result<std::unique_ptr<Expr>> ParseNumber() {
    const Token& token = Current();
    std::optional<Decimal> number = Decimal::Parse(token.text);
    if (!number) return Fail(SyntaxError(token, "number out of range"));
    size_t offset = token.offset;
    bool is_integer = token.kind == TokenKind::kInteger;
    ++pos_;
    auto node = MakeNode(ExprKind::kLiteral, offset);
    // A quantity: a number followed by a UCUM string or a calendar keyword.
    const Token& next = Current();
    if (next.kind == TokenKind::kString ||
        (next.kind == TokenKind::kIdentifier && IsCalendarKeyword(next.text))) {
      node->text = next.text;
      node->literal = Value::Quantity(*number, node->text);
      ++pos_;
      return node;
    }
    if (is_integer) {
      std::optional<int64_t> value = number->ToInt64();
      if (!value || *value > INT32_MAX) {
        // FHIRPath Integer is 32-bit; larger whole numbers read as Long.
        if (!value) return Fail(SyntaxError(token, "integer out of range"));
        node->literal = Value::Long(*value);
      } else {
        node->literal = Value::Integer(*value);
      }
    } else {
      node->literal = Value::MakeDecimal(*number);
    }
    return node;
  }

  // identifier | function call | $this...; after '.' or at the start of a term.
  Result<std::unique_ptr<Expr>> ParseInvocation(bool at_start) {
    const Token& token = Current();
    if (token.kind == TokenKind::kSpecial) {
      auto node = MakeNode(token.text == "this"    ? ExprKind::kThis
                           : token.text == "index" ? ExprKind::kIndex
                                                   : ExprKind::kTotal,
                           token.offset);
      ++pos_;
      return node;
    }
    if (token.kind != TokenKind::kIdentifier && token.kind != TokenKind::kDelimitedIdentifier) {
      return Fail(SyntaxError(token, "expected a name but found " + Describe(token)));
    }
    const bool delimited = token.kind == TokenKind::kDelimitedIdentifier;
    std::string name = token.text;
    size_t offset = token.offset;
    ++pos_;
    if (!delimited && IsPunct(Current(), "(")) return ParseFunction(std::move(name), offset);
    // After '.', a keyword can only be a name (text.div); at the start of a
    // term it must be quoted.
    if (!delimited && at_start && IsReservedWord(name)) {
      return Fail(SyntaxError(tokens_[pos_ - 1], fmt::format("'{}' is a keyword; quote it as `{}`", name, name)));
    }
    auto node = MakeNode(ExprKind::kMember, offset);
    node->name = std::move(name);
    node->may_name_type = at_start && !node->name.empty() && node->name[0] >= 'A' && node->name[0] <= 'Z';
    return node;
  }

  Result<std::unique_ptr<Expr>> ParseFunction(std::string name, size_t offset) {
    ++pos_;  // '('
    const FunctionInfo* function = FindFunction(name);
    if (function == nullptr) return Fail(SemanticError(offset, fmt::format("unknown function '{}'", name)));
    auto node = MakeNode(ExprKind::kFunction, offset);
    node->name = std::move(name);
    node->function = function;
    if (!IsPunct(Current(), ")")) {
      while (true) {
        if (function->takes_type) {
          RP_ASSIGN_OR_RETURN(node->type, ParseTypeSpecifier());
          node->args.push_back(MakeNode(ExprKind::kEmpty, Current().offset));
        } else {
          RP_ASSIGN_OR_RETURN(std::unique_ptr<Expr> arg, ParseExpression(0));
          bool descending = false;
          bool negated = false;
          if (node->name == "sort") {
            // sort(-key) is the FHIRPath 2.0 way to say "descending".
            if (Current().kind == TokenKind::kIdentifier && (Current().text == "asc" || Current().text == "desc")) {
              descending = Current().text == "desc";
              ++pos_;
            } else if (arg->kind == ExprKind::kUnary && arg->op == BinaryOp::kSubtract) {
              descending = true;
              negated = true;
              arg = std::move(arg->receiver);
            }
            node->descending.push_back(descending);
            node->negated_key.push_back(negated);
          }
          node->args.push_back(std::move(arg));
        }
        if (IsPunct(Current(), ",")) {
          ++pos_;
          continue;
        }
        break;
      }
    }
    RP_RETURN_IF_ERROR(Expect(")"));
    int count = static_cast<int>(node->args.size());
    if (count < function->min_args || count > function->max_args) {
      std::string expected = function->min_args == function->max_args
                                 ? std::to_string(function->min_args)
                                 : fmt::format("{} to {}", function->min_args, function->max_args);
      return Fail(SemanticError(offset, fmt::format("{}() takes {} argument{}, not {}", node->name, expected,
                                                    function->max_args == 1 ? "" : "s", count)));
    }
    return node;
  }

  Result<TypeSpecifier> ParseTypeSpecifier() {
    const Token& first = Current();
    if (first.kind != TokenKind::kIdentifier && first.kind != TokenKind::kDelimitedIdentifier) {
      return Fail(SyntaxError(first, "expected a type name but found " + Describe(first)));
    }
    std::string qualifier;
    std::string name = first.text;
    size_t offset = first.offset;
    ++pos_;
    if (IsPunct(Current(), ".") &&
        (Ahead(1).kind == TokenKind::kIdentifier || Ahead(1).kind == TokenKind::kDelimitedIdentifier) &&
        (name == "System" || name == "FHIR")) {
      qualifier = std::move(name);
      name = Ahead(1).text;
      pos_ += 2;
    }
    Result<TypeSpecifier> type = ResolveTypeSpecifier(qualifier, name);
    if (!type.has_value()) return Fail(SemanticError(offset, type.error().message()));
    return type;
  }

  static constexpr int kMaxDepth = 400;
  static constexpr size_t kMaxTreeDepth = 300;

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<TypeSpecifier> ResolveTypeSpecifier(std::string_view namespace_name, std::string_view name) {
  TypeSpecifier type;
  type.namespace_name = std::string(namespace_name);
  type.name = std::string(name);
  const fhir::Model& model = fhir::Model::R4();
  ValueType system_type = ValueType::kNode;
  bool any = false;
  const bool is_system_name = IsSystemTypeName(name, &system_type, &any);
  if (namespace_name == "System") {
    // Unknown System names (System.Patient) are legal and simply never match.
    type.is_system = true;
    if (is_system_name) {
      type.system_type = system_type;
      type.matches_any = any;
    }
    return type;
  }
  type.fhir_type = model.FindType(name);
  if (namespace_name == "FHIR") {
    if (type.fhir_type == nullptr && name != "Base") return Fail(InvalidArgument(fmt::format("unknown FHIR type '{}'", name)));
    type.matches_any = name == "Base";
    return type;
  }
  if (is_system_name) {
    type.is_system = true;
    type.system_type = system_type;
    type.matches_any = any;
  }
  if (type.fhir_type == nullptr && !is_system_name) {
    return Fail(InvalidArgument(fmt::format("unknown type '{}'", name)));
  }
  return type;
}

Result<std::unique_ptr<Expr>> ParseExpression(std::string_view expression) {
  RP_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(expression));
  return ExpressionParser(expression, std::move(tokens)).Run();
}

}  // namespace regenpath::fhirpath
