// lmerTest's anova() for lmer fits (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw
// 82(13), sections 3.3-3.4): for each fixed-effect term the type III hypothesis (SAS's, as
// lmerTest's get_contrasts_type3 builds it for treatment contrasts) tested by an F statistic
// whose denominator df come from Satterthwaite's method for multi-df contrasts (Fai & Cornelius
// 1996, J Stat Comput Simul 54(4); lmerTest's contestMD).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>

#include <boost/math/distributions/fisher_f.hpp>

#include "formula/formula_internal.hpp"  // FrameRecipe: the levels of the frame's factors
#include "lmm/inference.hpp"
#include "lmm/satterthwaite.hpp"

namespace spiral::lmm_detail {

namespace {

// R's zapsmall(x) with its default digits = 7: every entry rounded to 7 - ceiling(log10(max |x|))
// decimal places. lmerTest rounds its contrast matrices so.
void zapsmall(Eigen::MatrixXd& m) {
  const double largest = m.size() > 0 ? m.cwiseAbs().maxCoeff() : 0.0;
  if (!(largest > 0)) return;
  const double scale = std::pow(10.0, std::max(0.0, 7 - std::ceil(std::log10(largest))));
  m = (m * scale).array().round() / scale;
}

// A variable of the fixed part: a factor (coded by its levels) or a numeric variable, whose
// columns (one; poly(), ns(), bs(): several) are told apart by the suffix of their names.
struct Variable {
  std::string label;
  bool factor = false;
  std::vector<std::string> levels;
  std::vector<std::string> suffixes;  // numeric: as seen in the model's column names
};

// One factor of a design column: a factor variable's indicator of one level, or one column of a
// numeric variable. A design column is the product of its parts (none: the intercept).
struct Part {
  int variable = 0;
  int level = 0;  // factor: level index; numeric: suffix index
};
using Product = std::vector<Part>;

std::string column_name(const std::vector<Variable>& variables, const Product& product) {
  if (product.empty()) return "(Intercept)";
  std::string name;
  for (const Part& part : product) {
    const Variable& v = variables[std::size_t(part.variable)];
    if (!name.empty()) name += ":";
    name += v.label;
    name += v.factor ? v.levels[std::size_t(part.level)] : v.suffixes[std::size_t(part.level)];
  }
  return name;
}

int suffix_index(Variable& v, const std::string& suffix) {
  const auto found = std::find(v.suffixes.begin(), v.suffixes.end(), suffix);
  if (found != v.suffixes.end()) return int(found - v.suffixes.begin());
  v.suffixes.push_back(suffix);
  return int(v.suffixes.size()) - 1;
}

// Reads a model.matrix() column name of a term with variables `term` (R names an interaction's
// column label + level or label + suffix per variable, joined by ':').
bool match_name(const std::string& name, std::size_t at, const std::vector<int>& term, std::size_t k,
                std::vector<Variable>& variables, Product& out) {
  if (k == term.size()) return at == name.size();
  if (k > 0) {
    if (at >= name.size() || name[at] != ':') return false;
    ++at;
  }
  Variable& v = variables[std::size_t(term[k])];
  if (name.compare(at, v.label.size(), v.label) != 0) return false;
  at += v.label.size();
  if (v.factor) {
    for (std::size_t level = 0; level < v.levels.size(); ++level) {
      const std::string& l = v.levels[level];
      if (name.compare(at, l.size(), l) != 0) continue;
      out.push_back({term[k], int(level)});
      if (match_name(name, at + l.size(), term, k + 1, variables, out)) return true;
      out.pop_back();
    }
    return false;
  }
  std::size_t digits_end = at;
  while (digits_end < name.size() && std::isdigit(static_cast<unsigned char>(name[digits_end]))) ++digits_end;
  for (std::size_t end = digits_end + 1; end-- > at;) {
    Product rest;
    if (!match_name(name, end, term, k + 1, variables, rest)) continue;
    out.push_back({term[k], suffix_index(v, name.substr(at, end - at))});
    out.insert(out.end(), rest.begin(), rest.end());
    return true;
  }
  return false;
}

// The fixed part of a model as products of its variables: the columns of X (all of them, the
// aliased ones too) and of lmerTest's "complete" design rdX (get_rdX: the intercept, then each
// term as model.matrix(~ 0 + term) codes it, every level of every factor).
struct Structure {
  std::vector<Variable> variables;
  std::vector<std::vector<int>> term_variables;  // per term (R's order)
  std::vector<Product> x;
  std::vector<Product> complete;
  std::vector<std::string> complete_names;
};

int variable_index(std::vector<Variable>& variables, const std::string& label, const FrameRecipe& recipe) {
  for (std::size_t i = 0; i < variables.size(); ++i)
    if (variables[i].label == label) return int(i);
  Variable v{label, false, {}, {}};
  if (const auto levels = recipe.levels.find(label); levels != recipe.levels.end()) {
    v.factor = true;
    v.levels = levels->second;
  }
  variables.push_back(std::move(v));
  return int(variables.size()) - 1;
}

// Every level of each factor of the term, each column of each numeric one; the first variable varying fastest.
std::vector<Product> complete_term(const std::vector<Variable>& variables, const std::vector<int>& term) {
  std::vector<Product> products{Product{}};
  for (int index : term) {
    const Variable& v = variables[std::size_t(index)];
    const std::size_t count = v.factor ? v.levels.size() : v.suffixes.size();
    std::vector<Product> next;
    for (std::size_t c = 0; c < count; ++c)
      for (Product p : products) {
        p.push_back({index, int(c)});
        next.push_back(std::move(p));
      }
    products = std::move(next);
  }
  return products;
}

Structure model_structure(const Formula& formula, const ModelFrame& frame) {
  if (!frame.recipe) throw AnalysisError("--anova: the model frame keeps no coding of its variables");
  Structure s;
  for (const Term& term : formula.fixed.terms) {
    std::vector<int> indices;
    for (const auto& label : term.variables) indices.push_back(variable_index(s.variables, label, *frame.recipe));
    s.term_variables.push_back(std::move(indices));
  }
  for (std::size_t c = 0; c < frame.x_names.size(); ++c) {
    const int assign = frame.x_assign[c];
    Product product;
    if (assign > 0 &&
        !match_name(frame.x_names[c], 0, s.term_variables[std::size_t(assign - 1)], 0, s.variables, product))
      throw AnalysisError("--anova: no type III contrasts for column '" + frame.x_names[c] +
                          "' (factors must be coded by treatment contrasts)");
    s.x.push_back(std::move(product));
  }
  if (formula.fixed.intercept) s.complete.push_back({});
  for (const auto& term : s.term_variables)
    for (Product& p : complete_term(s.variables, term)) s.complete.push_back(std::move(p));
  for (const Product& p : s.complete) s.complete_names.push_back(column_name(s.variables, p));
  return s;
}

// Points at which X and rdX are evaluated: every combination of the factors' levels, each with
// random values of the numeric columns, as many as the products of numeric columns that occur
// plus 2. rdX = X L' holds as an identity of the variables, so L' = X^+ rdX of lmerTest (from the
// data, get_contrasts_type3) is found from any points on which X has full column rank.
struct Points {
  std::vector<std::vector<int>> levels;     // per point: level of each variable (factors)
  std::vector<std::vector<double>> values;  // per point: value of each (variable, suffix) column
};

Points evaluation_points(const Structure& s) {
  std::vector<std::vector<Part>> monomials;
  for (const auto* products : {&s.x, &s.complete})
    for (const Product& p : *products) {
      std::vector<Part> numeric;
      for (const Part& part : p)
        if (!s.variables[std::size_t(part.variable)].factor) numeric.push_back(part);
      const bool seen = std::any_of(monomials.begin(), monomials.end(), [&](const std::vector<Part>& m) {
        return m.size() == numeric.size() && std::equal(m.begin(), m.end(), numeric.begin(), [](Part a, Part b) {
                 return a.variable == b.variable && a.level == b.level;
               });
      });
      if (!seen) monomials.push_back(std::move(numeric));
    }
  const std::size_t per_cell = monomials.size() + 2;
  constexpr std::size_t kMaxPoints = 200000;
  std::size_t cells = 1;
  for (const Variable& v : s.variables) {
    if (v.factor) cells *= v.levels.size();
    if (cells * per_cell > kMaxPoints)  // checked per factor: the product cannot overflow
      throw AnalysisError("--anova: too many combinations of factor levels for the type III contrasts (over " +
                          std::to_string(kMaxPoints / per_cell) + ")");
  }
  std::mt19937_64 random(20261207);
  Points points;
  std::vector<int> level(s.variables.size(), 0);
  for (std::size_t cell = 0; cell < cells; ++cell) {
    for (std::size_t r = 0; r < per_cell; ++r) {
      std::vector<double> values;
      for (const Variable& v : s.variables)
        for (std::size_t k = 0; k < v.suffixes.size(); ++k) values.push_back(double(random() >> 11) * 0x1p-53 * 2 - 1);
      points.levels.push_back(level);
      points.values.push_back(std::move(values));
    }
    for (std::size_t i = 0; i < s.variables.size(); ++i) {  // the next combination, the first factor fastest
      if (!s.variables[i].factor) continue;
      if (++level[i] < int(s.variables[i].levels.size())) break;
      level[i] = 0;
    }
  }
  return points;
}

Eigen::MatrixXd evaluate(const Structure& s, const std::vector<Product>& products, const Points& points) {
  std::vector<std::size_t> first_value(s.variables.size(), 0);
  for (std::size_t i = 1; i < s.variables.size(); ++i) first_value[i] = first_value[i - 1] + s.variables[i - 1].suffixes.size();
  Eigen::MatrixXd m(Eigen::Index(points.levels.size()), Eigen::Index(products.size()));
  for (std::size_t r = 0; r < points.levels.size(); ++r)
    for (std::size_t c = 0; c < products.size(); ++c) {
      double value = 1;
      for (const Part& part : products[c]) {
        const auto v = std::size_t(part.variable);
        value *= s.variables[v].factor ? double(points.levels[r][v] == part.level)
                                       : points.values[r][first_value[v] + std::size_t(part.level)];
      }
      m(Eigen::Index(r), Eigen::Index(c)) = value;
    }
  return m;
}

// lmerTest's containment(): term a is contained in term b when b has all of a's variables and
// more, and the same numeric ones (a matrix variable such as poly() counts as non-numeric there).
bool contained_in(const Structure& s, std::size_t a, std::size_t b) {
  const auto& va = s.term_variables[a];
  const auto& vb = s.term_variables[b];
  const auto has = [](const std::vector<int>& vars, int v) { return std::find(vars.begin(), vars.end(), v) != vars.end(); };
  if (vb.size() <= va.size() || !std::all_of(va.begin(), va.end(), [&](int v) { return has(vb, v); })) return false;
  const auto numeric = [&](int v) {
    const Variable& x = s.variables[std::size_t(v)];
    return !x.factor && x.suffixes.size() == 1 && x.suffixes.front().empty();
  };
  for (int v : vb)
    if (numeric(v) && !has(va, v)) return false;
  return true;
}

Eigen::MatrixXd columns_of(const Eigen::MatrixXd& m, const std::vector<int>& columns) { return m(Eigen::all, columns); }

// y minus its least-squares fit on x (R's resid(lm.fit(x, y)), pivoting at tolerance 1e-7).
Eigen::MatrixXd residuals(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
  if (x.cols() == 0) return y;
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(x);
  cod.setThreshold(1e-7);
  return y - x * cod.solve(y);
}

// The columns of X (all of them) as combinations of the kept ones on the data: A (kept x all) with
// X = X[, kept] A. A kept column is its own; a dropped (aliased) one is its least-squares fit on the
// kept columns, which is exact on the data (the rank check dropped it as their combination). The
// relation holds on the data only (I(Time/10) is a combination of the intercept and poly(Time, 2)1
// there, not as functions of separate variables), so it is found from the data.
Eigen::MatrixXd kept_combinations(const ModelFrame& frame, const std::vector<int>& kept) {
  const auto p = Eigen::Index(kept.size());
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(p, frame.x.cols());
  for (Eigen::Index i = 0; i < p; ++i) a(i, kept[std::size_t(i)]) = 1;
  if (p == frame.x.cols()) return a;
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(frame.x(Eigen::all, kept));
  for (Eigen::Index j = 0; j < frame.x.cols(); ++j)
    if (std::find(kept.begin(), kept.end(), int(j)) == kept.end()) a.col(j) = qr.solve(frame.x.col(j));
  return a;
}

// lmerTest's get_contrasts_type3 (extract_contrasts_type3): per term (R's order), the rows of its
// type III hypothesis L beta = 0 over the estimable fixed effects, L = t(ginv(X) rdX) with X the
// kept columns. rdX = X_all B holds as an identity of the variables (B from the evaluation points,
// where X_all has full column rank) and X_all = X A on the data (kept_combinations), so that
// ginv(X) rdX = A B.
std::vector<Eigen::MatrixXd> type3_contrasts(const Formula& formula, const ModelFrame& frame,
                                             const std::vector<int>& kept) {
  Structure s = model_structure(formula, frame);
  const Points points = evaluation_points(s);
  const Eigen::MatrixXd x = evaluate(s, s.x, points), complete = evaluate(s, s.complete, points);
  const Eigen::MatrixXd b = x.completeOrthogonalDecomposition().solve(complete);  // all columns x rdX
  Eigen::MatrixXd L = (kept_combinations(frame, kept) * b).transpose();            // rdX columns x kept
  zapsmall(L);

  const std::size_t terms = s.term_variables.size();
  std::vector<std::vector<int>> columns(terms);  // kept positions of each term
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const int assign = frame.x_assign[std::size_t(kept[i])];
    if (assign > 0) columns[std::size_t(assign - 1)].push_back(int(i));
  }
  // Higher-order terms first (R's order(), stable): orthogonalized against the terms containing them.
  std::vector<std::size_t> order(terms);
  for (std::size_t j = 0; j < terms; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return s.term_variables[a].size() > s.term_variables[b].size();
  });
  for (std::size_t j : order) {
    std::vector<int> containing;
    for (std::size_t b = 0; b < terms; ++b)
      if (contained_in(s, j, b)) containing.insert(containing.end(), columns[b].begin(), columns[b].end());
    if (containing.empty() || columns[j].empty()) continue;
    Eigen::MatrixXd r = residuals(columns_of(L, containing), columns_of(L, columns[j]));
    zapsmall(r);
    L(Eigen::all, columns[j]) = r;
  }
  // The rows of the model's own columns (L[colnames(X), ]), then each term's columns as rows.
  Eigen::MatrixXd square(Eigen::Index(kept.size()), L.cols());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const std::string& name = frame.x_names[std::size_t(kept[i])];
    const auto row = std::find(s.complete_names.begin(), s.complete_names.end(), name);
    if (row == s.complete_names.end()) throw AnalysisError("--anova: no type III contrasts for column '" + name + "'");
    square.row(Eigen::Index(i)) = L.row(Eigen::Index(row - s.complete_names.begin()));
  }
  std::vector<Eigen::MatrixXd> contrasts;
  for (std::size_t j = 0; j < terms; ++j) {
    Eigen::MatrixXd c = columns_of(square, columns[j]).transpose();
    std::vector<int> nonzero;
    for (Eigen::Index r = 0; r < c.rows(); ++r)
      if (c.row(r).cwiseAbs().sum() > 1e-8) nonzero.push_back(int(r));
    contrasts.push_back(c(nonzero, Eigen::all));
  }
  return contrasts;
}

