#include "panel/fiml.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "common/cholesky.hpp"

namespace spiral::panel {
namespace {

const double log_2pi = std::log(2 * std::numbers::pi);

// The lower Cholesky factor of the submatrix M[o, o] in l (o's order, leading dimension
// o.size()); false if that submatrix is not positive definite.
bool cholesky_of_submatrix(const Eigen::MatrixXd& sigma, const std::vector<int>& o, double* l) {
  const long p = static_cast<long>(o.size());
  for (long j = 0; j < p; ++j) {
    for (long i = j; i < p; ++i) l[i + j * p] = sigma(o[static_cast<std::size_t>(i)], o[static_cast<std::size_t>(j)]);
  }
  return detail::cholesky_in_place(l, p, p);
}

// log|Sigma_oo| = 2 sum log l_jj, with one log per run of diagonal elements whose product
// stays far from under- and overflow.
double log_determinant(const double* l, long p) {
  double log_det = 0, product = 1;
  for (long j = 0; j < p; ++j) {
    product *= l[j + j * p];
    if (product > 1e100 || product < 1e-100) {
      log_det += std::log(product);
      product = 1;
    }
  }
  return 2 * (log_det + std::log(product));
}

// x <- L^-1 x for `m` columns of length p (x and l do not overlap).
void forward_solve(const double* __restrict l, long p, double* __restrict x, long m) {
  for (long c = 0; c < m; ++c, x += p) {
    for (long k = 0; k < p; ++k) {
      const double xk = x[k] / l[k + k * p];
      x[k] = xk;
      const double* column = l + k * p;
      for (long i = k + 1; i < p; ++i) x[i] -= column[i] * xk;
    }
  }
}

// x <- L^-T x for `m` columns of length p (x and l do not overlap).
void backward_solve(const double* __restrict l, long p, double* __restrict x, long m) {
  for (long c = 0; c < m; ++c, x += p) {
    for (long k = p - 1; k >= 0; --k) {
      const double* column = l + k * p;
      double sum = x[k];
      for (long i = k + 1; i < p; ++i) sum -= column[i] * x[i];
      x[k] = sum / l[k + k * p];
    }
  }
}

// The lower triangle of S^-1 = L^-T L^-1 (LAPACK's dpotri): T = L^-1 column by column,
// then (S^-1)_ij = sum over k >= i of T_ki T_kj for i >= j.
void lower_inverse_from_factor(const double* l, long p, double* inverse, double* t) {
  std::fill(t, t + p * p, 0.0);
  for (long j = 0; j < p; ++j) {
    double* x = t + j * p;
    x[j] = 1;
    for (long k = j; k < p; ++k) {
      x[k] /= l[k + k * p];
      const double* column = l + k * p;
      for (long i = k + 1; i < p; ++i) x[i] -= column[i] * x[k];
    }
  }
  for (long j = 0; j < p; ++j) {
    for (long i = j; i < p; ++i) {
      const double* ti = t + i * p;
      const double* tj = t + j * p;
      double sum = 0;
      for (long k = i; k < p; ++k) sum += ti[k] * tj[k];
      inverse[i + j * p] = sum;
    }
  }
}

// K = Sigma^-1 from Sigma's Cholesky factor.
Eigen::MatrixXd precision_matrix(const Eigen::LLT<Eigen::MatrixXd>& llt) {
  const long p = llt.rows();
  Eigen::MatrixXd k(p, p), work(p, p);
  lower_inverse_from_factor(llt.matrixLLT().data(), p, k.data(), work.data());
  return k.selfadjointView<Eigen::Lower>();
}

// The route for a Sigma that is not positive definite (its patterns' blocks may still be):
// one Cholesky factor L of S = Sigma_oo per pattern. With A = [F d] (C = F F'),
// tr(S^-1 (C + dd')) = ||L^-1 A||^2 and, with W = S^-1 A, G_oo = n/2 (W W' - S^-1) and
// d_mu_o = n S^-1 d (W's last column).
FimlValue fiml_by_pattern_factors(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu,
                                  const Eigen::MatrixXd& sigma, bool want_gradient) {
  const long p_all = mu.size();
  FimlValue value;
  Eigen::MatrixXd lower_g;
  if (want_gradient) {
    value.d_mu = Eigen::VectorXd::Zero(p_all);
    lower_g = Eigen::MatrixXd::Zero(p_all, p_all);
  }
  // Column-major scratch of the largest pattern's size, reused by every pattern: plain loops
  // over it cost a fraction of Eigen's dynamic-size products and allocations at these sizes.
  const auto square = static_cast<std::size_t>(p_all * p_all);
  std::vector<double> factor(square), inverse(square), factor_inverse(square), columns(square + p_all);
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    const long p = static_cast<long>(o.size()), r = pattern.cov_factor.cols();
    double* l = factor.data();
    if (!cholesky_of_submatrix(sigma, o, l)) return value;
    double* a = columns.data();
    std::copy(pattern.cov_factor.data(), pattern.cov_factor.data() + p * r, a);
    for (long i = 0; i < p; ++i) a[r * p + i] = pattern.mean(i) - mu(o[static_cast<std::size_t>(i)]);
    forward_solve(l, p, a, r + 1);
    const double trace = Eigen::Map<const Eigen::VectorXd>(a, p * (r + 1)).squaredNorm();
    value.loglik -= 0.5 * pattern.n * (static_cast<double>(p) * log_2pi + log_determinant(l, p) + trace);
    if (!want_gradient) continue;
    backward_solve(l, p, a, r + 1);
    lower_inverse_from_factor(l, p, inverse.data(), factor_inverse.data());
    const double half_n = 0.5 * pattern.n;
    for (long j = 0; j < p; ++j) {
      const long oj = o[static_cast<std::size_t>(j)];
      value.d_mu(oj) += pattern.n * a[r * p + j];
      for (long i = j; i < p; ++i) {
        double outer = 0;
        for (long c = 0; c <= r; ++c) outer += a[i + c * p] * a[j + c * p];
        lower_g(o[static_cast<std::size_t>(i)], oj) += half_n * (outer - inverse[i + j * p]);
      }
    }
  }
  if (want_gradient) value.d_sigma = lower_g.selfadjointView<Eigen::Lower>();
  value.ok = std::isfinite(value.loglik);
  return value;
}

// The lower triangle of n K_mm^-1 = n L_m^-T L_m^-1 added to `into` at rows and columns m
// (scratch: p_m x p_m for L_m^-1).
void add_inverse_block(const double* l_m, const std::vector<int>& m, double n, double* scratch, Eigen::MatrixXd& into) {
  const long p_m = static_cast<long>(m.size());
  std::fill(scratch, scratch + p_m * p_m, 0.0);
  for (long i = 0; i < p_m; ++i) scratch[i + i * p_m] = 1;
  forward_solve(l_m, p_m, scratch, p_m);  // L_m^-1, lower triangular
  for (long j = 0; j < p_m; ++j)
    for (long i = j; i < p_m; ++i) {
      double sum = 0;  // (L^-T L^-1)(i, j) = sum over rows r >= i of L^-1(r, i) L^-1(r, j)
      for (long r = i; r < p_m; ++r) sum += scratch[r + i * p_m] * scratch[r + j * p_m];
      into(m[static_cast<std::size_t>(i)], m[static_cast<std::size_t>(j)]) += n * sum;
    }
}

// The main route: K = Sigma^-1 once, and per pattern the partitioned-inverse identities
// (e.g. Harville 1997, Matrix Algebra From a Statistician's Perspective, thm 8.5.11 and
// 13.3.8) with m = the missing columns: S_oo^-1 = K_oo - K_om K_mm^-1 K_mo and
// log|S_oo| = log|Sigma| + log|K_mm|. Embedded in p_all rows (zeros at m), with A = [F d]:
//   W = S_oo^-1 A = K A - K_.m K_mm^-1 (K A)_m,  tr(S_oo^-1 (C + dd')) = sum A . W,
//   S_oo^-1 = K - K_.m K_mm^-1 K_m.,
// so G = 1/2 (Y Y' + K M K - N K) with Y = the columns sqrt(n) W of every pattern,
// M = sum over patterns of n K_mm^-1 placed in the (m, m) block, and N the number of
// patients. A pattern costs O(p_all p_o (r + 1) + m^3) (r = F's columns) and no factor of
// its own S_oo.
FimlValue fiml_by_precision(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu,
                            const Eigen::LLT<Eigen::MatrixXd>& llt, bool want_gradient) {
  const long p_all = mu.size();
  const Eigen::MatrixXd k = precision_matrix(llt);
  const double log_det_sigma = log_determinant(llt.matrixLLT().data(), p_all);

  FimlValue value;
  double n_total = 0;
  long y_columns = 0;
  for (const Pattern& pattern : patterns) {
    n_total += pattern.n;
    y_columns += pattern.cov_factor.cols() + 1;
  }
  Eigen::MatrixXd y, missing_inverses;  // Y and M
  if (want_gradient) {
    value.d_mu = Eigen::VectorXd::Zero(p_all);
    y.resize(p_all, y_columns);
    missing_inverses.setZero(p_all, p_all);
  }
  Eigen::MatrixXd w(p_all, p_all + 1);
  std::vector<double> deviation(static_cast<std::size_t>(p_all));  // d = the pattern's mean - mu_o
  // Scratch of the largest pattern's size: L_m, and K_mm^-1 (K A)_m or L_m^-1 (at most p_all^2)
  std::vector<double> factor(static_cast<std::size_t>(p_all * p_all)), columns(factor.size());
  long next_column = 0;
  for (const Pattern& pattern : patterns) {
    const auto &o = pattern.observed, &m = pattern.missing;
    const long p_o = static_cast<long>(o.size()), p_m = static_cast<long>(m.size());
    const long r = pattern.cov_factor.cols();
    double* d = deviation.data();
    for (long j = 0; j < p_o; ++j) d[j] = pattern.mean(j) - mu(o[static_cast<std::size_t>(j)]);
    // K A, with A's columns given in their compact (o) rows.
    w.leftCols(r + 1).setZero();
    for (long j = 0; j < p_o; ++j) {
      const auto k_column = k.col(o[static_cast<std::size_t>(j)]);
      for (long c = 0; c < r; ++c) w.col(c) += pattern.cov_factor(j, c) * k_column;
      w.col(r) += d[j] * k_column;
    }
    double log_det = log_det_sigma;
    double* l_m = factor.data();
    double* v = columns.data();  // K_mm^-1 (K A)_m, then L_m^-1
    if (p_m > 0) {
      if (!cholesky_of_submatrix(k, m, l_m)) return value;
      log_det += log_determinant(l_m, p_m);
      for (long c = 0; c <= r; ++c) {
        for (long i = 0; i < p_m; ++i) v[i + c * p_m] = w(m[static_cast<std::size_t>(i)], c);
      }
      forward_solve(l_m, p_m, v, r + 1);
      backward_solve(l_m, p_m, v, r + 1);
      for (long c = 0; c <= r; ++c) {
        for (long i = 0; i < p_m; ++i) w.col(c) -= v[i + c * p_m] * k.col(m[static_cast<std::size_t>(i)]);
        for (long i = 0; i < p_m; ++i) w(m[static_cast<std::size_t>(i)], c) = 0;
      }
    }
    double trace = 0;
    for (long j = 0; j < p_o; ++j) {
      const long row = o[static_cast<std::size_t>(j)];
      for (long c = 0; c < r; ++c) trace += pattern.cov_factor(j, c) * w(row, c);
      trace += d[j] * w(row, r);
    }
    value.loglik -= 0.5 * pattern.n * (static_cast<double>(p_o) * log_2pi + log_det + trace);
    if (!want_gradient) continue;
    const double root_n = std::sqrt(pattern.n);
    value.d_mu += pattern.n * w.col(r);
    y.middleCols(next_column, r + 1) = root_n * w.leftCols(r + 1);
    next_column += r + 1;
    if (p_m > 0) add_inverse_block(l_m, m, pattern.n, v, missing_inverses);
  }
  if (want_gradient) {
    Eigen::MatrixXd g = k * missing_inverses.selfadjointView<Eigen::Lower>() * k - n_total * k;
    g.selfadjointView<Eigen::Lower>().rankUpdate(y);
    value.d_sigma = 0.5 * g.selfadjointView<Eigen::Lower>().toDenseMatrix();
  }
  value.ok = std::isfinite(value.loglik);
  return value;
}

}  // namespace

