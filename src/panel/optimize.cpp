#include "panel/optimize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/parallel.hpp"

namespace spiral::panel {

namespace {

double difference_step(double x) { return 1e-6 * std::max(1.0, std::fabs(x)); }

// A Hessian at `from` serves at `to` when no parameter moved by more than 1e-5 (relative to
// its size, or absolute below 1): the Hessian of a smooth likelihood changes by about as
// much, relative, and the standard errors by half that. The Newton polish after BFGS
// typically moves the parameters by ~1e-6, which once cost a second Hessian.
bool moved_beyond_hessian_reuse(const Eigen::VectorXd& from, const Eigen::VectorXd& to) {
  for (long j = 0; j < from.size(); ++j) {
    if (std::fabs(to(j) - from(j)) > 1e-5 * std::max(1.0, std::fabs(from(j)))) return true;
  }
  return false;
}

}  // namespace

// One gradient per differenced parameter, independent of each other: shared among the cores.
Eigen::MatrixXd hessian_by_differences(const Objective& objective, const Eigen::VectorXd& x,
                                       const Eigen::VectorXd& gradient, const ExactBlock& exact) {
  const long n = x.size();
  std::vector<bool> is_exact(static_cast<std::size_t>(n), false);
  for (long i : exact.indices) is_exact[static_cast<std::size_t>(i)] = true;
  std::vector<long> differenced;
  for (long j = 0; j < n; ++j)
    if (!is_exact[static_cast<std::size_t>(j)]) differenced.push_back(j);
  Eigen::MatrixXd hessian(n, n);
  detail::parallel_for(differenced.size(), 0, [&](std::size_t column) {
    const long j = differenced[column];
    const double h = difference_step(x(j));
    Eigen::VectorXd shifted = x, shifted_gradient(n);
    shifted(j) = x(j) + h;
    objective(shifted, &shifted_gradient);
    hessian.col(j) = (shifted_gradient - gradient) / h;
  });
  for (long a : differenced) {
    for (long b = 0; b < n; ++b) {
      if (!is_exact[static_cast<std::size_t>(b)] && b > a) continue;
      // (a, b) from both differenced columns when b is one of them, else from column a alone
      const double value = is_exact[static_cast<std::size_t>(b)] ? hessian(b, a) : 0.5 * (hessian(b, a) + hessian(a, b));
      hessian(a, b) = hessian(b, a) = value;
    }
  }
  if (!exact.indices.empty()) hessian(exact.indices, exact.indices) = exact.block(x);
  return hessian;
}

namespace {

struct Point {
  Eigen::VectorXd x, gradient;
  double value = 0;
};

Point evaluate(const Objective& objective, const Eigen::VectorXd& x) {
  Point point{x, Eigen::VectorXd::Zero(x.size()), 0};
  point.value = objective(x, &point.gradient);
  return point;
}

// Backtracks from the full step until the Armijo condition holds; false if it never does.
bool line_search(const Objective& objective, const Point& from, const Eigen::VectorXd& direction, Point& to) {
  const double slope = from.gradient.dot(direction);
  for (double step = 1; step > 1e-14; step *= 0.5) {
    to = evaluate(objective, from.x + step * direction);
    if (std::isfinite(to.value) && to.value <= from.value + 1e-4 * step * slope) return true;
  }
  return false;
}

bool small(const Eigen::VectorXd& gradient, double tolerance) { return gradient.cwiseAbs().maxCoeff() < tolerance; }

// Whether no Newton step can lower the value by more than its rounding: half the Newton
// decrement, g' H^-1 g / 2 (the decrease a Newton step predicts; Boyd & Vandenberghe 2004,
// sec. 9.5.1), below 1e-12 (1 + |f|). It is unchanged by rescaling the parameters, unlike the
// gradient, whose elements for parameters on large scales (variances of scores in the
// hundreds) cannot be brought below 1e-9 in double precision: the pooled example's stopped
// at 1.2e-7 with a decrement of 1.8e-15.
bool stationary_to_rounding(const Eigen::MatrixXd& hessian, const Eigen::VectorXd& gradient, double value) {
  const Eigen::LLT<Eigen::MatrixXd> llt(hessian);
  if (llt.info() != Eigen::Success || !gradient.allFinite()) return false;
  return 0.5 * llt.matrixL().solve(gradient).squaredNorm() < 1e-12 * (1 + std::fabs(value));
}

// BFGS on the inverse Hessian approximation until the gradient is small, a step fails
// or the function stops decreasing. Without a starting curvature it starts from the
// identity, rescaled after the first step (Nocedal & Wright 2006, eq. 6.20).
Point bfgs(const Objective& objective, Point point, double tolerance, int& iterations,
           const Eigen::MatrixXd& start_curvature = Eigen::MatrixXd()) {
  const long n = point.x.size();
  Eigen::MatrixXd inverse = Eigen::MatrixXd::Identity(n, n) / std::max(1.0, point.gradient.norm());
  bool rescale = true;
  if (start_curvature.rows() == n) {
    const Eigen::LLT<Eigen::MatrixXd> llt(start_curvature);
    if (llt.info() == Eigen::Success) {
      inverse = llt.solve(Eigen::MatrixXd::Identity(n, n));
      rescale = false;
    }
  }
  for (; iterations < 5000 && !small(point.gradient, tolerance); ++iterations) {
    Eigen::VectorXd direction = -inverse * point.gradient;
    if (point.gradient.dot(direction) >= 0) {
      inverse = Eigen::MatrixXd::Identity(n, n) / std::max(1.0, point.gradient.norm());
      direction = -inverse * point.gradient;
    }
    Point next;
    if (!line_search(objective, point, direction, next)) break;
    const Eigen::VectorXd s = next.x - point.x, y = next.gradient - point.gradient;
    const double sy = s.dot(y);
    const double decrease = point.value - next.value;
    if (sy > 1e-12 * s.norm() * y.norm()) {
      if (iterations == 0 && rescale) inverse = Eigen::MatrixXd::Identity(n, n) * sy / y.squaredNorm();
      // (I - rho s y') H (I - rho y s') + rho s s' (eq. 6.17) expanded, O(n^2) for symmetric H.
      const double rho = 1 / sy;
      const Eigen::VectorXd hy = inverse * y;
      inverse.noalias() -= rho * (s * hy.transpose() + hy * s.transpose());
      inverse.noalias() += (rho * rho * y.dot(hy) + rho) * s * s.transpose();
    }
    point = std::move(next);
    if (decrease <= 1e-15 * (1 + std::fabs(point.value)) && small(point.gradient, 1e3 * tolerance)) break;
  }
  return point;
}

}  // namespace

Minimum descend(const Objective& objective, Eigen::VectorXd x, double tolerance, const Eigen::MatrixXd& start_curvature) {
  Minimum result;
  const Objective counted = [&](const Eigen::VectorXd& at, Eigen::VectorXd* gradient) {
    ++result.evaluations;
    return objective(at, gradient);
  };
  Point point = bfgs(counted, evaluate(counted, x), tolerance, result.iterations, start_curvature);
  result.converged = small(point.gradient, tolerance) && std::isfinite(point.value);
  result.x = std::move(point.x);
  result.value = point.value;
  result.gradient = std::move(point.gradient);
  return result;
}

Minimum minimize(const Objective& counted, Eigen::VectorXd x, double tolerance, const Eigen::MatrixXd& start_curvature,
                 const ExactBlock& exact) {
  Minimum result;
  // A budget of evaluations, as nlminb's eval.max (which lavaan uses): a fit that needs more
  // is heading for a boundary (e.g. a variance going negative) and is reported as failed.
  const long budget = 20000;
  const Objective objective = [&](const Eigen::VectorXd& at, Eigen::VectorXd* gradient) {
    if (++result.evaluations > budget) return std::numeric_limits<double>::infinity();
    return counted(at, gradient);
  };
  Point point = evaluate(objective, x);
  if (!std::isfinite(point.value)) {
    result.x = x;
    result.message = "the starting values give no finite likelihood";
    return result;
  }
  point = bfgs(objective, point, 1e3 * tolerance, result.iterations, start_curvature);
  // Newton steps polish the BFGS solution (whose line search cannot resolve the tiny
  // decreases left near the tolerance). The Hessian kept for the standard errors is
  // recomputed at the final point only when the steps moved it noticeably (see
  // moved_beyond_hessian_reuse): a Hessian costs a gradient per parameter, more than BFGS.
  Eigen::MatrixXd hessian = hessian_by_differences(counted, point.x, point.gradient, exact);
  Eigen::VectorXd hessian_at = point.x;
  // They go on while the gradient is above the tolerance or the Newton step moves a parameter
  // by more than 1e-10: on ill-conditioned (near-singular) data a gradient below the tolerance
  // still leaves the parameters ~1e-6 from the optimum, and two fits of the same data in other
  // units (specification section 7.1) would differ by that much.
  for (int newton = 0; newton < 10 && result.evaluations <= budget; ++newton, ++result.iterations) {
    if (newton > 0) {
      hessian = hessian_by_differences(counted, point.x, point.gradient, exact);
      hessian_at = point.x;
    }
    Eigen::LLT<Eigen::MatrixXd> llt(hessian);
    if (llt.info() != Eigen::Success) {
      if (!small(point.gradient, tolerance)) point = bfgs(objective, point, tolerance, result.iterations);
      break;
    }
    const Eigen::VectorXd step = -llt.solve(point.gradient);
    if (small(point.gradient, tolerance) && step.cwiseAbs().maxCoeff() < 1e-10) break;
    Point next;
    if (!line_search(objective, point, step, next)) break;
    point = std::move(next);
  }
  if (moved_beyond_hessian_reuse(hessian_at, point.x))
    hessian = hessian_by_differences(counted, point.x, point.gradient, exact);
  result.converged = std::isfinite(point.value) && (small(point.gradient, tolerance) ||
                                                    stationary_to_rounding(hessian, point.gradient, point.value));
  if (!result.converged) {
    result.message = result.evaluations > budget
                         ? "no optimum within " + std::to_string(budget) + " evaluations of the likelihood"
                         : fmt::format("the gradient did not vanish (largest element {:.3g})",
                                       point.gradient.cwiseAbs().maxCoeff());
  }
  result.x = point.x;
  result.value = point.value;
  result.gradient = point.gradient;
  result.hessian = std::move(hessian);
  return result;
}

}  // namespace spiral::panel
