// The model frame of a formula over a table, as lme4's lFormula() builds it:
// model.frame(drop.unused.levels = TRUE, na.action = na.omit), the fixed-effects
// matrix of model.matrix() with treatment contrasts, and for each random term the
// model.matrix() of its left side plus its grouping factor (lme4's mkBlist()).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formula/formula_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/formula.hpp"

namespace spiral {
namespace {

// The model's variables over the model rows, by label (grouping factors by column name).
using Frame = std::map<std::string, FrameVariable>;

struct Design {
  Eigen::MatrixXd x;
  std::vector<std::string> names;
  std::vector<int> assign;
};

// The columns whose missing values drop a row: the formula's, the extra ones, the weights.
std::vector<std::string> used_columns(const Formula& formula, const FrameOptions& options) {
  std::vector<std::string> names = formula.variables();
  std::vector<std::string> extra = options.extra_variables;
  if (!options.weights.empty()) extra.push_back(options.weights);
  for (const auto& name : extra) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

void add_label(std::vector<std::string>& labels, const std::string& label) {
  if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
}

// The labels of the variables the model's matrices use: the response, then the variables of
// the fixed terms and of the random terms' effects.
std::vector<std::string> model_labels(const Formula& formula) {
  std::vector<std::string> labels;
  if (!formula.response.empty()) labels.push_back(formula.response);
  for (const Term& t : formula.fixed.terms)
    for (const auto& v : t.variables) add_label(labels, v);
  for (const RandomTerm& r : formula.random)
    for (const Term& t : r.effects.terms)
      for (const auto& v : t.variables) add_label(labels, v);
  return labels;
}

// A predictor that is a factor although most of its levels are numbers: a column of numbers
// with a stray text value (R's read.csv reads it as text too, and lme4 then fits a dummy per
// value). Said in a warning, naming the first value that is no number and its line.
std::optional<std::string> mostly_numbers_warning(const Column& column) {
  if (!column.is_factor() || column.first_non_number.empty()) return std::nullopt;
  std::size_t numbers = 0;
  for (const auto& level : column.levels) {
    char* end = nullptr;
    std::strtod(level.c_str(), &end);
    numbers += !level.empty() && end == level.c_str() + level.size();
  }
  if (numbers < 2 || 2 * numbers < column.levels.size()) return std::nullopt;
  std::string where = column.first_non_number_line > 0 ? " (line " + std::to_string(column.first_non_number_line) + ")" : "";
  return "column '" + column.name + "' enters the model as a factor of " + std::to_string(column.levels.size()) +
         " levels, " + std::to_string(numbers) + " of them numbers: its value '" + column.first_non_number + "'" + where +
         " is not a number";
}

std::vector<std::size_t> candidate_rows(const Table& table, const FrameOptions& options) {
  if (!options.row_filter.empty() && options.row_filter.size() != table.rows()) {
    throw InputError(table.source() + ": row filter has " + std::to_string(options.row_filter.size()) +
                     " entries for " + std::to_string(table.rows()) + " rows");
  }
  std::vector<std::size_t> rows;
  if (options.row_filter.empty()) {
    rows.resize(table.rows());
    std::iota(rows.begin(), rows.end(), std::size_t{0});
    return rows;
  }
  for (std::size_t i = 0; i < table.rows(); ++i) {
    if (options.row_filter[i]) rows.push_back(i);
  }
  return rows;
}

std::string where(const Table& table, std::size_t row) {
  const long line = table.line_of(row);
  if (line > 0) return table.source() + ":" + std::to_string(line);
  return table.source() + ": row " + std::to_string(row + 1);
}

void reject_infinite_values(const Table& table, const std::vector<const Column*>& columns,
                            const std::vector<std::size_t>& rows) {
  for (const Column* c : columns) {
    if (!c->is_numeric()) continue;
    for (std::size_t row : rows) {
      if (std::isinf(c->numbers[row])) {
        throw InputError(where(table, row) + ": column '" + c->name + "' has the infinite value " +
                         (c->numbers[row] > 0 ? "Inf" : "-Inf"));
      }
    }
  }
}

// A variable evaluated over the candidate rows, restricted to the model rows (positions
// `kept` among the candidates); a factor's unused levels dropped (drop.unused.levels = TRUE).
FrameVariable restrict_to(const FrameVariable& v, const std::vector<std::size_t>& kept) {
  FrameVariable out;
  out.factor = v.factor;
  out.ordered = v.ordered;
  out.suffixes = v.suffixes;
  if (v.factor) {
    for (std::size_t k : kept) out.codes.push_back(v.codes[k]);
    out.levels = v.levels;
  } else if (v.is_matrix()) {
    out.matrix.resize(static_cast<Eigen::Index>(kept.size()), v.matrix.cols());
    for (std::size_t i = 0; i < kept.size(); ++i)
      out.matrix.row(static_cast<Eigen::Index>(i)) = v.matrix.row(static_cast<Eigen::Index>(kept[i]));
  } else {
    for (std::size_t k : kept) out.numbers.push_back(v.numbers[k]);
  }
  return out;
}

void drop_unused(FrameVariable& v) {
  if (v.factor) v.levels = drop_unused_levels(v.levels, v.codes);
}

bool all_finite(const FrameVariable& v) {
  if (v.factor) return true;
  if (v.is_matrix()) return v.matrix.allFinite();
  return std::all_of(v.numbers.begin(), v.numbers.end(), [](double x) { return std::isfinite(x); });
}

// A column of whole numbers with few distinct values entering as a numeric predictor is often
// a category coded by numbers (a treatment arm 1-5): said, with the option that makes it a factor.
std::optional<std::string> number_coded_warning(const std::string& name, const FrameVariable& v) {
  constexpr std::size_t kMostLevels = 10;
  if (v.factor || v.is_matrix()) return std::nullopt;
  std::vector<double> distinct;
  for (double x : v.numbers) {
    if (x != std::floor(x)) return std::nullopt;
    if (std::find(distinct.begin(), distinct.end(), x) == distinct.end()) {
      distinct.push_back(x);
      if (distinct.size() > kMostLevels) return std::nullopt;
    }
  }
  if (distinct.size() < 3) return std::nullopt;  // a 0/1 indicator is a numeric predictor as much as a factor
  return "column '" + name + "' holds " + std::to_string(distinct.size()) +
         " distinct whole numbers and enters the model as one numeric slope; if it codes categories, "
         "--factor=" + name + " makes it a factor";
}

// --- model.matrix() ---------------------------------------------------------------

bool contains_all(const std::vector<std::string>& term, const std::vector<std::string>& subset) {
  return std::all_of(subset.begin(), subset.end(),
                     [&](const std::string& v) { return std::find(term.begin(), term.end(), v) != term.end(); });
}

// R's TermCode (stats/src/model.c): a factor in a term is coded by contrasts when the
// term without it is empty or contained in an earlier term, else by one indicator per
// level. Without an intercept, model.matrix() codes the first factor of the first
// term that has one by indicators.
std::vector<std::vector<bool>> indicator_coding(const TermList& list, const Frame& frame) {
  std::vector<std::vector<bool>> full(list.terms.size());
  for (std::size_t j = 0; j < list.terms.size(); ++j) {
    const auto& vars = list.terms[j].variables;
    full[j].assign(vars.size(), false);
    for (std::size_t k = 0; k < vars.size(); ++k) {
      if (!frame.at(vars[k]).factor) continue;
      std::vector<std::string> rest = vars;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(k));
      if (rest.empty()) continue;
      bool margin_present = false;
      for (std::size_t i = 0; i < j && !margin_present; ++i) margin_present = contains_all(list.terms[i].variables, rest);
      full[j][k] = !margin_present;
    }
  }
  if (!list.intercept) {
    for (std::size_t j = 0; j < list.terms.size(); ++j) {
      const auto& vars = list.terms[j].variables;
      const auto first_factor =
          std::find_if(vars.begin(), vars.end(), [&](const std::string& v) { return frame.at(v).factor; });
      if (first_factor != vars.end()) {
        full[j][static_cast<std::size_t>(first_factor - vars.begin())] = true;
        break;
      }
    }
  }
  return full;
}

// R's contr.poly(n) (the contrasts of an ordered factor): the orthonormal polynomials of
// degrees 1..n-1 in the scores 1..n, i.e. the Gram-Schmidt basis of the centred powers
// (stats:::make.poly: qr() of outer(scores - mean, 0:(n-1), "^"), columns scaled to norm 1,
// the degree-0 column dropped). Entry (level, degree - 1).
Eigen::MatrixXd polynomial_contrasts(std::size_t n) {
  const auto size = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd basis(size, size);
  for (Eigen::Index i = 0; i < size; ++i)
    for (Eigen::Index d = 0; d < size; ++d) basis(i, d) = std::pow(double(i) - double(size - 1) / 2, double(d));
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(basis);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(size, size);
  for (Eigen::Index d = 0; d < size; ++d)  // qr.qy(QR, diag(R)): each column signed as R's diagonal
    if (qr.matrixQR()(d, d) < 0) q.col(d) *= -1;
  return q.rightCols(size - 1);
}

// R's names of contr.poly's columns: .L, .Q, .C, then ^4, ^5, ...
std::string polynomial_name(std::size_t degree) {
  static const char* const named[] = {".L", ".Q", ".C"};
  if (degree <= 3) return named[degree - 1];
  std::string name = "^";  // (appended: GCC 12 gives a false -Wrestrict on "^" + string)
  name += std::to_string(degree);
  return name;
}

// The columns one variable contributes to a term: its value, or one column per
// treatment contrast (levels 2..L; polynomial ones of degrees 1..L-1 for an ordered factor)
// or per level (indicators).
struct VariableColumns {
  const FrameVariable* variable;
  std::string name;
  std::size_t first_level;  // 0 = indicators for every level, 1 = contrasts
  Eigen::MatrixXd polynomial = {};  // an ordered factor's contr.poly, when coded by contrasts
  std::size_t count() const {
    if (variable->is_matrix()) return variable->suffixes.size();
    return variable->factor ? variable->levels.size() - first_level : 1;
  }
};

void require_two_levels(const std::string& name, const FrameVariable& v, const std::string& source) {
  if (v.factor && v.levels.size() < 2) {
    throw InputError(source + ": factor '" + name + "' has only the level '" + v.levels.front() +
                     "' among the model rows; contrasts need 2 or more levels");
  }
}

// Columns of one term, written into x from column `next` on: first variable varying
// fastest, names joined by ':' (R's modelmatrix).
void add_term_columns(const std::vector<VariableColumns>& parts, int assign, Design& design, Eigen::Index& next) {
  const std::size_t n = static_cast<std::size_t>(design.x.rows());
  std::size_t total = 1;
  for (const auto& p : parts) total *= p.count();
  for (std::size_t c = 0; c < total; ++c) {
    auto column = design.x.col(next++);
    column.setOnes();
    std::string name;
    std::size_t rest = c;
    for (const auto& p : parts) {
      const std::size_t k = rest % p.count();
      rest /= p.count();
      if (!name.empty()) name += ':';
      if (p.polynomial.size() > 0) {
        for (std::size_t i = 0; i < n; ++i)
          column[static_cast<Eigen::Index>(i)] *= p.polynomial(p.variable->codes[i], static_cast<Eigen::Index>(k));
        name += p.name + polynomial_name(k + 1);
      } else if (p.variable->factor) {
        const int level = static_cast<int>(k + p.first_level);
        for (std::size_t i = 0; i < n; ++i) {
          if (p.variable->codes[i] != level) column[static_cast<Eigen::Index>(i)] = 0.0;
        }
        name += p.name + p.variable->levels[static_cast<std::size_t>(level)];
      } else if (p.variable->is_matrix()) {
        column.array() *= p.variable->matrix.col(static_cast<Eigen::Index>(k)).array();
        name += p.name + p.variable->suffixes[k];
      } else {
        for (std::size_t i = 0; i < n; ++i) column[static_cast<Eigen::Index>(i)] *= p.variable->numbers[i];
        name += p.name;
      }
    }
    design.names.push_back(std::move(name));
    design.assign.push_back(assign);
  }
}

// R's model.matrix() of a term list over the frame (treatment contrasts).
// The model matrix of `list`'s terms; `after_term(j)` (if given) runs once term j's columns
// are written, so that the caller may free what no later term uses.
Design design_matrix(const TermList& list, const Frame& frame, std::size_t n, const std::string& source,
                     const std::function<void(std::size_t)>& after_term = {}) {
  const auto full = indicator_coding(list, frame);
  std::vector<std::vector<VariableColumns>> term_parts(list.terms.size());
  Eigen::Index columns = list.intercept ? 1 : 0;
  for (std::size_t j = 0; j < list.terms.size(); ++j) {
    const auto& vars = list.terms[j].variables;
    Eigen::Index count = 1;
    for (std::size_t k = 0; k < vars.size(); ++k) {
      const FrameVariable& v = frame.at(vars[k]);
      require_two_levels(vars[k], v, source);
      term_parts[j].push_back({&v, vars[k], full[j][k] ? 0u : 1u});
      if (v.ordered && !full[j][k]) term_parts[j].back().polynomial = polynomial_contrasts(v.levels.size());
      count *= static_cast<Eigen::Index>(term_parts[j].back().count());
    }
    columns += count;
  }
  Design design;
  design.x.resize(static_cast<Eigen::Index>(n), columns);
  Eigen::Index next = 0;
  if (list.intercept) {
    design.x.col(next++).setOnes();
    design.names.push_back("(Intercept)");
    design.assign.push_back(0);
  }
  for (std::size_t j = 0; j < list.terms.size(); ++j) {
    add_term_columns(term_parts[j], static_cast<int>(j) + 1, design, next);
    if (after_term) after_term(j);
  }
  return design;
}

// Frees each variable of the frame once no later part of the model reads it: the response
// once y is copied, a fixed term's variables after the last term using them is written, unless
// a random term uses them too. At 10M rows the frame's copies are as large as X.
class FrameReleaser {
 public:
  FrameReleaser(const Formula& formula, Frame& frame) : frame_(frame) {
    for (const RandomTerm& term : formula.random) {
      for (const Term& t : term.effects.terms) kept_.insert(t.variables.begin(), t.variables.end());
      kept_.insert(term.group.begin(), term.group.end());
    }
    for (std::size_t j = 0; j < formula.fixed.terms.size(); ++j)
      for (const auto& label : formula.fixed.terms[j].variables) last_use_[label] = j;
    response_ = formula.response;
  }
  void response_copied() {
    if (!response_.empty() && !kept_.count(response_) && !last_use_.count(response_)) frame_.erase(response_);
  }
  void fixed_term_written(std::size_t j) {
    for (const auto& [label, last] : last_use_)
      if (last == j && !kept_.count(label)) frame_.erase(label);
  }