Eigen::MatrixXd fiml_hessian(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu,
                             const Eigen::MatrixXd& sigma, const Eigen::MatrixXd& vectors,
                             const std::vector<RankTwoDirection>& directions) {
  const long p_all = mu.size(), d = static_cast<long>(directions.size());
  Eigen::MatrixXd hessian = Eigen::MatrixXd::Zero(p_all + d, p_all + d);
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    const long p_o = static_cast<long>(o.size()), r = pattern.cov_factor.cols();
    const Eigen::LLT<Eigen::MatrixXd> llt(sigma(o, o));
    if (llt.info() != Eigen::Success)
      return Eigen::MatrixXd::Constant(p_all + d, p_all + d, std::numeric_limits<double>::quiet_NaN());
    const Eigen::MatrixXd precision = llt.solve(Eigen::MatrixXd::Identity(p_o, p_o));
    Eigen::MatrixXd a(p_o, r + 1);  // [F d], F F' = C
    a << pattern.cov_factor, pattern.mean - mu(o);
    // Products of at most p x p matrices coefficient by coefficient (lazyProduct): below a few
    // dozen rows Eigen's blocked products and solves cost several times their arithmetic.
    const Eigen::MatrixXd w = precision.lazyProduct(a);  // W = P [F d]: W W' = P Q P, last column P d
    const Eigen::MatrixXd y = vectors(o, Eigen::all);
    const Eigen::MatrixXd py = precision.lazyProduct(y);
    const Eigen::MatrixXd m = y.transpose().lazyProduct(py);  // Y'PY
    const Eigen::MatrixXd wy = w.transpose().lazyProduct(y);
    const Eigen::MatrixXd nn = wy.transpose().lazyProduct(wy);  // Y'WW'Y
    const Eigen::VectorXd y_pd = wy.row(r).transpose();  // Y'P d
    const double n = pattern.n;
    for (long j = 0; j < p_o; ++j)  // the lower triangle only, as o is increasing
      for (long i = j; i < p_o; ++i) hessian(o[std::size_t(i)], o[std::size_t(j)]) -= n * precision(i, j);
    for (long i = 0; i < d; ++i) {
      const RankTwoDirection& di = directions[std::size_t(i)];
      // P D_i P d = s (P y_u (y_v' P d) + P y_v (y_u' P d))
      const Eigen::VectorXd pdpd = di.scale * (py.col(di.u) * y_pd(di.v) + py.col(di.v) * y_pd(di.u));
      for (long k = 0; k < p_o; ++k) hessian(p_all + i, o[std::size_t(k)]) -= n * pdpd(k);
      for (long j = 0; j <= i; ++j) {
        const RankTwoDirection& dj = directions[std::size_t(j)];
        const long ui = di.u, vi = di.v, uj = dj.u, vj = dj.v;
        // tr(y_a y_b' P y_c y_e' W W') = M_bc N_ea, summed over (a, b) in {(u_i, v_i), (v_i, u_i)}
        // and (c, e) in {(u_j, v_j), (v_j, u_j)}; tr(D_i P D_j P) likewise (direction_trace).
        const double q_trace =
            m(vi, uj) * nn(vj, ui) + m(vi, vj) * nn(uj, ui) + m(ui, uj) * nn(vj, vi) + m(ui, vj) * nn(uj, vi);
        hessian(p_all + i, p_all + j) += 0.5 * n * (direction_trace(m, di, dj) - 2 * di.scale * dj.scale * q_trace);
      }
    }
  }
  return hessian.selfadjointView<Eigen::Lower>();
}

