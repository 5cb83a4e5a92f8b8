// R's deparse() of formula expressions and the evaluation of the calls a formula may hold
// (specification section 3.1): arithmetic (I(), function arguments), log/exp/sqrt/abs/log1p,
// factor()/as.numeric(), poly() (stats::poly: orthogonal polynomials by the three-term
// recurrence of its "coefs" attribute), scale(), and the B-spline bases splines::bs() and
// splines::ns() (de Boor 1978, "A Practical Guide to Splines", ch. IX-X: the Cox-de Boor
// recurrence and its derivative; ns() projects the cubic basis onto the splines whose second
// derivative vanishes at the boundary knots, as R's ns() does with the QR of those constraints).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "formula/formula_internal.hpp"
#include "spiral/error.hpp"

namespace spiral {

std::string Expression::deparse() const {
  switch (kind) {
    case Kind::Column:
      return detail::r_name(name);
    case Kind::Number:
      return r_number_label(number);
    case Kind::Logical:
      return number != 0 ? "TRUE" : "FALSE";
    case Kind::Parenthesized: {
      std::string out = "(";  // (appended: GCC 12 gives a false -Wrestrict on "(" + string)
      out += args[0].deparse();
      return out + ")";
    }
    case Kind::Unary:
      return name + args[0].deparse();
    case Kind::Binary: {
      const bool spaced = name != "/" && name != "^";  // R: a + b, a * b, but a/b, a^b
      return args[0].deparse() + (spaced ? " " + name + " " : name) + args[1].deparse();
    }
    case Kind::Call: {
      std::string out = name + "(";
      for (std::size_t i = 0; i < args.size(); ++i) {
        if (i > 0) out += ", ";
        if (!arg_names[i].empty()) out += arg_names[i] + " = ";
        out += args[i].deparse();
      }
      return out + ")";
    }
  }
  return {};
}

bool FrameVariable::missing(std::size_t row) const {
  if (factor) return codes[row] < 0;
  if (is_matrix()) return matrix.row(static_cast<Eigen::Index>(row)).hasNaN();
  return is_na(numbers[row]);
}

namespace detail {
namespace {

[[noreturn]] void call_error(const Expression& e, const std::string& what) {
  throw InputError("formula: " + e.deparse() + ": " + what);
}

// The arguments of a call bound to its parameters as R matches them (exact names, then the
// unnamed ones in order); an absent one is null. InputError for an unknown or extra argument.
std::vector<const Expression*> bind_arguments(const Expression& e, const std::vector<std::string>& parameters) {
  std::vector<const Expression*> bound(parameters.size(), nullptr);
  for (std::size_t i = 0; i < e.args.size(); ++i) {
    if (e.arg_names[i].empty()) continue;
    const auto it = std::find(parameters.begin(), parameters.end(), e.arg_names[i]);
    if (it == parameters.end()) call_error(e, "unknown argument '" + e.arg_names[i] + "'");
    bound[static_cast<std::size_t>(it - parameters.begin())] = &e.args[i];
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < e.args.size(); ++i) {
    if (!e.arg_names[i].empty()) continue;
    while (next < bound.size() && bound[next] != nullptr) ++next;
    if (next == bound.size()) call_error(e, "too many arguments");
    bound[next++] = &e.args[i];
  }
  if (bound[0] == nullptr) call_error(e, "missing argument '" + parameters[0] + "'");
  return bound;
}

// A constant argument (a number, TRUE/FALSE, or a negated number).
double constant(const Expression& call, const Expression* arg, double otherwise, const std::string& what) {
  if (arg == nullptr) return otherwise;
  if (arg->kind == Expression::Kind::Number || arg->kind == Expression::Kind::Logical) return arg->number;
  if (arg->kind == Expression::Kind::Unary && arg->name == "-" && arg->args[0].kind == Expression::Kind::Number)
    return -arg->args[0].number;
  if (arg->kind == Expression::Kind::Parenthesized) return constant(call, &arg->args[0], otherwise, what);
  call_error(call, what + " must be a constant");
}

bool logical_argument(const Expression& call, const Expression* arg, bool otherwise, const std::string& what) {
  if (arg != nullptr && arg->kind != Expression::Kind::Logical) call_error(call, what + " must be TRUE or FALSE");
  return constant(call, arg, otherwise, what) != 0;
}

int whole_argument(const Expression& call, const Expression* arg, int otherwise, int lowest, const std::string& what) {
  const double x = constant(call, arg, otherwise, what);
  if (x != std::floor(x) || x < lowest || x > 100)
    call_error(call, what + " must be a whole number from " + std::to_string(lowest) + " to 100");
  return static_cast<int>(x);
}

FrameVariable numeric_of(std::vector<double> numbers) {
  FrameVariable v;
  v.numbers = std::move(numbers);
  return v;
}

std::vector<std::string> numbered_suffixes(Eigen::Index count) {
  std::vector<std::string> out;
  for (Eigen::Index j = 1; j <= count; ++j) out.push_back(std::to_string(j));
  return out;
}

FrameVariable matrix_of(Eigen::MatrixXd m) {
  FrameVariable v;
  v.suffixes = numbered_suffixes(m.cols());
  v.matrix = std::move(m);
  return v;
}

std::vector<double> present_values(const std::vector<double>& x) {
  std::vector<double> out;
  for (double v : x)
    if (!is_na(v)) out.push_back(v);
  return out;
}

// R's quantile(x, p, type = 7) of sorted values.
double quantile7(const std::vector<double>& sorted, double p) {
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const auto low = static_cast<std::size_t>(std::floor(h));
  if (low + 1 >= sorted.size()) return sorted.back();
  return sorted[low] + (h - static_cast<double>(low)) * (sorted[low + 1] - sorted[low]);
}

// --- B-splines -------------------------------------------------------------------------------

// The d-th derivative of every B-spline of order `order` on `knots` at x (R's
// splineDesign(knots, x, order, derivs = d)): Cox-de Boor's recurrence up to order - d, then
// d steps of the derivative recurrence B'_{i,r} = (r-1) (B_{i,r-1} / (t_{i+r-1} - t_i) -
// B_{i+1,r-1} / (t_{i+r} - t_{i+1})). x on the last knot belongs to the last interval.
Eigen::RowVectorXd bspline_row(const std::vector<double>& t, int order, double x, int d) {
  const int n_knots = static_cast<int>(t.size());
  std::vector<double> b(static_cast<std::size_t>(n_knots - 1), 0.0);
  int interval = -1;
  for (int i = 0; i + 1 < n_knots; ++i)
    if (t[i] <= x && x < t[i + 1]) interval = i;
  if (interval < 0 && x == t.back())  // right end: the last interval of positive length
    for (int i = n_knots - 2; i >= 0 && interval < 0; --i)
      if (t[i] < t[i + 1]) interval = i;
  if (interval >= 0) b[static_cast<std::size_t>(interval)] = 1.0;
  const auto ratio = [](double num, double den) { return den > 0 ? num / den : 0.0; };
  for (int r = 2; r <= order - d; ++r) {
    for (int i = 0; i + r < n_knots; ++i) {
      b[i] = ratio(x - t[i], t[i + r - 1] - t[i]) * b[i] + ratio(t[i + r] - x, t[i + r] - t[i + 1]) * b[i + 1];
    }
  }
  for (int r = order - d + 1; r <= order; ++r) {
    for (int i = 0; i + r < n_knots; ++i) {
      b[i] = (r - 1) * (ratio(b[i], t[i + r - 1] - t[i]) - ratio(b[i + 1], t[i + r] - t[i + 1]));
    }
  }
  Eigen::RowVectorXd row(n_knots - order);
  for (int i = 0; i < n_knots - order; ++i) row[i] = b[static_cast<std::size_t>(i)];
  return row;
}

struct SplineKind {
  bool natural;  // ns() (order 4), else bs() of `degree`
  int degree;
};

std::vector<double> all_knots(const SplineKnots& k, int order) {
  std::vector<double> t(static_cast<std::size_t>(order), k.lower);
  t.insert(t.end(), k.interior.begin(), k.interior.end());
  t.insert(t.end(), static_cast<std::size_t>(order), k.upper);
  std::sort(t.begin(), t.end());
  return t;
}

// One row of the basis before the intercept column is dropped. Outside the boundary knots ns()
// continues linearly and bs() by its Taylor polynomial at a pivot a quarter of the way to the
// first inner knot, as R's ns() and bs() (R >= 3.2.3) do for new data.
Eigen::RowVectorXd spline_row(const std::vector<double>& t, const SplineKnots& k, SplineKind kind, double x) {
  const int order = kind.degree + 1;
  if (x >= k.lower && x <= k.upper) return bspline_row(t, order, x, 0);
  const bool below = x < k.lower;
  if (kind.natural) {
    const double pivot = below ? k.lower : k.upper;
    return bspline_row(t, order, pivot, 0) + (x - pivot) * bspline_row(t, order, pivot, 1);
  }
  const double e = 0.25;
  const double pivot = below ? (1 - e) * k.lower + e * t[static_cast<std::size_t>(order)]
                             : (1 - e) * k.upper + e * t[t.size() - static_cast<std::size_t>(order) - 1];
  Eigen::RowVectorXd row = Eigen::RowVectorXd::Zero(static_cast<Eigen::Index>(t.size()) - order);
  double factorial = 1;
  for (int d = 0; d <= kind.degree; ++d) {
    if (d > 0) factorial *= d;
    row += std::pow(x - pivot, d) / factorial * bspline_row(t, order, pivot, d);
  }
  return row;
}

Eigen::MatrixXd spline_basis(const std::vector<double>& x, const SplineKnots& k, SplineKind kind) {
  const int order = kind.degree + 1;
  const std::vector<double> t = all_knots(k, order);
  const auto n = static_cast<Eigen::Index>(x.size());
  const Eigen::Index width = static_cast<Eigen::Index>(t.size()) - order - 1;  // intercept column dropped
  Eigen::MatrixXd basis(n, width);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (is_na(x[static_cast<std::size_t>(i)])) {
      basis.row(i).setConstant(NA);
    } else {
      basis.row(i) = spline_row(t, k, kind, x[static_cast<std::size_t>(i)]).tail(width);
    }
  }
  if (!kind.natural) return basis;
  // ns(): the constraints are the second derivatives at both boundary knots; the basis is
  // multiplied by the columns of the QR's Q beyond the constraints' span (qr.qty in R).
  Eigen::MatrixXd constraints(width, 2);
  constraints.col(0) = bspline_row(t, order, k.lower, 2).tail(width).transpose();
  constraints.col(1) = bspline_row(t, order, k.upper, 2).tail(width).transpose();
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(constraints);
  const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(width, width);
  return basis * q.rightCols(width - 2);
}

}  // namespace

FrameVariable numbers_as_factor(const std::vector<double>& numbers) {
  // The distinct values, sorted. A group's rows are usually adjacent (a patient's sessions),
  // so repeats of the previous row are left out before sorting and coded as it is.
  std::vector<double> values;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    if (!is_na(numbers[i]) && (i == 0 || numbers[i] != numbers[i - 1])) values.push_back(numbers[i]);
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
  f.codes.reserve(numbers.size());
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (is_na(numbers[i])) {
      f.codes.push_back(-1);
    } else if (i > 0 && numbers[i] == numbers[i - 1]) {
      f.codes.push_back(f.codes.back());
    } else {
      const auto value_index = std::lower_bound(values.begin(), values.end(), numbers[i]) - values.begin();
      f.codes.push_back(level_of_value[static_cast<std::size_t>(value_index)]);
    }
  }
  return f;
}

