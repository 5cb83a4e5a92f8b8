// Parser for lme4's formula language (specification section 3). The fixed part follows R's
// terms.formula() (src/library/stats/src/model.c: EncodeVars and the term algebra of
// `+ - : * / ^`, then terms sorted by order, stable); random terms follow lme4's
// expandDoubleVerts() and findbars()/expandSlash().
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "formula/formula_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/formula.hpp"

namespace spiral {
namespace {

using detail::join_names;

constexpr std::size_t kMaxParenthesisDepth = 200;

enum class Tok {
  Name, Number, Tilde, Plus, Minus, Star, Slash, Colon, DoubleColon, Caret, Bar, DoubleBar, In, Comma, Equals,
  LParen, RParen, End
};

struct Token {
  Tok kind;
  std::string text;     // the name (without backquotes), number or operator as written
  std::size_t offset;   // byte offset in the formula text
};

// 1-based column of a byte offset, counting UTF-8 characters.
std::size_t column_of(const std::string& text, std::size_t offset) {
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

[[noreturn]] void fail(const std::string& text, const std::string& what, std::size_t offset) {
  throw InputError("formula: " + what + " at column " + std::to_string(column_of(text, offset)) + ": " + text);
}

bool is_name_start(unsigned char c) { return std::isalpha(c) || c == '.' || c >= 0x80; }
bool is_name_char(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c >= 0x80; }

std::vector<Token> tokenize(const std::string& text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const std::size_t start = i;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '`') {
      const std::size_t close = text.find('`', i + 1);
      if (close == std::string::npos) fail(text, "unterminated backquoted name", start);
      if (close == i + 1) fail(text, "empty backquoted name", start);
      tokens.push_back({Tok::Name, text.substr(i + 1, close - i - 1), start});
      i = close + 1;
    } else if (std::isdigit(c) || (c == '.' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                                 ((text[i] == '+' || text[i] == '-') && (text[i - 1] == 'e' || text[i - 1] == 'E'))))
        ++i;
      tokens.push_back({Tok::Number, text.substr(start, i - start), start});
    } else if (c == '%') {  // R's %op% operators: only %in% has a meaning in a formula
      const std::size_t close = text.find('%', i + 1);
      const std::string op = text.substr(i, close == std::string::npos ? std::string::npos : close - i + 1);
      if (op != "%in%") fail(text, "unknown operator '" + op + "'", start);
      tokens.push_back({Tok::In, op, start});
      i = close + 1;
    } else if (is_name_start(c)) {
      while (i < text.size() && is_name_char(static_cast<unsigned char>(text[i]))) ++i;
      tokens.push_back({Tok::Name, text.substr(start, i - start), start});
    } else {
      Tok kind;
      switch (c) {
        case '~': kind = Tok::Tilde; break;
        case '+': kind = Tok::Plus; break;
        case '-': kind = Tok::Minus; break;
        case '*': kind = Tok::Star; break;
        case '/': kind = Tok::Slash; break;
        case ':': kind = Tok::Colon; break;
        case ',': kind = Tok::Comma; break;
        case '=': kind = Tok::Equals; break;
        case '^': kind = Tok::Caret; break;
        case '(': kind = Tok::LParen; break;
        case ')': kind = Tok::RParen; break;
        case '|': kind = Tok::Bar; break;
        default:
          fail(text, "unknown character '" + text.substr(i, 1) + "'", start);
      }
      ++i;
      if (kind == Tok::Bar && i < text.size() && text[i] == '|') {
        kind = Tok::DoubleBar;
        ++i;
      } else if (kind == Tok::Colon && i < text.size() && text[i] == ':') {
        kind = Tok::DoubleColon;
        ++i;
      } else if (kind == Tok::Equals && i < text.size() && text[i] == '=') {
        fail(text, "unknown operator '=='", start);
      }
      tokens.push_back({kind, text.substr(start, i - start), start});
    }
  }
  tokens.push_back({Tok::End, "", text.size()});
  return tokens;
}

// A term as the set of its variables: sorted indices into the scope's variable list.
using Bits = std::vector<int>;
using TermSet = std::vector<Bits>;

// Variables and the intercept flag of one formula: the fixed part, or the left side
// of one bar (lme4 builds each with its own terms()).
struct Scope {
  std::vector<std::string> names;  // in order of first appearance (R's "variables")
  bool intercept = true;
  bool parity = true;              // false while encoding the right side of a `-`