 private:
  Frame& frame_;
  std::set<std::string> kept_;
  std::map<std::string, std::size_t> last_use_;
  std::string response_;
};

// --- grouping factors (lme4's factorize() and mkBlist()) ----------------------------

// A grouping variable as a factor: numbers become levels sorted numerically, labelled
// as R's as.character() (factor(); values with the same 15-digit label share a level);
// factors keep their (used) levels.
FrameVariable as_grouping_factor(const FrameVariable& v) {
  return v.factor ? v : detail::numbers_as_factor(v.numbers);
}

// The grouping factor `a:b:...`: R's `:` on factors (first factor varying slowest),
// then factor() drops the combinations absent from the model rows.
void set_grouping(const RandomTerm& term, const Frame& frame, std::size_t n, RandomBlock& block) {
  std::vector<FrameVariable> factors;
  for (const auto& name : term.group) factors.push_back(as_grouping_factor(frame.at(name)));
  if (factors.size() == 1) {  // its levels are those present already
    block.levels = std::move(factors[0].levels);
    block.level_of_row = std::move(factors[0].codes);
    return;
  }
  std::map<std::vector<int>, int> index;
  std::vector<std::vector<int>> keys(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& f : factors) keys[i].push_back(f.codes[i]);
    index.emplace(keys[i], 0);
  }
  for (auto& [key, level] : index) {
    level = static_cast<int>(block.levels.size());
    std::string label;
    for (std::size_t k = 0; k < key.size(); ++k) {
      if (k > 0) label += ':';
      label += factors[k].levels[static_cast<std::size_t>(key[k])];
    }
    block.levels.push_back(std::move(label));
  }
  block.level_of_row.reserve(n);
  for (const auto& key : keys) block.level_of_row.push_back(index.at(key));
}

RandomBlock random_block(const RandomTerm& term, const Frame& frame, std::size_t n, const std::string& source) {
  RandomBlock block;
  block.group = term.group_label();
  Design z = design_matrix(term.effects, frame, n, source);
  if (z.names.empty())  // lme4 stops with "length(theta) > 0L is not TRUE"
    throw InputError("formula: the random term for '" + block.group + "' has no effects, e.g. (0 | " + block.group +
                     "); (1 | " + block.group + ") gives it an intercept");
  block.terms = std::move(z.names);
  block.z = std::move(z.x);
  set_grouping(term, frame, n, block);
  return block;
}


void warn_mostly_numbers(const Formula& formula, const std::vector<std::string>& names,
                         const std::vector<const Column*>& columns, std::vector<std::string>& warnings) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    const bool grouping = std::any_of(formula.random.begin(), formula.random.end(), [&](const RandomTerm& t) {
      return std::find(t.group.begin(), t.group.end(), names[i]) != t.group.end();
    });
    if (grouping) continue;
    if (auto warning = mostly_numbers_warning(*columns[i])) warnings.push_back(std::move(*warning));
  }
}