// lmerTest's get_Fstat_ddf: the denominator df of an F statistic from its components' df
// (Fai & Cornelius 1996): E = sum nu_m / (nu_m - 2), ddf = 2 E / (E - q).
double f_denominator_df(const std::vector<double>& nu) {
  if (nu.size() == 1) return nu.front();
  bool equal = true;
  for (std::size_t i = 1; i < nu.size(); ++i) equal = equal && std::fabs(nu[i] - nu[i - 1]) < 1e-8;
  if (equal) {
    double sum = 0;
    for (double v : nu) sum += v;
    return sum / double(nu.size());
  }
  double e = 0;
  for (double v : nu) {
    if (v <= 2) return 2;
    e += v / (v - 2);
  }
  return 2 * e / (e - double(nu.size()));
}

// What the Satterthwaite df of any contrast need: the derivatives of the whole of
// (R_X' R_X)^-1 where the fit takes its df.
struct ContrastDf {
  Differences d;
  VarianceParameters v;
  Eigen::Index p;
  // l' M l for the p x p matrix whose entries (column by column) end the vector.
  double quadratic_form(const Eigen::VectorXd& entries, const Eigen::VectorXd& l) const {
    const Eigen::Map<const Eigen::MatrixXd> m(entries.data() + entries.size() - p * p, p, p);
    return l.dot(m * l);
  }
  double df(const Eigen::VectorXd& l) const {
    Eigen::VectorXd gradient(d.jacobian.cols());
    for (Eigen::Index k = 0; k < gradient.size(); ++k) gradient(k) = quadratic_form(d.jacobian.col(k), l);
    return contrast_df(v, quadratic_form(d.at.second, l), gradient);
  }
};

