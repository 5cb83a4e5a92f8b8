#include "lmm/numeric_derivatives.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include <Eigen/Eigenvalues>

namespace spiral::lmm_detail {

namespace {

// lme4's deriv12 steps by 1e-4 everywhere. For parameters above 0.1 a step of 1e-3 |x|
// keeps the rounding error of the second differences (the criterion's last digits, ~1e-13
// relative, divided by h^2) down to that of the truncation (~h^2): the Satterthwaite df of
// lme4's Penicillin fit come within 1e-4 of lmerTest's instead of 6e-4. A step never reaches
// past zero from a parameter of at least 1e-4 (the smallest non-singular theta).
double step_for(double x) { return 1e-3 * std::max(std::fabs(x), 0.1); }

std::vector<double> shifted(std::vector<double> x, std::size_t i, double hi, std::size_t j = SIZE_MAX, double hj = 0) {
  x[i] += hi;
  if (j != SIZE_MAX) x[j] += hj;
  return x;
}

}  // namespace

bool is_flat(const Differences& d, const std::vector<double>& x) {
  if (d.hessian.size() == 0 || !d.hessian.allFinite()) return false;
  Eigen::VectorXd h(d.hessian.rows());
  for (Eigen::Index i = 0; i < h.size(); ++i) h(i) = step_for(x[std::size_t(i)]);
  const Eigen::MatrixXd change = h.asDiagonal() * d.hessian * h.asDiagonal() / 2;
  const double resolution = 1e3 * DBL_EPSILON * std::max(std::fabs(d.at.first), 1.0);
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(change).eigenvalues().minCoeff() < resolution;
}

Differences central_differences(const PairFunction& f, const std::vector<double>& x, double step_scale) {
  const std::size_t n = x.size();
  const auto columns = static_cast<Eigen::Index>(n);
  Differences d{f(x), Eigen::VectorXd(columns), Eigen::MatrixXd(columns, columns), Eigen::MatrixXd()};
  const double f0 = d.at.first;
  d.jacobian.resize(d.at.second.size(), columns);
  std::vector<double> h(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<Eigen::Index>(i);
    h[i] = step_scale * step_for(x[i]);
    const ValueAndVector plus = f(shifted(x, i, h[i])), minus = f(shifted(x, i, -h[i]));
    d.gradient(c) = (plus.first - minus.first) / (2 * h[i]);
    d.hessian(c, c) = (plus.first - 2 * f0 + minus.first) / (h[i] * h[i]);
    d.jacobian.col(c) = (plus.second - minus.second) / (2 * h[i]);
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const auto r = static_cast<Eigen::Index>(i), c = static_cast<Eigen::Index>(j);
      const double both_up = f(shifted(x, i, h[i], j, h[j])).first;
      const double both_down = f(shifted(x, i, -h[i], j, -h[j])).first;
      const double diagonal_part = d.hessian(r, r) * h[i] * h[i] + d.hessian(c, c) * h[j] * h[j];
      d.hessian(r, c) = d.hessian(c, r) = (both_up - 2 * f0 + both_down - diagonal_part) / (2 * h[i] * h[j]);
    }
  return d;
}

Eigen::VectorXd five_point_gradient(const std::function<double(const std::vector<double>&)>& f,
                                    const std::vector<double>& x, const std::vector<double>& lower) {
  Eigen::VectorXd gradient(static_cast<Eigen::Index>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double h = std::min(2 * step_for(x[i]), (x[i] - lower[i]) / 2);
    const double f1 = f(shifted(x, i, h)) - f(shifted(x, i, -h));
    const double f2 = f(shifted(x, i, 2 * h)) - f(shifted(x, i, -2 * h));
    gradient(static_cast<Eigen::Index>(i)) = (8 * f1 - f2) / (12 * h);
  }
  return gradient;
}

Differences richardson(std::vector<Differences> levels) {
  double factor = 1;
  for (std::size_t round = 1; round < levels.size(); ++round) {
    factor *= 4;
    for (std::size_t i = 0; i + round < levels.size(); ++i) {
      Differences& a = levels[i];
      const Differences& b = levels[i + 1];
      a.gradient = (factor * a.gradient - b.gradient) / (factor - 1);
      a.hessian = (factor * a.hessian - b.hessian) / (factor - 1);
      a.jacobian = (factor * a.jacobian - b.jacobian) / (factor - 1);
    }
  }
  return levels.front();
}

bool fails_gradient_check(double gradient, double curvature) {
  const double scaled = curvature > 0 ? std::fabs(gradient) / std::sqrt(curvature) : HUGE_VAL;
  return std::min(std::fabs(gradient), scaled) > kGradientTolerance;
}

std::vector<double> onto_bounds_newton_crosses(const std::vector<double>& lower, const Differences& d,
                                               std::vector<double> params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto at = static_cast<Eigen::Index>(i);
    const double curvature = d.hessian(at, at);
    if (lower[i] == 0 && curvature > 0 && params[i] - d.gradient(at) / curvature < 0) params[i] = 0;
  }
  return params;
}

}  // namespace spiral::lmm_detail