// The calls among the model's variables and the offsets, evaluated over the candidate rows
// (R's model.frame() evaluates them on all the data before dropping incomplete rows, so that
// poly(), scale() and ns() see every present value).
struct EvaluatedCalls {
  std::map<std::string, FrameVariable> variables;
  std::vector<FrameVariable> offsets;
};

EvaluatedCalls evaluate_calls(const Formula& formula, detail::CallEvaluator& evaluator) {
  EvaluatedCalls calls;
  for (const auto& label : model_labels(formula)) {
    const auto it = formula.expressions.find(label);
    if (it != formula.expressions.end()) calls.variables.emplace(label, evaluator.evaluate(it->second));
  }
  for (const Expression& offset : formula.offsets) {
    FrameVariable v = evaluator.evaluate(offset);
    if (v.factor || v.is_matrix()) throw InputError("formula: offset(" + offset.deparse() + ") must be one column of numbers");
    calls.offsets.push_back(std::move(v));
  }
  return calls;
}

// Positions among the candidates of the rows complete in every column and every call; rows that
// only a call makes incomplete (log of a negative number: NaN) are said in a warning.
std::vector<std::size_t> complete_positions(const std::vector<std::size_t>& candidates,
                                            const std::vector<const Column*>& columns, const EvaluatedCalls& calls,
                                            std::vector<std::string>& warnings) {
  std::vector<std::size_t> kept;
  std::map<std::string, std::size_t> not_a_number;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const std::size_t row = candidates[k];
    if (std::any_of(columns.begin(), columns.end(), [&](const Column* c) { return c->missing(row); })) continue;
    bool complete = true;
    for (const auto& [label, v] : calls.variables) {
      if (v.missing(k)) {
        ++not_a_number[label];
        complete = false;
      }
    }
    for (const FrameVariable& v : calls.offsets) complete = complete && !v.missing(k);
    if (complete) kept.push_back(k);
  }
  for (const auto& [label, count] : not_a_number) {
    warnings.push_back(label + " is not a number (NaN) in " + std::to_string(count) + " row" + (count == 1 ? "" : "s") +
                       " whose values are present; " + (count == 1 ? "it is" : "they are") + " dropped");
  }
  return kept;
}