CallEvaluator::CallEvaluator(const Table& table, const std::vector<std::size_t>& rows, FrameRecipe& recipe, bool new_data)
    : table_(table), rows_(rows), recipe_(recipe), new_data_(new_data) {}

FrameVariable CallEvaluator::column(const std::string& name) const {
  const Column& c = table_.column(name);
  const auto& factors = recipe_.options.factors;
  FrameVariable v;
  if (c.is_factor()) {
    v.factor = true;
    v.ordered = c.ordered;
    v.levels = c.levels;
    v.codes.reserve(rows_.size());
    for (std::size_t row : rows_) v.codes.push_back(c.codes[row]);
  } else {
    v.numbers.reserve(rows_.size());
    for (std::size_t row : rows_) v.numbers.push_back(c.numbers[row]);
    if (std::find(factors.begin(), factors.end(), name) != factors.end()) v = numbers_as_factor(v.numbers);
  }
  for (const auto& [column_name, level] : recipe_.options.reference_levels) {
    if (column_name != name || new_data_) continue;  // new data are coded by the fitted levels' names
    if (!v.factor) throw InputError("--ref " + name + "=" + level + ": column '" + name + "' is not a factor (--factor=" + name + " reads it as one)");
    const auto it = std::find(v.levels.begin(), v.levels.end(), level);
    if (it == v.levels.end()) {
      std::string list;
      for (const auto& l : v.levels) list += (list.empty() ? "" : ", ") + l;
      throw InputError("--ref " + name + "=" + level + ": column '" + name + "' has no level '" + level + "' (its levels: " + list + ")");
    }
    const int reference = static_cast<int>(it - v.levels.begin());
    std::rotate(v.levels.begin(), it, it + 1);  // R's relevel(): the level first, the others in order
    for (int& code : v.codes)
      if (code >= 0) code = code == reference ? 0 : code + (code < reference ? 1 : 0);
  }
  return v;
}

