// Parser tests. Term lists are compared with tests/reference/formula/terms.json, written
// by tests/reference/formula.R from R's terms(nobars(f)) (term.labels, intercept) and
// lme4's findbars(expandDoubleVerts(f)) with terms() of each bar's left side.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/formula.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

std::vector<std::string> labels(const TermList& list) {
  std::vector<std::string> out;
  for (const Term& t : list.terms) out.push_back(t.label());
  return out;
}

std::string error_of(const std::string& text) {
  try {
    parse_formula(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseFormula, TermsMatchR) {
  const auto reference = test::reference_json("formula/terms.json");
  ASSERT_GT(reference.size(), 30u);
  for (const auto& expected : reference) {
    const std::string text = expected["formula"];
    SCOPED_TRACE(text);
    const Formula f = parse_formula(text);
    EXPECT_EQ(f.text, text);
    EXPECT_EQ(f.response, expected["response"].get<std::string>());
    EXPECT_EQ(f.fixed.intercept, expected["intercept"].get<bool>());
    EXPECT_EQ(labels(f.fixed), expected["terms"].get<std::vector<std::string>>());
    ASSERT_EQ(f.random.size(), expected["random"].size());
    for (std::size_t i = 0; i < f.random.size(); ++i) {
      const auto& bar = expected["random"][i];
      EXPECT_EQ(f.random[i].effects.intercept, bar["intercept"].get<bool>()) << "bar " << i;
      EXPECT_EQ(labels(f.random[i].effects), bar["terms"].get<std::vector<std::string>>()) << "bar " << i;
      EXPECT_EQ(f.random[i].group_label(), bar["group"].get<std::string>()) << "bar " << i;
    }
  }
}

TEST(ParseFormula, InteractionVariablesInOrderOfFirstAppearance) {
  // R: attr(terms(y ~ b + c:a + a), "term.labels") is "b", "a", "c:a".
  const Formula f = parse_formula("y ~ b + c:a + a");
  ASSERT_EQ(f.fixed.terms.size(), 3u);
  EXPECT_EQ(f.fixed.terms[2].variables, (std::vector<std::string>{"c", "a"}));
}

TEST(ParseFormula, NestedGroupsListTheirVariables) {
  const Formula f = parse_formula("y ~ x + (1 | site/patient)");
  ASSERT_EQ(f.random.size(), 2u);
  EXPECT_EQ(f.random[0].group, (std::vector<std::string>{"patient", "site"}));
  EXPECT_EQ(f.random[1].group, (std::vector<std::string>{"site"}));
}

TEST(ParseFormula, BackquotedNamesAreColumnNames) {
  // Variables are named by their labels, as R deparses them; variables() gives the columns.
  const Formula f = parse_formula("`post score` ~ `pre score`:x + (1 | `the site`)");
  EXPECT_EQ(f.response, "`post score`");
  EXPECT_EQ(f.fixed.terms[0].variables, (std::vector<std::string>{"`pre score`", "x"}));
  EXPECT_EQ(f.fixed.terms[0].label(), "`pre score`:x");
  EXPECT_EQ(f.random[0].group_label(), "`the site`");
  EXPECT_EQ(f.variables(), (std::vector<std::string>{"post score", "pre score", "x", "the site"}));
  EXPECT_EQ(f.expression_of("`pre score`").name, "pre score");
}

TEST(ParseFormula, CallsAreVariablesLabelledAsRDeparsesThem) {
  const Formula f = parse_formula("log(y+1) ~ log(x,base=2) + I(a*2-1/b) + I(-a) + I((a-1)^2) + poly(x , 2) + ns(x,df=3):g");
  EXPECT_EQ(f.response, "log(y + 1)");
  EXPECT_EQ(labels(f.fixed), (std::vector<std::string>{"log(x, base = 2)", "I(a * 2 - 1/b)", "I(-a)", "I((a - 1)^2)",
                                                        "poly(x, 2)", "ns(x, df = 3):g"}));
  // R: all.vars() of that formula.
  EXPECT_EQ(f.variables(), (std::vector<std::string>{"y", "x", "a", "b", "g"}));
  ASSERT_EQ(f.expressions.count("poly(x, 2)"), 1u);
  EXPECT_EQ(f.expressions.at("poly(x, 2)").args.size(), 2u);
  EXPECT_EQ(parse_formula("y ~ I(1e5*x) + I(0.50*x) + I(2L*x)").fixed.terms[2].label(), "I(2 * x)");
  EXPECT_EQ(labels(parse_formula("y ~ I(1e5*x) + I(0.50*x)").fixed), (std::vector<std::string>{"I(1e+05 * x)", "I(0.5 * x)"}));
}

TEST(ParseFormula, OffsetsAreNoTerms) {
  const Formula f = parse_formula("y ~ x + offset(log(t)) + offset(z)");
  EXPECT_EQ(labels(f.fixed), (std::vector<std::string>{"x"}));
  ASSERT_EQ(f.offsets.size(), 2u);
  EXPECT_EQ(f.offsets[0].deparse(), "log(t)");
  EXPECT_EQ(f.variables(), (std::vector<std::string>{"y", "x", "t", "z"}));
}

TEST(ParseFormula, FunctionErrorsNameTheFunction) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"y ~ x + foo(z)", "formula: unknown function 'foo' at column 9: y ~ x + foo(z)"},
      {"y ~ x + log()", "formula: log() needs an argument at column 9: y ~ x + log()"},
      {"y ~ x + (1 | g) + (offset(z) | g)", "formula: offset() is allowed only as a term of the fixed part at column 20: y ~ x + (1 | g) + (offset(z) | g)"},
      {"y ~ log(offset(z))", "formula: offset() is allowed only as a term of the fixed part at column 9: y ~ log(offset(z))"},
      {"y ~ x %o% z", "formula: unknown operator '%o%' at column 7: y ~ x %o% z"},
      {"y ~ I(x == 1)", "formula: unknown operator '==' at column 9: y ~ I(x == 1)"},
      {"y ~ I(x,)", "formula: unexpected ')' at column 9: y ~ I(x,)"},
      {"y ~ stats::lm(x)", "formula: unknown function 'stats::lm' at column 5: y ~ stats::lm(x)"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(error_of(text), message) << text;
}

TEST(ParseFormula, VariablesListsEachOnceResponseFirst) {
  const Formula f = parse_formula("y ~ x*g + (1 + x | s) + (1 | s:t)");
  EXPECT_EQ(f.variables(), (std::vector<std::string>{"y", "x", "g", "s", "t"}));
  // R: all.vars(y ~ (1 | s) + z + x - z) is "y" "s" "z" "x" (model.frame keeps z).
  EXPECT_EQ(parse_formula("y ~ (1 | s) + z + x - z").variables(), (std::vector<std::string>{"y", "s", "z", "x"}));
  // A Formula built in code lists its terms' variables.
  Formula built;
  built.response = "y";
  built.fixed.terms = {Term{{"a", "b"}}};
  EXPECT_EQ(built.variables(), (std::vector<std::string>{"y", "a", "b"}));
}

TEST(ParseFormula, OneSidedFormula) {
  const Formula f = parse_formula("~ x1 + x2");
  EXPECT_TRUE(f.response.empty());
  EXPECT_EQ(labels(f.fixed), (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(error_of("~ x1"), "no error");
  EXPECT_THROW(parse_formula("~ x1", true), InputError);
  EXPECT_NO_THROW(parse_formula("y ~ x1", true));
}

TEST(ParseFormula, ErrorsNameWhatAndColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"y ~ (x + z", "formula: unbalanced '(' at column 5: y ~ (x + z"},
      {"y ~ x + z)", "formula: unbalanced ')' at column 10: y ~ x + z)"},
      {"y ~ x + (1 | g", "formula: unbalanced '(' at column 9: y ~ x + (1 | g"},
      {"y ~ x + ( | g)", "formula: empty left side of '|' at column 11: y ~ x + ( | g)"},
      {"y ~ x + (1 | )", "formula: empty right side of '|' at column 12: y ~ x + (1 | )"},
      {"y ~ x + (1 || )", "formula: empty right side of '||' at column 12: y ~ x + (1 || )"},
      {"y x", "formula: missing '~' at column 1: y x"},
      {"y ~ x +", "formula: trailing '+' at column 7: y ~ x +"},
      {"y ~ x *", "formula: trailing '*' at column 7: y ~ x *"},
      {"y ~ x:", "formula: trailing ':' at column 6: y ~ x:"},
      {"y ~", "formula: empty right-hand side at column 3: y ~"},
      {"y ~ x $ z", "formula: unknown character '$' at column 7: y ~ x $ z"},
      {"y ~ x + 2", "formula: invalid term '2' at column 9: y ~ x + 2"},
      {"y ~ x | g", "formula: a random term must be in parentheses: '|' at column 7: y ~ x | g"},
      {"y ~ x - (1 | g)", "formula: a random term cannot be removed at column 9: y ~ x - (1 | g)"},
      {"y ~ x:(1 | g)", "formula: a random term cannot be combined with ':' at column 6: y ~ x:(1 | g)"},
      {"y ~ ((1 | g) | h)", "formula: a random term is not allowed here at column 6: y ~ ((1 | g) | h)"},
      {"y ~ (1 | g | h)", "formula: a second '|' in one random term at column 12: y ~ (1 | g | h)"},
      {"y ~ (1 | log(g))", "formula: unexpected '(' in a grouping factor at column 13: y ~ (1 | log(g))"},
      {"y ~ (1 | 2)", "formula: a grouping factor must be a column name or 'a:b' or 'a/b', found '2' at column 10: y ~ (1 | 2)"},
      {"y ~ x ~ z", "formula: unexpected '~' at column 7: y ~ x ~ z"},
      {"y + z ~ x", "formula: the response must be a single column name or a call such as log(y) at column 1: y + z ~ x"},
      {"y ~ `x", "formula: unterminated backquoted name at column 5: y ~ `x"},
      {"y ~ x^z", "formula: '^' needs a whole number from 1 to 100, found 'z' at column 7: y ~ x^z"},
      {"y ~ ()", "formula: empty parentheses at column 5: y ~ ()"},
      {"", "formula: missing '~' at column 1: "},
      {"y ~ .", "formula: '.' (all other columns) is not supported; name the columns at column 5: y ~ ."},
      {"~ x1", "no error"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(error_of(text), message) << text;
  try {
    parse_formula("~ x1", true);
    ADD_FAILURE() << "a one-sided formula where a response is required";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "formula: missing response before '~' at column 1: ~ x1");
  }
}

TEST(ParseFormula, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(error_of("\xC3\xA9t\xC3\xA9 ~ x $"), "formula: unknown character '$' at column 9: \xC3\xA9t\xC3\xA9 ~ x $");
}

TEST(ParseFormula, DeepNestingIsAnErrorNotACrash) {
  const std::string ok = "y ~ " + std::string(200, '(') + "x" + std::string(200, ')');
  EXPECT_EQ(labels(parse_formula(ok).fixed), (std::vector<std::string>{"x"}));
  const std::string deep = "y ~ " + std::string(20000, '(') + "x" + std::string(20000, ')');
  EXPECT_EQ(error_of(deep).rfind("formula: parentheses nested deeper than 200 at column 205: ", 0), 0u);
}

TEST(ParseFormula, LongSumsDoNotRecurse) {
  std::string text = "y ~ x0";
  for (int i = 1; i < 20000; ++i) text += " + x" + std::to_string(i % 50);
  EXPECT_EQ(parse_formula(text).fixed.terms.size(), 50u);
}

// Crossing many variables expands exponentially: found by fuzz_formula, a 20-variable
// product ran for 18 s. Beyond 4096 terms it is an error, at once; large but reachable
// expansions and high powers (which saturate) still parse.
TEST(ParseFormula, ExponentialExpansionIsAnErrorNotAHang) {
  std::string crossed = "y ~ v0";
  for (int i = 1; i < 20; ++i) crossed += "*v" + std::to_string(i);
  EXPECT_EQ(error_of(crossed), "formula: the model expands to more than 4096 terms");
  std::string ten = "y ~ v0";
  for (int i = 1; i < 10; ++i) ten += "*v" + std::to_string(i);
  EXPECT_EQ(parse_formula(ten).fixed.terms.size(), 1023u);
  EXPECT_EQ(labels(parse_formula("y ~ (a + b)^100").fixed), (std::vector<std::string>{"a", "b", "a:b"}));
}

// Random texts over the formula alphabet: each parses or throws InputError, never
// anything else (the sanitizer build also catches overflows and undefined behaviour).
TEST(ParseFormula, RandomTextParsesOrThrowsInputError) {
  const std::string alphabet = "y~x+-*/:^()|01 `ab.g2$";
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), length(0, 24);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (std::size_t n = length(rng); n > 0; --n) text += alphabet[pick(rng)];
    try {
      parse_formula(text);
      ++parsed;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("formula: ", 0), 0u) << text;
    } catch (...) {
      ADD_FAILURE() << "not an InputError: " << text;
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace spiral