void reject_infinite_calls(const Table& table, const std::map<std::string, FrameVariable>& frame) {
  for (const auto& [label, v] : frame) {
    if (!all_finite(v)) throw InputError(table.source() + ": " + label + " has infinite values among the model rows");
  }
}

Eigen::VectorXd prior_weights(const Table& table, const std::string& name, const std::vector<std::size_t>& rows) {
  const Column& column = table.numeric(name);
  Eigen::VectorXd w(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double x = column.numbers[rows[i]];
    if (!(x > 0) || !std::isfinite(x))
      throw InputError(where(table, rows[i]) + ": weight '" + name + "' is " + column.text(rows[i]) +
                       "; prior weights must be positive numbers");
    w[static_cast<Eigen::Index>(i)] = x;
  }
  return w;
}

// --factor and --ref must name columns of the data (a typo would leave a coded column numeric).
void check_coding_columns(const Table& table, const FrameOptions& options) {
  const auto absent = [&](std::string option, const std::string& name) {  // appended: GCC 12's false -Wrestrict
    option += ": " + table.source() + " has no column '" + name + "'";
    return InputError(option);
  };
  for (const auto& name : options.factors)
    if (!table.has(name)) throw absent(std::string("--factor ") + name, name);
  for (const auto& [name, level] : options.reference_levels)
    if (!table.has(name)) throw absent(std::string("--ref ") + name + "=" + level, name);
}

}  // namespace

