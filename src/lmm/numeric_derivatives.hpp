// Central finite differences of the profiled deviance: one set of evaluations serves lme4's
// convergence check (checkConv), the Newton polish after BOBYQA and lmerTest's Satterthwaite
// degrees of freedom.
#pragma once
#include <functional>
#include <utility>
#include <vector>

#include <Eigen/Dense>

namespace spiral::lmm_detail {

using ValueAndVector = std::pair<double, Eigen::VectorXd>;
using PairFunction = std::function<ValueAndVector(const std::vector<double>&)>;

// At x, for a function returning a value and a vector: f(x), the value's gradient and Hessian
// and the vector's Jacobian.
struct Differences {
  ValueAndVector at;
  Eigen::VectorXd gradient;
  Eigen::MatrixXd hessian;
  Eigen::MatrixXd jacobian;
};

// Central differences, steps h_i along each axis (1e-4 as lme4's deriv12, 1e-3 |x_i| for
// |x_i| > 0.1): the gradient, the Hessian's diagonal and the Jacobian from x +- h_i e_i; each
// off-diagonal Hessian element from the two points x +- (h_i e_i + h_j e_j), whose second
// difference is H_ii h_i^2 + 2 H_ij h_i h_j + H_jj h_j^2 + O(h^4). All with errors O(h^2),
// from 1 + 2n + n(n-1) evaluations for n parameters.
// step_scale multiplies every h_i (2: the coarse level of richardson()).
Differences central_differences(const PairFunction& f, const std::vector<double>& x, double step_scale = 1);

// The gradient by five-point central differences, (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / (12 h)
// (error O(h^4); Fornberg 1988, Math. Comp. 51, 699-706, table 1), steps h_i twice the
// convergence check's, shortened so that x - 2 h stays at or above `lower`: 4n evaluations.
// Near an optimum it locates the minimum to the gradient's accuracy (~1e-9), where the
// criterion's values alone, flat there, pin it to ~sqrt of their rounding (~5e-7).
Eigen::VectorXd five_point_gradient(const std::function<double(const std::vector<double>&)>& f,
                                    const std::vector<double>& x, const std::vector<double>& lower);

// Richardson extrapolation of central differences, all at the same x, at steps h, 2 h, 4 h,
// ... (levels in that order): each round (4^k A(h) - A(2 h)) / (4^k - 1) removes the next
// even power of h from the error (Richardson 1911; numDeriv's method = "Richardson", which
// lmerTest's df use).
Differences richardson(std::vector<Differences> levels);

// Whether the criterion is flat along some direction at x (d from central_differences at x):
// the smallest change H h^2 / 2 its Hessian predicts over the steps h is below what the
// criterion's rounding (1e3 eps |criterion|) lets second differences resolve. A random
// intercept whose grouping factor is also a fixed effect leaves the REML criterion exactly flat
// in its theta; lme4's check then finds "Hessian is numerically singular".
bool is_flat(const Differences& d, const std::vector<double>& x);

// lme4's checkConv gradient test for one parameter (check.conv.grad, tol 0.002): failed when
// the smaller of |gradient| and the scaled |gradient| / sqrt(curvature) exceeds the tolerance
// (the raw gradient alone when the curvature is not positive; a NaN gradient does not fail).
constexpr double kGradientTolerance = 0.002;
bool fails_gradient_check(double gradient, double curvature);

// Where BOBYQA restarts after a failed gradient test (Hessian positive definite): params with
// every parameter bounded below by 0 whose Newton step along its own axis (g_i / H_ii) would
// cross 0 put on that bound. (A nearly singular fit of the power analysis once stopped with a
// therapist theta of 1.06e-4; on the bound its REML criterion is 1.4e-5 lower and within 5e-9
// of lme4's optimum.)
std::vector<double> onto_bounds_newton_crosses(const std::vector<double>& lower, const Differences& d,
                                               std::vector<double> params);

}  // namespace spiral::lmm_detail