FrameVariable CallEvaluator::evaluate(const Expression& e) {
  switch (e.kind) {
    case Expression::Kind::Column:
      return column(e.name);
    case Expression::Kind::Number:
      return numeric_of(std::vector<double>(rows_.size(), e.number));
    case Expression::Kind::Logical:
      call_error(e, "TRUE and FALSE are only argument values here");
    case Expression::Kind::Parenthesized:
      return evaluate(e.args[0]);
    case Expression::Kind::Unary:
    case Expression::Kind::Binary:
      return arithmetic(e);
    case Expression::Kind::Call:
      return call(e);
  }
  return {};
}

FrameVariable CallEvaluator::numeric(const Expression& e) {
  FrameVariable v = evaluate(e);
  if (v.factor) call_error(e, "is a factor, not numbers");
  if (v.is_matrix()) call_error(e, "is a matrix of " + std::to_string(v.matrix.cols()) + " columns, not one column of numbers");
  return v;
}

FrameVariable CallEvaluator::arithmetic(const Expression& e) {
  FrameVariable left = numeric(e.args[0]);
  if (e.kind == Expression::Kind::Unary) {
    if (e.name == "-")
      for (double& x : left.numbers) x = -x;
    return left;
  }
  const FrameVariable right = numeric(e.args[1]);
  for (std::size_t i = 0; i < left.numbers.size(); ++i) {
    double& a = left.numbers[i];
    const double b = right.numbers[i];
    switch (e.name[0]) {
      case '+': a += b; break;
      case '-': a -= b; break;
      case '*': a *= b; break;
      case '/': a /= b; break;
      default: a = std::pow(a, b); break;  // '^'
    }
  }
  return left;
}