ModelFrame build_model_frame(const Formula& formula, const Table& table, const FrameOptions& options) {
  check_coding_columns(table, options);
  const std::vector<std::string> names = used_columns(formula, options);
  std::vector<const Column*> columns;
  const std::string response_column = formula.expressions.count(formula.response) ? "" : formula.expression_of(formula.response).name;
  for (const auto& name : names) {
    columns.push_back(!formula.response.empty() && name == response_column ? &table.numeric(name) : &table.column(name));
  }
  if (!options.weights.empty()) {  // a missing weight is an error, not a dropped row
    const Column& w = table.numeric(options.weights);
    for (std::size_t row : candidate_rows(table, options))
      if (w.missing(row)) throw InputError(where(table, row) + ": weight '" + options.weights + "' is missing");
  }
  const std::vector<std::size_t> candidates = candidate_rows(table, options);
  auto recipe = std::make_shared<FrameRecipe>();
  recipe->options = options;

  ModelFrame mf;
  warn_mostly_numbers(formula, names, columns, mf.warnings);
  mf.response = formula.response;
  detail::CallEvaluator on_candidates(table, candidates, *recipe, false);
  const EvaluatedCalls calls = evaluate_calls(formula, on_candidates);
  const std::vector<std::size_t> kept = complete_positions(candidates, columns, calls, mf.warnings);
  for (std::size_t k : kept) mf.rows.push_back(candidates[k]);
  mf.n_dropped = candidates.size() - mf.rows.size();
  if (mf.rows.empty()) {
    throw InputError(table.source() + ": no complete rows for '" + formula.text + "' (" +
                     std::to_string(mf.n_dropped) + " rows with a missing value)");
  }
  reject_infinite_values(table, columns, mf.rows);

  Frame frame;
  detail::CallEvaluator on_rows(table, mf.rows, *recipe, false);
  for (const auto& label : model_labels(formula)) {
    const auto call = calls.variables.find(label);
    frame[label] = call != calls.variables.end() ? restrict_to(call->second, kept) : on_rows.column(formula.expression_of(label).name);
    drop_unused(frame[label]);
    if (frame[label].factor) recipe->levels[label] = frame[label].levels;
  }
  reject_infinite_calls(table, frame);
  for (const RandomTerm& term : formula.random)
    for (const auto& name : term.group)
      if (!frame.count(name)) frame[name] = on_rows.column(name);
  const std::size_t n = mf.rows.size();
  if (!formula.response.empty()) {
    const FrameVariable& y = frame.at(formula.response);
    if (y.factor || y.is_matrix()) throw InputError("formula: the response " + formula.response + " must be one column of numbers");
    mf.y = Eigen::Map<const Eigen::VectorXd>(y.numbers.data(), static_cast<Eigen::Index>(n));
  }
  for (const Term& t : formula.fixed.terms) {
    for (const auto& label : t.variables) {
      const std::string name = formula.expression_of(label).name;
      const auto& exempt = options.numeric_by_design;
      if (formula.expressions.count(label) || label == formula.response ||
          std::find(exempt.begin(), exempt.end(), name) != exempt.end())
        continue;
      if (auto warning = number_coded_warning(name, frame.at(label)))
        if (std::find(mf.warnings.begin(), mf.warnings.end(), *warning) == mf.warnings.end())
          mf.warnings.push_back(std::move(*warning));
    }
  }
  FrameReleaser releaser(formula, frame);
  releaser.response_copied();
  Design fixed = design_matrix(formula.fixed, frame, n, table.source(),
                               [&](std::size_t j) { releaser.fixed_term_written(j); });
  mf.x = std::move(fixed.x);
  mf.x_names = std::move(fixed.names);
  mf.x_assign = std::move(fixed.assign);
  for (const RandomTerm& term : formula.random) mf.random.push_back(random_block(term, frame, n, table.source()));
  if (!calls.offsets.empty()) {
    mf.offset = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n));
    for (const FrameVariable& offset : calls.offsets) {
      const FrameVariable values = restrict_to(offset, kept);
      mf.offset += Eigen::Map<const Eigen::VectorXd>(values.numbers.data(), static_cast<Eigen::Index>(n));
    }
    if (!mf.offset.allFinite()) throw InputError(table.source() + ": the offset has infinite values among the model rows");
  }
  if (!options.weights.empty()) mf.weights = prior_weights(table, options.weights, mf.rows);
  mf.recipe = std::move(recipe);
  return mf;
}