// lmerTest's contestMD (contest1D for one row): F = sum over the eigenvectors P of L V L' with
// eigenvalues d > sqrt(eps) d_1 of (P'L beta)^2 / d, divided by their number q.
// The denominator df follow the fit's t tests: Satterthwaite's (Fai & Cornelius), n - p for
// `--df residual`, none for `--df none` (lmerTest's anova(ddf = "lme4"): F without df or p).
AnovaTerm test_contrast(const std::string& term, const Eigen::MatrixXd& L, const Eigen::VectorXd& beta,
                        const Eigen::MatrixXd& vcov, const ContrastDf& satterthwaite, DfMethod method,
                        double residual_df) {
  AnovaTerm row{term, NA, NA, NA, NA};
  Eigen::MatrixXd rows = L;
  Eigen::VectorXd variances(1);
  if (L.rows() == 1) variances(0) = L.row(0).dot(vcov * L.row(0).transpose());
  else {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(L * vcov * L.transpose());
    const Eigen::VectorXd d = eig.eigenvalues().reverse();
    const Eigen::MatrixXd P = eig.eigenvectors().rowwise().reverse();
    const double tolerance = std::max(std::sqrt(DBL_EPSILON) * d(0), 0.0);
    const Eigen::Index q = (d.array() > tolerance).count();
    if (q == 0) return row;
    rows = (P.transpose() * L).topRows(q);
    variances = d.head(q);
  }
  const Eigen::Index q = rows.rows();
  std::vector<double> nu;
  double sum = 0;
  for (Eigen::Index m = 0; m < q; ++m) {
    const double estimate = rows.row(m).dot(beta);
    sum += estimate * estimate / variances(m);
    if (method == DfMethod::Satterthwaite) nu.push_back(satterthwaite.df(rows.row(m).transpose()));
  }
  row.num_df = double(q);
  row.F = sum / double(q);
  if (method == DfMethod::Satterthwaite) row.den_df = f_denominator_df(nu);
  if (method == DfMethod::Residual) row.den_df = residual_df;
  if (std::isfinite(row.F) && std::isfinite(row.den_df) && row.den_df > 0) {
    const boost::math::fisher_f f(row.num_df, row.den_df);
    row.p_value = boost::math::cdf(boost::math::complement(f, row.F));
  }
  return row;
}

}  // namespace