FrameVariable CallEvaluator::call(const Expression& e) {
  const std::string& f = e.name;
  if (f == "I") {
    const auto args = bind_arguments(e, {"x"});
    return evaluate(*args[0]);
  }
  if (f == "factor" || f == "as.factor") return as_factor(e);
  if (f == "poly" || f == "stats::poly") return poly(e);
  if (f == "scale") return scale(e);
  if (f == "ns" || f == "splines::ns" || f == "bs" || f == "splines::bs") return spline(e);
  return elementwise(e);
}

FrameVariable CallEvaluator::elementwise(const Expression& e) {
  const std::string& f = e.name;
  if (f == "as.numeric") {
    FrameVariable v = evaluate(*bind_arguments(e, {"x"})[0]);
    if (!v.factor) return v;
    std::vector<double> codes;  // R: a factor's integer codes, 1 for its first level
    for (int c : v.codes) codes.push_back(c < 0 ? NA : c + 1.0);
    return numeric_of(std::move(codes));
  }
  if (f == "log") {
    const auto args = bind_arguments(e, {"x", "base"});
    FrameVariable v = numeric(*args[0]);
    const double base = constant(e, args[1], std::exp(1.0), "base");
    const double divisor = args[1] == nullptr ? 1.0 : std::log(base);
    for (double& x : v.numbers) x = std::log(x) / divisor;
    return v;
  }
  FrameVariable v = numeric(*bind_arguments(e, {"x"})[0]);
  double (*fn)(double) = nullptr;
  if (f == "log2") fn = [](double x) { return std::log2(x); };
  else if (f == "log10") fn = [](double x) { return std::log10(x); };
  else if (f == "log1p") fn = [](double x) { return std::log1p(x); };
  else if (f == "exp") fn = [](double x) { return std::exp(x); };
  else if (f == "sqrt") fn = [](double x) { return std::sqrt(x); };
  else if (f == "abs") fn = [](double x) { return std::fabs(x); };
  else call_error(e, "unknown function");
  for (double& x : v.numbers) x = fn(x);
  return v;
}

