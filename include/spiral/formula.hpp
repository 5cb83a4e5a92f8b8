// lme4-style model formulas (specification section 3) and the model frame built from them:
// fixed-effects matrix as R's model.matrix() and the random-effects design that
// lmm factors.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/table.hpp"

namespace spiral {

// An R expression inside a formula: a column, a number, a call such as `log(x)` or
// `poly(age, 2)`, or arithmetic inside `I()` and function arguments.
struct Expression {
  enum class Kind { Column, Number, Logical, Call, Unary, Binary, Parenthesized };
  Kind kind = Kind::Column;
  std::string name;                     // Column: the column; Call: the function as written ("splines::ns"); operator
  double number = 0;                    // Number; Logical: 1 = TRUE
  std::vector<Expression> args;         // Call: its arguments; Unary/Binary/Parenthesized: the operands
  std::vector<std::string> arg_names;   // Call: each argument's name ("raw" of raw = TRUE) or ""
  // As R's deparse() prints it: the variable's label in term labels and column names.
  std::string deparse() const;
};

// One term of a formula's fixed part: the interaction of its variables
// (one variable = a main effect), as a term label of R's terms(). A variable is named by its
// label: a column as R deparses it (`pre score` backquoted), a call as written in R's style.
struct Term {
  std::vector<std::string> variables;
  std::string label() const;  // "a", "a:b", "log(x):`pre score`"
  bool operator==(const Term&) const = default;
};

// Terms in R's order (by interaction order, then by appearance), plus the intercept flag.
struct TermList {
  bool intercept = true;
  std::vector<Term> terms;
};

// A random-effects term `(effects | group)`. `(x || g)` and `(1 | a/b)` are expanded
// by the parser as lme4's findbars() does: `(1|g) + (0+x|g)` and `(1|b:a) + (1|a)`
// (lme4 names the nested factor "b:a", first variable varying slowest in its levels;
// `(1|a/b/c)` gives "c:(b:a)", "b:a", "a").
struct RandomTerm {
  TermList effects;
  std::vector<std::string> group;  // `a:b` -> {"a", "b"}
  std::string deparsed;            // lme4's name when not `group` joined by ':' ("c:(b:a)"), else empty
  std::string lhs;                 // the left side as written, R's deparse ("1 + x"); empty for a `||` part
  std::string group_label() const; // "a:b"
};

struct Formula {
  std::string text;
  std::string response;            // its label; empty for a one-sided formula ("~ x1 + x2")
  TermList fixed;
  std::vector<RandomTerm> random;  // in the order written (after expansion)
  // The expression of every label that is not a plain column (the response, term variables);
  // a label absent here is the column of that name.
  std::map<std::string, Expression> expressions;
  std::vector<Expression> offsets;  // the arguments of offset() terms, added to the linear predictor
  // Every column the text uses, in order of first appearance (R's all.vars()), also those
  // of removed terms (`y ~ x + z - z`), which R's model frame keeps too.
  std::vector<std::string> named;
  // Every column used (the response's first, then `named`, then any other of the terms):
  // a row missing one of them is dropped.
  std::vector<std::string> variables() const;
  // The expression a label stands for (a column expression for a plain column's name).
  Expression expression_of(const std::string& label) const;
};

// Parses lme4's formula language. InputError "formula: <what> at column N: <text>" on failure.
Formula parse_formula(const std::string& text);
// As above; with require_response, a one-sided formula ("~ x") is an InputError too.
Formula parse_formula(const std::string& text, bool require_response);

// R's as.character() of a double (15 significant digits, fixed or scientific as R
// chooses): the label of a numeric grouping variable's level, e.g. "3.5", "1e+05".
std::string r_number_label(double x);

// The random-effects design of one RandomTerm over the model rows.
struct RandomBlock {
  std::string group;                 // "Subject", "a:b"
  std::vector<std::string> terms;    // "(Intercept)", "Days", "groupB", ... (model.matrix names)
  std::vector<std::string> levels;   // levels of the grouping factor among the model rows
  std::vector<int> level_of_row;     // per model row: index into levels
  Eigen::MatrixXd z;                 // n × terms.size(): raw covariates of the term per row
};

struct FrameRecipe;  // defined in src/formula

struct ModelFrame {
  std::string response;
  Eigen::VectorXd y;
  Eigen::MatrixXd x;                 // fixed-effects design, R's model.matrix()
  std::vector<std::string> x_names;  // R's column names
  std::vector<int> x_assign;         // per column: 0 = intercept, i = i-th term (R's "assign")
  std::vector<RandomBlock> random;   // one per RandomTerm, in formula order
  std::vector<std::size_t> rows;     // table row of each model row
  std::size_t n_dropped = 0;         // rows dropped for a missing value in a used variable
  std::vector<std::string> warnings; // e.g. a predictor read as text because of a stray value
  Eigen::VectorXd weights;           // prior weights per model row (FrameOptions::weights); empty = none
  Eigen::VectorXd offset;            // sum of the formula's offset() terms per model row; empty = none
  // How each variable was coded (levels, poly()/scale()/ns() coefficients), so that new data
  // get the same columns (R's "predvars"); used by build_new_data_frame().
  std::shared_ptr<const FrameRecipe> recipe;
};

struct FrameOptions {
  // Further variables whose missing values also drop a row (e.g. the AR(1) time column).
  std::vector<std::string> extra_variables;
  // Rows to consider (empty = all).
  std::vector<bool> row_filter;
  // Columns read as factors although they hold numbers (--factor), levels sorted as R's factor().
  std::vector<std::string> factors;
  // Reference levels (--ref COL=LEVEL, R's relevel()): the level moves first. InputError if absent.
  std::vector<std::pair<std::string, std::string>> reference_levels;
  // Column of prior weights (--weights, lmer(weights = )); a row whose weight is missing or
  // not positive is an InputError naming it.
  std::string weights;
  // Columns meant as numbers (e.g. the session number of a growth term): no warning that they
  // may be categories coded by numbers, which other numeric predictors of few distinct whole
  // values get.
  std::vector<std::string> numeric_by_design;
};

// "COL=LEVEL" of --ref as (column, level); InputError naming `option` when it is not of that form.
std::pair<std::string, std::string> parse_reference_level(const std::string& text, const std::string& option);

// Builds the model frame. InputError for unknown columns, a factor response, Inf values,
// or no complete rows; missing rows are dropped and counted in n_dropped.
ModelFrame build_model_frame(const Formula& formula, const Table& table, const FrameOptions& options = {});

// The designs of new data coded as a fitted frame codes its rows (R's predict() with the
// model's predvars: the fit's factor levels, poly()/scale()/ns() coefficients). Every row of
// newdata is kept; a row missing a variable the model needs has complete = false.
struct NewDataFrame {
  Eigen::MatrixXd x;                 // columns as the fitted frame's x_names
  Eigen::VectorXd offset;            // zeros when the formula has no offset()
  // One per fitted random block with the fitted block's terms and levels; level_of_row is -1
  // for a level the fit never saw (and for incomplete rows). Empty unless with_random.
  std::vector<RandomBlock> random;
  std::vector<bool> complete;        // per newdata row
};
// InputError naming a column newdata lacks, or a factor level of a fixed-effect variable the
// fit never saw.
NewDataFrame build_new_data_frame(const Formula& formula, const ModelFrame& fitted, const Table& newdata,
                                  bool with_random);

}  // namespace spiral
