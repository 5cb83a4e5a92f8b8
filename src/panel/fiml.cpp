#include "panel/fiml.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace spiral::panel {
namespace {

const double log_2pi = std::log(2 * std::numbers::pi);

// Column-major scratch of a pattern's size, reused by every pattern of one evaluation (a
// pattern has at most waves x variables rows): plain loops over it cost a fraction of
// Eigen's dynamic-size products and allocations at these sizes.
struct Scratch {
  Scratch(long p, long columns) : factor(p * p), inverse(p * p), factor_inverse(p * p), columns(p * columns) {}
  std::vector<double> factor, inverse, factor_inverse, columns;
};

// The lower Cholesky factor of Sigma_oo (pattern order) in l, right-looking so that every
// inner loop runs down a column; false if Sigma_oo is not positive definite.
bool cholesky_of_observed(const Eigen::MatrixXd& sigma, const std::vector<int>& o, double* l) {
  const long p = static_cast<long>(o.size());
  for (long j = 0; j < p; ++j) {
    for (long i = j; i < p; ++i) l[i + j * p] = sigma(o[static_cast<std::size_t>(i)], o[static_cast<std::size_t>(j)]);
  }
  for (long j = 0; j < p; ++j) {
    double* column = l + j * p;
    if (!(column[j] > 0)) return false;
    column[j] = std::sqrt(column[j]);
    for (long i = j + 1; i < p; ++i) column[i] /= column[j];
    for (long c = j + 1; c < p; ++c) {
      double* target = l + c * p;
      for (long i = c; i < p; ++i) target[i] -= column[i] * column[c];
    }
  }
  return true;
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

// x <- L^-1 x for `m` columns of length p.
void forward_solve(const double* l, long p, double* x, long m) {
  for (long c = 0; c < m; ++c, x += p) {
    for (long k = 0; k < p; ++k) {
      x[k] /= l[k + k * p];
      const double* column = l + k * p;
      for (long i = k + 1; i < p; ++i) x[i] -= column[i] * x[k];
    }
  }
}

// x <- L^-T x for `m` columns of length p.
void backward_solve(const double* l, long p, double* x, long m) {
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

}  // namespace

// Per pattern, with A = [F d] (C = F F'): tr(S^-1 (C + d d')) = ||L^-1 A||^2 and, with
// W = S^-1 A, G_oo = n/2 (W W' - S^-1) and d_mu_o = n S^-1 d (W's last column).
FimlValue fiml_loglik(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu, const Eigen::MatrixXd& sigma,
                      bool want_gradient) {
  const long p_all = mu.size();
  FimlValue value;
  Eigen::MatrixXd lower_g;
  if (want_gradient) {
    value.d_mu = Eigen::VectorXd::Zero(p_all);
    lower_g = Eigen::MatrixXd::Zero(p_all, p_all);
  }
  Scratch scratch(p_all, p_all + 1);
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    const long p = static_cast<long>(o.size()), r = pattern.cov_factor.cols();
    double* l = scratch.factor.data();
    if (!cholesky_of_observed(sigma, o, l)) return value;
    double* a = scratch.columns.data();
    std::copy(pattern.cov_factor.data(), pattern.cov_factor.data() + p * r, a);
    for (long i = 0; i < p; ++i) a[r * p + i] = pattern.mean(i) - mu(o[static_cast<std::size_t>(i)]);
    forward_solve(l, p, a, r + 1);
    const double trace = Eigen::Map<const Eigen::VectorXd>(a, p * (r + 1)).squaredNorm();
    value.loglik -= 0.5 * pattern.n * (static_cast<double>(p) * log_2pi + log_determinant(l, p) + trace);
    if (!want_gradient) continue;
    backward_solve(l, p, a, r + 1);
    double* inverse = scratch.inverse.data();
    lower_inverse_from_factor(l, p, inverse, scratch.factor_inverse.data());
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

namespace {

// One EM step (E: expected sufficient statistics given the current moments; M: their
// moments). Per pattern, E[y_m | y_o] = mu_m + K (y_o - mu_o) with K = S_mo S_oo^-1 is
// linear in y_o, so the sums follow from the pattern's n, mean and covariance.
void em_step(const std::vector<Pattern>& patterns, double n_total, Eigen::VectorXd& mu, Eigen::MatrixXd& sigma) {
  const long p = mu.size();
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(p);
  Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(p, p);
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    std::vector<int> m;
    for (int j = 0, next = 0; j < p; ++j) {
      if (next < static_cast<int>(o.size()) && o[static_cast<std::size_t>(next)] == j) ++next;
      else m.push_back(j);
    }
    // Mean of complete-data vectors and their second moments within the pattern.
    Eigen::VectorXd mean(p);
    Eigen::MatrixXd second = Eigen::MatrixXd::Zero(p, p);
    const Eigen::MatrixXd raw_oo = pattern.cov + pattern.mean * pattern.mean.transpose();
    mean(o) = pattern.mean;
    second(o, o) = raw_oo;
    if (!m.empty()) {
      // The blocks of Sigma copied out once: products of gathered (indexed) views are slow.
      const Eigen::MatrixXd sigma_mo = sigma(m, o), sigma_oo = sigma(o, o);
      const Eigen::MatrixXd gain = sigma_oo.llt().solve(sigma_mo.transpose()).transpose();  // S_mo S_oo^-1
      const Eigen::VectorXd offset = mu(m) - gain * mu(o);  // E[y_m | y_o] = offset + gain y_o
      const Eigen::VectorXd mean_m = offset + gain * pattern.mean;
      mean(m) = mean_m;
      const Eigen::MatrixXd mo = gain * raw_oo + offset * pattern.mean.transpose();
      second(m, o) = mo;
      second(o, m) = mo.transpose();
      // E[y_m y_m'] = Var(y_m | y_o) + the mean of yhat yhat' (yhat = offset + gain y_o), which
      // is gain mo' + offset mean_m'.
      second(m, m) = sigma(m, m) - gain * (sigma_mo - mo).transpose() + offset * mean_m.transpose();
    }
    sum += pattern.n * mean;
    cross += pattern.n * second;
  }
  mu = sum / n_total;
  sigma = cross / n_total - mu * mu.transpose();
  sigma = 0.5 * (sigma + sigma.transpose());
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
  double n_total = 0;
  for (const Pattern& pattern : patterns) n_total += pattern.n;
  // EM until the largest change of a moment is below 1e-7 (lavaan stops at 1e-5). EM
  // converges linearly (panel300: each change ~0.57 of the last), so the moments are then
  // within ~1e-7 of the optimum and the logL, where the error enters squared, within ~1e-11
  // absolute (panel300's chi-square moved by 3e-13 relative from the 1e-9 stop).
  for (int iteration = 0; iteration < 20000; ++iteration) {
    const Eigen::VectorXd old_mu = h1.mu;
    const Eigen::MatrixXd old_sigma = h1.sigma;
    em_step(patterns, n_total, h1.mu, h1.sigma);
    const double change = std::max((h1.mu - old_mu).cwiseAbs().maxCoeff(), (h1.sigma - old_sigma).cwiseAbs().maxCoeff());
    if (change < 1e-7) {
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