FimlValue fiml_loglik(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu, const Eigen::MatrixXd& sigma,
                      bool want_gradient) {
  const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
  if (llt.info() == Eigen::Success) return fiml_by_precision(patterns, mu, llt, want_gradient);
  return fiml_by_pattern_factors(patterns, mu, sigma, want_gradient);
}

namespace {

// What EM needs of the patterns besides Sigma: each pattern's raw second moments
// R = C + ybar ybar', and the sums over patterns of n ybar and n R embedded in the full
// vector and matrix (the observed parts of the complete-data statistics, the same at
// every step).
struct ObservedMoments {
  std::vector<Eigen::MatrixXd> raw_second;
  Eigen::VectorXd sum;
  Eigen::MatrixXd cross;
  double n = 0;
};

ObservedMoments observed_moments(const std::vector<Pattern>& patterns, long p) {
  ObservedMoments observed;
  observed.sum = Eigen::VectorXd::Zero(p);
  observed.cross = Eigen::MatrixXd::Zero(p, p);
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    observed.raw_second.push_back(pattern.cov + pattern.mean * pattern.mean.transpose());
    observed.sum(o) += pattern.n * pattern.mean;
    observed.cross(o, o) += pattern.n * observed.raw_second.back();
    observed.n += pattern.n;
  }
  return observed;
}