  int index(const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it != names.end()) return static_cast<int>(it - names.begin());
    names.push_back(name);
    return static_cast<int>(names.size()) - 1;
  }
};

struct Value {
  TermSet terms;
  bool has_random = false;  // holds a random term (only `+` may combine it)
};

Bits union_of(const Bits& a, const Bits& b) {
  Bits out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// R's TrimRepeats: drops empty terms and repeats, keeping the first.
TermSet trim_repeats(const TermSet& terms) {
  TermSet out;
  std::set<Bits> seen;
  for (const auto& t : terms) {
    if (!t.empty() && seen.insert(t).second) out.push_back(t);
  }
  return out;
}

// Crossing many variables expands exponentially (a*b*...*t has 2^20 - 1 terms); far beyond
// any model that can be fitted, the expansion stops with an error instead of running for
// minutes (R would try).
constexpr std::size_t kMaxTerms = 4096;

void check_expansion(std::size_t terms, std::size_t limit = kMaxTerms) {
  if (terms > limit) throw InputError("formula: the model expands to more than " + std::to_string(limit) + " terms");
}

// a + b for a without repeats (every TermSet here is trimmed): b's new terms appended.
TermSet plus_terms(TermSet a, const TermSet& b) {
  std::set<Bits> seen(a.begin(), a.end());
  for (const auto& t : b) {
    if (!t.empty() && seen.insert(t).second) a.push_back(t);
  }
  return a;
}

// R's InteractTerms: every left term with every right term, left varying slowest.
TermSet interact_terms(const TermSet& a, const TermSet& b) {
  check_expansion(a.size() * b.size(), kMaxTerms * 256);  // before repeats are dropped
  TermSet out;
  for (const auto& l : a) {
    for (const auto& r : b) out.push_back(union_of(l, r));
  }
  out = trim_repeats(out);
  check_expansion(out.size());
  return out;
}

TermSet cross_terms(const TermSet& a, const TermSet& b) {
  TermSet crossed = plus_terms(plus_terms(a, b), interact_terms(a, b));
  check_expansion(crossed.size());
  return crossed;
}

// R's NestTerms: a/b = a + (all variables of a):b.
TermSet nest_terms(const TermSet& a, const TermSet& b) {
  Bits all;
  for (const auto& t : a) all = union_of(all, t);
  return plus_terms(a, interact_terms(TermSet{all}, b));
}

// R's PowerTerms: a^n interacts a with itself n - 1 times.
TermSet power_terms(const TermSet& a, int n) {
  TermSet result = a;
  for (int i = 1; i < n; ++i) {
    TermSet next = interact_terms(a, result);
    if (next == result) break;  // every interaction of a's variables is already there
    result = std::move(next);
  }
  return result;
}

TermSet delete_terms(const TermSet& a, const TermSet& b) {
  TermSet out;
  for (const auto& t : a) {
    if (std::find(b.begin(), b.end(), t) == b.end()) out.push_back(t);
  }
  return out;
}

// R's SortTerms: by order (number of variables), stable.
TermSet sort_by_order(TermSet terms) {
  std::stable_sort(terms.begin(), terms.end(), [](const Bits& a, const Bits& b) { return a.size() < b.size(); });
  return terms;
}

TermList to_term_list(const Scope& scope, const TermSet& terms) {
  TermList list;
  list.intercept = scope.intercept;
  for (const auto& bits : sort_by_order(terms)) {
    Term term;
    for (int v : bits) term.variables.push_back(scope.names[static_cast<std::size_t>(v)]);
    list.terms.push_back(std::move(term));
  }
  return list;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text), tokens_(tokenize(text)) { match_parentheses(); }

  Formula parse() {
    Formula formula;
    formula.text = text_;
    Scope fixed;
    const bool has_tilde = std::any_of(tokens_.begin(), tokens_.end(), [](const Token& t) { return t.kind == Tok::Tilde; });
    if (!has_tilde) fail(text_, "missing '~'", 0);
    if (peek().kind != Tok::Tilde) {
      const Token& first = peek();
      if (first.kind == Tok::End) fail(text_, "empty formula", first.offset);
      if (first.kind != Tok::Name) fail(text_, "the response must be a column name", first.offset);
      formula.response = at_call() ? call_variable() : column_variable(take());
      if (peek().kind != Tok::Tilde) {
        if (peek().kind == Tok::End) fail(text_, "missing '~'", peek().offset);
        fail(text_, "the response must be a single column name or a call such as log(y)", first.offset);
      }
      fixed.index(formula.response);
    }
    const Token& tilde = take();  // '~'
    if (peek().kind == Tok::End) fail(text_, "empty right-hand side", tilde.offset);
    const Value rhs = sum(fixed, true);
    if (peek().kind != Tok::End) fail(text_, "unexpected '" + peek().text + "'", peek().offset);
    formula.fixed = to_term_list(fixed, rhs.terms);
    formula.random = std::move(random_);
    formula.named = std::move(columns_);
    formula.expressions = std::move(expressions_);
    formula.offsets = std::move(offsets_);
    return formula;
  }

 private:
  const std::string& text_;
  std::vector<Token> tokens_;
  std::vector<std::size_t> match_;  // per '(' token: index of its ')'
  std::vector<std::size_t> bar_;    // per '(' token: index of its top-level bar, or 0
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;  // of nested expressions, limited as parentheses are
  std::vector<RandomTerm> random_;
  std::vector<std::string> columns_;                 // R's all.vars(), in order of appearance
  std::map<std::string, Expression> expressions_;    // the calls among the variables, by label
  std::vector<Expression> offsets_;

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next(std::size_t ahead) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& take() {
    const Token& t = tokens_[pos_];
    if (t.kind != Tok::End) ++pos_;
    return t;
  }

  void note_column(const std::string& name) {
    if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) columns_.push_back(name);
  }

  // A column as a formula variable: its label is its name as R deparses it.
  std::string column_variable(const Token& t) {
    note_column(t.text);
    return detail::r_name(t.text);
  }

  bool at_call() const {
    return peek().kind == Tok::Name && (next(1).kind == Tok::LParen || next(1).kind == Tok::DoubleColon);
  }

  // A call among a formula's variables (log(x), poly(x, 2), ...): its label, with its expression kept.
  std::string call_variable() {
    Expression e = call();
    if (e.name == "offset") fail(text_, "offset() is allowed only as a term of the fixed part", tokens_[pos_ - 1].offset);
    std::string label = e.deparse();
    expressions_.emplace(label, std::move(e));
    return label;
  }

  // The functions a formula may call (specification section 3.1).
  static bool is_known_function(const std::string& name) {
    static const std::set<std::string> known = {
        "I", "factor", "as.factor", "as.numeric", "log", "log2", "log10", "log1p", "exp", "sqrt", "abs",
        "poly", "stats::poly", "scale", "ns", "bs", "splines::ns", "splines::bs", "offset"};
    return known.count(name) > 0;
  }

  struct DepthGuard {
    Parser& parser;
    explicit DepthGuard(Parser& p, std::size_t offset) : parser(p) {
      if (++parser.depth_ > kMaxParenthesisDepth)
        fail(parser.text_, "expression nested deeper than " + std::to_string(kMaxParenthesisDepth), offset);
    }
    ~DepthGuard() { --parser.depth_; }
  };

  static Expression operation(const std::string& op, std::vector<Expression> operands) {
    Expression e;
    e.kind = operands.size() == 1 ? Expression::Kind::Unary : Expression::Kind::Binary;
    e.name = op;
    e.args = std::move(operands);
    return e;
  }

  // R's arithmetic, inside I() and function arguments: + - (lowest), * /, unary -, ^ (right
  // associative, binding tighter than a unary minus on its left).
  Expression expression() {
    Expression left = multiplicative();
    while (peek().kind == Tok::Plus || peek().kind == Tok::Minus) {
      const std::string op = take().text;
      left = operation(op, {std::move(left), multiplicative()});
    }
    return left;
  }

  Expression multiplicative() {
    Expression left = unary();
    while (peek().kind == Tok::Star || peek().kind == Tok::Slash) {
      const std::string op = take().text;
      left = operation(op, {std::move(left), unary()});
    }
    return left;
  }

  Expression unary() {
    const DepthGuard guard(*this, peek().offset);
    if (peek().kind == Tok::Minus || peek().kind == Tok::Plus) {
      const std::string op = take().text;
      return operation(op, {unary()});
    }
    Expression base = atom();
    if (peek().kind != Tok::Caret) return base;
    take();
    return operation("^", {std::move(base), unary()});
  }

  Expression atom() {
    const Token& t = peek();
    Expression e;
    switch (t.kind) {
      case Tok::Number: {
        take();
        std::string digits = t.text;
        if (digits.size() > 1 && digits.back() == 'L') digits.pop_back();  // R's integer constant 2L
        char* end = nullptr;
        e.kind = Expression::Kind::Number;
        e.number = std::strtod(digits.c_str(), &end);
        if (*end != '\0') fail(text_, "invalid number '" + t.text + "'", t.offset);
        return e;
      }
      case Tok::Name:
        if (at_call()) {
          e = call();
          if (e.name == "offset") fail(text_, "offset() is allowed only as a term of the fixed part", t.offset);
          return e;
        }
        take();
        if (t.text == "TRUE" || t.text == "FALSE") {
          e.kind = Expression::Kind::Logical;
          e.number = t.text == "TRUE";
          return e;
        }
        note_column(t.text);
        e.name = t.text;
        return e;
      case Tok::LParen: {
        if (bar_[pos_] != 0) fail(text_, "a random term is not allowed here", t.offset);
        const std::size_t close = match_[pos_];
        take();
        if (pos_ == close) fail(text_, "empty parentheses", t.offset);
        e.kind = Expression::Kind::Parenthesized;
        e.args.push_back(expression());
        if (pos_ != close) fail(text_, "unexpected '" + peek().text + "'", peek().offset);
        take();
        return e;
      }
      case Tok::End: {
        const Token& before = tokens_[pos_ > 0 ? pos_ - 1 : 0];
        fail(text_, "trailing '" + before.text + "'", before.offset);
      }
      default:
        fail(text_, "unexpected '" + t.text + "'", t.offset);
    }
  }

  // name '(' [argname '='] expression (',' ...)* ')', name possibly qualified (splines::ns).
  Expression call() {
    const Token& first = take();
    Expression e;
    e.kind = Expression::Kind::Call;
    e.name = first.text;
    if (peek().kind == Tok::DoubleColon) {
      take();
      if (peek().kind != Tok::Name) fail(text_, "expected a function name after '::'", peek().offset);
      e.name += "::" + take().text;
    }
    if (!is_known_function(e.name)) fail(text_, "unknown function '" + e.name + "'", first.offset);
    if (peek().kind != Tok::LParen) fail(text_, "expected '(' after '" + e.name + "'", peek().offset);
    const std::size_t close = match_[pos_];
    if (bar_[pos_] != 0) fail(text_, "a random term is not allowed here", peek().offset);
    take();
    if (pos_ == close) fail(text_, e.name + "() needs an argument", first.offset);
    while (true) {
      std::string arg_name;
      if (peek().kind == Tok::Name && next(1).kind == Tok::Equals) {
        arg_name = take().text;
        take();
      }
      e.arg_names.push_back(std::move(arg_name));
      e.args.push_back(expression());
      if (peek().kind != Tok::Comma) break;
      take();
    }
    if (pos_ != close) fail(text_, "unexpected '" + peek().text + "' in " + e.name + "()", peek().offset);
    take();
    return e;
  }

  // Pairs parentheses and finds bars in one pass, so that parsing knows whether a
  // parenthesis opens a random term, and depth is limited before any recursion.
  void match_parentheses() {
    match_.assign(tokens_.size(), 0);
    bar_.assign(tokens_.size(), 0);
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      const Token& t = tokens_[i];
      if (t.kind == Tok::LParen) {
        open.push_back(i);
        if (open.size() > kMaxParenthesisDepth) {
          fail(text_, "parentheses nested deeper than " + std::to_string(kMaxParenthesisDepth), t.offset);
        }
      } else if (t.kind == Tok::RParen) {
        if (open.empty()) fail(text_, "unbalanced ')'", t.offset);
        match_[open.back()] = i;
        open.pop_back();
      } else if (t.kind == Tok::Bar || t.kind == Tok::DoubleBar) {
        if (open.empty()) fail(text_, "a random term must be in parentheses: '" + t.text + "'", t.offset);
        if (bar_[open.back()] != 0) fail(text_, "a second '" + t.text + "' in one random term", t.offset);
        bar_[open.back()] = i;
      }
    }
    if (!open.empty()) fail(text_, "unbalanced '('", tokens_[open.back()].offset);
  }

  // sum := ['+'|'-'] product (('+'|'-') product)*
  Value sum(Scope& scope, bool allow_random) {
    Value result;
    bool first = true;
    while (true) {
      bool minus = false;
      if (peek().kind == Tok::Plus || peek().kind == Tok::Minus) {
        const Token& op = take();
        minus = op.kind == Tok::Minus;
        if (peek().kind == Tok::End) fail(text_, "trailing '" + op.text + "'", op.offset);
      } else if (!first) {
        break;
      }
      first = false;
      const std::size_t item_offset = peek().offset;
      if (minus) {
        scope.parity = !scope.parity;
        const Value removed = product(scope, allow_random);
        scope.parity = !scope.parity;
        if (removed.has_random) fail(text_, "a random term cannot be removed", item_offset);
        result.terms = delete_terms(result.terms, removed.terms);
      } else {
        const Value added = product(scope, allow_random);
        result.terms = plus_terms(std::move(result.terms), added.terms);
        check_expansion(result.terms.size());
        result.has_random = result.has_random || added.has_random;
      }
    }
    return result;
  }

  void check_fixed(const Value& v, const Token& op) {
    if (v.has_random) fail(text_, "a random term cannot be combined with '" + op.text + "'", op.offset);
  }

  // product := nesting (('*'|'/') nesting)*
  Value product(Scope& scope, bool allow_random) {
    Value left = nesting(scope, allow_random);
    while (peek().kind == Tok::Star || peek().kind == Tok::Slash) {
      const Token& op = take();
      const Value right = nesting(scope, allow_random);
      check_fixed(left, op);
      check_fixed(right, op);
      left.terms = op.kind == Tok::Star ? cross_terms(left.terms, right.terms) : nest_terms(left.terms, right.terms);
    }
    return left;
  }

  // nesting := interaction ('%in%' interaction)*: R's InTerms, each left term with all the
  // variables of the right side.
  Value nesting(Scope& scope, bool allow_random) {
    Value left = interaction(scope, allow_random);
    while (peek().kind == Tok::In) {
      const Token& op = take();
      const Value right = interaction(scope, allow_random);
      check_fixed(left, op);
      check_fixed(right, op);
      Bits all;
      for (const auto& t : right.terms) all = union_of(all, t);
      left.terms = interact_terms(left.terms, TermSet{all});
    }
    return left;
  }

  // interaction := power (':' power)*
  Value interaction(Scope& scope, bool allow_random) {
    Value left = power(scope, allow_random);
    while (peek().kind == Tok::Colon) {
      const Token& op = take();
      const Value right = power(scope, allow_random);
      check_fixed(left, op);
      check_fixed(right, op);
      left.terms = interact_terms(left.terms, right.terms);
    }
    return left;
  }

  // power := primary ['^' integer]
  Value power(Scope& scope, bool allow_random) {
    Value base = primary(scope, allow_random);
    if (peek().kind != Tok::Caret) return base;
    const Token& op = take();
    check_fixed(base, op);
    const Token& exponent = take();
    if (exponent.kind == Tok::End) fail(text_, "trailing '^'", op.offset);
    char* end = nullptr;
    const long n = exponent.kind == Tok::Number ? std::strtol(exponent.text.c_str(), &end, 10) : 0;
    if (exponent.kind != Tok::Number || *end != '\0' || n < 1 || n > 100) {
      fail(text_, "'^' needs a whole number from 1 to 100, found '" + exponent.text + "'", exponent.offset);
    }
    base.terms = power_terms(base.terms, static_cast<int>(n));
    return base;
  }

  Value primary(Scope& scope, bool allow_random) {
    if (peek().kind == Tok::End) {
      const Token& before = tokens_[pos_ > 0 ? pos_ - 1 : 0];
      fail(text_, "trailing '" + before.text + "'", before.offset);
    }
    const Token& t = take();
    switch (t.kind) {
      case Tok::Name:
        if (t.text == "." && t.offset < text_.size() && text_[t.offset] == '.') {
          fail(text_, "'.' (all other columns) is not supported; name the columns", t.offset);
        }
        if (peek().kind == Tok::LParen || peek().kind == Tok::DoubleColon) {
          pos_ -= 1;
          if (t.text == "offset") return offset_term(allow_random);
          return Value{TermSet{Bits{scope.index(call_variable())}}, false};
        }
        return Value{TermSet{Bits{scope.index(column_variable(t))}}, false};
      case Tok::Number:
        intercept_number(scope, t);
        return Value{};
      case Tok::LParen:
        if (bar_[pos_ - 1] != 0) {
          if (!allow_random) fail(text_, "a random term is not allowed here", t.offset);
          random_term(pos_ - 1);
          return Value{TermSet{}, true};
        }
        return parenthesized(scope, allow_random);
      default:
        fail(text_, "unexpected '" + t.text + "'", t.offset);
    }
  }

  Value parenthesized(Scope& scope, bool allow_random) {
    const std::size_t close = match_[pos_ - 1];
    if (pos_ == close) fail(text_, "empty parentheses", tokens_[pos_ - 1].offset);
    Value inner = sum(scope, allow_random);
    if (pos_ != close) fail(text_, "unexpected '" + peek().text + "'", peek().offset);
    pos_ += 1;
    return inner;
  }

  // offset(x): no term; its values are added to the linear predictor (fixed part only).
  Value offset_term(bool in_fixed_part) {
    const Token& at = peek();
    if (!in_fixed_part) fail(text_, "offset() is allowed only as a term of the fixed part", at.offset);
    Expression e = call();
    if (e.args.size() != 1 || !e.arg_names[0].empty()) fail(text_, "offset() takes one argument", at.offset);
    offsets_.push_back(std::move(e.args[0]));
    return Value{};
  }

  // R's EncodeVars: `1` sets the intercept, `0` removes it (reversed inside `- ...`).
  void intercept_number(Scope& scope, const Token& t) {
    char* end = nullptr;
    const double value = std::strtod(t.text.c_str(), &end);
    if (*end != '\0' || (value != 0.0 && value != 1.0)) fail(text_, "invalid term '" + t.text + "'", t.offset);
    scope.intercept = (value == 1.0) == scope.parity;
  }

  // `( lhs | group )` or `( lhs || group )`, expanded as lme4 does.
  void random_term(std::size_t open) {
    const Token& bar = tokens_[bar_[open]];
    const std::size_t close = match_[open];
    if (pos_ == bar_[open]) fail(text_, "empty left side of '" + bar.text + "'", bar.offset);
    Scope lhs;
    const Value effects = sum(lhs, false);
    if (pos_ != bar_[open]) fail(text_, "unexpected '" + peek().text + "'", peek().offset);
    pos_ += 1;
    if (pos_ == close) fail(text_, "empty right side of '" + bar.text + "'", bar.offset);
    const std::vector<std::vector<std::string>> parts = grouping_parts();
    if (pos_ != close) fail(text_, "unexpected '" + peek().text + "' in a grouping factor", peek().offset);
    pos_ += 1;

    const TermList written = to_term_list(lhs, effects.terms);
    const bool split = bar.kind == Tok::DoubleBar;
    const std::vector<TermList> blocks = split ? split_double_bar(written) : std::vector<TermList>{written};
    const std::string lhs_text = split ? std::string() : deparse_tokens(open + 1, bar_[open]);
    for (const TermList& block : blocks) {
      for (RandomTerm& term : expand_slash(parts)) {
        term.effects = block;
        term.lhs = lhs_text;
        random_.push_back(std::move(term));
      }
    }
  }

  // R's deparse() of the expression of tokens [begin, end): backquoted names as r_name, numbers as R
  // prints them, spaces around the binary operators `+ - * / %in% |` and `=`, none around
  // `: :: ^` nor after a unary sign, ", " between arguments (R's deparse.c spacing).
  std::string deparse_tokens(std::size_t begin, std::size_t end) const {
    std::string out;
    bool operand_before = false;  // the previous token ends an operand: a sign after it is binary
    for (std::size_t i = begin; i < end; ++i) {
      const Token& t = tokens_[i];
      switch (t.kind) {
        case Tok::Name: out += text_[t.offset] == '`' ? detail::r_name(t.text) : t.text; break;  // TRUE stays bare
        case Tok::Number: out += r_number_label(std::strtod(t.text.c_str(), nullptr)); break;
        case Tok::Plus: case Tok::Minus:
          if (operand_before) out += ' ';
          out += t.text;
          if (operand_before) out += ' ';
          break;
        case Tok::Star: case Tok::Slash: case Tok::In: case Tok::Bar: case Tok::DoubleBar: case Tok::Equals:
          out += ' ';
          out += t.text;
          out += ' ';
          break;
        case Tok::Comma: out += ", "; break;
        default: out += t.text;  // ( ) : :: ^ ~
      }
      operand_before = t.kind == Tok::Name || t.kind == Tok::Number || t.kind == Tok::RParen;
    }
    return out;
  }

  // group := names ('/' names)*, names := name (':' name)*
  std::vector<std::vector<std::string>> grouping_parts() {
    std::vector<std::vector<std::string>> parts(1);
    while (true) {
      const Token& t = take();
      if (t.kind != Tok::Name) {
        if (t.kind == Tok::RParen || t.kind == Tok::End) fail(text_, "missing grouping factor name", t.offset);
        fail(text_, "a grouping factor must be a column name or 'a:b' or 'a/b', found '" + t.text + "'", t.offset);
      }
      note_column(t.text);
      parts.back().push_back(t.text);
      if (peek().kind == Tok::Colon) {
        take();
      } else if (peek().kind == Tok::Slash) {
        take();
        parts.emplace_back();
      } else {
        return parts;
      }
    }
  }

  // lme4's expandDoubleVerts: (1 + x || g) -> (1|g) + (0 + x|g), one bar per term.
  static std::vector<TermList> split_double_bar(const TermList& written) {
    std::vector<TermList> blocks;
    if (written.intercept) blocks.push_back(TermList{true, {}});
    for (const Term& term : written.terms) blocks.push_back(TermList{false, {term}});
    return blocks;
  }

  // lme4's expandSlash: a/b/c -> c:(b:a), b:a, a (innermost first).
  static std::vector<RandomTerm> expand_slash(const std::vector<std::vector<std::string>>& parts) {
    std::vector<RandomTerm> terms;
    for (std::size_t k = parts.size(); k-- > 0;) {
      RandomTerm term;
      for (std::size_t i = k + 1; i-- > 0;) {
        term.group.insert(term.group.end(), parts[i].begin(), parts[i].end());
      }
      const std::string deparsed = deparse_nested(parts, k);
      if (deparsed != join_names(term.group)) term.deparsed = deparsed;
      terms.push_back(std::move(term));
    }
    return terms;
  }

  // R's deparse of lme4's nested call `c:(b:a)` for parts[0..k].
  static std::string deparse_nested(const std::vector<std::vector<std::string>>& parts, std::size_t k) {
    std::string label = join_names(parts[0]);
    for (std::size_t i = 1; i <= k; ++i) {
      const std::string inner = i >= 2 || parts[i - 1].size() > 1 ? "(" + label + ")" : label;
      label = join_names(parts[i]) + ":" + inner;
    }
    return label;
  }
};

}  // namespace

