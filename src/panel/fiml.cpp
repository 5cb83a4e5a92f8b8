#include "panel/fiml.hpp"

#include <cmath>
#include <numbers>

namespace spiral::panel {
namespace {

const double log_2pi = std::log(2 * std::numbers::pi);

// S^-1 from the lower Cholesky factor L of S: L^-1 by forward substitution, then L^-T L^-1
// (LAPACK's dpotri). Plain loops: for a pattern's small matrices (at most waves x
// variables) they cost a fraction of the blocked triangular solves of llt.solve(I).
Eigen::MatrixXd inverse_from_factor(const Eigen::MatrixXd& l) {
  const long p = l.rows();
  Eigen::MatrixXd l_inverse = Eigen::MatrixXd::Zero(p, p);
  for (long j = 0; j < p; ++j) {
    l_inverse(j, j) = 1 / l(j, j);
    for (long i = j + 1; i < p; ++i) {
      double sum = 0;
      for (long k = j; k < i; ++k) sum += l(i, k) * l_inverse(k, j);
      l_inverse(i, j) = -sum / l(i, i);
    }
  }
  Eigen::MatrixXd inverse(p, p);
  for (long j = 0; j < p; ++j) {
    for (long i = j; i < p; ++i) {
      double sum = 0;
      for (long k = i; k < p; ++k) sum += l_inverse(k, i) * l_inverse(k, j);
      inverse(i, j) = inverse(j, i) = sum;
    }
  }
  return inverse;
}

}  // namespace

FimlValue fiml_loglik(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu, const Eigen::MatrixXd& sigma,
                      bool want_gradient) {
  FimlValue value;
  if (want_gradient) {
    value.d_mu = Eigen::VectorXd::Zero(mu.size());
    value.d_sigma = Eigen::MatrixXd::Zero(sigma.rows(), sigma.cols());
  }
  Eigen::LLT<Eigen::MatrixXd> llt;
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    const long p_o = static_cast<long>(o.size());
    llt.compute(sigma(o, o));
    if (llt.info() != Eigen::Success) return value;
    // A pattern of one patient has C = 0: only the rank-one term d d' remains.
    const bool single = pattern.n == 1;
    const Eigen::VectorXd d = pattern.mean - mu(o);
    const Eigen::VectorXd inverse_d = llt.solve(d);
    const double log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
    double trace = d.dot(inverse_d);
    Eigen::MatrixXd inverse;
    if (want_gradient || !single) inverse = inverse_from_factor(llt.matrixLLT());
    if (!single) trace += inverse.cwiseProduct(pattern.cov).sum();
    value.loglik -= 0.5 * pattern.n * (static_cast<double>(p_o) * log_2pi + log_det + trace);
    if (want_gradient) {
      value.d_mu(o) += pattern.n * inverse_d;
      Eigen::MatrixXd g = inverse_d * inverse_d.transpose() - inverse;
      if (!single) g.noalias() += inverse * pattern.cov * inverse;
      value.d_sigma(o, o) += 0.5 * pattern.n * g;
    }
  }
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