namespace {

// A factor of new data coded by the fitted levels; a level the fit never saw is an InputError
// (for fixed effects: R's "factor has new levels").
void code_by_fitted_levels(const std::string& label, const Table& newdata, const std::vector<std::string>& fitted,
                           FrameVariable& v) {
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < fitted.size(); ++i) index.emplace(fitted[i], static_cast<int>(i));
  for (std::size_t row = 0; row < v.codes.size(); ++row) {
    int& code = v.codes[row];
    if (code < 0) continue;
    const auto it = index.find(v.levels[static_cast<std::size_t>(code)]);
    if (it == index.end())
      throw InputError(where(newdata, row) + ": " + label + " has the level '" + v.levels[static_cast<std::size_t>(code)] +
                       "', which the fitted data do not have");
    code = it->second;
  }
  v.levels = fitted;
}

// The grouping factor of a random term over new data, coded by the fitted block's levels
// (-1 for a level the fit never saw or a missing value).
std::vector<int> new_levels_of_rows(const RandomTerm& term, const Table& newdata, const RandomBlock& fitted,
                                    const detail::CallEvaluator& evaluator) {
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < fitted.levels.size(); ++i) index.emplace(fitted.levels[i], static_cast<int>(i));
  std::vector<FrameVariable> factors;
  for (const auto& name : term.group) factors.push_back(as_grouping_factor(evaluator.column(name)));
  std::vector<int> levels(newdata.rows(), -1);
  for (std::size_t row = 0; row < newdata.rows(); ++row) {
    std::string label;
    bool present = true;
    for (std::size_t k = 0; k < factors.size() && present; ++k) {
      const int code = factors[k].codes[row];
      present = code >= 0;
      if (present) label += (k > 0 ? ":" : "") + factors[k].levels[static_cast<std::size_t>(code)];
    }
    if (!present) continue;
    if (const auto it = index.find(label); it != index.end()) levels[row] = it->second;
  }
  return levels;
}

}  // namespace