std::vector<AnovaTerm> type3_anova(const FittedModel& fit, const LmmOptions& options) {
  if (options.formula.empty()) throw InputError("--anova: the model has no formula");
  const Formula formula = parse_formula(options.formula, true);
  if (formula.fixed.terms.empty()) return {};  // an intercept alone or none: lmerTest's table is empty
  const std::vector<Eigen::MatrixXd> contrasts = type3_contrasts(formula, fit.frame, fit.kept);
  const Eigen::Index p = fit.model.n_fixed();
  Warnings ignored;  // the fit has warned about the Hessian already
  ContrastDf satterthwaite{satterthwaite_derivatives(fit.model, options.reml, fit.satterthwaite_params, true), {}, p};
  satterthwaite.v = variance_parameters(satterthwaite.d, options.reml ? double(fit.model.n_obs() - p) : fit.model.n_obs(), ignored);
  // beta and its covariance where the df are taken: the optimum BOBYQA found, as lme4's (the
  // fit's Newton polish can move Orthodont's F by 4e-4 where lme4 stops early on a flat ridge).
  const Eigen::VectorXd beta = fit.model.beta(fit.model.evaluate(fit.satterthwaite_params));
  const Eigen::Map<const Eigen::MatrixXd> unscaled(satterthwaite.d.at.second.data() + 1, p, p);
  const Eigen::MatrixXd vcov = satterthwaite.v.sigma * satterthwaite.v.sigma * unscaled;
  // A term left without a hypothesis (its columns all aliased and dropped) is listed last, all NA:
  // lmerTest's single_anova appends the terms contestMD gave no row.
  std::vector<AnovaTerm> table, untested;
  for (std::size_t j = 0; j < formula.fixed.terms.size(); ++j) {
    const std::string term = formula.fixed.terms[j].label();
    if (contrasts[j].rows() == 0) untested.push_back({term, NA, NA, NA, NA});
    else table.push_back(test_contrast(term, contrasts[j], beta, vcov, satterthwaite, options.df,
                                       double(fit.model.n_obs() - p)));
  }
  table.insert(table.end(), untested.begin(), untested.end());
  return table;
}

}  // namespace spiral::lmm_detail