std::string Term::label() const {
  std::string out;
  for (const auto& v : variables) out += (out.empty() ? "" : ":") + v;
  return out;
}

Expression Formula::expression_of(const std::string& label) const {
  if (const auto it = expressions.find(label); it != expressions.end()) return it->second;
  Expression column;
  column.name = label.size() > 2 && label.front() == '`' && label.back() == '`' ? label.substr(1, label.size() - 2) : label;
  return column;
}

std::string RandomTerm::group_label() const { return deparsed.empty() ? detail::join_names(group) : deparsed; }

std::vector<std::string> Formula::variables() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  const auto add_variable = [&](const std::string& label) {
    if (!label.empty() && expressions.count(label) == 0) add(expression_of(label).name);
  };
  add_variable(response);
  for (const auto& v : named) add(v);
  for (const Term& t : fixed.terms) {
    for (const auto& v : t.variables) add_variable(v);
  }
  for (const RandomTerm& r : random) {
    for (const Term& t : r.effects.terms) {
      for (const auto& v : t.variables) add_variable(v);
    }
    for (const auto& g : r.group) add(g);
  }
  return out;
}

Formula parse_formula(const std::string& text) { return Parser(text).parse(); }

Formula parse_formula(const std::string& text, bool require_response) {
  Formula formula = parse_formula(text);
  if (require_response && formula.response.empty()) {
    const std::size_t tilde = text.find('~');
    fail(text, "missing response before '~'", tilde == std::string::npos ? 0 : tilde);
  }
  return formula;
}

}  // namespace spiral