std::pair<std::string, std::string> parse_reference_level(const std::string& text, const std::string& option) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
    throw InputError(option + ": expected COLUMN=LEVEL, got '" + text + "'");
  return {text.substr(0, equals), text.substr(equals + 1)};
}

NewDataFrame build_new_data_frame(const Formula& formula, const ModelFrame& fitted, const Table& newdata,
                                  bool with_random) {
  if (!fitted.recipe) throw InputError("new data: the fitted model frame keeps no coding of its variables");
  FrameRecipe recipe = *fitted.recipe;
  std::vector<std::size_t> rows(newdata.rows());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  detail::CallEvaluator evaluator(newdata, rows, recipe, true);

  Formula predictors = formula;  // the response is not needed
  predictors.response.clear();
  if (!with_random) predictors.random.clear();
  Frame frame;
  NewDataFrame out;
  out.complete.assign(rows.size(), true);
  for (const auto& label : model_labels(predictors)) {
    const auto call = formula.expressions.find(label);
    FrameVariable v = call != formula.expressions.end() ? evaluator.evaluate(call->second)
                                                        : evaluator.column(formula.expression_of(label).name);
    const auto levels = recipe.levels.find(label);
    if ((levels != recipe.levels.end()) != v.factor)
      throw InputError(newdata.source() + ": " + label + " is " + (v.factor ? "a factor" : "numbers") +
                       " in the new data but " + (v.factor ? "numbers" : "a factor") + " in the fitted data");
    if (v.factor) code_by_fitted_levels(label, newdata, levels->second, v);
    for (std::size_t row = 0; row < rows.size(); ++row) out.complete[row] = out.complete[row] && !v.missing(row);
    frame[label] = std::move(v);
  }
  const auto n = rows.size();
  Design fixed = design_matrix(formula.fixed, frame, n, newdata.source());
  if (fixed.names != fitted.x_names) throw InputError(newdata.source() + ": the new data do not give the fitted model's columns");
  out.x = std::move(fixed.x);
  out.offset = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n));
  for (const Expression& offset : formula.offsets) {
    const FrameVariable v = evaluator.evaluate(offset);
    for (std::size_t row = 0; row < n; ++row) {
      out.offset[static_cast<Eigen::Index>(row)] += v.numbers[row];
      out.complete[row] = out.complete[row] && !v.missing(row);
    }
  }
  if (with_random) {
    for (std::size_t b = 0; b < formula.random.size(); ++b) {
      const RandomBlock& fitted_block = fitted.random.at(b);
      RandomBlock block;
      block.group = fitted_block.group;
      block.terms = fitted_block.terms;
      block.levels = fitted_block.levels;
      block.z = design_matrix(formula.random[b].effects, frame, n, newdata.source()).x;
      block.level_of_row = new_levels_of_rows(formula.random[b], newdata, fitted_block, evaluator);
      out.random.push_back(std::move(block));
    }
  }
  return out;
}

}  // namespace spiral