FrameVariable CallEvaluator::as_factor(const Expression& e) {
  FrameVariable v = evaluate(*bind_arguments(e, {"x"})[0]);
  if (v.is_matrix()) call_error(e, "a matrix cannot be a factor");
  if (v.factor) return v;
  return numbers_as_factor(v.numbers);
}

// stats::poly(x, degree, raw): orthogonal polynomials of the centred x by Stieltjes' three-term
// recurrence p_{j+1} = (x - alpha_{j+1}) p_j - (|p_j|^2 / |p_{j-1}|^2) p_{j-1}, each scaled to
// norm 1 (R keeps alpha and norm2 = (1, n, |p_1|^2, ...) as attr "coefs" for predict()).
FrameVariable CallEvaluator::poly(const Expression& e) {
  const auto args = bind_arguments(e, {"x", "degree", "coefs", "raw"});
  if (args[2] != nullptr) call_error(e, "the argument 'coefs' is not supported");
  const std::vector<double> x = numeric(*args[0]).numbers;
  const int degree = whole_argument(e, args[1], 1, 1, "degree");
  const bool raw = logical_argument(e, args[3], false, "raw");
  // As R's poly(): no missing values when fitting; predict.poly() on new data gives NA for them.
  if (!new_data_ && std::any_of(x.begin(), x.end(), [](double v) { return is_na(v); }))
    call_error(e, "missing values are not allowed in poly()");
  const auto n = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd z(n, degree);
  if (raw) {
    for (Eigen::Index i = 0; i < n; ++i)
      for (int d = 1; d <= degree; ++d) z(i, d - 1) = std::pow(x[static_cast<std::size_t>(i)], d);
    return matrix_of(std::move(z));
  }
  const std::string label = e.deparse();
  if (!new_data_) {
    std::vector<double> distinct = x;
    std::sort(distinct.begin(), distinct.end());
    const auto unique = std::unique(distinct.begin(), distinct.end()) - distinct.begin();
    if (degree >= unique)
      call_error(e, "'degree' must be less than the number of distinct values (" + std::to_string(unique) + ")");
    const double mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
    PolyCoefficients c;
    c.norm2 = {1.0, static_cast<double>(n)};
    std::vector<double> previous(x.size(), 0.0), current(x.size(), 1.0);
    for (int j = 0; j < degree; ++j) {
      double moment = 0;  // sum (x - mean) p_j^2
      for (std::size_t i = 0; i < x.size(); ++i) moment += (x[i] - mean) * current[i] * current[i];
      const double alpha = moment / c.norm2.back();
      c.alpha.push_back(alpha + mean);
      const double ratio = c.norm2.back() / c.norm2[c.norm2.size() - 2];
      double norm2 = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double next = (x[i] - mean - alpha) * current[i] - (j == 0 ? 0.0 : ratio) * previous[i];
        previous[i] = current[i];
        current[i] = next;
        norm2 += next * next;
      }
      c.norm2.push_back(norm2);
    }
    recipe_.polys[label] = std::move(c);
  }
  const PolyCoefficients& c = recipe_.polys.at(label);
  // predict.poly(): the recurrence with the fitted coefficients.
  for (Eigen::Index i = 0; i < n; ++i) {
    const double xi = x[static_cast<std::size_t>(i)];
    double previous = 1.0, current = xi - c.alpha[0];
    z(i, 0) = current;
    for (int d = 2; d <= degree; ++d) {
      const double next = (xi - c.alpha[static_cast<std::size_t>(d - 1)]) * current -
                          c.norm2[static_cast<std::size_t>(d)] / c.norm2[static_cast<std::size_t>(d - 1)] * previous;
      previous = current;
      current = next;
      z(i, d - 1) = current;
    }
    for (int d = 1; d <= degree; ++d) z(i, d - 1) /= std::sqrt(c.norm2[static_cast<std::size_t>(d + 1)]);
  }
  return matrix_of(std::move(z));
}