// One EM step (E: expected sufficient statistics given the current moments; M: their
// moments). With K = Sigma^-1, by the partitioned-inverse identities above,
// E[y_m | y_o] = mu_m + B (y_o - mu_o) with B = -K_mm^-1 K_mo and Var(y_m | y_o) = K_mm^-1.
// Both are linear in y_o, so a pattern's missing parts follow from its n, mean ybar and R:
// the mean of yhat_m = offset + B ybar (offset = mu_m - B mu_o), of yhat_m y_o' it is
// B R + offset ybar', and of y_m y_m' it is K_mm^-1 + B (B R + offset ybar')' + offset yhat_m'.
// False when Sigma or a K_mm is not positive definite.
bool em_step(const std::vector<Pattern>& patterns, const ObservedMoments& observed, Eigen::VectorXd& mu,
             Eigen::MatrixXd& sigma) {
  const long p = mu.size();
  const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd k = precision_matrix(llt);
  Eigen::VectorXd sum = observed.sum;
  Eigen::MatrixXd cross = observed.cross;
  // m x p_o and m x m blocks, column-major with leading dimension m
  std::vector<double> l(p * p), slope(p * p), mo(p * p), conditional(p * p), work(p * p), offset(p), mean_m(p);
  for (std::size_t index = 0; index < patterns.size(); ++index) {
    const Pattern& pattern = patterns[index];
    const auto &o = pattern.observed, &m = pattern.missing;
    const long p_o = static_cast<long>(o.size()), p_m = static_cast<long>(m.size());
    if (p_m == 0) continue;
    const auto at = [](const std::vector<int>& indices, long i) { return indices[static_cast<std::size_t>(i)]; };
    const Eigen::MatrixXd& r = observed.raw_second[index];
    if (!cholesky_of_submatrix(k, m, l.data())) return false;
    for (long j = 0; j < p_o; ++j) {
      for (long i = 0; i < p_m; ++i) slope[i + j * p_m] = -k(at(m, i), at(o, j));
    }
    forward_solve(l.data(), p_m, slope.data(), p_o);
    backward_solve(l.data(), p_m, slope.data(), p_o);
    for (long i = 0; i < p_m; ++i) {
      double at_mu = 0, at_mean = 0;
      for (long j = 0; j < p_o; ++j) {
        at_mu += slope[i + j * p_m] * mu(at(o, j));
        at_mean += slope[i + j * p_m] * pattern.mean(j);
      }
      offset[i] = mu(at(m, i)) - at_mu;
      mean_m[i] = offset[i] + at_mean;
      sum(at(m, i)) += pattern.n * mean_m[i];
    }
    for (long j = 0; j < p_o; ++j) {
      for (long i = 0; i < p_m; ++i) {
        double product = offset[i] * pattern.mean(j);
        for (long c = 0; c < p_o; ++c) product += slope[i + c * p_m] * r(c, j);
        mo[i + j * p_m] = product;
        cross(at(m, i), at(o, j)) += pattern.n * product;
        cross(at(o, j), at(m, i)) += pattern.n * product;
      }
    }
    lower_inverse_from_factor(l.data(), p_m, conditional.data(), work.data());
    for (long b = 0; b < p_m; ++b) {
      for (long a = b; a < p_m; ++a) {
        double second = conditional[a + b * p_m] + offset[a] * mean_m[b];
        for (long j = 0; j < p_o; ++j) second += slope[a + j * p_m] * mo[b + j * p_m];
        cross(at(m, a), at(m, b)) += pattern.n * second;
        if (a != b) cross(at(m, b), at(m, a)) += pattern.n * second;
      }
    }
  }
  mu = sum / observed.n;
  sigma = cross / observed.n - mu * mu.transpose();
  sigma = 0.5 * (sigma + sigma.transpose());
  return true;
}

}  // namespace

