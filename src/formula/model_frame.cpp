// The model frame of a formula over a table, as lme4's lFormula() builds it:
// model.frame(drop.unused.levels = TRUE, na.action = na.omit), the fixed-effects
// matrix of model.matrix() with treatment contrasts, and for each random term the
// model.matrix() of its left side plus its grouping factor (lme4's mkBlist()).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "formula/formula_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/formula.hpp"

namespace spiral {
namespace {

// One variable over the model rows.
struct FrameVariable {
  bool factor = false;
  bool ordered = false;             // factor: coded by polynomial contrasts (contr.poly)
  std::vector<double> numbers;      // numeric: value per model row
  std::vector<int> codes;           // factor: index into levels per model row
  std::vector<std::string> levels;  // factor: levels present among the model rows, in order
};

using Frame = std::map<std::string, FrameVariable>;

struct Design {
  Eigen::MatrixXd x;
  std::vector<std::string> names;
  std::vector<int> assign;
};

std::vector<std::string> used_variables(const Formula& formula, const FrameOptions& options) {
  std::vector<std::string> names = formula.variables();
  for (const auto& extra : options.extra_variables) {
    if (std::find(names.begin(), names.end(), extra) == names.end()) names.push_back(extra);
  }
  return names;
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

std::vector<std::size_t> complete_rows(const std::vector<std::size_t>& candidates,
                                       const std::vector<const Column*>& columns) {
  std::vector<std::size_t> rows;
  for (std::size_t row : candidates) {
    const bool complete = std::none_of(columns.begin(), columns.end(), [&](const Column* c) { return c->missing(row); });
    if (complete) rows.push_back(row);
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

// A factor restricted to the model rows, unused levels dropped (drop.unused.levels = TRUE).
FrameVariable factor_variable(const Column& column, const std::vector<std::size_t>& rows) {
  FrameVariable v;
  v.factor = true;
  v.ordered = column.ordered;
  v.codes.reserve(rows.size());
  for (std::size_t row : rows) v.codes.push_back(column.codes[row]);
  v.levels = drop_unused_levels(column.levels, v.codes);
  return v;
}

FrameVariable numeric_variable(const Column& column, const std::vector<std::size_t>& rows) {
  FrameVariable v;
  v.numbers.reserve(rows.size());
  for (std::size_t row : rows) v.numbers.push_back(column.numbers[row]);
  return v;
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
  std::size_t count() const { return variable->factor ? variable->levels.size() - first_level : 1; }
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
Design design_matrix(const TermList& list, const Frame& frame, std::size_t n, const std::string& source) {
  const auto full = indicator_coding(list, frame);
  std::vector<std::vector<VariableColumns>> term_parts(list.terms.size());
  Eigen::Index columns = list.intercept ? 1 : 0;
  for (std::size_t j = 0; j < list.terms.size(); ++j) {
    const auto& vars = list.terms[j].variables;
    Eigen::Index count = 1;
    for (std::size_t k = 0; k < vars.size(); ++k) {
      const FrameVariable& v = frame.at(vars[k]);
      require_two_levels(vars[k], v, source);
      term_parts[j].push_back({&v, detail::r_name(vars[k]), full[j][k] ? 0u : 1u});
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
  for (std::size_t j = 0; j < list.terms.size(); ++j) add_term_columns(term_parts[j], static_cast<int>(j) + 1, design, next);
  return design;
}

// --- grouping factors (lme4's factorize() and mkBlist()) ----------------------------

// A grouping variable as a factor: numbers become levels sorted numerically, labelled
// as R's as.character() (factor(); values with the same 15-digit label share a level);
// factors keep their (used) levels.
FrameVariable as_grouping_factor(const FrameVariable& v) {
  if (v.factor) return v;
  // The distinct values, sorted. A group's rows are usually adjacent (a patient's sessions),
  // so repeats of the previous row are left out before sorting and coded as it is.
  std::vector<double> values;
  for (std::size_t i = 0; i < v.numbers.size(); ++i)
    if (i == 0 || v.numbers[i] != v.numbers[i - 1]) values.push_back(v.numbers[i]);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  FrameVariable f;
  f.factor = true;
  std::vector<int> level_of_value;
  for (double value : values) {
    std::string label = r_number_label(value);
    if (f.levels.empty() || f.levels.back() != label) f.levels.push_back(std::move(label));
    level_of_value.push_back(static_cast<int>(f.levels.size()) - 1);
  }
  f.codes.reserve(v.numbers.size());
  for (std::size_t i = 0; i < v.numbers.size(); ++i) {
    if (i > 0 && v.numbers[i] == v.numbers[i - 1]) {
      f.codes.push_back(f.codes.back());
      continue;
    }
    const auto value_index = std::lower_bound(values.begin(), values.end(), v.numbers[i]) - values.begin();
    f.codes.push_back(level_of_value[static_cast<std::size_t>(value_index)]);
  }
  return f;
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

}  // namespace

ModelFrame build_model_frame(const Formula& formula, const Table& table, const FrameOptions& options) {
  const std::vector<std::string> names = used_variables(formula, options);
  std::vector<const Column*> columns;
  for (const auto& name : names) {
    columns.push_back(name == formula.response ? &table.numeric(name) : &table.column(name));
  }
  const std::vector<std::size_t> candidates = candidate_rows(table, options);

  ModelFrame mf;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const bool grouping = std::any_of(formula.random.begin(), formula.random.end(), [&](const RandomTerm& t) {
      return std::find(t.group.begin(), t.group.end(), names[i]) != t.group.end();
    });
    if (grouping) continue;
    if (auto warning = mostly_numbers_warning(*columns[i])) mf.warnings.push_back(std::move(*warning));
  }
  mf.response = formula.response;
  mf.rows = complete_rows(candidates, columns);
  mf.n_dropped = candidates.size() - mf.rows.size();
  if (mf.rows.empty()) {
    throw InputError(table.source() + ": no complete rows for '" + formula.text + "' (" +
                     std::to_string(mf.n_dropped) + " rows with a missing value)");
  }
  reject_infinite_values(table, columns, mf.rows);

  Frame frame;
  for (std::size_t i = 0; i < names.size(); ++i) {
    frame[names[i]] = columns[i]->is_factor() ? factor_variable(*columns[i], mf.rows) : numeric_variable(*columns[i], mf.rows);
  }
  const std::size_t n = mf.rows.size();
  if (!formula.response.empty()) {
    mf.y = Eigen::Map<const Eigen::VectorXd>(frame.at(formula.response).numbers.data(), static_cast<Eigen::Index>(n));
  }
  Design fixed = design_matrix(formula.fixed, frame, n, table.source());
  mf.x = std::move(fixed.x);
  mf.x_names = std::move(fixed.names);
  mf.x_assign = std::move(fixed.assign);
  for (const RandomTerm& term : formula.random) mf.random.push_back(random_block(term, frame, n, table.source()));
  return mf;
}

}  // namespace spiral