// scale(x, center, scale): (x - centre) / scale with the mean and the SD (n - 1) of the present
// values, or the root mean square when not centred (R's scale.default); numbers given are used.
FrameVariable CallEvaluator::scale(const Expression& e) {
  const auto args = bind_arguments(e, {"x", "center", "scale"});
  FrameVariable v = numeric(*args[0]);
  const std::string label = e.deparse();
  if (!new_data_) {
    const std::vector<double> present = present_values(v.numbers);
    const auto count = static_cast<double>(present.size());
    ScaleCoefficients c;
    const bool centred = args[1] == nullptr || args[1]->kind == Expression::Kind::Logical;
    c.center = centred ? (logical_argument(e, args[1], true, "center") && count > 0
                              ? std::accumulate(present.begin(), present.end(), 0.0) / count
                              : 0.0)
                       : constant(e, args[1], 0, "center");
    if (args[2] == nullptr || args[2]->kind == Expression::Kind::Logical) {
      double squares = 0;
      for (double x : present) squares += (x - c.center) * (x - c.center);
      c.scale = logical_argument(e, args[2], true, "scale") ? std::sqrt(squares / std::max(1.0, count - 1)) : 1.0;
    } else {
      c.scale = constant(e, args[2], 1, "scale");
    }
    recipe_.scales[label] = c;
  }
  const ScaleCoefficients& c = recipe_.scales.at(label);
  for (double& x : v.numbers) x = (x - c.center) / c.scale;
  return v;
}

// splines::ns(x, df) and splines::bs(x, df, degree = 3): df - 1 (ns) or df - degree (bs) inner
// knots at quantiles of the present values, boundary knots at their range.
FrameVariable CallEvaluator::spline(const Expression& e) {
  const bool natural = e.name == "ns" || e.name == "splines::ns";
  const auto args = natural ? bind_arguments(e, {"x", "df"}) : bind_arguments(e, {"x", "df", "degree"});
  const std::vector<double> x = numeric(*args[0]).numbers;
  const SplineKind kind{natural, natural ? 3 : whole_argument(e, args.size() > 2 ? args[2] : nullptr, 3, 1, "degree")};
  if (args[1] == nullptr) call_error(e, "give the degrees of freedom, e.g. " + e.name + "(x, 3)");
  const int df = whole_argument(e, args[1], 1, natural ? 1 : kind.degree, "df");
  const std::string label = e.deparse();
  if (!new_data_) {
    std::vector<double> sorted = present_values(x);
    if (sorted.empty()) call_error(e, "no values");
    std::sort(sorted.begin(), sorted.end());
    SplineKnots k;
    k.lower = sorted.front();
    k.upper = sorted.back();
    const int inner = natural ? df - 1 : df - kind.degree;
    for (int j = 1; j <= inner; ++j) k.interior.push_back(quantile7(sorted, double(j) / (inner + 1)));
    recipe_.splines[label] = std::move(k);
  }
  return matrix_of(spline_basis(x, recipe_.splines.at(label), kind));
}

}  // namespace detail
}  // namespace spiral