Saturated saturated_fiml(const std::vector<Pattern>& patterns, const Eigen::MatrixXd& y) {
  const long p = y.cols();
  Saturated h1;
  h1.mu.resize(p);
  h1.sigma = Eigen::MatrixXd::Zero(p, p);
  for (long j = 0; j < p; ++j) {
    const Eigen::ArrayXd column = y.col(j).array();
    const auto observed = column == column;
    const double n = static_cast<double>(observed.count());
    h1.mu(j) = observed.select(column, 0.0).sum() / n;
    const double var = observed.select((column - h1.mu(j)).square(), 0.0).sum() / n;
    h1.sigma(j, j) = var > 0 ? var : 1;
  }
  const ObservedMoments observed = observed_moments(patterns, p);
  // lavaan's EM for h1 (lav_mvnorm_missing_h1_estimate_moments, lavaan 0.6): a stop when no
  // moment changed by 1e-5 or more (without lavaan's ridge for eigenvalues below 1e-6, which
  // would make the fit measures of complete data depend on the units). With heavy missingness the saturated likelihood can rise
  // slowly without bound (towards a singular Sigma) and the fit measures are those of where
  // this rule stops, as lavaan's are: thousands of steps where lavaan's default cap of 500
  // is not enough, hence the cap of 10000 (lavaan's em.h1.iter.max).
  for (int iteration = 0; iteration < 10000; ++iteration) {
    const Eigen::VectorXd old_mu = h1.mu;
    const Eigen::MatrixXd old_sigma = h1.sigma;
    if (!em_step(patterns, observed, h1.mu, h1.sigma)) break;
    const double change = std::max((h1.mu - old_mu).cwiseAbs().maxCoeff(), (h1.sigma - old_sigma).cwiseAbs().maxCoeff());
    if (change < 1e-5) {
      h1.converged = true;
      break;
    }
  }
  const FimlValue value = fiml_loglik(patterns, h1.mu, h1.sigma, false);
  h1.converged = h1.converged && value.ok;
  h1.loglik = value.ok ? value.loglik : NA;
  return h1;
}

double independence_loglik(const Eigen::MatrixXd& y) {
  double loglik = 0;
  for (long j = 0; j < y.cols(); ++j) {
    const Eigen::ArrayXd column = y.col(j).array();
    const auto observed = column == column;
    const double n = static_cast<double>(observed.count());
    const double mean = observed.select(column, 0.0).sum() / n;
    const double var = observed.select((column - mean).square(), 0.0).sum() / n;
    loglik -= 0.5 * n * (log_2pi + std::log(var) + 1);
  }
  return loglik;
}

}  // namespace spiral::panel
